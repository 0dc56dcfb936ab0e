// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: a few ARM-mode decode tables in the arch/arm/probes format.
 * Far from complete: enough for push/pop, branches, MRS, exclusives and SVC.
 */
#include <linux/kernel.h>
#include "decode.h"
#include "decode-arm.h"

static const union decode_item sample_arm_uncond_table[] = {
	/* BLX (immediate)	1111 101x xxxx xxxx xxxx xxxx xxxx xxxx */
	DECODE_SIMULATE	(0xfe000000, 0xfa000000, PROBES_BRANCH_IMM),

	/* CPS, SETEND, barriers, SRS, RFE: not probed */
	DECODE_END
};

static const union decode_item sample_arm_misc_table[] = {
	/* MRS Rd, cpsr		cccc 0001 0000 xxxx xxxx xxxx 0000 xxxx */
	DECODE_SIMULATEX(0x0ff000f0, 0x01000000, PROBES_MRS,
						 REGS(0, NOPC, 0, 0, 0)),

	/* BX Rm		cccc 0001 0010 xxxx xxxx xxxx 0001 xxxx */
	DECODE_SIMULATE	(0x0ff000f0, 0x01200010, PROBES_BRANCH_REG),

	/* MSR, BKPT, SMC: not probed */
	DECODE_END
};

static const union decode_item sample_arm_sync_table[] = {
#if __LINUX_ARM_ARCH__ < 6
	/* SWP, SWPB (before ARMv6 only) */
	DECODE_EMULATEX	(0x0fb000f0, 0x01000090, PROBES_SWP,
						 REGS(NOPC, NOPC, 0, 0, NOPC)),
#endif
	/* LDREX, STREX and friends: not probed */
	DECODE_END
};

static const union decode_item sample_arm_dp_table[] = {
	/* MOV IP, SP (the APCS frame set-up) */
	DECODE_SIMULATE	(0xffffffff, 0xe1a0c00d, PROBES_MOV_IP_SP),

	/* <op>S PC, ...	cccc 000x xxx1 xxxx 1111 xxxx xxxx xxxx */
	DECODE_REJECT	(0x0e10f000, 0x0010f000),

	/* <op> Rd, Rn, Rm, <shift> #imm */
	DECODE_EMULATEX	(0x0e000010, 0x00000000, PROBES_DATA_PROCESSING_REG,
						 REGS(ANY, ANY, 0, 0, ANY)),
	DECODE_END
};

static const union decode_item sample_arm_ldst_table[] = {
	/* LDRB/STRB with Rt == PC	cccc 01xx x1xx xxxx 1111 xxxx xxxx xxxx */
	DECODE_REJECT	(0x0c40f000, 0x0440f000),

	/* STR (immediate)	cccc 010x x0x0 xxxx xxxx xxxx xxxx xxxx */
	DECODE_EMULATEX	(0x0e500000, 0x04000000, PROBES_STORE,
						 REGS(NOPCWB, ANY, 0, 0, 0)),
	/* LDR (immediate)	cccc 010x x0x1 xxxx xxxx xxxx xxxx xxxx */
	DECODE_EMULATEX	(0x0e500000, 0x04100000, PROBES_LOAD,
						 REGS(NOPCWB, ANY, 0, 0, 0)),
	/* STR (register)	cccc 011x x0x0 xxxx xxxx xxxx xxx0 xxxx */
	DECODE_EMULATEX	(0x0e500010, 0x06000000, PROBES_STORE,
						 REGS(NOPCWB, ANY, 0, 0, NOPC)),
	DECODE_END
};

static const union decode_item sample_arm_block_table[] = {
	/* LDM/STM without the S bit	cccc 100x x0xx xxxx xxxx xxxx xxxx xxxx */
	DECODE_CUSTOM	(0x0e400000, 0x08000000, PROBES_LDMSTM),

	/* user-register and exception-return forms: not probed */
	DECODE_END
};

const union decode_item sample_arm_table[] = {
	/* unconditional space	1111 xxxx xxxx xxxx xxxx xxxx xxxx xxxx */
	DECODE_TABLE	(0xf0000000, 0xf0000000, sample_arm_uncond_table),
	/* miscellaneous	cccc 0001 0xx0 xxxx xxxx xxxx 0xxx xxxx */
	DECODE_TABLE	(0x0f900080, 0x01000000, sample_arm_misc_table),
	/* synchronization	cccc 0001 xxxx xxxx xxxx xxxx 1001 xxxx */
	DECODE_TABLE	(0x0f0000f0, 0x01000090, sample_arm_sync_table),
	/* data processing	cccc 000x xxxx xxxx xxxx xxxx xxx0 xxxx */
	DECODE_TABLE	(0x0e000010, 0x00000000, sample_arm_dp_table),
	/* word and byte load/store	cccc 01xx xxxx xxxx xxxx xxxx xxxx xxxx */
	DECODE_TABLE	(0x0c000000, 0x04000000, sample_arm_ldst_table),
	/* block transfer	cccc 100x xxxx xxxx xxxx xxxx xxxx xxxx */
	DECODE_TABLE	(0x0e000000, 0x08000000, sample_arm_block_table),

	/* B, BL		cccc 101x xxxx xxxx xxxx xxxx xxxx xxxx */
	DECODE_SIMULATE	(0x0e000000, 0x0a000000, PROBES_BRANCH),

	/* coprocessor and SVC	cccc 11xx xxxx xxxx xxxx xxxx xxxx xxxx */
	DECODE_REJECT	(0x0c000000, 0x0c000000),

	DECODE_END
};

enum probes_insn __kprobes sample_arm_decode(probes_opcode_t insn, struct arch_probes_insn *asi,
		bool emulate, const union decode_action *actions,
		const struct decode_checker *checkers[])
{
	return probes_decode_insn(insn, asi, sample_arm_table, false, emulate,
				  actions, checkers);
}
