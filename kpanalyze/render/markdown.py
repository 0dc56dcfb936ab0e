"""Markdown for CI job summaries (GitHub's $GITHUB_STEP_SUMMARY, GitLab, PR comments).

A title, a table of counts per status with one row per arch, then per arch the
verdicts that are not probeable with their reason and kernel evidence: errors in a
table (folded in a <details> block when long), warnings folded, warnings of the run
last. GitHub-flavoured Markdown; paths are code-formatted, not links.
"""

from __future__ import annotations

import re
from typing import Mapping

from ..verdict import STATUSES, CheckResult, Verdict
from . import levels as lv
from .sarif import repo_relative
from .text import insn_text, status_counts, status_label

TITLE = "kpanalyze"
FOLD_AFTER = 10  # rows: a longer error table goes inside <details>
MAX_ROWS = 200  # rows per table: GitHub caps a job summary at 1 MiB

_PUNCT = re.compile(r"([\\`*_\[\]<>|#~])")
_CODE_SPAN = re.compile(r"(`[^`]+`)")


def _text(s: str) -> str:
    """Plain text for a table cell, on one line: Markdown punctuation escaped, except
    inside the `code spans` that reason sentences use."""
    parts = _CODE_SPAN.split(" ".join(str(s).split()))
    return "".join(p.replace("|", "\\|") if i % 2 else _PUNCT.sub(r"\\\1", p) for i, p in enumerate(parts))


def _code(s: str) -> str:
    """A code span for a table cell (``|`` escaped, as GFM tables require)."""
    s = " ".join(str(s).split()).replace("|", "\\|")
    if "`" in s:
        return f"`` {s} ``"
    return f"`{s}`" if s else ""


