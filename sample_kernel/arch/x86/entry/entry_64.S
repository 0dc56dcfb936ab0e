/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpanalyze sample: the layout of the x86-64 entry code, not its code.
 * From the .section line on, everything is in .entry.text unless a
 * .pushsection moves it elsewhere.
 */
#include <linux/linkage.h>
#include <asm/asm.h>

.code64
.section .entry.text, "ax"

/* 64-bit SYSCALL entry */
SYM_CODE_START(entry_SYSCALL_64)
	swapgs
	movq	%rsp, %gs:0x6014
	movq	%gs:0x6018, %rsp
SYM_INNER_LABEL(entry_SYSCALL_64_after_hwframe, SYM_L_GLOBAL)
	pushq	%rax
	movq	%rsp, %rdi
	call	do_syscall_64
	jmp	error_return
SYM_CODE_END(entry_SYSCALL_64)

/* A new task starts here: ordinary text, not entry text. */
.pushsection .text, "ax"
SYM_CODE_START(ret_from_fork)
	movq	%rax, %rdi
	call	schedule_tail
	jmp	error_return
SYM_CODE_END(ret_from_fork)
.popsection

/*
 * idtentry - emit the asm stub of a simple IDT entry
 * @vector:		vector number
 * @asmsym:		name of the asm entry point
 * @cfunc:		C function it calls
 * @has_error_code:	whether the CPU pushed an error code
 */
.macro idtentry vector asmsym cfunc has_error_code:req
SYM_CODE_START(\asmsym)
	cld
	.if \has_error_code == 0
		pushq	$-1		/* no error code: keep the frame shape */
	.endif
	movq	%rsp, %rdi
	call	\cfunc
	jmp	error_return

_ASM_NOKPROBE(\asmsym)
SYM_CODE_END(\asmsym)
.endm

/* The DECLARE_IDTENTRY* lines of this header become idtentry invocations. */
#include <asm/idtentry.h>

SYM_CODE_START_LOCAL(error_return)
	testb	$3, 8(%rsp)
	jnz	1f
	iretq
1:	swapgs
	iretq
SYM_CODE_END(error_return)
