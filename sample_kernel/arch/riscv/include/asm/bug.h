/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpanalyze sample: RISC-V instruction lengths (16-bit compressed or 32-bit).
 */
#ifndef __SAMPLE_RISCV_BUG_H
#define __SAMPLE_RISCV_BUG_H

#define __INSN_LENGTH_MASK	_UL(0x3)
#define __INSN_LENGTH_32	_UL(0x3)

/* the two low bits of the first halfword say how long the instruction is */
#define GET_INSN_LENGTH(insn)						\
({									\
	unsigned long __bytes = 2UL;					\
	if (((insn) & __INSN_LENGTH_MASK) == __INSN_LENGTH_32)		\
		__bytes = 4UL;						\
	__bytes;							\
})

#endif
