"""Renderers on hand-built verdicts: text (plain and terminal) and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from kpanalyze.reasons import CATALOG
from kpanalyze.render import json as rjson
from kpanalyze.render import text as rtext
from kpanalyze.verdict import BlacklistEntry, CheckResult, Evidence, ProbePoint, Reason, Verdict

OK = Verdict(ProbePoint("tcp_retransmit_skb"), "arm", "kprobe", "tracefs", "probeable",
             definition=Evidence("net/ipv4/tcp_output.c", 3300))
BLOCKED = Verdict(
    ProbePoint("do_page_fault", 0x10), "arm", "kretprobe", "tracefs", "blocked",
    reasons=(Reason("kprobes-text", "do_page_fault is marked __kprobes, so it lives in .kprobes.text.",
                    (Evidence("arch/arm/mm/fault.c", 270, "static int __kprobes"),)),
             Reason("kretprobe-not-entry", "A return probe must sit at the function entry.",
                    (Evidence("kernel/kprobes.c", 2150), Evidence("kernel/kprobes.c", 2160)))),
    expected_errno="EINVAL")
MISSING = Verdict(ProbePoint("sys_openat"), "x86", "kprobe", "tracefs", "missing",
                  reasons=(Reason("renamed-entry", "x86 emits syscalls as __x64_sys_*.", ()),),
                  expected_errno="ENOENT", suggestions=("__x64_sys_openat",))
UNCERTAIN = Verdict(ProbePoint("helper"), "riscv", "kprobe", "module", "uncertain",
                    reasons=(Reason("maybe-inlined", "helper is static and small.",
                                    (Evidence("lib/helper.c", 12),)),
                             Reason("config-dependent", "Defined under #ifdef CONFIG_FOO.",
                                    (Evidence("lib/helper.c", 10),), decisive=False)),
                    confidence="medium", if_present="probeable", config_dependent=True)


def result(*verdicts: Verdict) -> CheckResult:
    return CheckResult(list(verdicts), kernel="/src/linux", kernel_version="6.1.176",
                       config="/tmp/config", warnings=["lib/odd.c:3: not UTF-8, skipped"])


# -- text, plain (not a terminal) --------------------------------------------------

def test_plain_rows_reasons_and_evidence():
    out = rtext.render_check(result(OK, BLOCKED, MISSING, UNCERTAIN))
    lines = out.splitlines()
    assert lines[0].split() == ["tcp_retransmit_skb", "arm", "kprobe", "tracefs", "probeable"]
    assert "\x1b[" not in out and "─" not in out  # no colour, no box drawing
    row = next(line for line in lines if line.startswith("do_page_fault+0x10"))
    assert row.split()[-2:] == ["blocked", "(EINVAL)"]
    assert ("    kprobes-text: do_page_fault is marked __kprobes, so it lives in .kprobes.text. "
            "[arch/arm/mm/fault.c:270]") in lines
    assert "[kernel/kprobes.c:2150, kernel/kprobes.c:2160]" in out
    assert "    try instead: __x64_sys_openat" in lines
    assert "    confidence: medium" in lines
    assert "    if present: probeable" in lines
    assert not any(line.startswith("    depends on config") for line in lines)  # the note says it
    flagged = rtext.render_check(CheckResult([Verdict(ProbePoint("f"), "x86", "kprobe", "tracefs", "probeable",
                                                      config_dependent=True)]))
    assert "    depends on config: give --config to decide" in flagged.splitlines()
    assert "    note (config-dependent): Defined under #ifdef CONFIG_FOO. [lib/helper.c:10]" in lines
    assert "    defined at net/ipv4/tcp_output.c:3300" in lines
    assert "confidence" not in "".join(lines[:3])  # high confidence is not printed
    assert lines[-1] == "4 verdicts: 1 probeable, 1 blocked, 1 missing, 1 uncertain"


def test_plain_columns_are_aligned():
    lines = [line for line in rtext.render_check(result(OK, MISSING)).splitlines() if not line.startswith(" ")]
    assert lines[0].index(" arm ") == lines[1].index(" x86 ")
    assert lines[0].index("probeable") == lines[1].index("missing")


def test_quiet_drops_probeable_rows_and_summary():
    out = rtext.render_check(result(OK, BLOCKED), only_problems=True)
    assert "tcp_retransmit_skb" not in out and "do_page_fault+0x10" in out
    assert "verdict" not in out
    assert rtext.render_check(result(OK), only_problems=True) == ""


def test_summary_of_an_empty_run():
    assert rtext.render_check(CheckResult()) == "0 verdicts\n"


# -- text, terminal ----------------------------------------------------------------

def test_terminal_table_is_coloured_and_complete():
    out = rtext.render_check(result(OK, BLOCKED, MISSING, UNCERTAIN), tty=True, width=160)
    assert "\x1b[" in out
    for needle in ("tcp_retransmit_skb", "do_page_fault+0x10", "kprobes-text", "arch/arm/mm/fault.c:270",
                   "__x64_sys_openat", "confidence: medium", "config-dependent", "blocked (EINVAL)",
                   "4 verdicts"):
        assert needle in out, needle


def test_terminal_falls_back_to_plain_for_big_results():
    many = [Verdict(ProbePoint(f"f{i}"), "x86", "kprobe", "tracefs", "blocked",
                    reasons=(Reason("noinstr", "noinstr.", (Evidence("a.c", i + 1),)),))
            for i in range(rtext.RICH_MAX_ROWS + 1)]
    out = rtext.render_check(CheckResult(many), tty=True, width=120)
    assert "│" not in out and "─" not in out
    assert "\x1b[1;31mblocked" in out  # the status keeps its colour
    assert out.count("    noinstr: noinstr. [a.c:") == len(many)


def test_reason_text_with_brackets_is_not_markup():
    v = Verdict(ProbePoint("f"), "x86", "kprobe", "tracefs", "blocked",
                reasons=(Reason("notrace", "built with [bold]no ftrace[/bold] flags", ()),))
    out = rtext.render_check(CheckResult([v]), tty=True, width=120)
    assert "[bold]no ftrace[/bold]" in out


# -- JSON ----------------------------------------------------------------------------

def test_json_check_document():
    doc = json.loads(rjson.render_check(result(OK, BLOCKED, MISSING, UNCERTAIN)))
    assert doc["schema"] == "kpanalyze.check/1"
    assert (doc["kernel"], doc["kernel_version"], doc["config"]) == ("/src/linux", "6.1.176", "/tmp/config")
    assert doc["summary"] == {"probeable": 1, "blocked": 1, "missing": 1, "uncertain": 1}
    assert doc["warnings"] == ["lib/odd.c:3: not UTF-8, skipped"]
    assert [v["point"] for v in doc["verdicts"]] == ["tcp_retransmit_skb", "do_page_fault+0x10",
                                                     "sys_openat", "helper"]
    b = doc["verdicts"][1]
    assert (b["symbol"], b["offset"], b["arch"], b["kind"], b["via"], b["status"], b["expected_errno"]) == \
        ("do_page_fault", 16, "arm", "kretprobe", "tracefs", "blocked", "EINVAL")
    assert b["reasons"][0] == {
        "id": "kprobes-text", "message": "do_page_fault is marked __kprobes, so it lives in .kprobes.text.",
        "evidence": [{"path": "arch/arm/mm/fault.c", "line": 270, "text": "static int __kprobes"}],
        "decisive": True}
    assert doc["verdicts"][0]["definition"] == {"path": "net/ipv4/tcp_output.c", "line": 3300, "text": ""}
    assert doc["verdicts"][2]["suggestions"] == ["__x64_sys_openat"]
    u = doc["verdicts"][3]
    assert (u["confidence"], u["if_present"], u["config_dependent"]) == ("medium", "probeable", True)
    assert u["definition"] is None


def test_json_quiet_keeps_the_full_summary():
    doc = json.loads(rjson.render_check(result(OK, BLOCKED), only_problems=True))
    assert [v["point"] for v in doc["verdicts"]] == ["do_page_fault+0x10"]
    assert doc["summary"]["probeable"] == 1 and doc["summary"]["blocked"] == 1


def test_json_every_verdict_key_is_present():
    keys = set(json.loads(rjson.render_check(result(OK)))["verdicts"][0])
    assert keys == {"point", "symbol", "offset", "arch", "kind", "via", "status", "reasons", "expected_errno",
                    "confidence", "if_present", "suggestions", "definition", "config_dependent", "origin", "instruction"}


# -- blacklist, arches, reasons ------------------------------------------------------

ENTRIES = [BlacklistEntry("do_int3", "nokprobe-symbol", Evidence("arch/x86/kernel/traps.c", 800)),
           BlacklistEntry("__dabt_svc", "entry-text", Evidence("arch/arm/kernel/entry-armv.S", 200),
                          in_debugfs=False, config_dependent=True)]


def test_blacklist_plain_and_terminal():
    lines = rtext.render_blacklist(ENTRIES, "x86").splitlines()
    assert lines[0].split() == ["do_int3", "nokprobe-symbol", "arch/x86/kernel/traps.c:800"]
    assert lines[1].startswith("__dabt_svc ") and "not listed in debugfs" in lines[1] \
        and "depends on config" in lines[1]
    assert len(lines) == 2  # no header, no footer: one entry a line
    out = rtext.render_blacklist(ENTRIES, "x86", tty=True, width=160)
    assert "2 blacklisted symbols on x86" in out and "do_int3" in out


def test_blacklist_json():
    doc = json.loads(rjson.render_blacklist(ENTRIES, "x86", kernel="/src/linux"))
    assert doc["schema"] == "kpanalyze.blacklist/1" and doc["arch"] == "x86" and doc["kernel"] == "/src/linux"
    assert doc["entries"][0] == {"name": "do_int3", "reason_id": "nokprobe-symbol",
                                 "evidence": {"path": "arch/x86/kernel/traps.c", "line": 800, "text": ""},
                                 "in_debugfs": True, "config_dependent": False}
    assert doc["entries"][1]["in_debugfs"] is False


def test_arches_and_reasons():
    rows = [("arm", True), ("loongarch", False)]
    assert rtext.render_arches(rows).splitlines() == ["arm        kprobes", "loongarch  no-kprobes"]
    assert json.loads(rjson.render_arches(rows, kernel="k"))["arches"][1] == {"arch": "loongarch",
                                                                              "kprobes": False}
    kinds = list(CATALOG.values())
    doc = json.loads(rjson.render_reasons(kinds))
    assert doc["schema"] == "kpanalyze.reasons/1"
    assert [r["id"] for r in doc["reasons"]] == list(CATALOG)
    plain = rtext.render_reasons(kinds)
    assert plain.splitlines()[0].split()[:3] == ["nokprobe-symbol", "blacklist", "EINVAL"]
    assert "noinstr" in rtext.render_reasons(kinds, tty=True, width=120)


# -- the README documents what the code emits ----------------------------------------

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_names_every_reason_id():
    text = README.read_text()
    missing = [rid for rid in CATALOG if f"`{rid}`" not in text]
    assert not missing, f"README.md, section Reasons: add {missing}"


def test_readme_documents_every_json_field():
    text = README.read_text()
    fields = set(rjson.check_document(result(BLOCKED))) | set(BLOCKED.to_dict())
    fields |= {f"reasons[].{k}" for k in BLOCKED.to_dict()["reasons"][0]}
    fields |= {f"entries[].{k}" for k in ENTRIES[0].to_dict()}
    fields |= set(json.loads(rjson.render_blacklist(ENTRIES, "x86")))
    missing = sorted(f for f in fields if f"| `{f}` |" not in text)
    assert not missing, f"README.md, section JSON output: document {missing}"
