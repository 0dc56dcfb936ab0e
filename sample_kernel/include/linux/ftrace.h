/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_FTRACE_H
#define _LINUX_FTRACE_H

#include <linux/compiler_types.h>

/*
 * kpanalyze sample. __notrace_funcgraph keeps a function away from the
 * function graph tracer; without that tracer it is an ordinary function.
 */
#ifdef CONFIG_FUNCTION_GRAPH_TRACER

#define __notrace_funcgraph		notrace

int function_graph_enter(unsigned long ret, unsigned long func);

#else /* !CONFIG_FUNCTION_GRAPH_TRACER */

#define __notrace_funcgraph

#endif /* CONFIG_FUNCTION_GRAPH_TRACER */

#endif /* _LINUX_FTRACE_H */
