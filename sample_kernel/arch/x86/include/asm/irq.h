/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_X86_IRQ_H
#define _ASM_X86_IRQ_H

/*
 * kpanalyze sample: x86 has no .irqentry.text. The attribute below makes any
 * use of __irq_entry fail to build, so no x86 code can carry it.
 */
#define __irq_entry __invalid_section

#endif /* _ASM_X86_IRQ_H */
