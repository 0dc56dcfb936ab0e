/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _LINUX_SYSCALLS_H
#define _LINUX_SYSCALLS_H

/*
 * kpanalyze sample: a cut-down SYSCALL_DEFINEn family. It keeps the names
 * the kernel emits (sys_, __se_sys_, __do_sys_) and lets an arch replace
 * __SYSCALL_DEFINEx with its own wrappers, as the real header does.
 */
#include <linux/linkage.h>

struct pt_regs;

#ifdef CONFIG_ARCH_HAS_SYSCALL_WRAPPER
#include <asm/syscall_wrapper.h>
#endif

/* __MAP(n, m, t1, a1, ...) applies m to each (type, arg) pair */
#define __MAP0(m, ...)
#define __MAP1(m, t, a, ...)	m(t, a)
#define __MAP2(m, t, a, ...)	m(t, a), __MAP1(m, __VA_ARGS__)
#define __MAP3(m, t, a, ...)	m(t, a), __MAP2(m, __VA_ARGS__)
#define __MAP4(m, t, a, ...)	m(t, a), __MAP3(m, __VA_ARGS__)
#define __MAP(n, ...)		__MAP##n(__VA_ARGS__)

#define __SC_DECL(t, a)		t a
#define __SC_LONG(t, a)		long a
#define __SC_CAST(t, a)		(t) a
#define __SC_ARGS(t, a)		a

#define __stringify_1(x)	#x
#define __stringify(x)		__stringify_1(x)

#define SYSCALL_DEFINE1(name, ...) SYSCALL_DEFINEx(1, _##name, __VA_ARGS__)
#define SYSCALL_DEFINE2(name, ...) SYSCALL_DEFINEx(2, _##name, __VA_ARGS__)
#define SYSCALL_DEFINE3(name, ...) SYSCALL_DEFINEx(3, _##name, __VA_ARGS__)
#define SYSCALL_DEFINE4(name, ...) SYSCALL_DEFINEx(4, _##name, __VA_ARGS__)

#define SYSCALL_DEFINEx(x, sname, ...)				\
	__SYSCALL_DEFINEx(x, sname, __VA_ARGS__)

/*
 * Generic form: sys_<name> is an alias of __se_sys_<name>, which widens the
 * arguments and calls the static inline __do_sys_<name> holding the body.
 */
#ifndef __SYSCALL_DEFINEx
#define __SYSCALL_DEFINEx(x, name, ...)					\
	asmlinkage long sys##name(__MAP(x,__SC_DECL,__VA_ARGS__))	\
		__attribute__((alias(__stringify(__se_sys##name))));	\
	static inline long __do_sys##name(__MAP(x,__SC_DECL,__VA_ARGS__));\
	asmlinkage long __se_sys##name(__MAP(x,__SC_LONG,__VA_ARGS__));	\
	asmlinkage long __se_sys##name(__MAP(x,__SC_LONG,__VA_ARGS__))	\
	{								\
		return __do_sys##name(__MAP(x,__SC_CAST,__VA_ARGS__));	\
	}								\
	static inline long __do_sys##name(__MAP(x,__SC_DECL,__VA_ARGS__))
#endif /* __SYSCALL_DEFINEx */

#endif /* _LINUX_SYSCALLS_H */
