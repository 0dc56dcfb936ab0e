"""Report formats for CI: SARIF 2.1.0, JUnit XML, Markdown, and the JSON schema of
kpanalyze.check/1; the CLI's --format/--output; the YAML in docs/.

Built from hand-made CheckResults (with scan origins) and from a real `api.check` on
the embedded sample kernel. SARIF is validated against the official 2.1.0 schema
shipped in tests/data (see tests/data/README.md for where it comes from).
"""

from __future__ import annotations

import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from markdown_it import MarkdownIt

from kpanalyze import api, cli
from kpanalyze.errors import InputError
from kpanalyze.reasons import CATALOG
from kpanalyze.render import REPORT_FORMATS, render_report
from kpanalyze.render import json as rjson
from kpanalyze.render import junit, markdown, sarif
from kpanalyze.verdict import CheckResult, Evidence, Instruction, Origin, ProbePoint, Reason, Verdict

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
DOCS = ROOT / "docs"

# -- hand-made verdicts --------------------------------------------------------------

OK = Verdict(ProbePoint("tcp_retransmit_skb"), "arm", "kprobe", "tracefs", "probeable",
             definition=Evidence("net/ipv4/tcp_output.c", 3300))
BLOCKED = Verdict(
    ProbePoint("do_page_fault", 0x10), "arm", "kretprobe", "tracefs", "blocked",
    reasons=(Reason("kprobes-text", "do_page_fault is marked `__kprobes`, so it lives in .kprobes.text.",
                    (Evidence("arch/arm/mm/fault.c", 270, "static int __kprobes"),)),
             Reason("kretprobe-not-entry", "A return probe must sit at the function entry.",
                    (Evidence("kernel/kprobes.c", 2150), Evidence("kernel/kprobes.c", 2160)))),
    expected_errno="EINVAL", definition=Evidence("arch/arm/mm/fault.c", 270))
MISSING = Verdict(ProbePoint("sys_openat"), "x86", "kprobe", "tracefs", "missing",
                  reasons=(Reason("renamed-entry", "x86 emits syscalls as __x64_sys_*.", ()),),
                  expected_errno="ENOENT", suggestions=("__x64_sys_openat",))
UNCERTAIN = Verdict(ProbePoint("helper"), "x86", "kprobe", "module", "uncertain",
                    reasons=(Reason("maybe-inlined", "helper is static and small.", (Evidence("lib/helper.c", 12),)),
                             Reason("config-dependent", "Defined under #ifdef CONFIG_FOO.",
                                    (Evidence("lib/helper.c", 10),), decisive=False)),
                    confidence="medium", if_present="probeable", config_dependent=True)


def result(*verdicts: Verdict, warnings=("lib/odd.c:3: not UTF-8, skipped",)) -> CheckResult:
    return CheckResult(list(verdicts), kernel="/src/linux", kernel_version="6.1.176", config="/tmp/config",
                       warnings=list(warnings))


def scanned(v: Verdict, path: str, line: int, col: int = 5, text: str = "", front_end: str = "bpf-c") -> Verdict:
    from dataclasses import replace

    return replace(v, origin=Origin(path, line, col, text or f'SEC("kprobe/{v.point}")', front_end))


def scan_result(root: Path) -> CheckResult:
    """What `scan` would give: the same points written in users' files."""
    return result(
        scanned(OK, str(root / "bpf" / "ok.bpf.c"), 10),
        scanned(BLOCKED, str(root / "bpf" / "trace.bpf.c"), 12, 1, 'SEC("kretprobe/do_page_fault+0x10")'),
        scanned(MISSING, "tools/probe.bt", 3, 1, "kprobe:sys_openat", "bpftrace"),
        scanned(UNCERTAIN, str(root / "module" / "kp.c"), 20, 17, '.symbol_name = "helper"', "module"),
    )


@pytest.fixture(scope="module")
def sample_result() -> CheckResult:
    """A real run on the embedded sample kernel: probeable, blocked and missing points."""
    return api.check(["tcp_retransmit_skb", "do_page_fault", "sys_openat", "no_such_function_anywhere"],
                     arches=["arm", "x86"])


