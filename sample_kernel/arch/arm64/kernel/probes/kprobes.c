// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: arm64 adds whole sections to the kprobe blacklist, and
 * keeps its own kprobe code in .kprobes.text.
 */
#include <linux/kprobes.h>
#include <linux/init.h>

#include "decode-insn.h"

extern char __entry_text_start[], __entry_text_end[];
extern char __irqentry_text_start[], __irqentry_text_end[];
extern char __idmap_text_start[], __idmap_text_end[];
extern char __hyp_text_start[], __hyp_text_end[];
extern void *kretprobe_trampoline_handler(struct pt_regs *regs, void *frame);
extern unsigned long sample_frame_pointer(struct pt_regs *regs);
extern kprobe_opcode_t *sample_get_slot(void);

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

/* the checks that refuse a probe before any slot is set up */
int __kprobes arch_prepare_kprobe(struct kprobe *p)
{
	unsigned long where = (unsigned long)p->addr;
	enum probe_insn kind;

	if (where & 0x3)		/* A64 instructions are word aligned */
		return -EINVAL;

	kind = arm_kprobe_decode_insn(p->addr, &p->ainsn);
	switch (kind) {
	case INSN_REJECTED:
		return -EINVAL;
	case INSN_GOOD:
		p->ainsn.api.insn = sample_get_slot();
		return p->ainsn.api.insn ? 0 : -ENOMEM;
	default:
		p->ainsn.api.insn = NULL;
		return 0;
	}
}
