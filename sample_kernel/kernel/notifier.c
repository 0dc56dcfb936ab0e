// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: notifier-like helpers. Shows generic (non-arch) code
 * that is notrace + NOKPROBE_SYMBOL, __kprobes, and __init_or_module.
 */
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/export.h>

struct notifier_block {
	int (*notifier_call)(struct notifier_block *nb, unsigned long action, void *data);
	struct notifier_block *next;
};

struct atomic_notifier_head {
	struct notifier_block *head;
};

static struct atomic_notifier_head die_chain;

/* __kprobes in generic code: .kprobes.text is refused on every arch */
int __kprobes atomic_notifier_call_chain(struct atomic_notifier_head *nh,
					 unsigned long val, void *v)
{
	struct notifier_block *nb;
	int ret = 0;

	for (nb = nh->head; nb; nb = nb->next)
		ret = nb->notifier_call(nb, val, v);
	return ret;
}
EXPORT_SYMBOL_GPL(atomic_notifier_call_chain);

int notrace notify_die(int val, const char *str, void *regs)
{
	return atomic_notifier_call_chain(&die_chain, val, regs);
}
NOKPROBE_SYMBOL(notify_die);

/* __init only when modules are impossible; kprobes imply MODULES */
int __init_or_module register_die_notifier(struct notifier_block *nb)
{
	nb->next = die_chain.head;
	die_chain.head = nb;
	return 0;
}
EXPORT_SYMBOL_GPL(register_die_notifier);
