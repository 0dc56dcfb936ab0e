// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: what kprobes do with each ARM-mode action. The handlers live
 * elsewhere; only the tables and the one custom decoder matter to the analyzer.
 */
#include <linux/kernel.h>
#include "../decode-arm.h"
#include "checkers.h"

probes_insn_handler_t sample_simulate_b;
probes_insn_handler_t sample_simulate_bx;
probes_insn_handler_t sample_simulate_mrs;
probes_insn_handler_t sample_simulate_mov_ipsp;
probes_insn_handler_t sample_emulate_dp;
probes_insn_handler_t sample_emulate_ldr;
probes_insn_handler_t sample_emulate_str;

/* LDM/STM: a list with PC is simulated in C, the others run from the slot */
static enum probes_insn __kprobes sample_decode_ldmstm(probes_opcode_t insn,
		struct arch_probes_insn *asi, const struct decode_header *h)
{
	if (insn & 0x8000)
		return INSN_GOOD_NO_SLOT;
	return INSN_GOOD;
}

/* PROBES_SWP has no entry: kprobes of an ARMv5 build would not know SWP */
const union decode_action sample_arm_actions[NUM_PROBES_ARM_ACTIONS] = {
	[PROBES_BRANCH] = {.handler = sample_simulate_b},
	[PROBES_BRANCH_IMM] = {.handler = sample_simulate_b},
	[PROBES_BRANCH_REG] = {.handler = sample_simulate_bx},
	[PROBES_MRS] = {.handler = sample_simulate_mrs},
	[PROBES_MOV_IP_SP] = {.handler = sample_simulate_mov_ipsp},
	[PROBES_DATA_PROCESSING_REG] = {.handler = sample_emulate_dp},
	[PROBES_LOAD] = {.handler = sample_emulate_ldr},
	[PROBES_STORE] = {.handler = sample_emulate_str},
	[PROBES_LDMSTM] = {.decoder = sample_decode_ldmstm},
};

const struct decode_checker *sample_arm_checkers[] = {sample_arm_stack_checker, NULL};
