/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpanalyze sample: the decode-table format of arch/arm/probes, cut down.
 *
 * A table is an array of union decode_item words. Each entry starts with a header
 * (type and register kinds, mask, value); TABLE, CUSTOM, SIMULATE and EMULATE add one
 * word (sub-table or action index). An instruction matches when (insn & mask) == value;
 * the first match decides, and DECODE_END rejects whatever the table does not list.
 */
#ifndef _SAMPLE_ARM_PROBES_DECODE_H
#define _SAMPLE_ARM_PROBES_DECODE_H

#include <linux/types.h>
#include <asm/probes.h>
#include <asm/ptrace.h>

/* P == 0 (post-indexed) or W == 1: the base register is written back */
#define is_writeback(insn)	(((insn) & 0x01200000) != 0x01000000)

/*
 * The order differs from the kernel's on purpose: kpanalyze takes these values from
 * the tree it reads, never from a list of its own.
 */
enum decode_type {
	DECODE_TYPE_END,
	DECODE_TYPE_TABLE,
	DECODE_TYPE_CUSTOM,
	DECODE_TYPE_SIMULATE,
	DECODE_TYPE_EMULATE,
	DECODE_TYPE_REJECT,
	DECODE_TYPE_OR,
	NUM_DECODE_TYPES
};

#define DECODE_TYPE_BITS	4
#define DECODE_TYPE_MASK	((1 << DECODE_TYPE_BITS) - 1)

/* what may sit in each 4-bit register field the REGS() of an entry names */
enum decode_reg_type {
	REG_TYPE_NONE = 0,	/* not a register */
	REG_TYPE_ANY,
	REG_TYPE_SAMEAS16,
	REG_TYPE_SP,
	REG_TYPE_PC,
	REG_TYPE_NOSP,
	REG_TYPE_NOSPPC,
	REG_TYPE_NOPC,
	REG_TYPE_NOPCWB,	/* no PC when the base is written back */
	REG_TYPE_NOPCX,
	REG_TYPE_NOSPPCX,
	REG_TYPE_0 = REG_TYPE_NONE
};

/* register kinds of the fields at bits 19-16, 15-12, 11-8, 7-4 and 3-0 */
#define REGS(f16, f12, f8, f4, f0)			\
	(((REG_TYPE_##f16) << 16) | ((REG_TYPE_##f12) << 12) |	\
	 ((REG_TYPE_##f8) << 8) | ((REG_TYPE_##f4) << 4) | (REG_TYPE_##f0))

union decode_item {
	u32			bits;
	const union decode_item	*table;
	int			action;
};

struct decode_header {
	union decode_item	type_regs;
	union decode_item	mask;
	union decode_item	value;
};

struct decode_table {
	struct decode_header	header;
	union decode_item	table;
};

struct decode_custom {
	struct decode_header	header;
	union decode_item	decoder;
};

struct decode_simulate {
	struct decode_header	header;
	union decode_item	handler;
};

struct decode_emulate {
	struct decode_header	header;
	union decode_item	handler;
};

struct decode_or {
	struct decode_header	header;
};

struct decode_reject {
	struct decode_header	header;
};

#define DECODE_HEADER(kind, m, v, regs)				\
	{.bits = (kind) | ((regs) << DECODE_TYPE_BITS)},	\
	{.bits = (m)},						\
	{.bits = (v)}

#define DECODE_END		{.bits = DECODE_TYPE_END}

#define DECODE_TABLE(m, v, tbl)						\
	DECODE_HEADER(DECODE_TYPE_TABLE, m, v, 0), {.table = (tbl)}

#define DECODE_CUSTOM(m, v, act)					\
	DECODE_HEADER(DECODE_TYPE_CUSTOM, m, v, 0), {.action = (act)}

#define DECODE_SIMULATEX(m, v, act, regs)				\
	DECODE_HEADER(DECODE_TYPE_SIMULATE, m, v, regs), {.action = (act)}
#define DECODE_SIMULATE(m, v, act)	DECODE_SIMULATEX(m, v, act, 0)

#define DECODE_EMULATEX(m, v, act, regs)				\
	DECODE_HEADER(DECODE_TYPE_EMULATE, m, v, regs), {.action = (act)}
#define DECODE_EMULATE(m, v, act)	DECODE_EMULATEX(m, v, act, 0)

#define DECODE_OR(m, v)		DECODE_HEADER(DECODE_TYPE_OR, m, v, 0)
#define DECODE_REJECT(m, v)	DECODE_HEADER(DECODE_TYPE_REJECT, m, v, 0)

enum probes_insn {
	INSN_REJECTED,
	INSN_GOOD,		/* runs from an instruction slot */
	INSN_GOOD_NO_SLOT	/* simulated in C */
};

typedef enum probes_insn (probes_custom_decode_t)(probes_opcode_t,
		struct arch_probes_insn *, const struct decode_header *);

union decode_action {
	probes_insn_handler_t	*handler;
	probes_custom_decode_t	*decoder;
};

struct decode_checker {
	probes_custom_decode_t	*checker;
};

int probes_decode_insn(probes_opcode_t insn, struct arch_probes_insn *asi,
		const union decode_item *table, bool thumb, bool emulate,
		const union decode_action *actions,
		const struct decode_checker **checkers);

#endif /* _SAMPLE_ARM_PROBES_DECODE_H */
