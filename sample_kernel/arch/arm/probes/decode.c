// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: the parts of arch/arm/probes/decode.c the analyzer reads.
 * The table walker itself is not reproduced here.
 */
#include <linux/kernel.h>
#include "decode.h"

/* register numbers an emulated instruction is rewritten to use (r2, r0, r1, -, r3) */
#define INSN_NEW_BITS		0x00020103
#define INSN_SAMEAS16_BITS	0x22222222

/* words in each kind of entry */
static const int decode_struct_sizes[NUM_DECODE_TYPES] = {
	[DECODE_TYPE_TABLE]	= sizeof(struct decode_table),
	[DECODE_TYPE_CUSTOM]	= sizeof(struct decode_custom),
	[DECODE_TYPE_SIMULATE]	= sizeof(struct decode_simulate),
	[DECODE_TYPE_EMULATE]	= sizeof(struct decode_emulate),
	[DECODE_TYPE_OR]	= sizeof(struct decode_or),
	[DECODE_TYPE_REJECT]	= sizeof(struct decode_reject),
};

/* An emulated ARM instruction runs unconditionally: its condition is checked first. */
static probes_opcode_t __kprobes prepare_emulated_insn(probes_opcode_t insn,
		struct arch_probes_insn *asi, bool thumb)
{
	if (thumb)
		return insn;
	if (insn < 0xe0000000)
		insn = (insn | 0xe0000000) & ~0x10000000;
	return insn;
}