# -- SARIF ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sarif_validator():
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def assert_valid_sarif(validator, doc: dict) -> None:
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def test_sarif_of_a_real_check_validates(sarif_validator, sample_result):
    doc = json.loads(sarif.render_check(sample_result))
    assert_valid_sarif(sarif_validator, doc)
    (run,) = doc["runs"]
    assert doc["version"] == "2.1.0"
    problems = [v for v in sample_result.verdicts if not v.ok]
    assert problems and len(run["results"]) == len(problems)
    assert {r["properties"]["status"] for r in run["results"]} <= {"blocked", "missing", "uncertain"}
    blocked = next(r for r in run["results"] if r["properties"]["point"] == "do_page_fault"
                   and r["properties"]["arch"] == "arm")
    assert blocked["ruleId"] == "kprobes-text" and blocked["level"] == "error"
    assert blocked["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "KERNEL"
    assert run["originalUriBaseIds"]["KERNEL"]["uri"].startswith("file:///")
    assert run["originalUriBaseIds"]["KERNEL"]["uri"].endswith("/")


def test_sarif_with_origins_validates_and_points_at_the_users_file(sarif_validator, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative origin paths are taken from the working directory
    doc = json.loads(sarif.render_check(scan_result(tmp_path), root=tmp_path))
    assert_valid_sarif(sarif_validator, doc)
    run = doc["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"
    by_point = {r["properties"]["point"]: r for r in run["results"]}
    assert set(by_point) == {"do_page_fault+0x10", "sys_openat", "helper"}  # the probeable one is not a result
    loc = by_point["do_page_fault+0x10"]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "bpf/trace.bpf.c", "uriBaseId": "%SRCROOT%"}
    assert loc["region"] == {"startLine": 12, "startColumn": 1,
                             "snippet": {"text": 'SEC("kretprobe/do_page_fault+0x10")'}}
    # the kernel evidence goes to relatedLocations, decisive reason first, the definition once
    related = by_point["do_page_fault+0x10"]["relatedLocations"]
    assert [(r["physicalLocation"]["artifactLocation"]["uri"], r["physicalLocation"]["region"]["startLine"],
             r["message"]["text"]) for r in related] == [
        ("arch/arm/mm/fault.c", 270, "kprobes-text"), ("kernel/kprobes.c", 2150, "kretprobe-not-entry"),
        ("kernel/kprobes.c", 2160, "kretprobe-not-entry")]
    assert all(r["physicalLocation"]["artifactLocation"]["uriBaseId"] == "KERNEL" for r in related)
    assert [r["id"] for r in related] == [1, 2, 3]
    assert by_point["sys_openat"]["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "tools/probe.bt", "uriBaseId": "%SRCROOT%"}
    props = by_point["helper"]["properties"]
    assert props["arch"] == "x86" and props["kind"] == "kprobe" and props["via"] == "module"
    assert props["confidence"] == "medium" and props["front_end"] == "module" and props["if_present"] == "probeable"
    assert by_point["sys_openat"]["properties"]["expected_errno"] == "ENOENT"
    assert by_point["sys_openat"]["properties"]["suggestions"] == ["__x64_sys_openat"]


def test_sarif_levels_by_status_and_override(tmp_path):
    doc = sarif.sarif_document(scan_result(tmp_path), root=tmp_path)
    levels = {r["properties"]["status"]: r["level"] for r in doc["runs"][0]["results"]}
    assert levels == {"blocked": "error", "missing": "error", "uncertain": "warning"}

    doc = sarif.sarif_document(scan_result(tmp_path), root=tmp_path,
                               levels={"maybe-inlined": "error", "renamed-entry": "note", "kprobes-text": "off"})
    results = {r["ruleId"]: r for r in doc["runs"][0]["results"]}
    assert "kprobes-text" not in results  # "none": not reported
    assert results["maybe-inlined"]["level"] == "error" and results["renamed-entry"]["level"] == "note"
    rules = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["renamed-entry"]["defaultConfiguration"]["level"] == "note"
    # a status key applies when the reason id has no entry
    doc = sarif.sarif_document(scan_result(tmp_path), levels={"uncertain": "note", "maybe-inlined": "warning"})
    assert {r["ruleId"]: r["level"] for r in doc["runs"][0]["results"]}["maybe-inlined"] == "warning"
    doc = sarif.sarif_document(scan_result(tmp_path), levels={"uncertain": "note"})
    assert {r["ruleId"]: r["level"] for r in doc["runs"][0]["results"]}["maybe-inlined"] == "note"


@pytest.mark.parametrize("levels, needle", [({"no-such-reason": "error"}, "no-such-reason"),
                                            ({"noinstr": "fatal"}, "fatal")])
def test_bad_levels_are_input_errors(levels, needle):
    with pytest.raises(InputError, match=needle):
        sarif.render_check(result(BLOCKED), levels=levels)


def test_sarif_rules_come_from_the_catalog(sarif_validator):
    doc = sarif.sarif_document(result())
    assert_valid_sarif(sarif_validator, doc)  # an empty run is valid too
    driver = doc["runs"][0]["tool"]["driver"]
    assert driver["name"] == "kpanalyze" and driver["version"]
    rules = driver["rules"]
    assert [r["id"] for r in rules] == list(CATALOG)
    for r in rules:
        kind = CATALOG[r["id"]]
        assert r["shortDescription"]["text"] == kind.title and r["fullDescription"]["text"] == kind.help
        assert r["properties"]["category"] == kind.category and r["properties"]["errno"] == kind.errno
        assert r["defaultConfiguration"]["level"] == ("note" if kind.category == "info" else "error")
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", r["name"])
    assert doc["runs"][0]["results"] == []
    notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes] == ["lib/odd.c:3: not UTF-8, skipped"]


def test_sarif_result_rule_ids_name_rules(sample_result):
    doc = sarif.sarif_document(sample_result)
    ids = {r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in doc["runs"][0]["results"]} <= ids


def test_sarif_fingerprints_ignore_lines_but_not_identity(tmp_path):
    def fp(v, **kw):
        (res,) = sarif.sarif_document(result(v), root=tmp_path, **kw)["runs"][0]["results"]
        return res["partialFingerprints"]["kpanalyze/v1"]

    here = scanned(BLOCKED, str(tmp_path / "a.bpf.c"), 12)
    assert fp(here) == fp(scanned(BLOCKED, str(tmp_path / "a.bpf.c"), 40, 9))  # moved by an edit
    from dataclasses import replace

    assert fp(here) != fp(scanned(BLOCKED, str(tmp_path / "b.bpf.c"), 12))
    assert fp(here) != fp(replace(here, arch="arm64"))
    assert fp(here) != fp(replace(here, kind="kprobe"))
    assert fp(here) != fp(replace(here, point=ProbePoint("do_page_fault")))
    # the same point written twice in one file: two distinct fingerprints
    doc = sarif.sarif_document(result(here, scanned(BLOCKED, str(tmp_path / "a.bpf.c"), 30)), root=tmp_path)
    fps = [r["partialFingerprints"]["kpanalyze/v1"] for r in doc["runs"][0]["results"]]
    assert len(set(fps)) == 2
    # and stable from one run to the next
    assert fps == [r["partialFingerprints"]["kpanalyze/v1"] for r in sarif.sarif_document(
        result(here, scanned(BLOCKED, str(tmp_path / "a.bpf.c"), 30)), root=tmp_path)["runs"][0]["results"]]


def test_sarif_paths_outside_root_and_without_root(tmp_path, sarif_validator):
    outside = scanned(BLOCKED, "/elsewhere/probe.bt", 2)
    doc = sarif.sarif_document(result(outside), root=tmp_path)
    assert_valid_sarif(sarif_validator, doc)
    art = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert art == {"uri": "file:///elsewhere/probe.bt"}
    spaced = scanned(BLOCKED, "my dir/probe #1.bt", 2)
    art = sarif.sarif_document(result(spaced))["runs"][0]["results"][0]["locations"][0]["physicalLocation"][
        "artifactLocation"]
    assert art == {"uri": "my%20dir/probe%20%231.bt", "uriBaseId": "%SRCROOT%"}


def test_the_sarif_validator_rejects_a_broken_log(sarif_validator, sample_result):
    doc = sarif.sarif_document(sample_result)
    doc["runs"][0]["results"][0]["level"] = "fatal"
    assert list(sarif_validator.iter_errors(doc))
    del doc["version"]
    assert list(sarif_validator.iter_errors(doc))


# -- JUnit ---------------------------------------------------------------------------

def _counts(el: ET.Element) -> dict:
    return {k: int(el.get(k)) for k in ("tests", "failures", "errors", "skipped")}


def test_junit_of_a_real_check_parses_and_counts_match(sample_result):
    root = ET.fromstring(junit.render_check(sample_result).encode())
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["kpanalyze.arm", "kpanalyze.x86"]
    for suite in suites:
        arch = suite.get("name").split(".", 1)[1]
        mine = [v for v in sample_result.verdicts if v.arch == arch]
        cases = suite.findall("testcase")
        assert len(cases) == len(mine)
        assert _counts(suite) == {"tests": len(mine), "failures": sum(not v.ok for v in mine), "errors": 0,
                                  "skipped": 0}
        assert len(suite.findall("testcase/failure")) == _counts(suite)["failures"]
    assert _counts(root) == {k: sum(_counts(s)[k] for s in suites) for k in _counts(root)}
    assert _counts(root)["tests"] == len(sample_result.verdicts)


def test_junit_cases_failures_and_skips(tmp_path):
    res = scan_result(tmp_path)
    root = ET.fromstring(junit.render_check(res))
    assert _counts(root) == {"tests": 4, "failures": 2, "errors": 0, "skipped": 1}
    arm = root.find("testsuite[@name='kpanalyze.arm']")
    x86 = root.find("testsuite[@name='kpanalyze.x86']")
    assert _counts(arm) == {"tests": 2, "failures": 1, "errors": 0, "skipped": 0}
    assert _counts(x86) == {"tests": 2, "failures": 1, "errors": 0, "skipped": 1}
    case = arm.find("testcase[failure]")
    assert case.get("classname") == str(tmp_path / "bpf" / "trace.bpf.c")
    assert case.get("name") == "do_page_fault+0x10 kretprobe (tracefs) at 12:1"
    failure = case.find("failure")
    assert failure.get("type") == "kprobes-text"
    assert failure.get("message").startswith("blocked (EINVAL) on arm: kprobes-text: do_page_fault is marked")
    assert "[arch/arm/mm/fault.c:270]" in failure.text and "kernel/kprobes.c:2150" in failure.text
    assert f"written at {tmp_path / 'bpf' / 'trace.bpf.c'}:12:1" in failure.text
    skipped = x86.find("testcase/skipped")
    assert skipped.get("message").startswith("uncertain on x86: maybe-inlined")
    props = {p.get("name"): p.get("value") for p in x86.findall("properties/property")}
    assert props == {"arch": "x86", "kernel": "/src/linux", "kernel_version": "6.1.176", "config": "/tmp/config"}
    assert "not UTF-8" in root.find("testsuite/system-err").text  # the run's warnings, once
    assert len(root.findall("testsuite/system-err")) == 1
    # check (no origin): classname "check"
    plain = ET.fromstring(junit.render_check(result(OK, BLOCKED)))
    assert {c.get("classname") for c in plain.iter("testcase")} == {"check"}


def test_junit_levels_turn_failures_into_skips_or_passes(tmp_path):
    root = ET.fromstring(junit.render_check(scan_result(tmp_path),
                                            levels={"kprobes-text": "warning", "renamed-entry": "none",
                                                    "maybe-inlined": "error"}))
    assert _counts(root) == {"tests": 4, "failures": 1, "errors": 0, "skipped": 1}
    assert root.find(".//failure").get("type") == "maybe-inlined"


def test_junit_survives_characters_xml_cannot_hold():
    odd = Verdict(ProbePoint("f"), "x86", "kprobe", "tracefs", "blocked",
                  (Reason("noinstr", "form\x0cfeed & <tag> \"q\"", (Evidence("a.c", 1, "\x00\x1b"),)),),
                  expected_errno="EINVAL")
    root = ET.fromstring(junit.render_check(result(odd, warnings=["bad\x01byte"])))
    assert "form\ufffdfeed & <tag>" in root.find(".//failure").get("message")


def test_junit_of_nothing_is_still_a_document():
    root = ET.fromstring(junit.render_check(CheckResult()))
    assert _counts(root) == {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}


# -- Markdown ------------------------------------------------------------------------

def md_tokens(text: str):
    return MarkdownIt("commonmark").enable("table").parse(text)


def md_tables(text: str) -> list[list[list[str]]]:
    """Every table as rows of cell texts (header row first), as a GFM renderer sees them."""
    tables, rows, row = [], None, None
    for t in md_tokens(text):
        if t.type == "table_open":
            rows = []
        elif t.type == "table_close":
            tables.append(rows)
            rows = None
        elif t.type == "tr_open":
            row = []
        elif t.type == "tr_close":
            rows.append(row)
            row = None
        elif t.type == "inline" and rows is not None and row is not None:
            cell = "".join(c.content if c.type in ("text", "code_inline") else "\n" if c.type == "html_inline"
                           else "" for c in t.children)
            row.append(cell)
    return tables


def test_markdown_renders_counts_and_failures(sample_result):
    text = markdown.render_check(sample_result)
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert html.startswith("<h2>kpanalyze: ")
    tables = md_tables(text)
    counts = tables[0]
    assert counts[0] == ["arch", "verdicts", "probeable", "blocked", "missing", "uncertain"]
    by_arch = {r[0]: r[1:] for r in counts[1:]}
    for arch in ("arm", "x86"):
        mine = [v for v in sample_result.verdicts if v.arch == arch]
        assert by_arch[arch] == [str(len(mine))] + [str(sum(v.status == s for v in mine))
                                                    for s in ("probeable", "blocked", "missing", "uncertain")]
    assert by_arch["total"][0] == str(len(sample_result.verdicts))
    # then one table of failures per arch, one row per failing verdict, every row as wide as its header
    failing = [v for v in sample_result.verdicts if not v.ok]
    assert sum(len(t) - 1 for t in tables[1:]) == len(failing)
    for t in tables:
        assert all(len(r) == len(t[0]) for r in t)
    row = next(r for t in tables[1:] for r in t if r[0] == "do_page_fault" and "blocked" in r[3])
    assert "kprobes-text" in row[4] and "arch/arm/mm/fault.c:" in row[5]


def test_markdown_origins_escaping_folding_and_warnings(tmp_path):
    pipe = Verdict(ProbePoint("odd"), "x86", "kprobe", "tracefs", "blocked",
                   (Reason("noinstr", "a | b *c* <b>html</b> `code|span`", (Evidence("k/x.c", 3),)),),
                   expected_errno="EINVAL")
    res = scan_result(tmp_path)
    res.verdicts.append(scanned(pipe, "p.bt", 7, 2))
    text = markdown.render_check(res)
    tables = md_tables(text)
    for t in tables:
        assert all(len(r) == len(t[0]) for r in t), t
    x86 = next(t for t in tables[1:] if any(r[1] == "odd" for r in t))
    assert x86[0][0] == "where"
    odd = next(r for r in x86 if r[1] == "odd")
    assert odd[0] == "p.bt:7:2"
    assert "a | b *c* <b>html</b> code|span" in odd[5]  # escaped, not interpreted
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "<b>html" not in html and "<em>" not in html
    # the uncertain one is folded; the run's warnings are folded at the end
    assert text.count("<details>") == 2 and "<summary>1 warning on x86</summary>" in text
    assert "<summary>1 warning of the run</summary>" in text
    # long error lists fold, very long ones are cut
    many = result(*(Verdict(ProbePoint(f"f{i}"), "x86", "kprobe", "tracefs", "blocked",
                            (Reason("noinstr", "no.", ()),), expected_errno="EINVAL") for i in range(30)),
                  warnings=())
    text = markdown.render_check(many, max_rows=25)
    assert "<details><summary>30 errors on x86</summary>" in text
    assert "... and 5 more" in text and len(md_tables(text)[1]) == 26


def test_markdown_when_all_is_well():
    text = markdown.render_check(result(OK, warnings=()))
    assert text.splitlines()[0] == "## kpanalyze: all 1 verdict probeable"
    assert len(md_tables(text)) == 1 and "<details>" not in text
    assert markdown.render_check(CheckResult()).startswith("## kpanalyze: no probe points")


def test_markdown_sample_in_docs_is_current_enough():
    """docs/examples/summary-sample.md was made by this renderer (and checked by eye)."""
    text = (DOCS / "examples" / "summary-sample.md").read_text()
    assert text.startswith("## kpanalyze: ") and "| arch | verdicts |" in text
    assert len(md_tables(text)) >= 2


# -- JSON and its schema ---------------------------------------------------------------

@pytest.fixture(scope="module")
def check_schema():
    schema = json.loads((DOCS / "schema" / "kpanalyze.check-1.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_json_of_a_real_check_validates(check_schema, sample_result):
    check_schema.validate(json.loads(rjson.render_check(sample_result)))
    check_schema.validate(json.loads(rjson.render_check(sample_result, only_problems=True)))


def test_json_with_origins_validates(check_schema, tmp_path):
    doc = json.loads(rjson.render_check(scan_result(tmp_path)))
    check_schema.validate(doc)
    assert doc["verdicts"][2]["origin"] == {"path": "tools/probe.bt", "line": 3, "col": 1,
                                            "text": "kprobe:sys_openat", "front_end": "bpftrace"}
    doc["verdicts"][0]["status"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        check_schema.validate(doc)


def test_json_schema_names_every_field_the_code_emits(check_schema, tmp_path):
    """Kept in sync by hand: a new field needs a line in the schema (and in the README)."""
    schema = check_schema.schema
    doc = json.loads(rjson.render_check(scan_result(tmp_path)))
    assert set(doc) == set(schema["properties"]) == set(schema["required"])
    defs = schema["$defs"]
    v = doc["verdicts"][1]
    assert set(v) == set(defs["verdict"]["properties"]) == set(defs["verdict"]["required"])
    assert set(v["reasons"][0]) == set(defs["reason"]["properties"])
    assert set(v["reasons"][0]["evidence"][0]) == set(defs["evidence"]["properties"])
    assert set(v["origin"]) == set(defs["origin"]["properties"])
    from dataclasses import fields

    from kpanalyze.verdict import Instruction

    assert {f.name for f in fields(Instruction)} == set(defs["instruction"]["properties"])
    assert set(doc["summary"]) == set(schema["properties"]["summary"]["properties"])


# -- one dispatcher for check and scan -------------------------------------------------

@pytest.mark.parametrize("fmt", REPORT_FORMATS)
def test_every_format_renders_a_scan_result(fmt, tmp_path):
    out = render_report(scan_result(tmp_path), fmt, root=tmp_path, levels={"uncertain": "note"})
    assert out.endswith("\n") and "do_page_fault" in out


def test_unknown_format_is_refused():
    with pytest.raises(ValueError):
        render_report(result(), "html")


# -- the CLI ---------------------------------------------------------------------------

def run(args):
    try:
        r = CliRunner(mix_stderr=False)
    except TypeError:
        r = CliRunner()
    return r.invoke(cli.cli, args, prog_name="kpanalyze")


@pytest.fixture
def fake_check(monkeypatch):
    monkeypatch.setattr(api, "check", lambda *a, **k: result(OK, BLOCKED, MISSING, UNCERTAIN))


@pytest.mark.parametrize("fmt", ["sarif", "junit", "markdown"])
def test_check_format_prints_the_report_with_the_usual_exit_code(fake_check, fmt):
    res = run(["check", "f", "--format", fmt])
    assert res.exit_code == 1, res.stderr
    if fmt == "sarif":
        assert json.loads(res.stdout)["version"] == "2.1.0"
    elif fmt == "junit":
        assert _counts(ET.fromstring(res.stdout.encode())) == {"tests": 4, "failures": 2, "errors": 0, "skipped": 1}
    else:
        assert res.stdout.startswith("## kpanalyze: 3 of 4 verdicts not probeable")
    assert "kpanalyze: warning: lib/odd.c:3: not UTF-8, skipped" in res.stderr


def test_check_output_writes_the_report_and_prints_text(fake_check, tmp_path):
    out = tmp_path / "kpanalyze.sarif"
    res = run(["check", "f", "--format", "sarif", "--output", str(out)])
    assert res.exit_code == 1, res.stderr
    assert json.loads(out.read_text())["runs"][0]["tool"]["driver"]["name"] == "kpanalyze"
    assert res.stdout.splitlines()[-1] == "4 verdicts: 1 probeable, 1 blocked, 1 missing, 1 uncertain"
    assert f"wrote the sarif report to {out}" in res.stderr
    # --quiet trims the text on stdout and the JSON file alike; the exit code stays
    res = run(["check", "f", "--format", "json", "-o", str(tmp_path / "r.json"), "--quiet"])
    assert res.exit_code == 1
    doc = json.loads((tmp_path / "r.json").read_text())
    assert len(doc["verdicts"]) == 3 and doc["summary"]["probeable"] == 1
    assert "tcp_retransmit_skb" not in res.stdout


def test_check_output_to_a_missing_directory_is_one_line_error(fake_check, tmp_path):
    res = run(["check", "f", "--format", "junit", "-o", str(tmp_path / "no" / "such" / "r.xml")])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1 and "r.xml" in res.stderr


def test_exit_0_stays_0_with_reports(monkeypatch, tmp_path):
    monkeypatch.setattr(api, "check", lambda *a, **k: result(OK, warnings=()))
    for fmt in REPORT_FORMATS:
        assert run(["check", "f", "--format", fmt, "-o", str(tmp_path / f"r.{fmt}")]).exit_code == 0


def test_blacklist_keeps_text_and_json_only():
    res = run(["blacklist", "--arch", "x86", "--format", "sarif"])
    assert res.exit_code == 2 and "sarif" in res.stderr


# -- docs/ -----------------------------------------------------------------------------

def yaml_blocks(path: Path) -> list:
    text = path.read_text()
    blocks = re.findall(r"^```ya?ml\n(.*?)^```", text, flags=re.S | re.M)
    assert blocks, f"{path}: no yaml block"
    return [yaml.safe_load(b) for b in blocks]


def test_ci_doc_workflows_parse():
    github, gitlab = yaml_blocks(DOCS / "ci.md")[:2]
    steps = github["jobs"]["kpanalyze"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/checkout@") for u in uses)
    assert any(u.startswith("actions/setup-python@") for u in uses)
    assert sum(u.startswith("actions/cache@") for u in uses) >= 2  # the kernel tree and the index
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "kpanalyze scan . --format sarif --output kpanalyze.sarif" in runs
    assert "--format markdown" in runs and "GITHUB_STEP_SUMMARY" in runs
    assert "KPANALYZE_CACHE_DIR" in github["env"]
    job = next(v for v in gitlab.values() if isinstance(v, dict) and "script" in v)
    assert job["artifacts"]["reports"]["junit"] == "kpanalyze.xml"
    assert any("--format junit" in line for line in job["script"])


def test_pre_commit_doc_names_the_hook():
    configs = [b for b in yaml_blocks(DOCS / "pre-commit.md") if isinstance(b, dict) and "repos" in b]
    assert configs
    ids = {h["id"] for c in configs for repo in c["repos"] for h in repo["hooks"]}
    assert ids == {"kpanalyze"}
    hooks_file = ROOT / ".pre-commit-hooks.yaml"
    if hooks_file.is_file():  # written with `scan`; the docs must name a hook that exists
        assert "kpanalyze" in {h["id"] for h in yaml.safe_load(hooks_file.read_text())}


# -- what only a scan result carries: own levels, problems, suppressions ----------------

@dataclasses.dataclass(frozen=True)
class Problem:
    path: str
    line: int
    col: int
    severity: str
    code: str
    message: str


@dataclasses.dataclass
class FakeScan(CheckResult):
    """Shaped like kpanalyze.scan.model.ScanResult (the renderers read it by duck typing)."""

    problems: list = dataclasses.field(default_factory=list)
    suppressed: list = dataclasses.field(default_factory=list)
    levels: dict = dataclasses.field(default_factory=dict)

    def level(self, v):
        return "none" if v.ok else self.levels.get(v, "error")


INSN = dataclasses.replace(
    BLOCKED, point=ProbePoint("vfs_read", 3), arch="x86", kind="kprobe", reasons=(
        Reason("misaligned", "vfs_read+0x3 is inside an instruction.", (Evidence("arch/x86/kernel/kprobes/core.c", 250),)),),
    instruction=Instruction(0xffffffff81234563, 3, "4889e5", "x86_64", "mov rbp, rsp", "not decoded"))


def fake_scan(root: Path) -> FakeScan:
    base = scan_result(root)
    blocked, missing, uncertain = base.verdicts[1], base.verdicts[2], base.verdicts[3]
    quiet = scanned(MISSING, str(root / "bpf" / "trace.bpf.c"), 30)
    return FakeScan(
        base.verdicts + [scanned(INSN, str(root / "p.bt"), 4)], kernel="/src/linux", kernel_version="6.1.176",
        problems=[Problem(str(root / "bpf" / "broken.bpf.c"), 7, 1, "error", "syntax", "unterminated SEC("),
                  Problem(str(root / "blob.bin"), 0, 0, "warning", "binary", "binary file, skipped")],
        suppressed=[(quiet, "inline")],
        levels={blocked: "warning", missing: "error", uncertain: "note"})


def test_scan_results_in_sarif(sarif_validator, tmp_path):
    doc = sarif.sarif_document(fake_scan(tmp_path), root=tmp_path)
    assert_valid_sarif(sarif_validator, doc)
    run = doc["runs"][0]
    results = run["results"]
    by = {(r["ruleId"], r["properties"]["point"] if "properties" in r else ""): r for r in results}
    assert by[("kprobes-text", "do_page_fault+0x10")]["level"] == "warning"  # the scan's own level
    assert by[("maybe-inlined", "helper")]["level"] == "note"
    assert by[("misaligned", "vfs_read+0x3")]["properties"]["instruction"]["mnemonic"] == "mov rbp, rsp"
    assert "Instruction: 0xffffffff81234563 (+0x3) 4889e5 mov rbp, rsp [x86_64]" in \
        by[("misaligned", "vfs_read+0x3")]["message"]["text"]
    sup = [r for r in results if "suppressions" in r]
    assert len(sup) == 1 and sup[0]["suppressions"] == [{"kind": "inSource"}]
    syntax = by[("scan-syntax", "")]
    assert syntax["level"] == "error" and syntax["message"]["text"] == "unterminated SEC("
    assert syntax["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "bpf/broken.bpf.c", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 7, "startColumn": 1}}
    assert "region" not in by[("scan-binary", "")]["locations"][0]["physicalLocation"]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rule_ids[-2:] == ["scan-syntax", "scan-binary"] and len(rule_ids) == len(set(rule_ids))
    # an explicit mapping still wins over the scan's own levels
    doc = sarif.sarif_document(fake_scan(tmp_path), root=tmp_path, levels={"kprobes-text": "error"})
    assert next(r for r in doc["runs"][0]["results"] if r["ruleId"] == "kprobes-text")["level"] == "error"


def test_scan_results_in_junit(tmp_path):
    root = ET.fromstring(junit.render_check(fake_scan(tmp_path)))
    # 5 verdicts + 1 suppressed + 2 problems. By the scan's levels: sys_openat and vfs_read (no level
    # given: error) fail; do_page_fault (warning), helper (note) and the suppressed one are skipped
    assert _counts(root) == {"tests": 8, "failures": 2, "errors": 1, "skipped": 4}
    scan = root.find("testsuite[@name='kpanalyze.scan']")
    assert _counts(scan) == {"tests": 2, "failures": 0, "errors": 1, "skipped": 1}
    assert scan.find("testcase/error").get("type") == "syntax"
    assert any(s.get("message").startswith("suppressed (inline): missing (ENOENT)")
               for s in root.iter("skipped"))
    for suite in root.findall("testsuite"):
        assert int(suite.get("tests")) == len(suite.findall("testcase"))
    # with root, files are named from the repository root
    rel = ET.fromstring(junit.render_check(fake_scan(tmp_path), root=tmp_path))
    assert rel.find("testsuite[@name='kpanalyze.scan']/testcase").get("classname") == "bpf/broken.bpf.c"
    assert {c.get("classname") for c in rel.find("testsuite[@name='kpanalyze.arm']")} >= {"bpf/trace.bpf.c"}


def test_scan_results_in_markdown(tmp_path):
    text = markdown.render_check(fake_scan(tmp_path))
    assert "1 suppressed" in text and "2 problems in scanned files" in text
    problems = md_tables(text)[-1]
    assert problems[0] == ["where", "severity", "problem", "message"]
    assert problems[1] == [f"{tmp_path}/bpf/broken.bpf.c:7:1", "error", "syntax", "unterminated SEC("]
    assert problems[2][0] == f"{tmp_path}/blob.bin"
    assert "mov rbp, rsp" in text
    rel = md_tables(markdown.render_check(fake_scan(tmp_path), root=tmp_path))
    assert rel[-1][1][0] == "bpf/broken.bpf.c:7:1" and rel[-1][2][0] == "blob.bin"
    assert "bpf/trace.bpf.c:12:1" in [r[0] for t in rel for r in t]


def test_json_with_an_instruction_validates(check_schema):
    doc = json.loads(rjson.render_check(result(INSN)))
    check_schema.validate(doc)
    assert doc["verdicts"][0]["instruction"]["bytes"] == "4889e5"


def test_the_real_scan_result_is_read_the_same_way(tmp_path):
    model = pytest.importorskip("kpanalyze.scan.model")
    v = scanned(BLOCKED, str(tmp_path / "a.bpf.c"), 3)
    res = model.ScanResult([v], kernel="/src/linux")
    if not hasattr(res, "level"):
        pytest.skip("ScanResult has no level()")
    res.levels[v] = "note"
    doc = sarif.sarif_document(res, root=tmp_path)
    assert doc["runs"][0]["results"][0]["level"] == "note"


# -- the real tree ---------------------------------------------------------------------

@pytest.mark.kernel
def test_reports_of_a_real_tree_check(real_tree, debian_config, sarif_validator, check_schema):
    res = api.check(["exc_int3", "vsnprintf", "tcp_retransmit_skb", "sys_openat", "init_once"],
                    arches=["x86"], config=debian_config("x86"), kernel=real_tree)
    assert_valid_sarif(sarif_validator, sarif.sarif_document(res))
    check_schema.validate(json.loads(rjson.render_check(res)))
    root = ET.fromstring(junit.render_check(res))
    assert _counts(root)["tests"] == len(res.verdicts) == 10
    assert _counts(root)["failures"] == sum(v.status in ("blocked", "missing") for v in res.verdicts)
    assert len(md_tables(markdown.render_check(res))) == 2
