"""Inline suppressions: ``kpanalyze: ignore[reason-id, ...]`` in a comment of the file's language
(``//`` or ``/* */`` in C and bpftrace, ``#`` in Python and kprobe_events).

A suppression covers the probe points written on its own line; on a line with no probe
point (a comment line above the probe), it covers the next line. It must name reason
ids of the catalog (``kpanalyze reasons``): a bare ``kpanalyze: ignore`` or an unknown id
is an error finding. A verdict is suppressed when every reason that makes it fail is
named; an id that matched nothing on any target, arch or kind is reported as unused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..reasons import CATALOG
from ..verdict import Verdict
from .model import Comment, Problem

_MARK = re.compile(r"kpanalyze\s*:\s*ignore\b(\s*\[([^\]\n]*)\]?)?")
_UNSPECIFIC = ("note", "config-dependent")


@dataclass
class Suppression:
    path: str
    line: int  # where the comment says it
    col: int
    ids: tuple[str, ...]
    covers: int  # the line of the probe points it covers
    used: set[str] = field(default_factory=set)


def parse(path: str, comments: list[Comment], finding_lines: set[int]) -> tuple[list[Suppression], list[Problem]]:
    sups: list[Suppression] = []
    problems: list[Problem] = []
    for c in comments:
        for m in _MARK.finditer(c.text):
            before = c.text[:m.start()]
            line = c.line + before.count("\n")
            col = (len(before) - before.rfind("\n")) if "\n" in before else c.col + len(before)
            end_line = c.line + c.text.count("\n")
            if m.group(1) is None or m.group(2) is None or not m.group(2).strip():
                problems.append(Problem(path, line, col, "error", "bad-suppression",
                                        "`kpanalyze: ignore` must name the reason ids it accepts, e.g. "
                                        "`kpanalyze: ignore[notrace]` (see `kpanalyze reasons`)"))
                continue
            if not m.group(1).rstrip().endswith("]"):
                problems.append(Problem(path, line, col, "error", "bad-suppression",
                                        "unterminated `kpanalyze: ignore[` (missing `]`)"))
                continue
            ids, bad = [], []
            for rid in re.split(r"[\s,]+", m.group(2).strip()):
                (ids if rid in CATALOG else bad).append(rid)
            for rid in bad:
                problems.append(Problem(path, line, col, "error", "bad-suppression",
                                        f"unknown reason id {rid!r} in `kpanalyze: ignore[...]` "
                                        "(see `kpanalyze reasons` for the ids)"))
            if ids:
                covers = line if line in finding_lines else end_line + 1
                sups.append(Suppression(path, line, col, tuple(dict.fromkeys(ids)), covers))
    return sups, problems


def verdict_ids(v: Verdict) -> tuple[str, ...]:
    """The reason ids that make a verdict fail: its decisive reasons; for an uncertain verdict
    without one, its specific informational reasons (maybe-inlined, ...)."""
    if v.ok:
        return ()
    ids = tuple(r.id for r in v.reasons if r.decisive)
    if not ids:
        ids = tuple(r.id for r in v.reasons if r.id not in _UNSPECIFIC) or tuple(r.id for r in v.reasons)
    return tuple(dict.fromkeys(ids))


def apply(v: Verdict, sups: list[Suppression]) -> bool:
    """Mark the ids `sups` name that this verdict has; True when they cover all of them."""
    ids = set(verdict_ids(v))
    if not ids or not sups:
        return False
    named = set()
    for s in sups:
        s.used |= ids.intersection(s.ids)
        named.update(s.ids)
    return ids <= named


def unused(sups: list[Suppression], covered_lines: set[int]) -> list[Problem]:
    out = []
    for s in sups:
        left = [i for i in s.ids if i not in s.used]
        if not left:
            continue
        if s.covers not in covered_lines:
            msg = f"unused suppression: no probe point on line {s.covers}" + \
                  (" (the line it is on, or the next one)" if s.covers != s.line else "")
        else:
            msg = (f"unused suppression: {', '.join(left)} "
                   f"{'does' if len(left) == 1 else 'do'} not apply to the probe point here on any target, arch or kind")
        out.append(Problem(s.path, s.line, s.col, "warning", "unused-suppression", msg))
    return out
