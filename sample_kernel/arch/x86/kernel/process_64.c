// SPDX-License-Identifier: GPL-2.0
/*
 * kpanalyze sample: the x86-64 context switch. A kprobe may sit here; a
 * return probe may not (kretprobe_blacklist), and the function graph
 * tracer is kept away with __notrace_funcgraph.
 */
#include <linux/ftrace.h>

struct pt_regs;

struct thread_struct {
	unsigned long sp;
	unsigned short fsindex;
};

struct task_struct {
	struct thread_struct thread;
	int cpu;
};

extern void load_sample_tls(struct thread_struct *t, int cpu);
extern void sample_set_user_ip(struct pt_regs *regs, unsigned long ip,
			       unsigned long sp);

__visible __notrace_funcgraph struct task_struct *
__switch_to(struct task_struct *prev_p, struct task_struct *next_p)
{
	struct thread_struct *next = &next_p->thread;

	load_sample_tls(next, next_p->cpu);
	return prev_p;
}

void start_thread(struct pt_regs *regs, unsigned long new_ip,
		  unsigned long new_sp)
{
	sample_set_user_ip(regs, new_ip, new_sp);
}
