// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: arm refuses probes by address range in
 * arch_within_kprobe_blacklist (not in the list shown by debugfs).
 */
#include <linux/kprobes.h>

extern char __irqentry_text_start[], __irqentry_text_end[];
extern char __entry_text_start[], __entry_text_end[];
extern char __idmap_text_start[], __idmap_text_end[];
extern char __kprobes_text_start[], __kprobes_text_end[];

static bool in_sample_range(unsigned long addr, char *start, char *end)
{
	return addr >= (unsigned long)start && addr < (unsigned long)end;
}

int __kprobes arch_prepare_kprobe(struct kprobe *p)
{
	return ((unsigned long)p->addr & 1) ? -22 : 0;
}

bool arch_within_kprobe_blacklist(unsigned long addr)
{
	return in_sample_range(addr, __irqentry_text_start, __irqentry_text_end) ||
	       in_sample_range(addr, __entry_text_start, __entry_text_end) ||
	       in_sample_range(addr, __idmap_text_start, __idmap_text_end) ||
	       in_sample_range(addr, __kprobes_text_start, __kprobes_text_end);
}
