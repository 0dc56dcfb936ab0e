/* SPDX-License-Identifier: GPL-2.0+ */
/*
 * kpanalyze sample: what the riscv kprobe decoder answers.
 */
#ifndef __SAMPLE_RISCV_DECODE_INSN_H
#define __SAMPLE_RISCV_DECODE_INSN_H

#include <asm/probes.h>

enum probe_insn {
	INSN_REJECTED,
	INSN_GOOD_NO_SLOT,
	INSN_GOOD,
};

enum probe_insn __kprobes
riscv_probe_decode_insn(probe_opcode_t *addr, struct arch_probe_insn *api);

#endif
