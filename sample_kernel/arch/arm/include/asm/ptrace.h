/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpanalyze sample: the Thumb helpers of <asm/ptrace.h>.
 */
#ifndef _SAMPLE_ASM_ARM_PTRACE_H
#define _SAMPLE_ASM_ARM_PTRACE_H

/* a first halfword from 0xe800 up starts a 32-bit Thumb instruction */
#define is_wide_instruction(hw)	((unsigned)(hw) >= 0xe800)

#endif /* _SAMPLE_ASM_ARM_PTRACE_H */
