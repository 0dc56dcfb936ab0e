/* SPDX-License-Identifier: GPL-2.0-only */
/* kpanalyze sample: the stack-use kinds the stack checkers sort stores into. */
#ifndef _SAMPLE_ARM_PROBES_CHECKERS_H
#define _SAMPLE_ARM_PROBES_CHECKERS_H

#include "../decode.h"

enum {
	STACK_USE_NONE,
	STACK_USE_UNKNOWN,
#ifdef CONFIG_THUMB2_KERNEL
	STACK_USE_FIXED_0XX,
#endif
	STACK_USE_FIXED_XXX,
	STACK_USE_STMDX,
	NUM_STACK_USE_TYPES
};

extern const union decode_action sample_stack_actions[];

extern const struct decode_checker sample_arm_stack_checker[];
extern const struct decode_checker sample_t32_stack_checker[];
extern const struct decode_checker sample_t16_stack_checker[];

#endif
