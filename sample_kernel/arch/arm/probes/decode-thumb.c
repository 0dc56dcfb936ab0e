// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: a few Thumb decode tables in the arch/arm/probes format.
 */
#include <linux/kernel.h>
#include "decode.h"
#include "decode-thumb.h"

static const union decode_item sample_t32_ldmstm_table[] = {
	/* LDM/STM with SP in the register list */
	DECODE_REJECT	(0xfe402000, 0xe8002000),

	/* LDM/STM		1110 100x x0xx xxxx xxxx xxxx xxxx xxxx */
	DECODE_CUSTOM	(0xfe400000, 0xe8000000, PROBES_T32_LDMSTM),
	DECODE_END
};

const union decode_item sample_thumb32_table[] = {
	/* load/store multiple	1110 100x x0xx xxxx xxxx xxxx xxxx xxxx */
	DECODE_TABLE	(0xfe400000, 0xe8000000, sample_t32_ldmstm_table),

	/* MSR, hints, barriers, MRS spsr, SMC	1111 0x11 1xxx xxxx 10x0 xxxx xxxx xxxx */
	DECODE_REJECT	(0xfb80d000, 0xf3808000),

	/* B, BL		1111 0xxx xxxx xxxx 1xx1 xxxx xxxx xxxx */
	DECODE_SIMULATE	(0xf8009000, 0xf0009000, PROBES_T32_BRANCH),

	/* STR{,B,H} Rt, [Rn, #imm8]	1111 1000 0xx0 xxxx xxxx 1xxx xxxx xxxx */
	DECODE_EMULATEX	(0xff900800, 0xf8000800, PROBES_T32_LDRSTR,
						 REGS(NOPC, NOPC, 0, 0, 0)),

	/* exclusives (1110 1000 010x) and the rest: not probed */
	DECODE_END
};

static const union decode_item sample_t16_misc_table[] = {
	/* PUSH			1011 010x xxxx xxxx */
	DECODE_CUSTOM	(0xfe00, 0xb400, PROBES_T16_PUSH),

	/* NOP, YIELD, WFE, WFI	1011 1111 00xx 0000 */
	DECODE_SIMULATE	(0xffcf, 0xbf00, PROBES_T16_WFE),

	/* BKPT, CPS, SETEND: not probed */
	DECODE_END
};

const union decode_item sample_thumb16_table[] = {
	/* miscellaneous	1011 xxxx xxxx xxxx */
	DECODE_TABLE	(0xf000, 0xb000, sample_t16_misc_table),

	/* BX, BLX (register)	0100 0111 xxxx x000 */
	DECODE_SIMULATE	(0xff07, 0x4700, PROBES_T16_BLX),

	/* UDF, SVC		1101 111x xxxx xxxx */
	DECODE_REJECT	(0xfe00, 0xde00),

	/* B<cond>		1101 xxxx xxxx xxxx */
	DECODE_SIMULATE	(0xf000, 0xd000, PROBES_T16_BRANCH_COND),
	DECODE_END
};

enum probes_insn __kprobes sample_t16_decode(probes_opcode_t insn, struct arch_probes_insn *asi,
		bool emulate, const union decode_action *actions,
		const struct decode_checker *checkers[])
{
	return probes_decode_insn(insn, asi, sample_thumb16_table, true, emulate,
				  actions, checkers);
}

enum probes_insn __kprobes sample_t32_decode(probes_opcode_t insn, struct arch_probes_insn *asi,
		bool emulate, const union decode_action *actions,
		const struct decode_checker *checkers[])
{
	return probes_decode_insn(insn, asi, sample_thumb32_table, true, emulate,
				  actions, checkers);
}
