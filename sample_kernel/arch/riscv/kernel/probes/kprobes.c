// SPDX-License-Identifier: GPL-2.0+
/*
 * kpanalyze sample: riscv blacklists only .irqentry.text as a range; its
 * own kprobe code is __kprobes.
 */
#include <linux/kprobes.h>
#include <linux/init.h>
#include <linux/kallsyms.h>
#include <asm/bug.h>

#include "decode-insn.h"

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

/* is addr the start of an instruction, counting from the start of its symbol? */
static bool __kprobes arch_check_kprobe(unsigned long addr)
{
	unsigned long pos, offset;

	if (!kallsyms_lookup_size_offset(addr, NULL, &offset))
		return false;

	for (pos = addr - offset; pos < addr; )
		pos += GET_INSN_LENGTH(*(u16 *)pos);

	return pos == addr;
}

int __kprobes arch_prepare_kprobe(struct kprobe *p)
{
	unsigned long where = (unsigned long)p->addr;

	if (where & 0x1)
		return -EILSEQ;

	if (!arch_check_kprobe(where))
		return -EILSEQ;

	switch (riscv_probe_decode_insn(p->addr, &p->ainsn.api)) {
	case INSN_REJECTED:
		return -EINVAL;
	default:
		return 0;
	}
}
