// SPDX-License-Identifier: GPL-2.0
/*
 * kpanalyze sample: __kprobes on an arch without kprobes (6.1 loongarch):
 * the annotation is inert.
 */
#include <linux/kprobes.h>
#include <linux/linkage.h>

extern int sample_handle_mm_fault(unsigned long address, unsigned long write);
extern void sample_no_context(struct pt_regs *regs, unsigned long address);

asmlinkage void __kprobes do_page_fault(struct pt_regs *regs,
			unsigned long write, unsigned long address)
{
	if (sample_handle_mm_fault(address, write) < 0)
		sample_no_context(regs, address);
}
