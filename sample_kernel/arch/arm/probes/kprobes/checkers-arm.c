// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: the ARM-mode stack checker. Stores are decoded a second time over
 * a table of their own whose actions say how far below SP they write.
 */
#include <linux/kernel.h>
#include "../decode-arm.h"
#include "checkers.h"

static enum probes_insn __kprobes sample_arm_check_stack(probes_opcode_t insn,
		struct arch_probes_insn *asi, const struct decode_header *h)
{
	static const union decode_item table[] = {
		/* STR Rt, [Rn, Rm]: SP as Rm or as Rn */
		DECODE_OR	(0x0e10000f, 0x0600000d),
		DECODE_CUSTOM	(0x0e1f0000, 0x060d0000, STACK_USE_UNKNOWN),

		/* STMDA/STMDB SP{!}, {...}	cccc 100x 00x0 1101 */
		DECODE_CUSTOM	(0x0edf0000, 0x080d0000, STACK_USE_STMDX),

		/* STR{,B} Rt, [SP, #-imm12]{!}	cccc 0101 0xx0 1101 */
		DECODE_CUSTOM	(0x0f9f0000, 0x050d0000, STACK_USE_FIXED_XXX),

		/* loads, positive offsets, other base registers */
		DECODE_CUSTOM	(0, 0, STACK_USE_NONE),
		DECODE_END
	};

	return probes_decode_insn(insn, asi, table, false, false, sample_stack_actions, NULL);
}

const struct decode_checker sample_arm_stack_checker[NUM_PROBES_ARM_ACTIONS] = {
	[PROBES_STORE] = {.checker = sample_arm_check_stack},
	[PROBES_LDMSTM] = {.checker = sample_arm_check_stack},
};
