// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: a small interrupt controller using __irq_entry directly.
 * The section is blacklisted on arm, arm64 and riscv; it has no kprobe
 * meaning on powerpc, and x86 forbids it.
 */
#include <linux/interrupt.h>
#include <linux/init.h>

struct pt_regs;

extern unsigned int sample_ictl_pending(void);
extern void generic_handle_domain_irq(unsigned int hwirq, struct pt_regs *regs);

static void __irq_entry sample_ictl_handle_irq(struct pt_regs *regs)
{
	unsigned int hwirq;

	while ((hwirq = sample_ictl_pending()) != 0)
		generic_handle_domain_irq(hwirq, regs);
}

static int __init sample_ictl_init(void)
{
	return set_handle_irq(sample_ictl_handle_irq);
}
device_initcall(sample_ictl_init);
