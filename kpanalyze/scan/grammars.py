"""The tree-sitter side of the scan front ends: C (through kpanalyze.tsparse) and Python.

Kept apart from kpanalyze.tsparse on purpose: the fact index fingerprints tsparse.py
(a change there re-extracts every kernel tree), and nothing here extracts kernel facts.
"""

from __future__ import annotations

from functools import lru_cache

from tree_sitter import Language, Parser, Query

from .. import tsparse


@lru_cache(maxsize=None)
def python_language() -> Language:
    import tree_sitter_python

    return Language(tree_sitter_python.language())


@lru_cache(maxsize=None)
def _python_parser() -> Parser:
    return Parser(python_language())


parse_c = tsparse.parse_c
captures = tsparse.captures  # {capture: [nodes]}, each list in document order
text = tsparse.text


def parse_python(data: bytes):
    return _python_parser().parse(data)


@lru_cache(maxsize=None)
def query(lang: str, source: str) -> Query:
    """Compile a query once per process ("c" or "python")."""
    language = tsparse.c_language() if lang == "c" else python_language()
    return Query(language, source)


def position(data: bytes, node_or_byte) -> tuple[int, int]:
    """1-based (line, column in characters) of a node's start or of a byte offset."""
    if isinstance(node_or_byte, int):
        off = node_or_byte
        line = data.count(b"\n", 0, off) + 1
    else:
        off = node_or_byte.start_byte
        line = node_or_byte.start_point[0] + 1
    line_start = data.rfind(b"\n", 0, off) + 1
    return line, len(data[line_start:off].decode("utf-8", "replace")) + 1


def one_line(s: str, limit: int = 160) -> str:
    """Source text for an Origin: whitespace runs collapsed, cut at `limit` characters."""
    s = " ".join(s.split())
    return s if len(s) <= limit else s[:limit - 3] + "..."


def literal_text(node, literal: str) -> str | None:
    """The value of a string literal node of type `literal` ("string_literal" in C, "string"
    in Python), adjacent literals joined; None for anything else (f-strings, expressions)."""
    if node is None:
        return None
    if node.type == "concatenated_string":
        parts = [literal_text(c, literal) for c in node.named_children]
        return None if any(p is None for p in parts) else "".join(parts)
    if node.type != literal or any(c.type == "interpolation" for c in node.named_children):
        return None
    return "".join(text(c) for c in node.named_children if c.type in ("string_content", "escape_sequence"))
