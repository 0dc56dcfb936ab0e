// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: the riscv page fault handler, blacklisted by name.
 */
#include <linux/kprobes.h>
#include <linux/linkage.h>

extern unsigned long sample_read_stval(struct pt_regs *regs);
extern int sample_handle_mm_fault(unsigned long addr, unsigned long cause);
extern void sample_no_context(struct pt_regs *regs, unsigned long addr);

asmlinkage void do_page_fault(struct pt_regs *regs)
{
	unsigned long addr = sample_read_stval(regs);

	if (sample_handle_mm_fault(addr, 13) < 0)
		sample_no_context(regs, addr);
}
NOKPROBE_SYMBOL(do_page_fault);
