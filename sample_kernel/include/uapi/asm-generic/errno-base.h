/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
#ifndef _SAMPLE_ERRNO_BASE_H
#define _SAMPLE_ERRNO_BASE_H
/* kpanalyze sample: the error numbers the sample code returns. */

#define ENOMEM		12
#define EINVAL		22
#define ENOSPC		28

#endif
