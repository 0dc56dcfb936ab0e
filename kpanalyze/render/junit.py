"""JUnit XML (CI test tabs): one <testsuite name="kpanalyze.ARCH"> per arch, one
<testcase> per verdict (probe point x kind).

- ``classname`` is the file the probe point was written in (scan), or ``check``;
  ``name`` is ``POINT KIND (VIA)``, plus `` at LINE:COL`` for a scanned point.
- A verdict at level ``error`` (by default: blocked, missing) is a <failure> whose
  ``type`` is the decisive reason id, ``message`` the status and reason sentence, and
  whose text is every reason with its kernel evidence.
- A verdict that is not probeable but not an error (by default: uncertain, which
  source alone cannot decide) is <skipped> with the same message: neither passed nor
  failed. A probeable verdict, or one at level ``none``, passes.
- A scan's suppressed verdicts are <skipped> ("suppressed (inline)"); its problems
  (unreadable files, malformed probe specs, bad suppressions) go to a last suite,
  ``kpanalyze.scan``: an <error> at severity error, else <skipped>.
- Counts (tests, failures, errors, skipped) are set on every suite and on <testsuites>;
  ``errors`` counts scan problems only (an analysis error ends a run before any report).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Mapping

from ..verdict import CheckResult, Verdict
from . import levels as lv
from .sarif import repo_relative
from .text import detail_lines, status_label


# Characters XML 1.0 cannot hold at all (kernel sources have form feeds, for one).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def testcase_name(v: Verdict) -> str:
    name = f"{v.point} {v.kind} ({v.via})"
    if v.origin is not None:
        name += f" at {v.origin.line}:{v.origin.col}"
    return _xml(name)


def _message(v: Verdict) -> str:
    r = lv.decisive_reason(v)
    return _xml(f"{status_label(v)} on {v.arch}" + (f": {r.id}: {r.message}" if r is not None else ""))


def _body(v: Verdict) -> str:
    lines = []
    if v.origin is not None:
        lines.append(f"written at {v.origin}" + (f": {v.origin.text}" if v.origin.text else ""))
    lines.extend(detail_lines(v))
    return _xml("\n".join(lines))


def _shown_path(path: str, root) -> str:
    return repo_relative(path, root) or path


def _case(suite: ET.Element, v: Verdict, level: str, counts: dict, suppressed: str = "", root=None) -> None:
    classname = _xml(_shown_path(v.origin.path, root)) if v.origin else "check"
    case = ET.SubElement(suite, "testcase", classname=classname, name=testcase_name(v), time="0")
    counts["tests"] += 1
    if suppressed:
        counts["skipped"] += 1
        ET.SubElement(case, "skipped", message=_xml(f"suppressed ({suppressed}): ") + _message(v))
    elif level == "error":
        counts["failures"] += 1
        failure = ET.SubElement(case, "failure", message=_message(v), type=lv.rule_id(v))
        failure.text = _body(v)
    elif level != "none":
        counts["skipped"] += 1
        ET.SubElement(case, "skipped", message=_message(v))
        ET.SubElement(case, "system-out").text = _body(v)


def _problem_case(suite: ET.Element, p, counts: dict, root=None) -> None:
    where = f"{p.line}:{p.col}" if p.line else "file"
    case = ET.SubElement(suite, "testcase", classname=_xml(_shown_path(p.path, root)),
                         name=_xml(f"{p.code} at {where}"), time="0")
    counts["tests"] += 1
    if p.severity == "error":
        counts["errors"] += 1
        ET.SubElement(case, "error", message=_xml(p.message), type=_xml(p.code)).text = _xml(str(p))
    else:
        counts["skipped"] += 1
        ET.SubElement(case, "skipped", message=_xml(f"{p.severity}: {p.message}"))


def _close(suite: ET.Element, counts: dict, totals: dict) -> None:
    for key, n in counts.items():
        suite.set(key, str(n))
        totals[key] += n
    suite.set("time", "0")


def junit_tree(result: CheckResult, *, levels: Mapping[str, str] | None = None, root=None) -> ET.Element:
    """``root``: scanned files are named relative to it (as given when outside it)."""
    level_of = lv.level_function(result, levels)
    by_arch: dict[str, list[tuple[Verdict, str]]] = {}
    for v in result.verdicts:
        by_arch.setdefault(v.arch, []).append((v, ""))
    for v, how in lv.suppressed(result):
        by_arch.setdefault(v.arch, []).append((v, how or "config"))

    top = ET.Element("testsuites", name="kpanalyze")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for i, (arch, verdicts) in enumerate(by_arch.items()):
        suite = ET.SubElement(top, "testsuite", name=f"kpanalyze.{arch}")
        props = ET.SubElement(suite, "properties")
        for key, value in (("arch", arch), ("kernel", result.kernel), ("kernel_version", result.kernel_version),
                           ("config", result.config)):
            ET.SubElement(props, "property", name=key, value=_xml(value))
        counts = dict.fromkeys(totals, 0)
        for v, how in verdicts:
            _case(suite, v, level_of(v), counts, how, root)
        _close(suite, counts, totals)
        if i == 0 and result.warnings:  # run-wide warnings, once
            ET.SubElement(suite, "system-err").text = _xml("\n".join(f"warning: {w}" for w in result.warnings))
    problems = lv.problems(result)
    if problems:
        suite = ET.SubElement(top, "testsuite", name="kpanalyze.scan")
        counts = dict.fromkeys(totals, 0)
        for p in problems:
            _problem_case(suite, p, counts, root)
        _close(suite, counts, totals)
    for key, n in totals.items():
        top.set(key, str(n))
    top.set("time", "0")
    return top


def render_check(result: CheckResult, *, levels: Mapping[str, str] | None = None, root=None) -> str:
    tree = junit_tree(result, levels=levels, root=root)
    ET.indent(tree)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(tree, encoding="unicode") + "\n"
