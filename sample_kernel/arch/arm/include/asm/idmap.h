/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __ASM_IDMAP_H
#define __ASM_IDMAP_H

#include <linux/compiler_types.h>

/* kpanalyze sample: code that must run through the identity mapping */
#define __idmap __section(".idmap.text") noinline notrace

void setup_mm_for_reboot(void);

#endif	/* __ASM_IDMAP_H */
