// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kpanalyze sample: a powerpc interrupt handler defined with
 * DEFINE_INTERRUPT_HANDLER, whose expansion blacklists it.
 */
#include <asm/interrupt.h>

extern int sample_emulate_instruction(struct pt_regs *regs);
extern void sample_die(const char *str, struct pt_regs *regs, long err);

DEFINE_INTERRUPT_HANDLER(program_check_exception)
{
	if (sample_emulate_instruction(regs) == 0)
		return;
	sample_die("Illegal instruction", regs, 4);
}
