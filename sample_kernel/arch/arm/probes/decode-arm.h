/* SPDX-License-Identifier: GPL-2.0-only */
/* kpanalyze sample: the ARM-mode actions (indexes into the actions array). */
#ifndef _SAMPLE_ARM_PROBES_DECODE_ARM_H
#define _SAMPLE_ARM_PROBES_DECODE_ARM_H

#include "decode.h"

enum probes_arm_action {
	PROBES_BRANCH,
	PROBES_BRANCH_IMM,
	PROBES_BRANCH_REG,
	PROBES_MRS,
	PROBES_SWP,
	PROBES_MOV_IP_SP,
	PROBES_DATA_PROCESSING_REG,
	PROBES_LOAD,
	PROBES_STORE,
	PROBES_LDMSTM,
	NUM_PROBES_ARM_ACTIONS
};

extern const union decode_item sample_arm_table[];

enum probes_insn sample_arm_decode(probes_opcode_t insn, struct arch_probes_insn *asi,
		bool emulate, const union decode_action *actions,
		const struct decode_checker *checkers[]);

#endif
