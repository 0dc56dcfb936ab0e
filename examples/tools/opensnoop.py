#!/usr/bin/env python3
"""Example bcc tool for `kpanalyze scan`."""
from bcc import BPF

b = BPF(src_file="opensnoop.bpf.c")
b.attach_kprobe(event="do_sys_open", fn_name="trace_entry")
b.attach_kretprobe(event=b.get_syscall_fnname("openat"), fn_name="trace_return")
# Several files define a static init_once(): kprobe_events cannot pick one by name.
b.attach_kprobe(event="init_once", fn_name="trace_inode_init")
b.trace_print()
