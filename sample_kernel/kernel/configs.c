// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kpanalyze sample: an optional built-in "module" with __init and __exit
 * functions (built from obj-$(CONFIG_IKCONFIG)).
 */
#include <linux/init.h>
#include <linux/module.h>

static const char sample_config_data[] = "CONFIG_SAMPLE=y\n";
static int config_entry_ready;

static int __init ikconfig_init(void)
{
	config_entry_ready = sizeof(sample_config_data) > 1;
	return 0;
}

static void __exit ikconfig_cleanup(void)
{
	config_entry_ready = 0;
}

module_init(ikconfig_init);
module_exit(ikconfig_cleanup);
