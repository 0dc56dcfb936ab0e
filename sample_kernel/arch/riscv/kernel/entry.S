/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpanalyze sample: the layout of arch/riscv/kernel/entry.S. There is no
 * section directive, so all of it is plain .text: riscv does not blacklist
 * its entry code.
 */
#include <linux/init.h>
#include <linux/linkage.h>

ENTRY(handle_exception)
	csrrw tp, sscratch, tp
	bnez tp, _save_context

_restore_kernel_tpsp:
	csrr tp, sscratch
_save_context:
	addi sp, sp, -288
	sd ra, 8(sp)
	la ra, ret_from_exception
	mv a0, sp
	tail do_trap_sample
END(handle_exception)

SYM_CODE_START_NOALIGN(ret_from_exception)
	ld s0, 256(sp)
	andi s0, s0, 0x100
	ld ra, 8(sp)
	addi sp, sp, 288
	sret
SYM_CODE_END(ret_from_exception)

ENTRY(__switch_to)
	li    a4, 0x300
	add   a3, a0, a4
	add   a4, a1, a4
	sd ra, 0(a3)
	ld ra, 0(a4)
	mv tp, a1
	ret
ENDPROC(__switch_to)
