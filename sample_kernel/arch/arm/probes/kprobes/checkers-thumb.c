// SPDX-License-Identifier: GPL-2.0-only
/* kpanalyze sample: the Thumb stack checkers. */
#include <linux/kernel.h>
#include "../decode-thumb.h"
#include "checkers.h"

static enum probes_insn __kprobes sample_t32_check_stack(probes_opcode_t insn,
		struct arch_probes_insn *asi, const struct decode_header *h)
{
	static const union decode_item table[] = {
		/* loads (bit 20 set) never write the stack */
		DECODE_CUSTOM	(0x00100000, 0x00100000, STACK_USE_NONE),

		/* STMDB SP{!}, {...}	1110 1001 00x0 1101 */
		DECODE_CUSTOM	(0xffdf0000, 0xe90d0000, STACK_USE_STMDX),

		/* STR{,B,H} Rt, [SP, #-imm8]	1111 1000 0xx0 1101 xxxx 1100 */
		DECODE_CUSTOM	(0xff9f0f00, 0xf80d0c00, STACK_USE_FIXED_0XX),

		DECODE_CUSTOM	(0, 0, STACK_USE_NONE),
		DECODE_END
	};

	return probes_decode_insn(insn, asi, table, false, false, sample_stack_actions, NULL);
}

const struct decode_checker sample_t32_stack_checker[NUM_PROBES_T32_ACTIONS] = {
	[PROBES_T32_LDMSTM] = {.checker = sample_t32_check_stack},
	[PROBES_T32_LDRSTR] = {.checker = sample_t32_check_stack},
};

/* PUSH {reglist, lr}: four bytes for each register of bits 0-8 */
static enum probes_insn __kprobes sample_t16_check_push(probes_opcode_t insn,
		struct arch_probes_insn *asi, const struct decode_header *h)
{
	asi->stack_space = hweight32(insn & 0x1ff) * 4;
	return INSN_GOOD;
}

const struct decode_checker sample_t16_stack_checker[NUM_PROBES_T16_ACTIONS] = {
	[PROBES_T16_PUSH] = {.checker = sample_t16_check_push},
};
