"""Acceptance on Debian's real linux-source-6.1 (6.1.176) tree with Debian's configs.

Expectations come from the kernel sources and from what a booted 6.1.176 kernel
accepted (groundtruth/); each names the reason and checks the evidence location.
"""

from __future__ import annotations

import pytest

from kpanalyze import api

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def kernel(real_tree):
    return api.open_kernel(real_tree)


def verdicts(kernel, point, arch, config, via="tracefs"):
    res = api.check([point], arches=[arch], config=config, via=via, opened=kernel)
    return {v.kind: v for v in res.verdicts}


def decisive(v):
    return [r.id for r in v.reasons if r.decisive]


def evidence_paths(v):
    return {e.path for r in v.reasons for e in r.evidence}


@pytest.mark.parametrize("arch", ["x86", "arm", "arm64"])
def test_tcp_retransmit_skb_probeable(kernel, debian_config, arch):
    for via in ("tracefs", "module"):
        vs = verdicts(kernel, "tcp_retransmit_skb", arch, debian_config(arch), via)
        for kind, v in vs.items():
            assert v.status == "probeable", (arch, via, kind, v)
            assert v.definition.path == "net/ipv4/tcp_output.c"


def test_exc_int3_noinstr_from_idtentry_macro(kernel, debian_config):
    v = verdicts(kernel, "exc_int3", "x86", debian_config("x86"), via="module")["kprobe"]
    assert v.status == "blocked"
    assert "noinstr" in decisive(v)
    noinstr = next(r for r in v.reasons if r.id == "noinstr")
    assert "DEFINE_IDTENTRY_RAW" in noinstr.message
    assert "arch/x86/kernel/traps.c" in evidence_paths(v)


def test_do_user_addr_fault_nokprobe(kernel, debian_config):
    v = verdicts(kernel, "do_user_addr_fault", "x86", debian_config("x86"), via="module")["kprobe"]
    assert v.status == "blocked"
    assert decisive(v) == ["nokprobe-symbol"]
    assert "arch/x86/mm/fault.c" in evidence_paths(v)


def test_handle_page_fault_always_inline(kernel, debian_config):
    for via in ("tracefs", "module"):
        v = verdicts(kernel, "handle_page_fault", "x86", debian_config("x86"), via)["kprobe"]
        assert v.status == "missing"
        assert decisive(v) == ["always-inline"]
        assert v.expected_errno == "ENOENT"


def test_do_page_fault_arm_kprobes_text(kernel, debian_config):
    v = verdicts(kernel, "do_page_fault", "arm", debian_config("arm"), via="module")["kprobe"]
    assert v.status == "blocked"
    assert "kprobes-text" in decisive(v)
    assert v.definition.path == "arch/arm/mm/fault.c"


def test_dabt_svc_arm_entry_text(kernel, debian_config):
    v = verdicts(kernel, "__dabt_svc", "arm", debian_config("arm"), via="module")["kprobe"]
    assert v.status == "blocked"
    assert "entry-text" in decisive(v)
    assert v.definition.path == "arch/arm/kernel/entry-armv.S"


def test_vsnprintf_notrace_via_tracefs_only(kernel, debian_config):
    cfg = debian_config("x86")
    t = verdicts(kernel, "vsnprintf", "x86", cfg, "tracefs")["kprobe"]
    assert t.status == "blocked" and decisive(t) == ["notrace"]
    assert "lib/Makefile" in evidence_paths(t)
    m = verdicts(kernel, "vsnprintf", "x86", cfg, "module")
    assert all(v.status == "probeable" for v in m.values())


def test_init_once_non_unique_via_tracefs(kernel, debian_config):
    v = verdicts(kernel, "init_once", "x86", debian_config("x86"), "tracefs")["kprobe"]
    assert v.status == "blocked"
    assert "non-unique" in decisive(v)
    assert v.expected_errno == "EADDRNOTAVAIL"


def test_switch_to_kretprobe_blacklist(kernel, debian_config):
    cfg = debian_config("x86")
    m = verdicts(kernel, "__switch_to", "x86", cfg, "module")
    assert m["kprobe"].status == "probeable"
    assert m["kretprobe"].status == "blocked" and decisive(m["kretprobe"]) == ["kretprobe-blacklist"]
    t = verdicts(kernel, "__switch_to", "x86", cfg, "tracefs")
    assert all(v.status == "blocked" and "notrace" in decisive(v) for v in t.values())


def test_loongarch_has_no_kprobes(kernel):
    v = verdicts(kernel, "tcp_retransmit_skb", "loongarch", None)["kprobe"]
    assert v.status == "blocked" and decisive(v) == ["arch-no-kprobes"]
    assert v.expected_errno == "EOPNOTSUPP"


def test_syscall_renamed_entry(kernel, debian_config):
    v = verdicts(kernel, "sys_openat", "x86", debian_config("x86"))["kprobe"]
    assert v.status == "missing" and decisive(v) == ["renamed-entry"]
    assert "__x64_sys_openat" in v.suggestions
    ok = verdicts(kernel, "__x64_sys_openat", "x86", debian_config("x86"))["kprobe"]
    assert ok.status == "probeable"


def test_blacklist_lists_entry_and_nokprobe(kernel, debian_config):
    entries = {e.name: e for e in api.blacklist("x86", config=debian_config("x86"), opened=kernel)}
    assert entries["do_user_addr_fault"].reason_id == "nokprobe-symbol"
    assert entries["exc_int3"].reason_id == "noinstr"
    assert entries["entry_SYSCALL_64"].reason_id == "entry-text"