def _row(cells) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(head: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    seps = ["---:" if a == "r" else "---" for a in (align or "l" * len(head))]
    return [_row(head), _row(seps), *(_row(r) for r in rows)]


def _why(v: Verdict) -> str:
    parts = []
    for r in v.reasons:
        head = _code(r.id) if r.decisive else "note" if r.id == "note" else f"note ({_code(r.id)})"
        parts.append(f"{head}: {_text(r.message)}")
    if v.if_present:
        parts.append(f"if present: {_text(v.if_present)}")
    if v.suggestions:
        parts.append("try instead: " + ", ".join(_code(s) for s in v.suggestions))
    if v.instruction is not None:
        parts.append(f"instruction: {_code(insn_text(v.instruction))}")
    if v.confidence != "high":
        parts.append(f"confidence: {v.confidence}")
    return "<br>".join(parts)


def _evidence(v: Verdict) -> str:
    seen = []
    for r in v.reasons:
        for e in r.evidence:
            if str(e) not in seen:
                seen.append(str(e))
    if not seen and v.definition is not None:
        seen.append(str(v.definition))
    return "<br>".join(_code(s) for s in seen)


def _where(path: str, line: int, col: int, root) -> str:
    path = repo_relative(path, root) or path
    return _code(f"{path}:{line}:{col}" if line else path)


def _verdict_rows(verdicts: list[Verdict], with_origin: bool, root) -> tuple[list[str], list[list[str]]]:
    head = (["where"] if with_origin else []) + ["point", "kind", "via", "status", "why", "kernel evidence"]
    rows = []
    for v in verdicts:
        o = v.origin
        row = [_where(o.path, o.line, o.col, root) if o else ""] if with_origin else []
        row += [_code(str(v.point)), v.kind, v.via, status_label(v), _why(v), _evidence(v)]
        rows.append(row)
    return head, rows


def _listing(verdicts: list[Verdict], with_origin: bool, max_rows: int, root) -> list[str]:
    head, rows = _verdict_rows(verdicts[:max_rows], with_origin, root)
    out = _table(head, rows)
    if len(verdicts) > max_rows:
        out += ["", f"... and {len(verdicts) - max_rows} more: see the JSON or SARIF report."]
    return out


def _folded(summary: str, body: list[str], open_: bool = False) -> list[str]:
    # The blank lines let GitHub render the Markdown inside the HTML block.
    return [f"<details{' open' if open_ else ''}><summary>{summary}</summary>", "", *body, "", "</details>"]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def render_check(result: CheckResult, *, levels: Mapping[str, str] | None = None, title: str = TITLE,
                 fold_after: int = FOLD_AFTER, max_rows: int = MAX_ROWS, root=None) -> str:
    """``root``: scanned files are named relative to it (as given when outside it)."""
    level_of = lv.level_function(result, levels)
    verdicts = result.verdicts
    arches = list(dict.fromkeys(v.arch for v in verdicts))
    level = {id(v): level_of(v) for v in verdicts}
    scan_problems = lv.problems(result)
    n_suppressed = len(lv.suppressed(result))
    problems = [v for v in verdicts if level[id(v)] != "none"]
    n_err = sum(1 for v in problems if level[id(v)] == "error")

    if not verdicts:
        headline = "no probe points"
    elif not problems:
        headline = f"all {_plural(len(verdicts), 'verdict')} probeable"
    else:
        headline = f"{len(problems)} of {_plural(len(verdicts), 'verdict')} not probeable"
    out = [f"## {title}: {headline}", ""]
    context = []
    if result.kernel_version:
        context.append(f"Linux {_text(result.kernel_version)}")
    if result.kernel:
        context.append(f"tree {_code(result.kernel)}")
    context.append(f"config {_code(result.config)}" if result.config else "no config")
    if problems:
        context.append(f"{_plural(n_err, 'error')}, {_plural(len(problems) - n_err, 'warning')}")
    if n_suppressed:
        context.append(f"{n_suppressed} suppressed")
    if scan_problems:
        context.append(_plural(len(scan_problems), "problem") + " in scanned files")
    out += [" · ".join(context), ""]

    if verdicts:
        rows = []
        for arch in arches:
            c = status_counts(v for v in verdicts if v.arch == arch)
            rows.append([_code(arch), str(sum(c.values())), *(str(c[s]) for s in STATUSES)])
        total = status_counts(verdicts)
        if len(arches) > 1:
            rows.append(["**total**", f"**{len(verdicts)}**", *(f"**{total[s]}**" for s in STATUSES)])
        out += _table(["arch", "verdicts", *STATUSES], rows, "l" + "r" * (1 + len(STATUSES))) + [""]

    with_origin = any(v.origin is not None for v in problems)
    for arch in arches:
        errors = [v for v in problems if v.arch == arch and level[id(v)] == "error"]
        warnings = [v for v in problems if v.arch == arch and level[id(v)] != "error"]
        if not errors and not warnings:
            continue
        counts = [_plural(len(x), w) for x, w in ((errors, "error"), (warnings, "warning")) if x]
        out += [f"### {_code(arch)}: {', '.join(counts)}", ""]
        if errors:
            table = _listing(errors, with_origin, max_rows, root)
            out += (_folded(f"{_plural(len(errors), 'error')} on {arch}", table) if len(errors) > fold_after
                    else table) + [""]
        if warnings:
            out += _folded(f"{_plural(len(warnings), 'warning')} on {arch}",
                           _listing(warnings, with_origin, max_rows, root)) + [""]

    if scan_problems:
        rows = [[_where(p.path, p.line, p.col, root), p.severity, _code(p.code), _text(p.message)] for p in scan_problems[:max_rows]]
        table = _table(["where", "severity", "problem", "message"], rows)
        if len(scan_problems) > max_rows:
            table += ["", f"... and {len(scan_problems) - max_rows} more: see the JSON or SARIF report."]
        out += [f"### Problems in scanned files: {len(scan_problems)}", ""]
        out += (_folded(_plural(len(scan_problems), "problem"), table) if len(scan_problems) > fold_after
                else table) + [""]

    if result.warnings:
        items = [f"- {_text(w)}" for w in result.warnings[:max_rows]]
        if len(result.warnings) > max_rows:
            items.append(f"- ... and {len(result.warnings) - max_rows} more")
        out += _folded(f"{_plural(len(result.warnings), 'warning')} of the run", items) + [""]
    return "\n".join(out).rstrip("\n") + "\n"
