/* SPDX-License-Identifier: GPL-2.0-only */
/* kpanalyze sample: the Thumb actions (indexes into the actions arrays). */
#ifndef _SAMPLE_ARM_PROBES_DECODE_THUMB_H
#define _SAMPLE_ARM_PROBES_DECODE_THUMB_H

#include "decode.h"

enum probes_t32_action {
	PROBES_T32_LDMSTM,
	PROBES_T32_BRANCH,
	PROBES_T32_LDRSTR,
	NUM_PROBES_T32_ACTIONS
};

enum probes_t16_action {
	PROBES_T16_PUSH,
	PROBES_T16_WFE,
	PROBES_T16_BLX,
	PROBES_T16_BRANCH_COND,
	NUM_PROBES_T16_ACTIONS
};

extern const union decode_item sample_thumb32_table[];
extern const union decode_item sample_thumb16_table[];

enum probes_insn sample_t16_decode(probes_opcode_t insn, struct arch_probes_insn *asi,
		bool emulate, const union decode_action *actions,
		const struct decode_checker *checkers[]);
enum probes_insn sample_t32_decode(probes_opcode_t insn, struct arch_probes_insn *asi,
		bool emulate, const union decode_action *actions,
		const struct decode_checker *checkers[]);

#endif
