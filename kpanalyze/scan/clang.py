"""C files: one tree-sitter parse shared by the BPF (bpf_c) and kernel-module (module)
front ends, and the small helpers both need."""

from __future__ import annotations

import re

from . import bpf_c, module
from .grammars import captures, literal_text, parse_c, position, query, text
from .model import Comment, FileScan, Problem

# A file without any of these cannot hold a probe point or a suppression: not parsed.
_HINTS = (b"SEC", b"section", b"symbol_name", b"attach_kprobe", b"kpanalyze:")

_COMMENTS = "(comment) @c"


def scan(path: str, data: bytes) -> FileScan:
    out = FileScan()
    if not any(h in data for h in _HINTS):
        return out
    tree = parse_c(data)
    root = tree.root_node
    for node in captures(query("c", _COMMENTS), root).get("c", []):
        line, col = position(data, node)
        out.comments.append(Comment(line, col, text(node)))
    bpf_c.extract(path, data, root, out)
    module.extract(path, data, root, out)
    out.findings.sort(key=lambda f: (f.origin.line, f.origin.col))
    return out


def string_value(node) -> str | None:
    """The value of a C string literal (adjacent literals concatenated); None for anything else."""
    return literal_text(node, "string_literal")


_INT = re.compile(r"^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)[uUlL]*$")


def int_value(node) -> int | None:
    """The value of a C integer literal (decimal, hex, octal; u/l suffixes), else None."""
    if node is None or node.type != "number_literal":
        return None
    m = _INT.match(text(node))
    if not m:
        return None
    lit = m.group(1)
    return int(lit, 8) if len(lit) > 1 and lit[0] == "0" and lit[1] not in "xX" else int(lit, 0)


def problem(path: str, data: bytes, node, severity: str, code: str, message: str) -> Problem:
    line, col = position(data, node)
    return Problem(path, line, col, severity, code, message)
