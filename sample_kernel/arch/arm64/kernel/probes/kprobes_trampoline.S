/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kpanalyze sample: an assembler routine placed in .kprobes.text. (The arm64
 * kernel keeps its trampoline in .text; s390 and sparc use .kprobes.text in
 * assembler. The sample does it here to have one such symbol.)
 */
#include <linux/linkage.h>

	.pushsection .kprobes.text, "ax"

SYM_CODE_START(__kretprobe_trampoline)
	sub	sp, sp, #0x150
	mov	x0, sp
	bl	trampoline_probe_handler
	mov	lr, x0
	add	sp, sp, #0x150
	ret
SYM_CODE_END(__kretprobe_trampoline)

	.popsection
