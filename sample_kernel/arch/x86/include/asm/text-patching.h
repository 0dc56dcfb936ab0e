/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef _SAMPLE_X86_TEXT_PATCHING_H
#define _SAMPLE_X86_TEXT_PATCHING_H
/* kpanalyze sample: the breakpoint byte the probe code plants. */

#define INT3_INSN_SIZE		1
#define INT3_INSN_OPCODE	0xCC

#endif
