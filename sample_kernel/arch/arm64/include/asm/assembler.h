/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpanalyze sample: the arm64 assembler twin of NOKPROBE_SYMBOL.
 */
#ifndef __ASSEMBLY__
#error "Only include this from assembly code"
#endif

#ifndef __ASM_ASSEMBLER_H
#define __ASM_ASSEMBLER_H

/*
 * Put the address of x in the _kprobe_blacklist section.
 */
#ifdef CONFIG_KPROBES
#define NOKPROBE(x)				\
	.pushsection "_kprobe_blacklist", "aw";	\
	.quad	x;				\
	.popsection;
#else
#define NOKPROBE(x)
#endif

#endif	/* __ASM_ASSEMBLER_H */
