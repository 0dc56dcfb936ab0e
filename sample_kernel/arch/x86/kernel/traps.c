// SPDX-License-Identifier: GPL-2.0
/*
 * kpanalyze sample: x86 exception handlers written with the DEFINE_IDTENTRY*
 * macros of asm/idtentry.h. Every generated handler is noinstr.
 */
#include <linux/kprobes.h>
#include <asm/idtentry.h>

extern void do_error_trap(struct pt_regs *regs, long error_code,
			  const char *str, unsigned long trapnr, int signr);
extern int poke_int3_handler(struct pt_regs *regs);
extern int kprobe_int3_handler(struct pt_regs *regs);
extern unsigned long debug_read_clear_dr6(void);
extern void exc_debug_kernel(struct pt_regs *regs, unsigned long dr6);
extern void exc_debug_user(struct pt_regs *regs, unsigned long dr6);

/* static, but NOKPROBE_SYMBOL takes its address: the symbol exists */
static bool do_int3(struct pt_regs *regs)
{
	return kprobe_int3_handler(regs) != 0;
}
NOKPROBE_SYMBOL(do_int3);

DEFINE_IDTENTRY(exc_divide_error)
{
	do_error_trap(regs, 0, "divide error", X86_TRAP_DE, 8);
}

DEFINE_IDTENTRY(exc_overflow)
{
	do_error_trap(regs, 0, "overflow", X86_TRAP_OF, 11);
}

DEFINE_IDTENTRY_RAW(exc_int3)
{
	if (poke_int3_handler(regs))
		return;
	do_int3(regs);
}

#ifdef CONFIG_X86_64
/* IST stack entry */
DEFINE_IDTENTRY_DEBUG(exc_debug)
{
	exc_debug_kernel(regs, debug_read_clear_dr6());
}

/* User entry, runs on the regular task stack */
DEFINE_IDTENTRY_DEBUG_USER(exc_debug)
{
	exc_debug_user(regs, debug_read_clear_dr6());
}
#endif /* CONFIG_X86_64 */
