"""kprobe_events definitions (the tracefs file's own syntax), read line by line.

    p[:[GRP/]EVENT] [MOD:]SYM[+OFFS] [FETCHARGS]        a kprobe
    r[MAXACTIVE][:[GRP/]EVENT] [MOD:]SYM[+0] [FETCHARGS]  a kretprobe
    p[:[GRP/]EVENT] [MOD:]SYM%return [FETCHARGS]        a kretprobe too
    -:[GRP/]EVENT                                       a deletion: ignored

``#`` starts a comment (as for the kernel's parser); a probe on a raw address
(``p 0xffffffff81000000``) names no symbol and is not judged; other event types
(``e:``, ``t:``...) are ignored. A line ``echo 'p:...' >> .../kprobe_events`` is read as
the quoted definition, so shell snippets that write the file are understood too.
"""

from __future__ import annotations

import re

from ..verdict import Origin
from .model import NAME, Comment, FileScan, Finding, Problem

_HEAD = re.compile(r"^([pr])(\d*)(?::(\S*))?$")
_TARGET = re.compile(r"^(?:([A-Za-z0-9_.-]+):)?([A-Za-z_.][A-Za-z0-9_.]*)(?:\+(0[xX][0-9a-fA-F]+|[0-9]+))?(%return)?$")
_ECHO = re.compile(r"""^(\s*echo\s+(?:-\w+\s+)*)(['"])(.*?)\2\s*>>?\s*\S*kprobe_events\s*$""")


def scan(path: str, data: bytes, src: str) -> FileScan:
    out = FileScan()
    for n, raw in enumerate(src.splitlines(), 1):
        line, base = raw, 0
        m = _ECHO.match(raw)
        if m:
            base = len(m.group(1)) + 1
            line = m.group(3)
        body, hash_, comment = line.partition("#")
        if hash_:
            out.comments.append(Comment(n, base + len(body) + 1, "#" + comment))
        _definition(path, n, body, base, out)
    return out


def _definition(path: str, n: int, body: str, base: int, out: FileScan) -> None:
    tokens = [(m.group(), m.start()) for m in re.finditer(r"\S+", body)]
    if not tokens:
        return
    head, _ = tokens[0]
    if head.startswith("-:") or head == "-":
        return  # deleting an event
    m = _HEAD.match(head)
    if not m:
        if head[:1] in "pr" and (len(head) == 1 or head[1] in ":0123456789"):
            out.problems.append(Problem(path, n, base + 1, "warning", "syntax",
                                        f"{head!r}: not a kprobe event head (p[:[GRP/]EVENT] or r[N][:[GRP/]EVENT])"))
        return  # not a kprobe definition (an eprobe, a uprobe file, a shell line...)
    if len(tokens) < 2:
        out.problems.append(Problem(path, n, base + 1, "warning", "syntax", f"{head}: no probe target"))
        return
    target, at = tokens[1]
    col = base + at + 1
    if target.startswith("0x") or target[:1].isdigit():
        return  # a raw address: no symbol to judge
    t = _TARGET.match(target)
    if not t:
        if "/" in target or ":" in target and target.count(":") > 1:
            return  # a uprobe (PATH:OFFSET) in the same file
        out.problems.append(Problem(path, n, col, "warning", "syntax",
                                    f"{target!r}: not [MOD:]SYM[+OFFS] or SYM%return"))
        return
    _mod, sym, off, ret = t.groups()
    kind = "kretprobe" if m.group(1) == "r" or ret else "kprobe"
    text = " ".join(tok for tok, _ in tokens[:2])
    out.findings.append(Finding(Origin(path, n, col, text, "kprobe-events"), sym, kind, "tracefs",
                                int(off, 0) if off else 0, NAME))
