// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kpanalyze sample: the x86 pieces of kprobes the analyzer reads: the
 * kretprobe blacklist, the entry-text range, and an override of a __weak
 * generic hook.
 */
#include <linux/kprobes.h>
#include <linux/init.h>

#define ARRAY_SIZE(arr) (sizeof(arr) / sizeof((arr)[0]))

extern char __entry_text_start[], __entry_text_end[];
extern void *module_alloc_sample(unsigned long size);

struct kretprobe_blackpoint kretprobe_blacklist[] = {
	{"__switch_to", }, /* switches the current task, not its stack */
	{0, 0}	/* Terminator */
};

const int kretprobe_blacklist_size = ARRAY_SIZE(kretprobe_blacklist);

static struct kprobe *sample_current_kprobe;

/* always inlined into the int3 handler */
static nokprobe_inline void set_sample_current_kprobe(struct kprobe *p)
{
	sample_current_kprobe = p;
}

int kprobe_int3_handler(struct pt_regs *regs)
{
	struct kprobe *p = get_kprobe((void *)regs);

	if (!p)
		return 0;
	set_sample_current_kprobe(p);
	return p->pre_handler ? p->pre_handler(p, regs) : 1;
}
NOKPROBE_SYMBOL(kprobe_int3_handler);

/* Overrides the __weak default in kernel/kprobes.c. */
void *alloc_insn_page(void)
{
	return module_alloc_sample(4096);
}

int __init arch_populate_kprobe_blacklist(void)
{
	return kprobe_add_area_blacklist((unsigned long)__entry_text_start,
					 (unsigned long)__entry_text_end);
}
