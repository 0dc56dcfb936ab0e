// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: boot code. __init text is freed once boot is done;
 * __ref text stays.
 */
#include <linux/init.h>
#include <linux/compiler_types.h>

extern int kernel_thread(int (*fn)(void *), void *arg, unsigned long flags);
extern void cpu_startup_entry(int state);

static int __ref kernel_init(void *unused)
{
	/* by now the __init text below has been freed */
	return 0;
}

static noinline void __ref rest_init(void)
{
	kernel_thread(kernel_init, 0, 0);
	cpu_startup_entry(0);
}

asmlinkage __visible void __init start_kernel(void)
{
	/* the real function sets up every subsystem here */
	rest_init();
}
