// SPDX-License-Identifier: GPL-2.0
/*
 * kpanalyze sample: a driver no sample config builds.
 */
#include <linux/export.h>

static int sample_drv_count;

int sample_drv_probe(void *dev)
{
	sample_drv_count++;
	return dev ? 0 : -19;
}
EXPORT_SYMBOL_GPL(sample_drv_probe);
