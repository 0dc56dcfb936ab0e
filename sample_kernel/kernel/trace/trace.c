// SPDX-License-Identifier: GPL-2.0
/*
 * kpanalyze sample: an ordinary-looking function in kernel/trace/. The whole
 * directory is built without ftrace flags, so it has no ftrace site.
 */
#include <linux/export.h>

static int tracing_sample_disabled;

int tracing_is_on(void)
{
	return !tracing_sample_disabled;
}
EXPORT_SYMBOL_GPL(tracing_is_on);
