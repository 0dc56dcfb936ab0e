/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_INIT_H
#define _LINUX_INIT_H

#include <linux/compiler_types.h>

/*
 * kpanalyze sample: section markers for code that is freed or dropped.
 */
#define __init		__section(".init.text") __cold
#define __initdata	__section(".init.data")
#define __exit		__section(".exit.text") __used __cold notrace

/* kept in .text only with CONFIG_MEMORY_HOTPLUG (see the linker script) */
#define __meminit	__section(".meminit.text") __cold notrace
#define __meminitdata	__section(".meminit.data")

/* ordinary text: references init code on purpose */
#define __ref		__section(".ref.text") noinline

typedef int (*initcall_t)(void);
typedef void (*exitcall_t)(void);

#define __define_initcall(fn, id) \
	static initcall_t __initcall_##fn##id __used \
	__section(".initcall" #id ".init") = fn;

#define early_initcall(fn)	__define_initcall(fn, early)
#define device_initcall(fn)	__define_initcall(fn, 6)
#define __initcall(fn)		device_initcall(fn)
#define __exitcall(fn) \
	static exitcall_t __exitcall_##fn __used __section(".exitcall.exit") = fn;

#ifndef MODULE
#define module_init(x)	__initcall(x);
#define module_exit(x)	__exitcall(x);
#endif

#endif /* _LINUX_INIT_H */
