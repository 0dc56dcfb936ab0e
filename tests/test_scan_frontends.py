"""The scan front ends on small hand-written inputs: what each finds, where, and what it skips."""

from __future__ import annotations

import pytest

from kpanalyze.scan import bcc, bpftrace, clang, kprobe_events
from kpanalyze.scan.bpf_c import parse_section


def found(fs):
    return [(f.origin.line, f.origin.col, f.target, f.kind, f.offset, f.match, f.via, f.origin.front_end)
            for f in fs.findings]


# -- BPF C ----------------------------------------------------------------------------

@pytest.mark.parametrize("sec, want", [
    ("kprobe/vfs_read", ("kprobe", "name", "vfs_read", 0)),
    ("kretprobe/vfs_read", ("kretprobe", "name", "vfs_read", 0)),
    ("kprobe/vfs_read+0x10", ("kprobe", "name", "vfs_read", 16)),
    ("kprobe/vfs_read+8", ("kprobe", "name", "vfs_read", 8)),
    ("ksyscall/openat", ("kprobe", "syscall", "openat", 0)),
    ("kretsyscall/openat", ("kretprobe", "syscall", "openat", 0)),
    ("kprobe.multi/tcp_*", ("kprobe", "glob", "tcp_*", 0)),
    ("kretprobe.multi/vfs_?ead", ("kretprobe", "glob", "vfs_?ead", 0)),
    ("kprobe.multi/vfs_read", ("kprobe", "name", "vfs_read", 0)),
    ("kprobe", None), ("kprobe/", None), ("fentry/vfs_read", None), ("license", None), ("tp/sched/x", None),
])
def test_section_names(sec, want):
    assert parse_section(sec) == want


@pytest.mark.parametrize("sec", ["kprobe/bad name", "kprobe/a+b", "ksyscall/open at", "kprobe.multi/a b*"])
def test_section_names_libbpf_cannot_parse(sec):
    with pytest.raises(ValueError):
        parse_section(sec)


BPF = b'''#include "vmlinux.h"
#define SEC(name) __attribute__((section(name), used))
char LICENSE[] SEC("license") = "GPL";

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(a, int dfd) { return 0; }

SEC("kretprobe/" "do_unlinkat") // kpanalyze: ignore[notrace]
int BPF_KRETPROBE(b, long ret) { return 0; }

__attribute__((section("kprobe/vfs_write+0x4"))) int c(void *ctx) { return 0; }
/* SEC("kprobe/in_a_comment") */
const char *s = "SEC(\\"kprobe/in_a_string\\")";
SEC("kprobe.multi/tcp_*") int d(void *ctx) { return 0; }
SEC("ksyscall/openat") int e(void *ctx) { return 0; }
SEC("kprobe") int f(void *ctx) { return 0; }
SEC("kprobe/bad name") int g(void *ctx) { return 0; }
'''


def test_bpf_sections():
    fs = clang.scan("p.bpf.c", BPF)
    assert found(fs) == [
        (5, 5, "do_unlinkat", "kprobe", 0, "name", "tracefs", "bpf-c"),
        (8, 5, "do_unlinkat", "kretprobe", 0, "name", "tracefs", "bpf-c"),
        (11, 24, "vfs_write", "kprobe", 4, "name", "tracefs", "bpf-c"),
        (14, 5, "tcp_*", "kprobe", 0, "glob", "tracefs", "bpf-c"),
        (15, 5, "openat", "kprobe", 0, "syscall", "tracefs", "bpf-c"),
    ]
    assert fs.findings[0].origin.text == 'SEC("kprobe/do_unlinkat")'
    assert [(p.line, p.code) for p in fs.problems] == [(17, "syntax")]
    assert any("kpanalyze: ignore[notrace]" in c.text and c.line == 8 for c in fs.comments)


@pytest.mark.parametrize("src, line", [
    (b'SEC("kprobe/foo"\nint x;\n', 1),
    (b'SEC(\n', 1),
    (b'int a;\nSEC("kprobe/ok") int f(void) { return 0; }\nSEC("kprobe/bar\n', 3),
])
def test_unterminated_sec_is_a_problem_not_a_crash(src, line):
    fs = clang.scan("x.c", src)
    assert any(p.line == line and p.code == "syntax" and p.severity == "warning" for p in fs.problems), fs.problems
    assert all(f.target != "bar" for f in fs.findings)


