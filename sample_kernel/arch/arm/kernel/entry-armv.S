/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpanalyze sample: the layout of arch/arm/kernel/entry-armv.S. Exception
 * handlers and __switch_to live in .entry.text, which arm refuses to probe.
 */
#include <linux/init.h>
#include <linux/linkage.h>
#include <asm/assembler.h>

	.section	.entry.text,"ax",%progbits

/*
 * Data abort taken in SVC mode (a plain local label, not a global symbol)
 */
	.align	5
__dabt_svc:
	sub	sp, sp, #72
	stmia	sp, {r0 - r12}
	mov	r2, sp
	bl	do_DataAbort
	ldmia	sp, {r0 - r12}
	add	sp, sp, #72
	movs	pc, lr
ENDPROC(__dabt_svc)

	.align	5
__irq_svc:
	sub	sp, sp, #72
	stmia	sp, {r0 - r12}
	bl	handle_arch_irq_sample
	ldmia	sp, {r0 - r12}
	add	sp, sp, #72
	movs	pc, lr
ENDPROC(__irq_svc)

/*
 * Register switch for ARMv3 and later
 * r0 = previous task_struct, r1 = previous thread_info, r2 = next thread_info
 */
ENTRY(__switch_to)
	add	ip, r1, #24
	stmia	ip!, {r4 - sl, fp, sp, lr}
	add	r4, r2, #24
	ldmia	r4, {r4 - sl, fp, sp, pc}
ENDPROC(__switch_to)
