// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: clock code. arch/x86/kernel/Makefile builds this file
 * with CFLAGS_REMOVE_tsc.o = -pg, so it has no ftrace sites. Its
 * sched_clock replaces the __weak one in kernel/sched/clock.c.
 */
extern unsigned long long rdtsc_sample(void);

static unsigned long long cyc2ns_sample_mul = 1;

unsigned long long native_sched_clock(void)
{
	return rdtsc_sample() * cyc2ns_sample_mul;
}

unsigned long long sched_clock(void)
{
	return native_sched_clock();
}
