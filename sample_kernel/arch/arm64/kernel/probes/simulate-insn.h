/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpanalyze sample: the handlers of instructions that are simulated in C.
 */
#ifndef __SAMPLE_ARM64_SIMULATE_INSN_H
#define __SAMPLE_ARM64_SIMULATE_INSN_H

void simulate_branch(u32 opcode, long addr, struct pt_regs *regs);
void simulate_adr_adrp(u32 opcode, long addr, struct pt_regs *regs);
void simulate_literal_load(u32 opcode, long addr, struct pt_regs *regs);

#endif