LIBBPF = b'''
int main(void) {
	LIBBPF_OPTS(bpf_kprobe_opts, ropts, .retprobe = true, .offset = 0x20);
	struct bpf_kprobe_opts plain = { .sz = sizeof(plain) };
	bpf_program__attach_kprobe(p, false, "tcp_sendmsg");
	bpf_program__attach_kprobe(p, true, "tcp_sendmsg");
	bpf_program__attach_kprobe(p, is_ret, "tcp_recvmsg");
	bpf_program__attach_kprobe_opts(p, "tcp_v4_connect", &ropts);
	bpf_program__attach_kprobe_opts(p, "tcp_close", &plain);
	bpf_program__attach_kprobe_opts(p, "tcp_rcv", NULL);
	bpf_program__attach_kprobe_multi_opts(p, "vfs_*", NULL);
	bpf_program__attach_kprobe(p, false, name_from_argv);
	return 0;
}
'''


def test_libbpf_attach_calls():
    got = [(f.origin.line, f.target, f.kind, f.offset, f.match) for f in clang.scan("l.c", LIBBPF).findings]
    assert got == [
        (5, "tcp_sendmsg", "kprobe", 0, "name"),
        (6, "tcp_sendmsg", "kretprobe", 0, "name"),
        (7, "tcp_recvmsg", "kprobe", 0, "name"),  # retprobe unknown at scan time: both kinds
        (7, "tcp_recvmsg", "kretprobe", 0, "name"),
        (8, "tcp_v4_connect", "kretprobe", 0x20, "name"),
        (9, "tcp_close", "kprobe", 0, "name"),
        (10, "tcp_rcv", "kprobe", 0, "name"),
        (11, "vfs_*", "kprobe", 0, "glob"),
    ]
    assert all(f.origin.front_end == "libbpf" for f in clang.scan("l.c", LIBBPF).findings)


MODULE = b'''
static char symbol[KSYM_NAME_LEN] = "kernel_clone";
module_param_string(symbol, symbol, sizeof(symbol), 0644);
static struct kprobe kp = {
	.symbol_name = "do_sys_open",
	.offset = 0x10,
};
static struct kprobe by_param = { .symbol_name = symbol };
static struct kretprobe rp = { .kp.symbol_name = "vfs_read", .handler = h };
static struct kretprobe rp2 = { .kp = { .symbol_name = "vfs_write", .offset = 4 } };
static struct kprobe many[] = { { .symbol_name = "a_fn" }, { .symbol_name = "b_fn", .offset = 8 } };
static struct not_a_kprobe other = { .symbol_name = "nope" };
static int __init init(void)
{
	struct kprobe *p = &many[0];
	struct kretprobe *r;
	p->symbol_name = "c_fn";
	p->offset = 0x8;
	r->kp.symbol_name = "d_fn";
	return 0;
}
'''


def test_module_initializers_and_assignments():
    got = [(f.origin.line, f.target, f.kind, f.offset, f.via) for f in clang.scan("m.c", MODULE).findings]
    assert got == [
        (5, "do_sys_open", "kprobe", 0x10, "module"),
        (8, "kernel_clone", "kprobe", 0, "module"),
        (9, "vfs_read", "kretprobe", 0, "module"),
        (10, "vfs_write", "kretprobe", 4, "module"),
        (11, "a_fn", "kprobe", 0, "module"),
        (11, "b_fn", "kprobe", 8, "module"),
        (17, "c_fn", "kprobe", 8, "module"),
        (19, "d_fn", "kretprobe", 0, "module"),
    ]


def test_c_file_without_probes_is_not_parsed():
    assert found(clang.scan("x.c", b"int main(void) { return 0; }\n")) == []


# -- bpftrace -------------------------------------------------------------------------

BT = '''#!/usr/bin/env bpftrace
#include <linux/sched.h>
/* kprobe:in_a_comment
 */
kprobe:vfs_read,
kretprobe:vfs_write /* between */,
k:tcp_* // kpanalyze: ignore[notrace]
/pid == 1/
{
	printf("kprobe:in_a_string %d\\n", 1);
	if (x) { @a = 1; }
}
kprobe:do_sys_open+0x10 { @[comm] = count(); }
kr:ext4:ext4_sync_file { }
kprobe:$1 { }
BEGIN { } tracepoint:syscalls:sys_enter_open { } kfunc:vfs_read { }
'''


