// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: an arm exception handler blacklisted by NOKPROBE_SYMBOL
 * (written without a trailing semicolon, as the arm file does).
 */
#include <linux/kprobes.h>
#include <linux/linkage.h>

struct undef_hook_sample {
	unsigned long instr_mask;
	unsigned long instr_val;
	int (*fn)(struct pt_regs *regs, unsigned int instr);
};

extern unsigned int sample_fetch_instr(struct pt_regs *regs);
extern struct undef_hook_sample *sample_find_hook(unsigned int instr);
extern void arm_notify_die(const char *str, struct pt_regs *regs);

asmlinkage void do_undefinstr(struct pt_regs *regs)
{
	unsigned int instr = sample_fetch_instr(regs);
	struct undef_hook_sample *hook = sample_find_hook(instr);

	if (hook && hook->fn(regs, instr) == 0)
		return;
	arm_notify_die("Oops - undefined instruction", regs);
}
NOKPROBE_SYMBOL(do_undefinstr)
