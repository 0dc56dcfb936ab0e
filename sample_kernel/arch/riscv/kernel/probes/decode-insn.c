// SPDX-License-Identifier: GPL-2.0+
/*
 * kpanalyze sample: a small riscv kprobe decoder, a list of refused and
 * simulated opcode classes checked in order.
 */
#include <linux/kernel.h>
#include <linux/kprobes.h>

#include "decode-insn.h"
#include "simulate-insn.h"

enum probe_insn __kprobes
riscv_probe_decode_insn(probe_opcode_t *addr, struct arch_probe_insn *api)
{
	probe_opcode_t insn = *addr;

	/* traps, CSR accesses and fences are never stepped out of line */
	RISCV_INSN_REJECTED(system,	insn);
	RISCV_INSN_REJECTED(fence,	insn);

#ifdef CONFIG_RISCV_ISA_C
	/* compressed jumps and branches have no simulation yet */
	RISCV_INSN_REJECTED(c_j,	insn);
	RISCV_INSN_REJECTED(c_jr,	insn);
	RISCV_INSN_REJECTED(c_jalr,	insn);
	RISCV_INSN_REJECTED(c_beqz,	insn);
	RISCV_INSN_REJECTED(c_bnez,	insn);
#endif

	RISCV_INSN_SET_SIMULATE(jal,	insn);
	RISCV_INSN_SET_SIMULATE(jalr,	insn);
	RISCV_INSN_SET_SIMULATE(auipc,	insn);
	RISCV_INSN_SET_SIMULATE(branch,	insn);

	return INSN_GOOD;
}
