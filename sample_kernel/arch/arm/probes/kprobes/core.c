// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: arm refuses probes by address range in
 * arch_within_kprobe_blacklist (not in the list shown by debugfs), and refuses
 * instructions through the decode tables of arch/arm/probes.
 */
#include <linux/kprobes.h>
#include "../decode-arm.h"
#include "../decode-thumb.h"
#include "checkers.h"

extern char __irqentry_text_start[], __irqentry_text_end[];
extern char __entry_text_start[], __entry_text_end[];
extern char __idmap_text_start[], __idmap_text_end[];
extern char __kprobes_text_start[], __kprobes_text_end[];

static bool in_sample_range(unsigned long addr, char *start, char *end)
{
	return addr >= (unsigned long)start && addr < (unsigned long)end;
}

typedef enum probes_insn (sample_decode_t)(probes_opcode_t, struct arch_probes_insn *, bool,
		const union decode_action *, const struct decode_checker *[]);

extern const union decode_action sample_arm_actions[], sample_t32_actions[], sample_t16_actions[];
extern const struct decode_checker *sample_arm_checkers[], *sample_t32_checkers[],
	*sample_t16_checkers[];

int __kprobes arch_prepare_kprobe(struct kprobe *p)
{
	unsigned long addr = (unsigned long)p->addr;
	probes_opcode_t insn;
	sample_decode_t *decode_insn;
	const union decode_action *actions;
	const struct decode_checker **checkers;

#ifdef CONFIG_THUMB2_KERNEL
	addr &= ~1;	/* bit 0 only says "Thumb" */
	insn = ((u16 *)addr)[0];
	if (is_wide_instruction(insn)) {
		insn = (insn << 16) | ((u16 *)addr)[1];
		decode_insn = sample_t32_decode;
		actions = sample_t32_actions;
		checkers = sample_t32_checkers;
	} else {
		decode_insn = sample_t16_decode;
		actions = sample_t16_actions;
		checkers = sample_t16_checkers;
	}
#else
	if (addr & 0x3)
		return -EINVAL;
	insn = *(u32 *)addr;
	decode_insn = sample_arm_decode;
	actions = sample_arm_actions;
	checkers = sample_arm_checkers;
#endif

	switch ((*decode_insn)(insn, &p->ainsn, true, actions, checkers)) {
	case INSN_REJECTED:
		return -EINVAL;
	case INSN_GOOD:
		/* the (rewritten) instruction goes to a slot */
		break;
	case INSN_GOOD_NO_SLOT:
		break;
	}

	/* the handlers run on the probed code's stack: keep clear of what it stores */
	if (p->ainsn.stack_space < 0 || p->ainsn.stack_space > MAX_STACK_SIZE)
		return -EINVAL;

	return 0;
}

bool arch_within_kprobe_blacklist(unsigned long addr)
{
	return in_sample_range(addr, __irqentry_text_start, __irqentry_text_end) ||
	       in_sample_range(addr, __entry_text_start, __entry_text_end) ||
	       in_sample_range(addr, __idmap_text_start, __idmap_text_end) ||
	       in_sample_range(addr, __kprobes_text_start, __kprobes_text_end);
}
