/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kpanalyze sample: annotation for C interrupt handlers called straight
 * from the exception entry code.
 */
#ifndef __ASM_ARM_EXCEPTION_H
#define __ASM_ARM_EXCEPTION_H

#include <linux/interrupt.h>

#define __exception_irq_entry	__irq_entry

#endif /* __ASM_ARM_EXCEPTION_H */
