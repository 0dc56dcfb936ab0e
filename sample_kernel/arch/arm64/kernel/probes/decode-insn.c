// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: a small arm64 kprobe decoder. An instruction is copied to a
 * slot and stepped when that is safe, simulated when it uses the PC, and refused
 * otherwise.
 */
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/kallsyms.h>
#include <asm/insn.h>

#include "decode-insn.h"
#include "simulate-insn.h"

static bool __kprobes aarch64_insn_is_steppable(u32 insn)
{
	if (aarch64_get_insn_class(insn) == AARCH64_INSN_CLS_BR_SYS) {
		/* anything that changes the PC, traps or writes system state */
		if (aarch64_insn_is_branch(insn) || aarch64_insn_is_exception(insn) ||
		    aarch64_insn_is_msr_imm(insn) || aarch64_insn_is_msr_reg(insn) ||
		    aarch64_insn_is_eret(insn) || aarch64_insn_is_eret_auth(insn))
			return false;

		/* reading the interrupt mask from the slot gives the wrong answer */
		if (aarch64_insn_is_mrs(insn))
			return aarch64_insn_extract_system_reg(insn) != AARCH64_INSN_SPCLREG_DAIF;

		if (aarch64_insn_is_hint(insn))
			return aarch64_insn_is_steppable_hint(insn);

		return true;
	}

	/* PC-relative reads and exclusive monitors do not survive the slot */
	if (aarch64_insn_uses_literal(insn) || aarch64_insn_is_exclusive(insn))
		return false;

	return true;
}

enum probe_insn __kprobes
arm_probe_decode_insn(probe_opcode_t insn, struct arch_probe_insn *api)
{
	if (aarch64_insn_is_steppable(insn))
		return INSN_GOOD;

	if (aarch64_insn_is_bcond(insn) || aarch64_insn_is_cbz(insn) ||
	    aarch64_insn_is_cbnz(insn) || aarch64_insn_is_tbz(insn) ||
	    aarch64_insn_is_tbnz(insn) || aarch64_insn_is_b(insn) ||
	    aarch64_insn_is_bl(insn) || aarch64_insn_is_br(insn) ||
	    aarch64_insn_is_blr(insn) || aarch64_insn_is_ret(insn)) {
		api->handler = simulate_branch;
	} else if (aarch64_insn_is_adr_adrp(insn)) {
		api->handler = simulate_adr_adrp;
	} else {
		return INSN_REJECTED;
	}
	return INSN_GOOD_NO_SLOT;
}

#ifdef CONFIG_KPROBES
/* walking back from just before the probe: inside ldxr ... stxr? */
static bool __kprobes
is_probed_address_atomic(kprobe_opcode_t *scan_start, kprobe_opcode_t *scan_end)
{
	for (; scan_start >= scan_end; scan_start--) {
		u32 word = le32_to_cpu(*scan_start);

		if (aarch64_insn_is_store_ex(word))
			return false;
		if (aarch64_insn_is_load_ex(word))
			return true;
	}
	return false;
}

enum probe_insn __kprobes
arm_kprobe_decode_insn(kprobe_opcode_t *addr, struct arch_specific_insn *asi)
{
	probe_opcode_t insn = le32_to_cpu(*addr);
	unsigned long size = 0, offset = 0;
	kprobe_opcode_t *scan_end = NULL;
	enum probe_insn decoded;

	if (aarch64_insn_is_ldr_lit(insn) || aarch64_insn_is_ldrsw_lit(insn)) {
		asi->api.handler = simulate_literal_load;
		decoded = INSN_GOOD_NO_SLOT;
	} else {
		decoded = arm_probe_decode_insn(insn, &asi->api);
	}

	if (kallsyms_lookup_size_offset((unsigned long)addr, &size, &offset)) {
		if (offset < MAX_ATOMIC_CONTEXT_SIZE * sizeof(kprobe_opcode_t))
			scan_end = addr - offset / sizeof(kprobe_opcode_t);
		else
			scan_end = addr - MAX_ATOMIC_CONTEXT_SIZE;
	}

	if (decoded != INSN_REJECTED && scan_end &&
	    is_probed_address_atomic(addr - 1, scan_end))
		return INSN_REJECTED;

	return decoded;
}
#endif
