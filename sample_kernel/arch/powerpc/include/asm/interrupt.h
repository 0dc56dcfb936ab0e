/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef _ASM_POWERPC_INTERRUPT_H
#define _ASM_POWERPC_INTERRUPT_H

/*
 * kpanalyze sample: powerpc interrupt handlers. The macro emits a notrace,
 * noinline wrapper, blacklists it with NOKPROBE_SYMBOL, and leaves the body
 * to an __always_inline function.
 */
#include <linux/compiler_types.h>
#include <linux/kprobes.h>

struct pt_regs;

#define interrupt_handler __visible noinline notrace __no_kcsan __no_sanitize_address

/**
 * DEFINE_INTERRUPT_HANDLER - Define synchronous interrupt handler function
 * @func:	Function name of the entry point
 */
#define DEFINE_INTERRUPT_HANDLER(func)					\
static __always_inline void ____##func(struct pt_regs *regs);		\
									\
interrupt_handler void func(struct pt_regs *regs)			\
{									\
	____##func (regs);						\
}									\
NOKPROBE_SYMBOL(func);							\
									\
static __always_inline void ____##func(struct pt_regs *regs)

#endif /* _ASM_POWERPC_INTERRUPT_H */
