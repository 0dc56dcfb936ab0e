"""bpftrace scripts, read by a small hand-written tokenizer (bpftrace has no grammar on PyPI).

The tokenizer knows just enough of the language to find probe specs: ``//`` and
``/* */`` comments, ``"..."`` strings, ``#`` lines (shebang, ``#include``), action blocks
``{ ... }`` (nested; their contents are never probe specs) and predicates ``/.../``.
At brace depth 0, comma-separated words are probe specs; the kprobe ones are
``kprobe:NAME``, ``k:NAME``, ``kretprobe:NAME``, ``kr:NAME``, with ``+OFFSET``, wildcards
(``*``, ``?``, ``[...]``) and an optional module (``kprobe:MOD:NAME``, judged by NAME).
Several probes may share one action block: each is a finding. ``$1``-style names are
given at run time and not judged.
"""

from __future__ import annotations

import re

from ..verdict import Origin
from .model import GLOB, NAME, Comment, FileScan, Finding, Problem

_SPEC_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:.*?+-$[]!")
_PROBE = re.compile(r"^(kprobe|k|kretprobe|kr):(?:([A-Za-z0-9_.-]+):)?(.+)$")
_POINT = re.compile(r"^([A-Za-z_.][A-Za-z0-9_.]*)(?:\+(0[xX][0-9a-fA-F]+|[0-9]+))?$")
_GLOB = re.compile(r"^[A-Za-z0-9_.*?\[\]!-]+$")


class _Reader:
    def __init__(self, src: str):
        self.src, self.i, self.line, self.col = src, 0, 1, 1

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.src[j] if j < len(self.src) else ""

    def advance(self, n: int = 1) -> None:
        for _ in range(n):
            if self.i >= len(self.src):
                return
            if self.src[self.i] == "\n":
                self.line, self.col = self.line + 1, 1
            else:
                self.col += 1
            self.i += 1


def scan(path: str, data: bytes, src: str) -> FileScan:
    out = FileScan()
    r = _Reader(src)
    depth = 0
    at_line_start = True
    while r.i < len(src):
        c = r.peek()
        if c == "\n":
            at_line_start = True
            r.advance()
            continue
        if c in " \t\r\f\v":
            r.advance()
            continue
        if c == "/" and r.peek(1) == "/":
            line, col, start = r.line, r.col, r.i
            while r.i < len(src) and r.peek() != "\n":
                r.advance()
            out.comments.append(Comment(line, col, src[start:r.i]))
            continue
        if c == "/" and r.peek(1) == "*":
            line, col, start = r.line, r.col, r.i
            end = src.find("*/", r.i + 2)
            if end < 0:
                out.problems.append(Problem(path, line, col, "warning", "syntax",
                                            "unterminated /* comment: the rest of the file is skipped"))
                return out
            r.advance(end + 2 - r.i)
            out.comments.append(Comment(line, col, src[start:r.i]))
            continue
        if c == '"':
            line, col = r.line, r.col
            r.advance()
            while r.i < len(src) and r.peek() != '"':
                r.advance(2 if r.peek() == "\\" else 1)
            if r.i >= len(src):
                out.problems.append(Problem(path, line, col, "warning", "syntax",
                                            "unterminated string: the rest of the file is skipped"))
                return out
            r.advance()
            continue
        if c == "#" and at_line_start and depth == 0:
            while r.i < len(src) and not (r.peek() == "\n" and src[r.i - 1] != "\\"):
                r.advance()
            continue
        at_line_start = False
        if c == "{":
            depth += 1
            r.advance()
            continue
        if c == "}":
            if depth == 0:
                out.problems.append(Problem(path, r.line, r.col, "warning", "syntax", "unbalanced '}'"))
            depth = max(0, depth - 1)
            r.advance()
            continue
        if depth == 0 and c == "/":
            # a predicate: /expr/ up to the action block (predicates hold no '{')
            while r.i < len(src) and r.peek() != "{":
                r.advance()
            continue
        if depth == 0 and c in _SPEC_CHARS:
            line, col, start = r.line, r.col, r.i
            while r.i < len(src) and r.peek() in _SPEC_CHARS:
                r.advance()
            _spec(path, src[start:r.i], line, col, out)
            continue
        r.advance()
    if depth:
        out.problems.append(Problem(path, r.line, r.col, "warning", "syntax",
                                    "unterminated action block at the end of the file"))
    return out


def _spec(path: str, word: str, line: int, col: int, out: FileScan) -> None:
    m = _PROBE.match(word)
    if not m:
        return
    provider, _module, rest = m.groups()
    kind = "kretprobe" if provider in ("kretprobe", "kr") else "kprobe"
    origin = Origin(path, line, col, word, "bpftrace")
    if "$" in rest:
        return  # a positional parameter: the name is given at run time
    if any(ch in rest for ch in "*?["):
        if not _GLOB.match(rest):
            out.problems.append(Problem(path, line, col, "warning", "syntax", f"{word}: not a probe pattern"))
            return
        out.findings.append(Finding(origin, rest, kind, "tracefs", 0, GLOB))
        return
    p = _POINT.match(rest)
    if not p:
        out.problems.append(Problem(path, line, col, "warning", "syntax", f"{word}: not NAME or NAME+OFFSET"))
        return
    out.findings.append(Finding(origin, p.group(1), kind, "tracefs", int(p.group(2), 0) if p.group(2) else 0, NAME))
