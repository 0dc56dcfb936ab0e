/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpanalyze sample: the opcode types of the arm64 probe code.
 */
#ifndef __SAMPLE_ARM64_PROBES_H
#define __SAMPLE_ARM64_PROBES_H

typedef u32 probe_opcode_t;
typedef void (probes_handler_t) (u32 opcode, long addr, struct pt_regs *);

/* what the decoder fills in for one probed instruction */
struct arch_probe_insn {
	probe_opcode_t *insn;
	probes_handler_t *handler;
};

#ifdef CONFIG_KPROBES
typedef u32 kprobe_opcode_t;
struct arch_specific_insn {
	struct arch_probe_insn api;
};
#endif

#endif
