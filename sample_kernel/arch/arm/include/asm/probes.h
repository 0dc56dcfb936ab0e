/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpanalyze sample: what the arm probes code needs from <asm/probes.h>.
 */
#ifndef _SAMPLE_ASM_PROBES_H
#define _SAMPLE_ASM_PROBES_H

typedef u32 probes_opcode_t;

struct arch_probes_insn;
typedef void (probes_insn_handler_t)(probes_opcode_t, struct arch_probes_insn *, struct pt_regs *);

struct arch_probes_insn {
	probes_opcode_t			*insn;
	probes_insn_handler_t		*insn_handler;
	/* bytes the probed instruction may write below SP; < 0: cannot tell */
	int				stack_space;
	unsigned long			register_usage_flags;
};

/* the kprobe handler keeps this much of the stack free below SP */
#define MAX_STACK_SIZE		64

#endif /* _SAMPLE_ASM_PROBES_H */
