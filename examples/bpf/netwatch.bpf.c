// SPDX-License-Identifier: GPL-2.0
/* Example BPF object for `kpanalyze scan`: written for this repository. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("kprobe/tcp_retransmit_skb")
int BPF_KPROBE(on_retransmit, struct sock *sk)
{
	return 0;
}

SEC("kretprobe/tcp_retransmit_skb")
int BPF_KRETPROBE(on_retransmit_ret, int ret)
{
	return 0;
}

SEC("ksyscall/openat")
int BPF_KSYSCALL(on_openat, int dfd, const char *pathname)
{
	return 0;
}

/* Refused on x86: do_user_addr_fault is NOKPROBE_SYMBOL and has no ftrace site. */
SEC("kprobe/do_user_addr_fault")
int BPF_KPROBE(on_fault, struct pt_regs *regs)
{
	return 0;
}

SEC("kprobe.multi/tcp_*")
int on_any_tcp(struct pt_regs *ctx)
{
	return 0;
}
