/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __LINUX_COMPILER_ATTRIBUTES_H
#define __LINUX_COMPILER_ATTRIBUTES_H

/*
 * kpanalyze sample: the attribute spellings the analyzer has to recognise.
 * Each is one GCC attribute; the names are the kernel's, the file is not.
 */
#define __always_inline		inline __attribute__((__always_inline__))
#define noinline		__attribute__((__noinline__))
#define __noclone		__attribute__((__noclone__))
#define __cold			__attribute__((__cold__))
#define __used			__attribute__((__used__))
#define __maybe_unused		__attribute__((__unused__))
#define __weak			__attribute__((__weak__))
#define __noreturn		__attribute__((__noreturn__))
#define __gnu_inline		__attribute__((__gnu_inline__))
#define __section(section)	__attribute__((__section__(section)))
#define __alias(symbol)		__attribute__((__alias__(#symbol)))

/* noinline plus noclone: the symbol keeps its exact name */
#define __fix_address		noinline __noclone

#endif /* __LINUX_COMPILER_ATTRIBUTES_H */
