/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
#ifndef _SAMPLE_ERRNO_H
#define _SAMPLE_ERRNO_H
#include <asm-generic/errno-base.h>

#define EILSEQ		84
#define EOPNOTSUPP	95

#endif
