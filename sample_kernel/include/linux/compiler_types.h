/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __LINUX_COMPILER_TYPES_H
#define __LINUX_COMPILER_TYPES_H

/*
 * kpanalyze sample: function annotations that change how ftrace and kprobes
 * see a function. Only the macro names and their meaning follow the kernel.
 */
#include <linux/compiler_attributes.h>

#ifdef __CHECKER__
# define __user		__attribute__((noderef, address_space(__user)))
#else
# define __user
#endif

#define __visible		__attribute__((__externally_visible__))
#define __no_kcsan		__attribute__((__no_sanitize_thread__))
#define __no_sanitize_address	__attribute__((__no_sanitize_address__))
#define __no_profile		__attribute__((__no_profile_instrument_function__))

/* A function without an ftrace call site. */
#if defined(CC_USING_HOTPATCH)
#define notrace			__attribute__((hotpatch(0, 0)))
#elif defined(CC_USING_PATCHABLE_FUNCTION_ENTRY)
#define notrace			__attribute__((patchable_function_entry(0, 0)))
#else
#define notrace			__attribute__((__no_instrument_function__))
#endif

/* naked functions cannot call mcount either */
#define __naked			__attribute__((__naked__)) notrace

/* Every kernel "inline" is also notrace (and only a hint). */
#define __inline_maybe_unused	__maybe_unused
#define inline inline __gnu_inline __inline_maybe_unused notrace

#define noinline_for_stack	noinline

/* Code that must not be instrumented at all: its own section, never inlined. */
#define noinstr								\
	noinline notrace __attribute((__section__(".noinstr.text")))	\
	__no_kcsan __no_sanitize_address __no_profile

#endif /* __LINUX_COMPILER_TYPES_H */
