// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kpanalyze sample: a miniature of the generic kprobes core, written for
 * the analyzer's tests. Only the shapes matter: weak hooks the arches
 * override, NOKPROBE_SYMBOL'd helpers and the blacklist walk.
 */
#include <linux/kprobes.h>
#include <linux/export.h>
#include <linux/init.h>

struct blacklist_range {
	unsigned long start_addr;
	unsigned long end_addr;
	struct blacklist_range *next;
};

static struct blacklist_range *kprobe_blacklist;
static struct kprobe *kprobe_table[64];

extern char __kprobes_text_start[], __kprobes_text_end[];
extern char __noinstr_text_start[], __noinstr_text_end[];
extern unsigned long __start_kprobe_blacklist[], __stop_kprobe_blacklist[];
extern unsigned long kallsyms_lookup_name(const char *name);

/* Default lookup; powerpc has its own. */
kprobe_opcode_t * __weak kprobe_lookup_name(const char *name,
					    unsigned int offset)
{
	return (kprobe_opcode_t *)kallsyms_lookup_name(name);
}

/* Default slot allocator; x86 overrides it. */
void __weak *alloc_insn_page(void)
{
	return 0;
}

struct kprobe *get_kprobe(void *addr)
{
	unsigned long slot = ((unsigned long)addr >> 4) & 63;

	return kprobe_table[slot] && kprobe_table[slot]->addr == addr ?
		kprobe_table[slot] : 0;
}
NOKPROBE_SYMBOL(get_kprobe);

/* used only from handler context, so never emitted on its own */
static nokprobe_inline bool kprobe_sample_gone(struct kprobe *p)
{
	return p->flags & KPROBE_FLAG_GONE;
}

static int aggr_pre_handler(struct kprobe *p, struct pt_regs *regs)
{
	if (kprobe_sample_gone(p))
		return 0;
	return p->pre_handler ? p->pre_handler(p, regs) : 0;
}
NOKPROBE_SYMBOL(aggr_pre_handler);

int __weak kprobe_exceptions_notify(void *self, unsigned long val, void *data)
{
	return 0;
}
NOKPROBE_SYMBOL(kprobe_exceptions_notify);

/* written without the trailing semicolon, as some kernel files do */
unsigned long __kretprobe_trampoline_handler(struct pt_regs *regs,
					     void *frame_pointer)
{
	return (unsigned long)frame_pointer;
}
NOKPROBE_SYMBOL(__kretprobe_trampoline_handler)

/* The weak default covers .kprobes.text; arm and powerpc add more. */
bool __weak arch_within_kprobe_blacklist(unsigned long addr)
{
	return addr >= (unsigned long)__kprobes_text_start &&
	       addr < (unsigned long)__kprobes_text_end;
}

static bool __within_kprobe_blacklist(unsigned long addr)
{
	struct blacklist_range *ent;

	if (arch_within_kprobe_blacklist(addr))
		return true;
	for (ent = kprobe_blacklist; ent; ent = ent->next)
		if (addr >= ent->start_addr && addr < ent->end_addr)
			return true;
	return false;
}

bool within_kprobe_blacklist(unsigned long addr)
{
	/* the real function also retries with the name cut at its first '.' */
	return __within_kprobe_blacklist(addr);
}

int register_kprobe(struct kprobe *p)
{
	unsigned long addr = (unsigned long)p->addr;

	if (p->symbol_name)
		addr = (unsigned long)kprobe_lookup_name(p->symbol_name, p->offset);
	if (!addr)
		return -ENOENT;
	if (within_kprobe_blacklist(addr + p->offset))
		return -EINVAL;
	kprobe_table[(addr >> 4) & 63] = p;
	return 0;
}
EXPORT_SYMBOL_GPL(register_kprobe);

int kprobe_add_area_blacklist(unsigned long start, unsigned long end)
{
	static struct blacklist_range ranges[32];
	static int used;

	if (used == 32)
		return -ENOMEM;
	ranges[used].start_addr = start;
	ranges[used].end_addr = end;
	ranges[used].next = kprobe_blacklist;
	kprobe_blacklist = &ranges[used++];
	return 0;
}

/* Arches add their own ranges (entry text and the like) here. */
int __init __weak arch_populate_kprobe_blacklist(void)
{
	return 0;
}

static int __init init_kprobes(void)
{
	unsigned long *iter;

	for (iter = __start_kprobe_blacklist; iter < __stop_kprobe_blacklist; iter++)
		kprobe_add_area_blacklist(*iter, *iter + 1);
	kprobe_add_area_blacklist((unsigned long)__kprobes_text_start,
				  (unsigned long)__kprobes_text_end);
	kprobe_add_area_blacklist((unsigned long)__noinstr_text_start,
				  (unsigned long)__noinstr_text_end);
	return arch_populate_kprobe_blacklist();
}
early_initcall(init_kprobes);
