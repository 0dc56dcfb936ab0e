/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpanalyze sample: user-access helpers in plain .text (there is no section
 * directive), each blacklisted with _ASM_NOKPROBE.
 */
#include <linux/linkage.h>
#include <asm/assembler.h>

ENTRY(__get_user_1)
1:	ldrbt	r2, [r0]
	mov	r0, #0
	ret	lr
ENDPROC(__get_user_1)
_ASM_NOKPROBE(__get_user_1)

ENTRY(__get_user_4)
2:	ldrt	r2, [r0]
	mov	r0, #0
	ret	lr
ENDPROC(__get_user_4)
_ASM_NOKPROBE(__get_user_4)

__get_user_bad:
	mov	r2, #0
	mov	r0, #-14
	ret	lr
ENDPROC(__get_user_bad)
_ASM_NOKPROBE(__get_user_bad)
