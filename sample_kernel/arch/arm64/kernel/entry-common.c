// SPDX-License-Identifier: GPL-2.0
/*
 * kpanalyze sample: arm64 exception handlers. All noinstr; some are written
 * out, the rest are produced by the token-pasting UNHANDLED() macro (whose
 * uses have no trailing semicolon, right before the next definition).
 */
#include <linux/compiler_types.h>
#include <linux/linkage.h>

struct pt_regs;

extern void do_mem_abort(unsigned long far, unsigned long esr, struct pt_regs *regs);
extern unsigned long read_sample_esr(void);
extern unsigned long read_sample_far(void);
extern void __panic_unhandled(struct pt_regs *regs, const char *vector,
			      unsigned long esr);

static __always_inline void __enter_from_kernel_mode(struct pt_regs *regs)
{
	(void)regs;
}

#define UNHANDLED(el, regsize, vector)							\
asmlinkage void noinstr el##_##regsize##_##vector##_handler(struct pt_regs *regs)	\
{											\
	const char *desc = #regsize "-bit " #el " " #vector;				\
	__panic_unhandled(regs, desc, read_sample_esr());				\
}

UNHANDLED(el1t, 64, sync)
UNHANDLED(el1t, 64, irq)
UNHANDLED(el1t, 64, error)

static void noinstr el1_abort(struct pt_regs *regs, unsigned long esr)
{
	unsigned long far = read_sample_far();

	__enter_from_kernel_mode(regs);
	do_mem_abort(far, esr, regs);
}

asmlinkage void noinstr el1h_64_sync_handler(struct pt_regs *regs)
{
	unsigned long esr = read_sample_esr();

	el1_abort(regs, esr);
}

asmlinkage void noinstr el0t_64_sync_handler(struct pt_regs *regs)
{
	el1_abort(regs, read_sample_esr());
}

#ifdef CONFIG_COMPAT
UNHANDLED(el0t, 32, sync)
UNHANDLED(el0t, 32, error)
#endif /* CONFIG_COMPAT */
