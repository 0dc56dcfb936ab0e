/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpanalyze sample: the layout of arch/arm64/kernel/entry.S. The vectors and
 * the el*_* stubs are in .entry.text; cpu_switch_to and ret_from_fork are
 * in .text and blacklisted one by one with NOKPROBE().
 */
#include <linux/linkage.h>
#include <asm/assembler.h>

	.text

/*
 * Exception vectors.
 */
	.pushsection ".entry.text", "ax"

	.align	11
SYM_CODE_START(vectors)
	b	el1t_64_sync
	.align	7
	b	el1h_64_sync
	.align	7
	b	el0t_64_sync
SYM_CODE_END(vectors)

/*
 * entry_handler - one stub per vector, named el<el><ht>_<regsize>_<label>,
 * calling the C handler of the same name with a _handler suffix.
 */
	.macro entry_handler el:req, ht:req, regsize:req, label:req
SYM_CODE_START_LOCAL(el\el\ht\()_\regsize\()_\label)
	mov	x0, sp
	bl	el\el\ht\()_\regsize\()_\label\()_handler
	.if \el == 0
	b	ret_to_user
	.else
	b	ret_to_kernel
	.endif
SYM_CODE_END(el\el\ht\()_\regsize\()_\label)
	.endm

/*
 * Early exception handlers
 */
	entry_handler	1, t, 64, sync
	entry_handler	1, h, 64, sync
	entry_handler	0, t, 64, sync

SYM_CODE_START_LOCAL(ret_to_kernel)
	ldp	x0, x1, [sp]
	eret
SYM_CODE_END(ret_to_kernel)

SYM_CODE_START_LOCAL(ret_to_user)
	ldp	x0, x1, [sp]
	eret
SYM_CODE_END(ret_to_user)

	.popsection				// .entry.text

/*
 * Register switch for AArch64.
 *   x0 = previous task_struct (must be preserved across the switch)
 *   x1 = next task_struct
 */
SYM_FUNC_START(cpu_switch_to)
	mov	x10, #0x400
	add	x8, x0, x10
	mov	x9, sp
	stp	x19, x20, [x8], #16
	add	x8, x1, x10
	ldp	x19, x20, [x8], #16
	mov	sp, x9
	msr	sp_el0, x1
	ret
SYM_FUNC_END(cpu_switch_to)
NOKPROBE(cpu_switch_to)

/*
 * This is how we return from a fork.
 */
SYM_CODE_START(ret_from_fork)
	bl	schedule_tail
	b	ret_to_user
SYM_CODE_END(ret_from_fork)
NOKPROBE(ret_from_fork)
