/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_INTERRUPT_H
#define _LINUX_INTERRUPT_H

#include <linux/compiler_types.h>

/*
 * kpanalyze sample: hard and soft interrupt entry sections. An arch may
 * define __irq_entry before this point (x86 makes it unusable).
 */
#ifndef __irq_entry
# define __irq_entry	 __section(".irqentry.text")
#endif

#define __softirq_entry  __section(".softirqentry.text")

struct pt_regs;
int set_handle_irq(void (*handle_irq)(struct pt_regs *));

#endif /* _LINUX_INTERRUPT_H */
