/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpanalyze sample: a string routine in .noinstr.text, which the generic
 * kprobes code blacklists on every arch.
 */
#include <linux/linkage.h>

.pushsection .noinstr.text, "ax"

SYM_FUNC_START(__memcpy)
	movq	%rdi, %rax
	movq	%rdx, %rcx
	rep movsb
	ret
SYM_FUNC_END(__memcpy)

SYM_FUNC_ALIAS_WEAK(memcpy, __memcpy)

.popsection
