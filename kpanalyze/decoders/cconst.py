"""Integer constants of C: literals, the binary operators on unbounded integers (`/` and `%`
truncate toward zero, as in C), and the value of a constant expression node (the decode
tables of arm_tables; cinterp compiles typed code with the same literals and operators)."""

from __future__ import annotations

import re
from typing import Callable

from .. import tsparse

_INT_RE = re.compile(r"([-+]?)(0[xX][0-9a-fA-F']+|0[bB][01']+|\d[\d']*)([uUlL]*)")


class Unresolved(Exception):
    """An identifier or construct a constant expression cannot give a value to."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


def parse_int(text: str) -> tuple[int, str, bool]:
    """(value, suffix in lower case, written in another base than 10) of an integer
    literal (tree-sitter keeps a leading minus in some); ValueError when it is not one."""
    m = _INT_RE.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"number {text}")
    sign = -1 if m.group(1) == "-" else 1
    s = m.group(2).replace("'", "").lower()
    if s.startswith("0x"):
        v = int(s, 16)
    elif s.startswith("0b"):
        v = int(s[2:], 2)
    elif len(s) > 1 and s[0] == "0":
        v = int(s, 8)
    else:
        return sign * int(s), m.group(3).lower(), False
    return sign * v, m.group(3).lower(), True


def _div(a: int, b: int) -> int:
    q = abs(a) // abs(b)  # ZeroDivisionError for b == 0
    return q if (a >= 0) == (b >= 0) else -q


BINOPS: dict[str, Callable[[int, int], int]] = {
    "|": lambda a, b: a | b, "&": lambda a, b: a & b, "^": lambda a, b: a ^ b,
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": _div, "%": lambda a, b: a - _div(a, b) * b,
    "<<": lambda a, b: a << b, ">>": lambda a, b: a >> b,
    "==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b),
    "<": lambda a, b: int(a < b), ">": lambda a, b: int(a > b),
    "<=": lambda a, b: int(a <= b), ">=": lambda a, b: int(a >= b),
}


def eval_const(node, ident: Callable[[str], int], sizeof: Callable[[str], int] | None = None) -> int:
    """Value of a constant C expression node (unbounded integers; casts to unsigned types
    wrap to 32 bits); `ident` gives identifiers their values (raise Unresolved if none)."""
    t = node.type
    if t == "number_literal":
        try:
            return parse_int(tsparse.text(node))[0]
        except ValueError:
            raise Unresolved(f"number {tsparse.text(node)}") from None
    if t == "char_literal":
        body = tsparse.text(node)[1:-1]
        return ord(body[-1]) if body else 0
    if t == "identifier":
        return ident(tsparse.text(node))
    if t in ("true", "false"):
        return int(t == "true")
    if t == "parenthesized_expression":
        inner = [c for c in node.named_children if c.type != "comment"]
        if len(inner) != 1:
            raise Unresolved(tsparse.text(node))
        return eval_const(inner[0], ident, sizeof)
    if t == "unary_expression":
        op = tsparse.text(node.child_by_field_name("operator"))
        v = eval_const(node.child_by_field_name("argument"), ident, sizeof)
        return {"!": lambda x: int(not x), "~": lambda x: ~x, "-": lambda x: -x, "+": lambda x: x}[op](v)
    if t == "binary_expression":
        op = tsparse.text(node.child_by_field_name("operator"))
        a = eval_const(node.child_by_field_name("left"), ident, sizeof)
        if op == "&&":
            return int(bool(a) and bool(eval_const(node.child_by_field_name("right"), ident, sizeof)))
        if op == "||":
            return int(bool(a) or bool(eval_const(node.child_by_field_name("right"), ident, sizeof)))
        b = eval_const(node.child_by_field_name("right"), ident, sizeof)
        try:
            return BINOPS[op](a, b)
        except ZeroDivisionError:
            raise Unresolved("division by zero") from None
    if t == "conditional_expression":
        c = eval_const(node.child_by_field_name("condition"), ident, sizeof)
        return eval_const(node.child_by_field_name("consequence" if c else "alternative"), ident, sizeof)
    if t == "cast_expression":
        v = eval_const(node.child_by_field_name("value"), ident, sizeof)
        ty = tsparse.text(node.child_by_field_name("type"))
        if "*" in ty:
            raise Unresolved(f"pointer cast ({ty})")
        if "unsigned" in ty or ty.strip() in ("u32", "u16", "u8", "probes_opcode_t"):
            bits = {"u16": 16, "u8": 8}.get(ty.strip(), 32)
            return v & ((1 << bits) - 1)
        return v
    if t == "sizeof_expression" and sizeof is not None:
        ty = node.child_by_field_name("type")
        if ty is not None:
            return sizeof(" ".join(tsparse.text(ty).split()))
    raise Unresolved(f"{t} `{tsparse.text(node)[:40]}`")
