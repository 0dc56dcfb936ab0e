// SPDX-License-Identifier: GPL-2.0
/*
 * kpanalyze sample: x86 page fault handling. Shows NOKPROBE_SYMBOL on a
 * static inline function (which keeps one out-of-line, notrace copy), an
 * __always_inline helper, a function that exists only on 32-bit kernels,
 * and a NOKPROBE_SYMBOL that applies only on 32-bit kernels.
 */
#include <linux/kprobes.h>
#include <asm/idtentry.h>

extern unsigned long read_cr2(void);
extern int handle_mm_fault_sample(unsigned long address, unsigned long flags);
extern void kernelmode_fixup_or_oops(struct pt_regs *regs, unsigned long address);
extern void sample_printk(const char *fmt, unsigned long val);

#ifdef CONFIG_X86_32
/* the vmalloc area is synchronised lazily on 32-bit only */
static noinline int vmalloc_fault(unsigned long address)
{
	return address >= 0xf0000000UL ? 0 : -1;
}
NOKPROBE_SYMBOL(vmalloc_fault);
#endif

/* exists everywhere; blacklisted only in 32-bit builds */
noinline void dump_pagetable(unsigned long address)
{
	sample_printk("PGD %lx\n", address >> 39);
}
#ifdef CONFIG_X86_32
NOKPROBE_SYMBOL(dump_pagetable);
#endif

static inline
void do_user_addr_fault(struct pt_regs *regs,
			unsigned long error_code,
			unsigned long address)
{
	if (handle_mm_fault_sample(address, error_code) < 0)
		dump_pagetable(address);
}
NOKPROBE_SYMBOL(do_user_addr_fault);

static __always_inline void
handle_page_fault(struct pt_regs *regs, unsigned long error_code,
		  unsigned long address)
{
	if (error_code & 4)
		do_user_addr_fault(regs, error_code, address);
	else
		kernelmode_fixup_or_oops(regs, address);
}

DEFINE_IDTENTRY_RAW_ERRORCODE(exc_page_fault)
{
	unsigned long address = read_cr2();

	handle_page_fault(regs, error_code, address);
}
