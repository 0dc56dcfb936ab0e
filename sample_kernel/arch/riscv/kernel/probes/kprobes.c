// SPDX-License-Identifier: GPL-2.0+
/*
 * kpanalyze sample: riscv blacklists only .irqentry.text as a range; its
 * own kprobe code is __kprobes.
 */
#include <linux/kprobes.h>
#include <linux/init.h>

extern char __irqentry_text_start[], __irqentry_text_end[];
extern int sample_kprobe_handler(struct kprobe *p, struct pt_regs *regs);

bool __kprobes kprobe_breakpoint_handler(struct pt_regs *regs)
{
	struct kprobe *p = get_kprobe((void *)regs);

	return p && sample_kprobe_handler(p, regs) != 0;
}

/*
 * Provide a blacklist of symbols identifying ranges which cannot be kprobed.
 */
int __init arch_populate_kprobe_blacklist(void)
{
	return kprobe_add_area_blacklist((unsigned long)__irqentry_text_start,
					 (unsigned long)__irqentry_text_end);
}
