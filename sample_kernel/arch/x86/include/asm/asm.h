/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_X86_ASM_H
#define _ASM_X86_ASM_H

/*
 * kpanalyze sample: pointer-sized data directives and _ASM_NOKPROBE, the
 * assembler twin of NOKPROBE_SYMBOL.
 */
#ifdef __ASSEMBLY__
# define __ASM_FORM(x)	x
#else
# define __ASM_FORM(x)	" " #x " "
#endif

#ifdef CONFIG_X86_32
# define _ASM_PTR	__ASM_FORM(.long)
# define _ASM_ALIGN	__ASM_FORM(.balign 4)
#else
# define _ASM_PTR	__ASM_FORM(.quad)
# define _ASM_ALIGN	__ASM_FORM(.balign 8)
#endif

#ifdef __ASSEMBLY__
/* put the address of entry in the _kprobe_blacklist section */
# ifdef CONFIG_KPROBES
#  define _ASM_NOKPROBE(entry)					\
	.pushsection "_kprobe_blacklist","aw" ;			\
	_ASM_ALIGN ;						\
	_ASM_PTR (entry);					\
	.popsection
# else
#  define _ASM_NOKPROBE(entry)
# endif
#endif /* __ASSEMBLY__ */

#endif /* _ASM_X86_ASM_H */
