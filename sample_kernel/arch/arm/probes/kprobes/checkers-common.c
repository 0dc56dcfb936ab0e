// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: the actions of the stack checkers' second decode. Each one sets
 * asi->stack_space: the bytes below SP the instruction may write, or -1 when the
 * address depends on a register.
 */
#include <linux/kernel.h>
#include "checkers.h"

static enum probes_insn sample_stack_none(probes_opcode_t insn,
		struct arch_probes_insn *asi, const struct decode_header *h)
{
	asi->stack_space = 0;
	return INSN_GOOD_NO_SLOT;
}

static enum probes_insn sample_stack_unknown(probes_opcode_t insn,
		struct arch_probes_insn *asi, const struct decode_header *h)
{
	asi->stack_space = -1;
	return INSN_GOOD_NO_SLOT;
}

static enum probes_insn sample_stack_imm12(probes_opcode_t insn,
		struct arch_probes_insn *asi, const struct decode_header *h)
{
	asi->stack_space = insn & 0xfff;
	return INSN_GOOD_NO_SLOT;
}

#ifdef CONFIG_THUMB2_KERNEL
static enum probes_insn sample_stack_imm8(probes_opcode_t insn,
		struct arch_probes_insn *asi, const struct decode_header *h)
{
	asi->stack_space = insn & 0xff;
	return INSN_GOOD_NO_SLOT;
}
#endif

/* STMDB/STMDA SP: four bytes per register, one register fewer when decrementing after */
static enum probes_insn sample_stack_stmdx(probes_opcode_t insn,
		struct arch_probes_insn *asi, const struct decode_header *h)
{
	unsigned int count = hweight32(insn & 0xffff);

	if (!(insn & (1 << 24)))
		count--;
	asi->stack_space = count * 4;
	return INSN_GOOD_NO_SLOT;
}

const union decode_action sample_stack_actions[] = {
	[STACK_USE_NONE] = {.decoder = sample_stack_none},
	[STACK_USE_UNKNOWN] = {.decoder = sample_stack_unknown},
#ifdef CONFIG_THUMB2_KERNEL
	[STACK_USE_FIXED_0XX] = {.decoder = sample_stack_imm8},
#endif
	[STACK_USE_FIXED_XXX] = {.decoder = sample_stack_imm12},
	[STACK_USE_STMDX] = {.decoder = sample_stack_stmdx},
};
