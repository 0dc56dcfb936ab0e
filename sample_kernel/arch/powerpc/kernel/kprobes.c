// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kpanalyze sample: powerpc refuses probes on .kprobes.text and on the head
 * text (the exception vectors), by address range.
 */
#include <linux/kprobes.h>

extern char _stext[], __head_end[];
extern char __kprobes_text_start[], __kprobes_text_end[];

bool arch_within_kprobe_blacklist(unsigned long addr)
{
	return  (addr >= (unsigned long)__kprobes_text_start &&
		 addr < (unsigned long)__kprobes_text_end) ||
		(addr >= (unsigned long)_stext &&
		 addr < (unsigned long)__head_end);
}
