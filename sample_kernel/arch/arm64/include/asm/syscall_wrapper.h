/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kpanalyze sample: arm64 syscall entry points take struct pt_regs and are
 * named __arm64_sys_<name>; no sys_<name> symbol is emitted.
 */
#ifndef __ASM_SYSCALL_WRAPPER_H
#define __ASM_SYSCALL_WRAPPER_H

struct pt_regs;

#define SC_ARM64_REGS_TO_ARGS(x, ...)				\
	__MAP(x, __SC_ARGS, , regs->regs[0], , regs->regs[1],	\
	      , regs->regs[2], , regs->regs[3])

#define __SYSCALL_DEFINEx(x, name, ...)						\
	asmlinkage long __arm64_sys##name(const struct pt_regs *regs);		\
	static long __se_sys##name(__MAP(x,__SC_LONG,__VA_ARGS__));		\
	static inline long __do_sys##name(__MAP(x,__SC_DECL,__VA_ARGS__));	\
	asmlinkage long __arm64_sys##name(const struct pt_regs *regs)		\
	{									\
		return __se_sys##name(SC_ARM64_REGS_TO_ARGS(x,__VA_ARGS__));	\
	}									\
	static long __se_sys##name(__MAP(x,__SC_LONG,__VA_ARGS__))		\
	{									\
		return __do_sys##name(__MAP(x,__SC_CAST,__VA_ARGS__));		\
	}									\
	static inline long __do_sys##name(__MAP(x,__SC_DECL,__VA_ARGS__))

#endif /* __ASM_SYSCALL_WRAPPER_H */
