// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: a GIC-like root interrupt handler. The irq entry
 * section is blacklisted on arm and arm64.
 */
#include <linux/interrupt.h>
#include <linux/init.h>
#include <asm/exception.h>

struct pt_regs;

extern unsigned int gic_sample_read_iar(void);
extern void generic_handle_domain_irq(unsigned int hwirq, struct pt_regs *regs);

static void __exception_irq_entry gic_handle_irq(struct pt_regs *regs)
{
	unsigned int irqnr = gic_sample_read_iar();

	if (irqnr < 1020)
		generic_handle_domain_irq(irqnr, regs);
}

static int __init gic_sample_of_init(void)
{
	return set_handle_irq(gic_handle_irq);
}
device_initcall(gic_sample_of_init);
