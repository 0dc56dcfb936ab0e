/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpanalyze sample: what the arm64 kprobe decoder answers.
 */
#ifndef __SAMPLE_ARM64_DECODE_INSN_H
#define __SAMPLE_ARM64_DECODE_INSN_H

#include <asm/probes.h>

/* look back at most this many instructions for an open exclusive load */
#define MAX_ATOMIC_CONTEXT_SIZE	(128 / sizeof(kprobe_opcode_t))

enum probe_insn {
	INSN_REJECTED,
	INSN_GOOD_NO_SLOT,
	INSN_GOOD,
};

enum probe_insn arm_probe_decode_insn(probe_opcode_t insn, struct arch_probe_insn *api);
#ifdef CONFIG_KPROBES
enum probe_insn arm_kprobe_decode_insn(kprobe_opcode_t *addr, struct arch_specific_insn *asi);
#endif

#endif
