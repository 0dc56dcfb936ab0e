// SPDX-License-Identifier: GPL-2.0-only
/* kpanalyze sample: what kprobes do with each Thumb action. */
#include <linux/kernel.h>
#include "../decode-thumb.h"
#include "checkers.h"

probes_insn_handler_t sample_t32_simulate_branch;
probes_insn_handler_t sample_t32_emulate_ldmstm;
probes_insn_handler_t sample_t32_emulate_ldrstr;
probes_insn_handler_t sample_t16_simulate_bx;
probes_insn_handler_t sample_t16_simulate_nop;
probes_insn_handler_t sample_t16_simulate_bcond;
probes_insn_handler_t sample_t16_emulate_push;

static enum probes_insn __kprobes sample_t32_decode_ldmstm(probes_opcode_t insn,
		struct arch_probes_insn *asi, const struct decode_header *h)
{
	asi->insn_handler = sample_t32_emulate_ldmstm;
	return INSN_GOOD;
}

static enum probes_insn __kprobes sample_t16_decode_push(probes_opcode_t insn,
		struct arch_probes_insn *asi, const struct decode_header *h)
{
	asi->insn_handler = sample_t16_emulate_push;
	return INSN_GOOD;
}

const union decode_action sample_t32_actions[NUM_PROBES_T32_ACTIONS] = {
	[PROBES_T32_LDMSTM] = {.decoder = sample_t32_decode_ldmstm},
	[PROBES_T32_BRANCH] = {.handler = sample_t32_simulate_branch},
	[PROBES_T32_LDRSTR] = {.handler = sample_t32_emulate_ldrstr},
};

const union decode_action sample_t16_actions[NUM_PROBES_T16_ACTIONS] = {
	[PROBES_T16_PUSH] = {.decoder = sample_t16_decode_push},
	[PROBES_T16_WFE] = {.handler = sample_t16_simulate_nop},
	[PROBES_T16_BLX] = {.handler = sample_t16_simulate_bx},
	[PROBES_T16_BRANCH_COND] = {.handler = sample_t16_simulate_bcond},
};

const struct decode_checker *sample_t32_checkers[] = {sample_t32_stack_checker, NULL};
const struct decode_checker *sample_t16_checkers[] = {sample_t16_stack_checker, NULL};
