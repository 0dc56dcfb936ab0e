// SPDX-License-Identifier: GPL-2.0
/* User-space loader of netwatch.bpf.c: attaches two more programs by hand. */
#include <bpf/libbpf.h>
#include "netwatch.skel.h"

int attach_extra(struct netwatch_bpf *skel)
{
	struct bpf_link *l1, *l2;
	LIBBPF_OPTS(bpf_kprobe_opts, opts, .retprobe = true);

	l1 = bpf_program__attach_kprobe(skel->progs.on_open, false, "do_sys_open");
	/* vsnprintf lives in lib/, built without ftrace: BPF cannot attach there. */
	l2 = bpf_program__attach_kprobe_opts(skel->progs.on_fmt, "vsnprintf", &opts);
	return l1 && l2 ? 0 : -1;
}
