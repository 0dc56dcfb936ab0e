// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: a GICv3-like driver whose handler has the same name as
 * the one in irq-sample-gic.c. arm64 builds both, so the name is not unique.
 */
#include <linux/interrupt.h>
#include <linux/init.h>
#include <asm/exception.h>

struct pt_regs;

extern unsigned long gic_sample_read_iar_el1(void);
extern void generic_handle_domain_irq(unsigned int hwirq, struct pt_regs *regs);

static void __exception_irq_entry gic_handle_irq(struct pt_regs *regs)
{
	unsigned long irqnr = gic_sample_read_iar_el1();

	if (irqnr < 1020)
		generic_handle_domain_irq((unsigned int)irqnr, regs);
}

static int __init gic_v3_sample_init(void)
{
	return set_handle_irq(gic_handle_irq);
}
device_initcall(gic_v3_sample_init);
