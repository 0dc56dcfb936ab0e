/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _LINUX_MODULE_H
#define _LINUX_MODULE_H

#include <linux/init.h>
#include <linux/export.h>

/*
 * kpanalyze sample: init code that stays when modules are possible
 * (kprobes depend on MODULES, so this is ordinary text there).
 */
#ifdef CONFIG_MODULES
#define __init_or_module
#define __initdata_or_module
#else
#define __init_or_module __init
#define __initdata_or_module __initdata
#endif /* CONFIG_MODULES */

#define MODULE_LICENSE(_license)	static const char __module_license[] __used = _license

#endif /* _LINUX_MODULE_H */
