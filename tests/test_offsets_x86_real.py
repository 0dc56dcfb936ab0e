"""symbol+offset on Debian's real x86_64 6.1.176 image against what the booted kernel did.

offset_results.tsv (ground truth) records, for 8,237 probe points, the errno tracefs
returned: mid-instruction -> EILSEQ; int3 padding, jump labels, static calls and BUG traps
-> EINVAL; iret / far jumps -> EOPNOTSUPP; notrace functions -> EINVAL.
"""

from __future__ import annotations

import csv

import pytest

from kpanalyze import api
from kpanalyze.verdict import ProbePoint

pytestmark = pytest.mark.kernel


def _predicted(v) -> str:
    if v.status == "probeable" or (v.status == "uncertain" and not v.expected_errno):
        return "OK"
    return v.expected_errno or "OK"


@pytest.fixture(scope="module")
def x86(real_tree, groundtruth, debian_image):
    k = api.open_kernel(real_tree)
    model = k.model("x86", api.load_config(groundtruth / "x86_64" / "config"))
    ctx = api.open_binary(model, image=debian_image("x86"), kallsyms=groundtruth / "x86_64" / "kallsyms.txt")
    return k, model, ctx


def test_offset_results_are_reproduced(x86, groundtruth):
    from kpanalyze.analysis.verdicts import judge_many

    _k, model, ctx = x86
    rows = list(csv.DictReader(open(groundtruth / "x86_64" / "offset_results.tsv"), delimiter="\t"))
    points = [ProbePoint(r["function"], int(r["offset"])) for r in rows]
    verdicts = {v.point: v for v in judge_many(model, points, ("kprobe",), "tracefs", binary=ctx)}
    misses = [(r["target"], r["kprobe_result"], _predicted(verdicts[p]), r["instruction"])
              for r, p in zip(rows, points) if r["kprobe_result"] != _predicted(verdicts[p])]
    uncertain = sum(1 for v in verdicts.values() if v.status == "uncertain")
    print(f"offset rows {len(rows)}, misses {len(misses)}, uncertain {uncertain}")
    assert len(rows) == 8237
    assert misses == []
    assert uncertain <= 20  # only boot-patched (alternatives/paravirt) sites are left undecided


def test_each_refusal_kind_names_its_reason(x86):
    from kpanalyze.analysis.verdicts import judge_many

    _k, model, ctx = x86
    cases = {  # point -> reason id the booted kernel's answer corresponds to
        "__find_rr_leaf+1": "not-insn-boundary",  # EILSEQ, inside the 5-byte fentry call
        "bpf_tracing_link_release+52": "bug-site",  # ud2 of a WARN()
        "dpm_resume+31": "jump-label-site",  # nopl of a static key
        "dpm_resume+36": "static-call-site",  # call to a static call trampoline
        "__frontswap_invalidate_area+88": "insn-rejected",  # int3 padding
        "machine_check_poll+513": "insn-unsupported",  # iretq
    }
    got = {str(v.point.symbol) + f"+{v.point.offset}": v for v in
           judge_many(model, [ProbePoint.parse(p) for p in cases], ("kprobe",), "tracefs", binary=ctx)}
    for point, rid in cases.items():
        v = got[point]
        first = next(r for r in v.reasons if r.decisive)
        assert first.id == rid, (point, first)
        assert v.instruction is not None and v.instruction.bytes


def test_missing_is_exact_with_a_symbol_table_and_clones_are_suggested(x86):
    from kpanalyze.analysis.verdicts import judge_many

    _k, model, ctx = x86
    # handle_page_fault is __always_inline: never in kallsyms; tcp_retransmit_skb is.
    (hp, tcp) = judge_many(model, [ProbePoint("handle_page_fault"), ProbePoint("tcp_retransmit_skb")],
                           ("kprobe",), "tracefs", binary=ctx)
    assert hp.status == "missing" and hp.reasons[0].id == "not-in-symbol-table"
    assert any(r.id == "always-inline" for r in hp.reasons)  # the source still says why
    assert tcp.status == "probeable"
    clones = [s.name for s in ctx.symbols.clones("finish_task_switch")]
    assert "finish_task_switch.isra.0" in clones
    (fts,) = judge_many(model, [ProbePoint("finish_task_switch")], ("kprobe",), "tracefs", binary=ctx)
    assert fts.status == "missing" and "finish_task_switch.isra.0" in fts.suggestions


def test_cli_offsets_lists_every_instruction(real_tree, groundtruth, debian_image):
    import json

    from click.testing import CliRunner

    from kpanalyze.cli import cli

    res = CliRunner().invoke(cli, ["offsets", "tcp_retransmit_skb", "--arch", "x86", "--kernel", str(real_tree),
                                   "--config", str(groundtruth / "x86_64" / "config"),
                                   "--image", str(debian_image("x86")),
                                   "--kallsyms", str(groundtruth / "x86_64" / "kallsyms.txt"), "--format", "json"])
    assert res.exit_code in (0, 1), res.output
    doc = json.loads(res.output)
    offs = [v["offset"] for v in doc["verdicts"]]
    assert offs[0] == 0 and offs == sorted(offs) and len(offs) > 40
    by_off = {v["offset"]: v for v in doc["verdicts"]}
    assert by_off[0]["status"] == "probeable"  # the fentry site: an ftrace-based kprobe
    assert all(v["instruction"]["bytes"] for v in doc["verdicts"])
