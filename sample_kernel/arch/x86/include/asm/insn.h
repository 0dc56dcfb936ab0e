/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef _SAMPLE_X86_INSN_H
#define _SAMPLE_X86_INSN_H
/*
 * kpanalyze sample: the decoded-instruction record the x86 probe code works on,
 * reduced to the fields the sample reads.
 */

typedef unsigned char insn_byte_t;
typedef signed int insn_value_t;

struct insn_field {
	insn_value_t value;
	insn_byte_t bytes[4];
	unsigned char nbytes;
};

struct insn {
	struct insn_field rex_prefix;
	struct insn_field opcode;	/* bytes[0] is the first opcode byte */
	struct insn_field modrm;
	struct insn_field immediate;
	unsigned char addr_bytes;
	unsigned char length;
};

#define MAX_INSN_SIZE	15

/* the three fields of a ModRM byte */
#define X86_MODRM_MOD(b)	(((b) >> 6) & 3)
#define X86_MODRM_REG(b)	(((b) >> 3) & 7)
#define X86_MODRM_RM(b)		((b) & 7)

extern int insn_decode(struct insn *insn, const void *kaddr, int len, int mode);
#define insn_decode_kernel(i, p)	insn_decode(i, p, MAX_INSN_SIZE, 1)

#define SAMPLE_MOV_TO_SREG	0x8e
#define SAMPLE_SREG_SS		2

/* Loading SS holds off the debug trap for one instruction: no single-step. */
static inline int insn_masking_exception(struct insn *insn)
{
	if (insn->opcode.bytes[0] != SAMPLE_MOV_TO_SREG)
		return 0;
	return X86_MODRM_REG(insn->modrm.bytes[0]) == SAMPLE_SREG_SS;
}

#endif
