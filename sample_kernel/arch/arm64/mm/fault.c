// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: arm64 fault handling. The dispatcher is blacklisted by
 * NOKPROBE_SYMBOL; the handlers it reaches through the table are __kprobes.
 */
#include <linux/kprobes.h>

struct fault_info {
	int	(*fn)(unsigned long far, unsigned long esr,
		      struct pt_regs *regs);
	int	sig;
	const char *name;
};

extern int sample_handle_mm_fault(unsigned long far, unsigned long esr);
extern void arm64_notify_die(const char *str, struct pt_regs *regs,
			     unsigned long far, unsigned long esr);

static int __kprobes do_page_fault(unsigned long far, unsigned long esr,
				   struct pt_regs *regs)
{
	return sample_handle_mm_fault(far, esr) < 0;
}

static int __kprobes do_translation_fault(unsigned long far,
					  unsigned long esr,
					  struct pt_regs *regs)
{
	return do_page_fault(far, esr, regs);
}

static int do_bad(unsigned long far, unsigned long esr, struct pt_regs *regs)
{
	return 1;
}

static const struct fault_info fault_info[] = {
	{ do_bad,		7,	"ttbr address size fault"	},
	{ do_translation_fault,	11,	"level 0 translation fault"	},
	{ do_page_fault,	11,	"level 1 permission fault"	},
};

void do_mem_abort(unsigned long far, unsigned long esr, struct pt_regs *regs)
{
	const struct fault_info *inf = fault_info + (esr & 3) % 3;

	if (!inf->fn(far, esr, regs))
		return;
	arm64_notify_die(inf->name, regs, far, esr);
}
NOKPROBE_SYMBOL(do_mem_abort);
