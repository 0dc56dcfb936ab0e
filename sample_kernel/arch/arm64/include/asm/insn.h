/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpanalyze sample: A64 instruction classes and the mask/value predicates the
 * kprobe decoder uses. Only the handful of predicates the sample decoder needs.
 */
#ifndef __SAMPLE_ASM_INSN_H
#define __SAMPLE_ASM_INSN_H

#ifndef __ASSEMBLY__

/* the top-level encoding groups, indexed by bits 28..25 (see lib/insn.c) */
enum aarch64_insn_encoding_class {
	AARCH64_INSN_CLS_UNKNOWN,
	AARCH64_INSN_CLS_DP_IMM,
	AARCH64_INSN_CLS_DP_REG,
	AARCH64_INSN_CLS_DP_FPSIMD,
	AARCH64_INSN_CLS_LDST,
	AARCH64_INSN_CLS_BR_SYS,
};

/* CRm:op2 of the HINT space, already shifted to bits 11..5 */
enum aarch64_insn_hint_cr_op {
	AARCH64_INSN_HINT_NOP		= 0x00 << 5,
	AARCH64_INSN_HINT_YIELD		= 0x01 << 5,
	AARCH64_INSN_HINT_PACIASP	= 0x19 << 5,
	AARCH64_INSN_HINT_PACIBSP	= 0x1B << 5,
	AARCH64_INSN_HINT_AUTIASP	= 0x1D << 5,
	AARCH64_INSN_HINT_BTI		= 0x20 << 5,
	AARCH64_INSN_HINT_BTIC		= 0x22 << 5,
	AARCH64_INSN_HINT_BTIJ		= 0x24 << 5,
	AARCH64_INSN_HINT_BTIJC		= 0x26 << 5,
};

/* op0:op1:CRn:CRm:op2 of the system registers the decoder cares about */
enum aarch64_insn_special_register {
	AARCH64_INSN_SPCLREG_SP_EL0	= 0xC208,
	AARCH64_INSN_SPCLREG_NZCV	= 0xDA10,
	AARCH64_INSN_SPCLREG_DAIF	= 0xDA11,
};

/* one line per class: is_<name>(code) and the value a generator would emit */
#define __AARCH64_INSN_FUNCS(name, mask, value)				\
static __always_inline bool aarch64_insn_is_##name(u32 code)		\
{									\
	BUILD_BUG_ON(~(mask) & (value));				\
	return (code & (mask)) == (value);				\
}									\
static __always_inline u32 aarch64_insn_get_##name##_value(void)	\
{									\
	return (value);							\
}

__AARCH64_INSN_FUNCS(adr,	0x9F000000, 0x10000000)
__AARCH64_INSN_FUNCS(adrp,	0x9F000000, 0x90000000)
__AARCH64_INSN_FUNCS(prfm_lit,	0xFF000000, 0xD8000000)
__AARCH64_INSN_FUNCS(ldr_lit,	0xBF000000, 0x18000000)
__AARCH64_INSN_FUNCS(ldrsw_lit,	0xFF000000, 0x98000000)
__AARCH64_INSN_FUNCS(exclusive,	0x3F800000, 0x08000000)
__AARCH64_INSN_FUNCS(load_ex,	0x3F400000, 0x08400000)
__AARCH64_INSN_FUNCS(store_ex,	0x3F400000, 0x08000000)
__AARCH64_INSN_FUNCS(b,		0xFC000000, 0x14000000)
__AARCH64_INSN_FUNCS(bl,	0xFC000000, 0x94000000)
__AARCH64_INSN_FUNCS(cbz,	0x7F000000, 0x34000000)
__AARCH64_INSN_FUNCS(cbnz,	0x7F000000, 0x35000000)
__AARCH64_INSN_FUNCS(tbz,	0x7F000000, 0x36000000)
__AARCH64_INSN_FUNCS(tbnz,	0x7F000000, 0x37000000)
__AARCH64_INSN_FUNCS(bcond,	0xFF000010, 0x54000000)
__AARCH64_INSN_FUNCS(exception,	0xFF000000, 0xD4000000)
__AARCH64_INSN_FUNCS(hint,	0xFFFFF01F, 0xD503201F)
__AARCH64_INSN_FUNCS(br,	0xFFFFFC1F, 0xD61F0000)
__AARCH64_INSN_FUNCS(br_auth,	0xFEFFF800, 0xD61F0800)
__AARCH64_INSN_FUNCS(blr,	0xFFFFFC1F, 0xD63F0000)
__AARCH64_INSN_FUNCS(blr_auth,	0xFEFFF800, 0xD63F0800)
__AARCH64_INSN_FUNCS(ret,	0xFFFFFC1F, 0xD65F0000)
__AARCH64_INSN_FUNCS(ret_auth,	0xFFFFFBFF, 0xD65F0BFF)
__AARCH64_INSN_FUNCS(eret,	0xFFFFFFFF, 0xD69F03E0)
__AARCH64_INSN_FUNCS(eret_auth,	0xFFFFFBFF, 0xD69F0BFF)
__AARCH64_INSN_FUNCS(mrs,	0xFFF00000, 0xD5300000)
__AARCH64_INSN_FUNCS(msr_imm,	0xFFF8F01F, 0xD500401F)
__AARCH64_INSN_FUNCS(msr_reg,	0xFFF00000, 0xD5100000)

#undef __AARCH64_INSN_FUNCS

bool aarch64_insn_is_steppable_hint(u32 insn);
bool aarch64_insn_is_branch(u32 insn);
bool aarch64_insn_uses_literal(u32 insn);
u32 aarch64_insn_extract_system_reg(u32 insn);
enum aarch64_insn_encoding_class aarch64_get_insn_class(u32 insn);

static inline bool aarch64_insn_is_adr_adrp(u32 insn)
{
	return aarch64_insn_is_adr(insn) || aarch64_insn_is_adrp(insn);
}

#endif /* __ASSEMBLY__ */
#endif /* __SAMPLE_ASM_INSN_H */
