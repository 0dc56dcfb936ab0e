"""Text output of a scan: one compiler-style diagnostic per probe point and outcome.

    path:line:col: error: NAME: blocked (EINVAL) on x86, arm64 (kprobe via tracefs)
        notrace: no ftrace site: ... [arch/x86/mm/fault.c:1203]
        written: SEC("kprobe/NAME")
        to accept it: // kpanalyze: ignore[notrace]

Verdicts of one probe point that agree on status and reasons across arches and kinds
are printed once. Problems (skipped files, malformed specs, suppressions) are printed
the same way; probeable points only with ``show_all``. The last line sums up.
"""

from __future__ import annotations

import re

from ..render.text import detail_lines, status_counts, status_label
from ..verdict import Verdict
from .model import ScanResult
from .suppress import verdict_ids

_COLOR = {"error": "\x1b[1;31m", "warning": "\x1b[33m", "note": "\x1b[36m", "ok": "\x1b[32m"}
_RESET = "\x1b[0m"
_HASH_COMMENTS = ("bcc", "kprobe-events")


def _paint(word: str, color: bool) -> str:
    return f"{_COLOR[word]}{word}{_RESET}" if color and word in _COLOR else word


def _comment(v: Verdict) -> str:
    fe = v.origin.front_end if v.origin else ""
    embedded_c = fe == "bcc" and v.origin.text.startswith(("kprobe__", "kretprobe__"))
    return "#" if fe in _HASH_COMMENTS and not embedded_c else "//"


def _generic(message: str, arch: str) -> str:
    return re.sub(rf"\bon {re.escape(arch)}\b", "on <arch>", message)


def _groups(result: ScanResult, verdicts: list[Verdict]):
    """[(first verdict, level, [(arch, kind)])] merging verdicts that differ only by arch/kind
    (messages compared with their "on ARCH" left out)."""
    groups: dict[tuple, list] = {}
    for v in verdicts:
        level = result.level(v)
        key = (v.origin, str(v.point), v.via, v.status, v.expected_errno, level,
               tuple((r.id, _generic(r.message, v.arch), r.decisive, r.evidence) for r in v.reasons),
               v.if_present, v.suggestions, v.confidence, v.definition, result.target_of.get(v))
        if key not in groups:
            groups[key] = [v, level, []]
        groups[key][2].append((v.arch, v.kind))
    return groups.values()


def _where(pairs: list[tuple[str, str]], via: str) -> str:
    arches = list(dict.fromkeys(a for a, _ in pairs))
    kinds = list(dict.fromkeys(k for _, k in pairs))
    return f"on {', '.join(arches)} ({', '.join(kinds)} via {via})"


def _members(result: ScanResult, members: list[Verdict]) -> list[tuple]:
    """One diagnostic per pattern, arch set and level for the refused names it matched."""
    groups: dict[tuple, list[Verdict]] = {}
    for v in members:
        key = (v.origin, result.pattern_of[v], v.kind, v.via, result.level(v), result.target_of.get(v))
        groups.setdefault(key, []).append(v)
    items = []
    for (o, pattern, kind, via, level, target), vs in groups.items():
        arches = ", ".join(dict.fromkeys(v.arch for v in vs))
        names = sorted({str(v.point) for v in vs})
        head = (f"{o}: {{level}}: {pattern}: the kernel refuses {len(names)} of the functions it matches on "
                f"{arches} ({kind} via {via})" + (f" [target {target}]" if target else ""))
        lines = [head]
        seen = set()
        for v in sorted(vs, key=lambda v: (str(v.point), v.arch)):
            if (str(v.point), v.arch) in seen:
                continue
            seen.add((str(v.point), v.arch))
            ids = ", ".join(verdict_ids(v))
            where = f" on {v.arch}" if "," in arches else ""
            lines.append(f"    {v.point}: {status_label(v)}{where}: {ids}"
                         + (f" [{v.definition}]" if v.definition else ""))
        lines.append(f"    written: {o.text}")
        items.append((o, level, lines))
    return items


def render_scan(result: ScanResult, *, tty: bool = False, show_all: bool = False) -> str:
    out: list[str] = []
    shown = [v for v in result.verdicts if (show_all or not v.ok) and v not in result.pattern_of]
    items = []  # (path, line, col, order, lines)
    for o, level, lines in _members(result, [v for v in result.verdicts if v in result.pattern_of]):
        lines[0] = lines[0].format(level=_paint(level, tty))
        items.append((o.path, o.line, o.col, 1 << 30, lines))
    for n, (v, level, pairs) in enumerate(_groups(result, shown)):
        o = v.origin
        word = "ok" if v.ok else level
        target = result.target_of.get(v)
        head = (f"{o}: {_paint(word, tty)}: {v.point}: {status_label(v)} {_where(pairs, v.via)}"
                + (f" [target {target}]" if target else ""))
        arches = list(dict.fromkeys(a for a, _ in pairs))
        details = detail_lines(v)
        if len(arches) > 1:
            details = [_generic(d, v.arch).replace("on <arch>", "on " + "/".join(arches)) for d in details]
        lines = [head] + ["    " + d for d in details if not (target and d.startswith("note: target "))]
        lines.append(f"    written: {o.text}" if o.text else "")
        if not v.ok:
            ids = verdict_ids(v)
            lines.append(f"    to accept it: {_comment(v)} kpanalyze: ignore[{', '.join(ids)}]")
        items.append((o.path, o.line, o.col, n, [x for x in lines if x]))
    for p in result.problems:
        items.append((p.path, p.line, p.col, -1, [f"{p.where()}: {_paint(p.severity, tty)}: {p.message}"]))
    items.sort(key=lambda x: (x[0], x[1], x[2], x[3]))
    for *_, lines in items:
        out.extend(lines)
    out.append(summary_line(result))
    return "".join(line + "\n" for line in out)


def summary_line(result: ScanResult) -> str:
    n_files = result.files_scanned
    parts = [f"{n_files} file{'s' if n_files != 1 else ''} scanned"
             + (f" ({result.files_skipped} skipped)" if result.files_skipped else "")]
    nf = len(result.findings)
    parts.append(f"{nf} probe point{'s' if nf != 1 else ''}")
    counts = status_counts(result.verdicts)
    nv = len(result.verdicts)
    verdicts = f"{nv} verdict{'s' if nv != 1 else ''}"
    if nv:
        verdicts += " (" + ", ".join(f"{c} {s}" for s, c in counts.items() if c) + ")"
    parts.append(verdicts)
    by_level = {level: result.count(level) for level in ("error", "warning", "note")}
    tail = [f"{n} {level}{'s' if n != 1 else ''}" for level, n in by_level.items() if n]
    if result.suppressed:
        tail.append(f"{len(result.suppressed)} suppressed")
    return "kpanalyze: " + ", ".join(parts) + (": " + ", ".join(tail) if tail else ": no problems")
