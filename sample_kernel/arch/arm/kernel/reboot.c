// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: code that runs from the identity mapping (__idmap puts
 * it in .idmap.text, which arm refuses to probe).
 */
#include <linux/compiler_types.h>
#include <asm/idmap.h>

typedef void (*phys_reset_t)(unsigned long addr, bool hvc);

extern unsigned long virt_to_idmap_sample(void *addr);
extern void setup_mm_for_reboot(void);

void __idmap cpu_sample_reset(unsigned long addr, bool hvc)
{
	/* the MMU is off here; jump to addr */
	((void (*)(void))addr)();
}

void soft_restart(unsigned long addr)
{
	phys_reset_t phys_reset;

	setup_mm_for_reboot();
	phys_reset = (phys_reset_t)virt_to_idmap_sample(cpu_sample_reset);
	phys_reset(addr, 0);
}
