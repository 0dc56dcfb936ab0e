// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: arm page faults. The handlers are __kprobes, with the
 * return type and the attribute on the line before the name.
 */
#include <linux/kprobes.h>
#include <linux/linkage.h>

struct fsr_info {
	int	(*fn)(unsigned long addr, unsigned int fsr, struct pt_regs *regs);
	int	sig;
	const char *name;
};

extern int sample_handle_mm_fault(unsigned long addr, unsigned int fsr);
extern void sample_do_kernel_fault(unsigned long addr, unsigned int fsr,
				   struct pt_regs *regs);

static int __kprobes
do_page_fault(unsigned long addr, unsigned int fsr, struct pt_regs *regs)
{
	if (sample_handle_mm_fault(addr, fsr) >= 0)
		return 0;
	sample_do_kernel_fault(addr, fsr, regs);
	return 0;
}

static int __kprobes
do_translation_fault(unsigned long addr, unsigned int fsr,
		     struct pt_regs *regs)
{
	return do_page_fault(addr, fsr, regs);
}

static int
do_bad(unsigned long addr, unsigned int fsr, struct pt_regs *regs)
{
	return 1;
}

static struct fsr_info fsr_info[] = {
	{ do_bad,		7,	"vector exception"		},
	{ do_translation_fault,	11,	"section translation fault"	},
	{ do_page_fault,	11,	"page translation fault"	},
};

asmlinkage void
do_DataAbort(unsigned long addr, unsigned int fsr, struct pt_regs *regs)
{
	const struct fsr_info *inf = fsr_info + (fsr & 3) % 3;

	if (!inf->fn(addr, fsr & ~0x800, regs))
		return;
	sample_do_kernel_fault(addr, fsr, regs);
}
