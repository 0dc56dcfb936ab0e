/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kpanalyze sample: resume code that runs with the MMU off, from the
 * identity map (.idmap.text is blacklisted on arm64).
 */
#include <linux/linkage.h>

	.pushsection ".idmap.text", "awx"
SYM_CODE_START(cpu_resume)
	mov	x0, #0
	bl	__cpu_setup_sample
	b	__cpu_resume_mmu_sample
SYM_CODE_END(cpu_resume)
	.popsection
