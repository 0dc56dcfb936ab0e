/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_X86_SYSCALL_WRAPPER_H
#define _ASM_X86_SYSCALL_WRAPPER_H

/*
 * kpanalyze sample: on x86-64 the syscall entry points take struct pt_regs
 * and are named __x64_sys_<name>. No sys_<name> symbol is emitted.
 */
struct pt_regs;

/* the x86-64 syscall argument registers, in order */
#define SC_X86_64_REGS_TO_ARGS(x, ...)					\
	__MAP(x, __SC_ARGS, , regs->di, , regs->si, , regs->dx, , regs->r10)

#ifdef CONFIG_X86_64
#define __X64_SYS_STUBx(x, name, ...)					\
	long __x64_sys##name(const struct pt_regs *regs);		\
	long __x64_sys##name(const struct pt_regs *regs)		\
	{								\
		return __se_sys##name(SC_X86_64_REGS_TO_ARGS(x, __VA_ARGS__));\
	}
#else /* CONFIG_X86_64 */
#define __X64_SYS_STUBx(x, name, ...)
#endif /* CONFIG_X86_64 */

#define __SYSCALL_DEFINEx(x, name, ...)					\
	static long __se_sys##name(__MAP(x,__SC_LONG,__VA_ARGS__));	\
	static inline long __do_sys##name(__MAP(x,__SC_DECL,__VA_ARGS__));\
	__X64_SYS_STUBx(x, name, __VA_ARGS__)				\
	static long __se_sys##name(__MAP(x,__SC_LONG,__VA_ARGS__))	\
	{								\
		return __do_sys##name(__MAP(x,__SC_CAST,__VA_ARGS__));	\
	}								\
	static inline long __do_sys##name(__MAP(x,__SC_DECL,__VA_ARGS__))

#endif /* _ASM_X86_SYSCALL_WRAPPER_H */
