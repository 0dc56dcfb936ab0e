"""The one adapter over the tree-sitter Python API (0.26).

The bindings change between releases (Language.query() vanished, captures() changed
shape); everything else in kpanalyze goes through these few functions. Parser and
Query objects cannot be pickled, so each process builds its own, once.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import tree_sitter_c
from tree_sitter import Language, Node, Parser, Query, QueryCursor


@lru_cache(maxsize=None)
def c_language() -> Language:
    return Language(tree_sitter_c.language())


@lru_cache(maxsize=None)
def c_parser() -> Parser:
    return Parser(c_language())


def parse_c(data: bytes):
    """Parse C source bytes; returns the tree-sitter Tree."""
    return c_parser().parse(data)


def query_path(name: str) -> Path:
    from .resources import queries_dir

    p = queries_dir() / name
    if not p.is_file():
        raise FileNotFoundError(f"query file {p} not found; reinstall kpanalyze")
    return p


@lru_cache(maxsize=None)
def load_query(name: str) -> Query:
    """Compile queries/<name> once per process (about 10 ms each)."""
    return Query(c_language(), query_path(name).read_text())


def matches(query: Query, node: Node) -> list[tuple[int, dict[str, list[Node]]]]:
    """[(pattern_index, {capture: [nodes]})], in document order of the match."""
    return list(QueryCursor(query).matches(node))


def captures(query: Query, node: Node) -> dict[str, list[Node]]:
    """{capture: [nodes]} with each list sorted in document order (the API does not)."""
    out = QueryCursor(query).captures(node)
    return {k: sorted(v, key=lambda n: n.start_byte) for k, v in out.items()}


def text(node: Node) -> str:
    return node.text.decode("utf-8", "replace")


def raw_captures(query: Query, node: Node) -> dict[str, list[Node]]:
    """{capture: [nodes]} as the API returns it: lists NOT in document order.

    For hot paths that sort (or do not need order) themselves: sorting every list
    costs more than the few callers that need order."""
    return QueryCursor(query).captures(node)
