/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef _LINUX_KPROBES_H
#define _LINUX_KPROBES_H

/*
 * kpanalyze sample: the kprobes API as the sample tree uses it.
 */
#include <linux/compiler_types.h>
#include <asm-generic/kprobes.h>

struct pt_regs;
typedef unsigned char kprobe_opcode_t;

struct kprobe {
	const char *symbol_name;
	kprobe_opcode_t *addr;
	unsigned int offset;
	unsigned int flags;
	int (*pre_handler)(struct kprobe *p, struct pt_regs *regs);
};

struct kretprobe {
	struct kprobe kp;
	int maxactive;
	unsigned long data_size;
};

struct kretprobe_blackpoint {
	const char *name;
	void *addr;
};

#define KPROBE_FLAG_GONE	1
#define KPROBE_FLAG_FTRACE	8
#define KRETPROBE_MAX_DATA_SIZE	4096

#ifdef CONFIG_KPROBES
extern struct kretprobe_blackpoint kretprobe_blacklist[];
extern const int kretprobe_blacklist_size;

int register_kprobe(struct kprobe *p);
void unregister_kprobe(struct kprobe *p);
int register_kretprobe(struct kretprobe *rp);
struct kprobe *get_kprobe(void *addr);
bool within_kprobe_blacklist(unsigned long addr);
int kprobe_add_area_blacklist(unsigned long start, unsigned long end);
int arch_populate_kprobe_blacklist(void);
bool arch_within_kprobe_blacklist(unsigned long addr);
void *alloc_insn_page(void);
#else /* !CONFIG_KPROBES */
/* Without kprobes every registration fails with -EOPNOTSUPP. */
static inline int register_kprobe(struct kprobe *p)
{
	return -EOPNOTSUPP;
}
static inline void unregister_kprobe(struct kprobe *p)
{
}
static inline int register_kretprobe(struct kretprobe *rp)
{
	return -EOPNOTSUPP;
}
#endif /* CONFIG_KPROBES */

#endif /* _LINUX_KPROBES_H */
