// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: syscall definitions. The names the kernel emits depend
 * on the arch's syscall wrapper (sys_openat, __x64_sys_openat, ...).
 */
#include <linux/syscalls.h>
#include <linux/export.h>

typedef unsigned short umode_t;
struct path;

long do_sys_open(int dfd, const char __user *filename, int flags, umode_t mode)
{
	if (!filename)
		return -EFAULT;
	return dfd + flags + mode;
}

SYSCALL_DEFINE3(open, const char __user *, filename, int, flags, umode_t, mode)
{
	return do_sys_open(-100, filename, flags, mode);
}

SYSCALL_DEFINE4(openat, int, dfd, const char __user *, filename, int, flags,
		umode_t, mode)
{
	return do_sys_open(dfd, filename, flags, mode);
}

/* a text symbol whose name is also used by a variable (net/socket.c) */
int kern_path(const char *name, unsigned int flags, struct path *path)
{
	return name ? 0 : -EINVAL;
}
EXPORT_SYMBOL(kern_path);
