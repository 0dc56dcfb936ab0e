// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: arm64 adds whole sections to the kprobe blacklist, and
 * keeps its own kprobe code in .kprobes.text.
 */
#include <linux/kprobes.h>
#include <linux/init.h>

extern char __entry_text_start[], __entry_text_end[];
extern char __irqentry_text_start[], __irqentry_text_end[];
extern char __idmap_text_start[], __idmap_text_end[];
extern char __hyp_text_start[], __hyp_text_end[];
extern void *kretprobe_trampoline_handler(struct pt_regs *regs, void *frame);
extern unsigned long sample_frame_pointer(struct pt_regs *regs);

/* Overrides the __weak default in kernel/kprobes.c. */
void *alloc_insn_page(void)
{
	return 0;
}

/*
 * Provide a blacklist of symbols identifying ranges which cannot be kprobed.
 */
int __init arch_populate_kprobe_blacklist(void)
{
	int ret;

	ret = kprobe_add_area_blacklist((unsigned long)__entry_text_start,
					(unsigned long)__entry_text_end);
	if (ret)
		return ret;
	ret = kprobe_add_area_blacklist((unsigned long)__irqentry_text_start,
					(unsigned long)__irqentry_text_end);
	if (ret)
		return ret;
	ret = kprobe_add_area_blacklist((unsigned long)__idmap_text_start,
					(unsigned long)__idmap_text_end);
	if (ret)
		return ret;
	return kprobe_add_area_blacklist((unsigned long)__hyp_text_start,
					 (unsigned long)__hyp_text_end);
}

void __kprobes __used *trampoline_probe_handler(struct pt_regs *regs)
{
	return kretprobe_trampoline_handler(regs, (void *)sample_frame_pointer(regs));
}
