/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _LINUX_EXPORT_H
#define _LINUX_EXPORT_H

/*
 * kpanalyze sample: exporting a symbol takes its address, so the function
 * keeps an out-of-line copy.
 */
struct kernel_symbol {
	unsigned long value;
	const char *name;
};

#define ___EXPORT_SYMBOL(sym, sec)					\
	static const struct kernel_symbol __ksymtab_##sym		\
	__attribute__((section("___ksymtab" sec "+" #sym), used))	\
	= { (unsigned long)&sym, #sym }

#define EXPORT_SYMBOL(sym)		___EXPORT_SYMBOL(sym, "")
#define EXPORT_SYMBOL_GPL(sym)		___EXPORT_SYMBOL(sym, "_gpl")

#endif /* _LINUX_EXPORT_H */
