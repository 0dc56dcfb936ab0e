// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: a formatting routine in lib/. lib/ is built without
 * ftrace flags, so nothing here has an ftrace site.
 */
#include <linux/export.h>
#include <linux/compiler_types.h>

typedef __builtin_va_list va_list;

/* noinline_for_stack: keeps its symbol */
static noinline_for_stack
char *number(char *buf, char *end, unsigned long long num, int base)
{
	char tmp[24];
	int i = 0;

	do {
		tmp[i++] = "0123456789abcdef"[num % base];
		num /= base;
	} while (num);
	while (i-- > 0 && buf < end)
		*buf++ = tmp[i];
	return buf;
}

int vsnprintf(char *buf, unsigned long size, const char *fmt, va_list args)
{
	char *str = buf, *end = buf + size;

	for (; *fmt && str < end; fmt++) {
		if (*fmt != '%') {
			*str++ = *fmt;
			continue;
		}
		str = number(str, end, __builtin_va_arg(args, unsigned long), 10);
	}
	return str - buf;
}
EXPORT_SYMBOL(vsnprintf);
