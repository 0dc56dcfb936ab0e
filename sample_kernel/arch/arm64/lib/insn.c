// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: the A64 helpers behind the kprobe decoder.
 */
#include <linux/types.h>
#include <asm/insn.h>
#include <asm/kprobes.h>

/* bits 28..25 -> group; the sample fills whole runs with range designators */
static const int aarch64_insn_encoding_class[] = {
	[0x0 ... 0x3]	= AARCH64_INSN_CLS_UNKNOWN,
	[0x4]		= AARCH64_INSN_CLS_LDST,
	[0x5]		= AARCH64_INSN_CLS_DP_REG,
	[0x6]		= AARCH64_INSN_CLS_LDST,
	[0x7]		= AARCH64_INSN_CLS_DP_FPSIMD,
	[0x8 ... 0x9]	= AARCH64_INSN_CLS_DP_IMM,
	[0xa ... 0xb]	= AARCH64_INSN_CLS_BR_SYS,
	[0xc]		= AARCH64_INSN_CLS_LDST,
	[0xd]		= AARCH64_INSN_CLS_DP_REG,
	[0xe]		= AARCH64_INSN_CLS_LDST,
	[0xf]		= AARCH64_INSN_CLS_DP_FPSIMD,
};

enum aarch64_insn_encoding_class __kprobes aarch64_get_insn_class(u32 insn)
{
	return aarch64_insn_encoding_class[(insn >> 25) & 0xf];
}

/* pointer-authentication signing and landing pads are harmless out of line */
bool __kprobes aarch64_insn_is_steppable_hint(u32 insn)
{
	if (!aarch64_insn_is_hint(insn))
		return false;

	switch (insn & 0xFE0) {
	case AARCH64_INSN_HINT_NOP:
	case AARCH64_INSN_HINT_PACIASP:
	case AARCH64_INSN_HINT_PACIBSP:
	case AARCH64_INSN_HINT_BTI ... AARCH64_INSN_HINT_BTIJC:
		return true;
	default:
		return false;
	}
}

bool __kprobes aarch64_insn_uses_literal(u32 insn)
{
	return aarch64_insn_is_ldr_lit(insn) || aarch64_insn_is_ldrsw_lit(insn) ||
	       aarch64_insn_is_adr_adrp(insn) || aarch64_insn_is_prfm_lit(insn);
}

bool __kprobes aarch64_insn_is_branch(u32 insn)
{
	return aarch64_insn_is_b(insn) || aarch64_insn_is_bl(insn) ||
	       aarch64_insn_is_cbz(insn) || aarch64_insn_is_cbnz(insn) ||
	       aarch64_insn_is_tbz(insn) || aarch64_insn_is_tbnz(insn) ||
	       aarch64_insn_is_bcond(insn) ||
	       aarch64_insn_is_ret(insn) || aarch64_insn_is_ret_auth(insn) ||
	       aarch64_insn_is_br(insn) || aarch64_insn_is_br_auth(insn) ||
	       aarch64_insn_is_blr(insn) || aarch64_insn_is_blr_auth(insn);
}

/* op0..op2 of MRS/MSR (register): bits 20..5 */
u32 aarch64_insn_extract_system_reg(u32 insn)
{
	return (insn >> 5) & 0xFFFF;
}
