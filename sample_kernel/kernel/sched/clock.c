// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: a __weak default that an arch overrides (x86 provides a
 * strong sched_clock in arch/x86/kernel/tsc.c). Unlike the kernel's, this
 * default is not notrace, so the override changes the tracefs verdict.
 */
#include <linux/compiler_types.h>

extern unsigned long jiffies;

unsigned long long __weak sched_clock(void)
{
	return (unsigned long long)jiffies * 4000000ULL;
}
