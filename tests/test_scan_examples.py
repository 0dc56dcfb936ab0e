"""`kpanalyze scan` on the example project (examples/): every probe point is found, with the
right verdict, on the sample kernel (fast) and on the real tree (marker `kernel`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpanalyze.scan import scan

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# (path, line, front end, point as judged, kind, via, status, decisive reason ids) on x86.
# "suppressed": the inline `kpanalyze: ignore[...]` accepts it.
EXPECTED = [
    ("bpf/loader.c", 11, "libbpf", "do_sys_open", "kprobe", "tracefs", "probeable", ()),
    ("bpf/loader.c", 13, "libbpf", "vsnprintf", "kretprobe", "tracefs", "blocked", ("notrace",)),
    ("bpf/netwatch.bpf.c", 9, "bpf-c", "tcp_retransmit_skb", "kprobe", "tracefs", "probeable", ()),
    ("bpf/netwatch.bpf.c", 15, "bpf-c", "tcp_retransmit_skb", "kretprobe", "tracefs", "probeable", ()),
    ("bpf/netwatch.bpf.c", 21, "bpf-c", "__x64_sys_openat", "kprobe", "tracefs", "probeable", ()),
    ("bpf/netwatch.bpf.c", 28, "bpf-c", "do_user_addr_fault", "kprobe", "tracefs", "blocked",
     ("notrace", "nokprobe-symbol")),
    ("bpf/netwatch.bpf.c", 34, "bpf-c", "tcp_*", "kprobe", "tracefs", "probeable", ()),
    ("events/kprobe_events", 3, "kprobe-events", "tcp_retransmit_skb", "kprobe", "tracefs", "probeable", ()),
    ("events/kprobe_events", 4, "kprobe-events", "do_sys_open", "kretprobe", "tracefs", "probeable", ()),
    ("events/kprobe_events", 5, "kprobe-events", "handle_page_fault", "kprobe", "tracefs", "missing",
     ("always-inline",)),
    ("module/probe_mod.c", 11, "module", "vsnprintf", "kprobe", "module", "probeable", ()),
    ("module/probe_mod.c", 17, "module", "__switch_to", "kretprobe", "module", "blocked", ("kretprobe-blacklist",)),
    ("module/probe_mod.c", 23, "module", "start_kernel", "kprobe", "module", "blocked", ("init-text",)),
    ("tools/opensnoop.py", 6, "bcc", "do_sys_open", "kprobe", "tracefs", "probeable", ()),
    ("tools/opensnoop.py", 7, "bcc", "__x64_sys_openat", "kretprobe", "tracefs", "probeable", ()),
    ("tools/opensnoop.py", 9, "bcc", "init_once", "kprobe", "tracefs", "blocked", ("non-unique",)),
    ("trace/faults.bt", 7, "bpftrace", "handle_page_fault", "kprobe", "tracefs", "missing", ("always-inline",)),
    ("trace/faults.bt", 8, "bpftrace", "exc_int3", "kprobe", "tracefs", "blocked", ("notrace", "noinstr")),
    ("trace/faults.bt", 13, "bpftrace", "do_sys_open", "kretprobe", "tracefs", "probeable", ()),
    ("trace/faults.bt", 18, "bpftrace", "tcp_retransmit_skb+0x10", "kprobe", "tracefs", "probeable", ()),
    ("trace/faults.bt", 21, "bpftrace", "sched_clock", "kprobe", "tracefs", "suppressed", ("notrace",)),
]
FRONT_ENDS = {"bpf-c", "libbpf", "bpftrace", "kprobe-events", "module", "bcc"}


def _rows(result):
    rows = {}
    for v in result.verdicts:
        if v in result.pattern_of:
            continue
        rows[(v.origin.path, v.origin.line)] = (v.origin.front_end, str(v.point), v.kind, v.via, v.status,
                                                tuple(r.id for r in v.reasons if r.decisive))
    for v, how in result.suppressed:
        assert how == "inline"
        rows[(v.origin.path, v.origin.line)] = (v.origin.front_end, str(v.point), v.kind, v.via, "suppressed",
                                                tuple(r.id for r in v.reasons if r.decisive))
    return rows


def _expected():
    return {(f"examples/{p}", line): rest for p, line, *rest in EXPECTED}


def _check(result):
    assert result.files_scanned == 6 and result.files_skipped == 0
    assert len(result.findings) == len(EXPECTED) == 21
    assert {f.origin.front_end for f in result.findings} == FRONT_ENDS
    got = _rows(result)
    want = _expected()
    assert set(got) == set(want)
    for key in want:
        assert got[key][:5] == tuple(want[key][:5]), key
        assert set(want[key][5]) <= set(got[key][5]), (key, got[key][5])
    assert result.count("error") == 8
    assert [p for p in result.problems if p.severity != "note"] == []
    assert result.exit_code == 1


def test_examples_on_the_sample_kernel(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = scan(["examples"])
    _check(result)
    # the sample tree's tcp_* functions: all found, none refused
    (exp,) = result.expansions
    assert exp.pattern == "tcp_*" and exp.arch == "x86" and exp.names == 6
    assert dict(exp.counts) == {"probeable": 4, "missing": 2}
    assert not result.pattern_of


def test_every_origin_points_at_the_probe_text(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = scan(["examples"])
    for f in result.findings:
        line = (ROOT / f.origin.path).read_text().splitlines()[f.origin.line - 1]
        name = f.target.split("+")[0]
        assert name in line[f.origin.col - 1:] or name in f.origin.text, (f.origin, line)
        assert f.origin.col >= 1


@pytest.mark.kernel
def test_examples_on_the_real_tree(real_tree, debian_config, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = scan(["examples"], kernel=real_tree, config=debian_config("x86"))
    _check(result)
    (exp,) = result.expansions
    assert exp.names > 500  # net/ipv4 alone defines hundreds of tcp_* functions
    counts = dict(exp.counts)
    assert counts["probeable"] > 200
    # refused tcp_* functions are listed, at the pattern-members level (warning by default)
    assert result.pattern_of and all(result.level(v) == "warning" for v in result.pattern_of)
    assert {"tcp_init", "tcp_v4_init"} <= {v.point.symbol for v in result.pattern_of}