def test_bpftrace_probes():
    fs = bpftrace.scan("t.bt", BT.encode(), BT)
    assert [(f.origin.line, f.origin.col, f.target, f.kind, f.offset, f.match) for f in fs.findings] == [
        (5, 1, "vfs_read", "kprobe", 0, "name"),
        (6, 1, "vfs_write", "kretprobe", 0, "name"),
        (7, 1, "tcp_*", "kprobe", 0, "glob"),
        (13, 1, "do_sys_open", "kprobe", 16, "name"),
        (14, 1, "ext4_sync_file", "kretprobe", 0, "name"),
    ]
    assert fs.problems == []
    assert [c.line for c in fs.comments] == [3, 6, 7]


@pytest.mark.parametrize("src", ["kprobe:a { /* never closed", 'kprobe:a { printf("x', "kprobe:a { {"])
def test_bpftrace_broken_scripts_are_problems(src):
    fs = bpftrace.scan("b.bt", src.encode(), src)
    assert fs.problems and all(p.severity == "warning" for p in fs.problems)
    assert [f.target for f in fs.findings] == ["a"]


# -- kprobe_events --------------------------------------------------------------------

EVENTS = """# my events
p:grp/open do_sys_open dfd=%ax
r:grp/open_ret do_sys_open $retval  # kpanalyze: ignore[notrace]
p vfs_read
p:ev vfs_write+0x10
r10:x tcp_sendmsg
p:rr tcp_recvmsg%return
-:grp/open
p:raw 0xffffffff81000000
p:u /bin/bash:0x4245c0
echo 'p:sh/open do_sys_openat2' >> /sys/kernel/tracing/kprobe_events
p
"""


def test_kprobe_events_lines():
    fs = kprobe_events.scan("k.events", EVENTS.encode(), EVENTS)
    assert [(f.origin.line, f.origin.col, f.target, f.kind, f.offset) for f in fs.findings] == [
        (2, 12, "do_sys_open", "kprobe", 0),
        (3, 16, "do_sys_open", "kretprobe", 0),
        (4, 3, "vfs_read", "kprobe", 0),
        (5, 6, "vfs_write", "kprobe", 16),
        (6, 7, "tcp_sendmsg", "kretprobe", 0),
        (7, 6, "tcp_recvmsg", "kretprobe", 0),
        (11, 17, "do_sys_openat2", "kprobe", 0),
    ]
    assert [(p.line, p.code) for p in fs.problems] == [(12, "syntax")]
    assert [c.line for c in fs.comments] == [1, 3]


# -- bcc ------------------------------------------------------------------------------

BCC = b'''from bcc import BPF
prog = """
int kprobe__tcp_v4_connect(struct pt_regs *ctx) { return 0; }  // kpanalyze: ignore[notrace]
int kretprobe__tcp_v4_connect(struct pt_regs *ctx) { return 0; }
"""
b = BPF(text=prog)
b.attach_kprobe(event="vfs_read", fn_name="trace")  # kpanalyze: ignore[notrace]
b.attach_kretprobe(event=b"vfs_write", fn_name="trace_ret")
b.attach_kprobe(event_re=r"^vfs_.*$", fn_name="x")
b.attach_kprobe("do_sys_open", 0x10, "x")
b.attach_kprobe(event=b.get_syscall_fnname("execve"), fn_name="y")
b.attach_kprobe(event=name, fn_name="z")
b.attach_kprobe(event=f"{name}", fn_name="z")
b.attach_kprobe(event_re="([", fn_name="z")
'''


def test_bcc_calls_and_auto_attach():
    fs = bcc.scan("t.py", BCC)
    assert [(f.origin.line, f.target, f.kind, f.offset, f.match) for f in fs.findings] == [
        (3, "tcp_v4_connect", "kprobe", 0, "name"),
        (4, "tcp_v4_connect", "kretprobe", 0, "name"),
        (7, "vfs_read", "kprobe", 0, "name"),
        (8, "vfs_write", "kretprobe", 0, "name"),
        (9, "^vfs_.*$", "kprobe", 0, "regex"),
        (10, "do_sys_open", "kprobe", 16, "name"),
        (11, "execve", "kprobe", 0, "syscall"),
    ]
    assert [(p.line, p.code) for p in fs.problems] == [(14, "syntax")]
    assert sorted(c.line for c in fs.comments if "kpanalyze" in c.text) == [3, 7]


def test_python_without_bcc_is_not_parsed():
    assert bcc.scan("x.py", b"print('hello')\n").findings == []
