/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_X86_IDTENTRY_H
#define _ASM_X86_IDTENTRY_H

/*
 * kpanalyze sample: the IDT entry macros. From C they declare and define
 * the C handlers, which are always noinstr. From entry_64.S the same
 * DECLARE_IDTENTRY* lines at the bottom emit the asm stubs asm_<name>.
 */
#define X86_TRAP_DE		 0	/* divide error */
#define X86_TRAP_DB		 1	/* debug */
#define X86_TRAP_BP		 3	/* breakpoint */
#define X86_TRAP_OF		 4	/* overflow */
#define X86_TRAP_PF		14	/* page fault */

#ifndef __ASSEMBLY__
#include <linux/compiler_types.h>

struct pt_regs;

typedef struct {
	int exit_rcu;
} irqentry_state_t;

irqentry_state_t irqentry_enter(struct pt_regs *regs);
void irqentry_exit(struct pt_regs *regs, irqentry_state_t state);

#define DECLARE_IDTENTRY(vector, func)					\
	asmlinkage void asm_##func(void);				\
	__visible void func(struct pt_regs *regs)

#define DECLARE_IDTENTRY_RAW(vector, func)				\
	DECLARE_IDTENTRY(vector, func)

#define DECLARE_IDTENTRY_RAW_ERRORCODE(vector, func)			\
	asmlinkage void asm_##func(void);				\
	__visible void func(struct pt_regs *regs, unsigned long error_code)

/*
 * DEFINE_IDTENTRY - a noinstr wrapper doing the entry/exit work around a
 * body that is always inlined into it. Append the body in braces.
 */
#define DEFINE_IDTENTRY(func)						\
static __always_inline void __##func(struct pt_regs *regs);		\
									\
__visible noinstr void func(struct pt_regs *regs)			\
{									\
	irqentry_state_t state = irqentry_enter(regs);			\
									\
	__##func(regs);							\
	irqentry_exit(regs, state);					\
}									\
									\
static __always_inline void __##func(struct pt_regs *regs)

/* DEFINE_IDTENTRY_RAW - the handler does its own entry work */
#define DEFINE_IDTENTRY_RAW(func)					\
__visible noinstr void func(struct pt_regs *regs)

#define DEFINE_IDTENTRY_RAW_ERRORCODE(func)				\
__visible noinstr void func(struct pt_regs *regs, unsigned long error_code)

/* IST entries map to the raw form */
#define DEFINE_IDTENTRY_IST(func)					\
	DEFINE_IDTENTRY_RAW(func)

/* the twin of an IST entry that runs on the normal stack: noist_<func> */
#define DEFINE_IDTENTRY_NOIST(func)					\
	DEFINE_IDTENTRY_RAW(noist_##func)

#ifdef CONFIG_X86_64
#define DEFINE_IDTENTRY_DEBUG		DEFINE_IDTENTRY_IST
#define DEFINE_IDTENTRY_DEBUG_USER	DEFINE_IDTENTRY_NOIST
#endif

#else /* !__ASSEMBLY__ */

/* The asm side: each DECLARE_IDTENTRY* line below emits one entry stub. */
#define DECLARE_IDTENTRY(vector, func)					\
	idtentry vector asm_##func func has_error_code=0

#define DECLARE_IDTENTRY_RAW(vector, func)				\
	DECLARE_IDTENTRY(vector, func)

#define DECLARE_IDTENTRY_RAW_ERRORCODE(vector, func)			\
	idtentry vector asm_##func func has_error_code=1

#endif /* __ASSEMBLY__ */

/*
 * The entry points. Included from C these declare functions; included
 * from entry_64.S they expand to "idtentry" macro invocations.
 */
DECLARE_IDTENTRY(X86_TRAP_DE,		exc_divide_error);
DECLARE_IDTENTRY(X86_TRAP_OF,		exc_overflow);
DECLARE_IDTENTRY_RAW(X86_TRAP_BP,		exc_int3);
DECLARE_IDTENTRY_RAW_ERRORCODE(X86_TRAP_PF,	exc_page_fault);

#endif /* _ASM_X86_IDTENTRY_H */
