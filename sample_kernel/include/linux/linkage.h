/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_LINKAGE_H
#define _LINUX_LINKAGE_H

#include <linux/compiler_types.h>

/*
 * kpanalyze sample: the assembler annotations that define code symbols.
 */
#define asmlinkage

#ifdef __ASSEMBLY__

#define ALIGN		.balign 4

/* global code with C calling conventions */
#define SYM_FUNC_START(name)		.globl name ; ALIGN ; name:
#define SYM_FUNC_START_NOALIGN(name)	.globl name ; name:
#define SYM_FUNC_START_LOCAL(name)	ALIGN ; name:
#define SYM_FUNC_END(name)		.type name, @function ; .size name, .-name
#define SYM_FUNC_ALIAS(alias, name)	.globl alias ; .set alias, name
#define SYM_FUNC_ALIAS_WEAK(alias, name) .weak alias ; .set alias, name

/* code with its own conventions (entry points, trampolines) */
#define SYM_CODE_START(name)		.globl name ; ALIGN ; name:
#define SYM_CODE_START_NOALIGN(name)	.globl name ; name:
#define SYM_CODE_START_LOCAL(name)	ALIGN ; name:
#define SYM_CODE_START_LOCAL_NOALIGN(name) name:
#define SYM_CODE_END(name)		.size name, .-name

#define SYM_L_GLOBAL(name)		.globl name
#define SYM_INNER_LABEL(name, linkage)	linkage(name) ; name:

/* older spellings still used by arm and riscv */
#define ENTRY(name)			SYM_FUNC_START(name)
#define END(name)			.size name, .-name
#define ENDPROC(name)			SYM_FUNC_END(name)

#endif /* __ASSEMBLY__ */

#endif /* _LINUX_LINKAGE_H */
