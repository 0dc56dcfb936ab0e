/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpanalyze sample: arm64 C interrupt handlers called from the entry code.
 */
#ifndef __ASM_EXCEPTION_H
#define __ASM_EXCEPTION_H

#include <linux/interrupt.h>

#define __exception_irq_entry	__irq_entry

#endif	/* __ASM_EXCEPTION_H */
