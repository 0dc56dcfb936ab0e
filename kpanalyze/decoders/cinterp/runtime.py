"""What compiled code runs on: the runtime of one call (builtins, step limit, trace, the
memories pointers may point into), frames and lexical scopes, and the operations the
closures share (blocks, truth, dereference, integer and pointer operators)."""

from __future__ import annotations

from ..cconst import BINOPS
from .ctype import CType
from .results import Unsupported
from .values import CPointer, CStruct, Memory, ReinterpretRef, Ref


class Runtime:
    """The state of one top-level call."""

    __slots__ = ("prog", "builtins", "limit", "steps", "trace", "conds", "memories", "depth")

    def __init__(self, prog, builtins, limit):
        self.prog = prog
        self.builtins = builtins
        self.limit = limit
        self.steps = 0
        self.trace: list = []
        self.conds: list = []
        self.memories: list = []
        self.depth = 0

    def memory_at(self, addr: int, path: str, line: int) -> Memory:
        for m in self.memories:
            if m.contains(addr):
                return m
        raise Unsupported(f"pointer {addr:#x} into unknown memory", path, line)


class Frame:
    """The variables of one function activation (keys from Scope.declare)."""

    __slots__ = ("v", "rt")

    def __init__(self, v, rt):
        self.v = v
        self.rt = rt


class Scope:
    """Compile-time names of a block: each declaration gets a unique variable key."""

    _counter = 0

    def __init__(self, parent):
        self.parent = parent
        self.names: dict[str, tuple[str, CType]] = {}

    def declare(self, name: str, t: CType) -> str:
        Scope._counter += 1
        key = f"{name}#{Scope._counter}"
        self.names[name] = (key, t)
        return key

    def lookup(self, name):
        s = self
        while s is not None:
            if name in s.names:
                return s.names[name]
            s = s.parent
        return None


BREAK = "b"
CONTINUE = "c"


def raiser(what, path, line):
    def f(fr):
        raise Unsupported(what, path, line)
    return f


MISSING = object()


def block(parts):
    if not parts:
        return lambda fr: None
    if len(parts) == 1:
        return parts[0]
    parts = tuple(parts)

    def run_block(fr):
        for p in parts:
            r = p(fr)
            if r is not None:
                return r
        return None
    return run_block


def truth(v) -> bool:
    if isinstance(v, int):
        return v != 0
    return v is not None


def deref(p, path, line):
    if isinstance(p, (CPointer, Ref, ReinterpretRef)):
        return p.load()
    if isinstance(p, CStruct):
        return p
    raise Unsupported(f"dereference of {type(p).__name__}", path, line)


CMP = {
    "==": lambda x, y: x == y, "!=": lambda x, y: x != y, "<": lambda x, y: x < y,
    ">": lambda x, y: x > y, "<=": lambda x, y: x <= y, ">=": lambda x, y: x >= y,
}


def int_op(op, x, y, path, line):
    f = BINOPS.get(op)
    if f is None:
        raise Unsupported(f"operator {op}=", path, line)
    try:
        return f(x, y)
    except ZeroDivisionError:
        raise Unsupported("division by zero", path, line) from None


def ptr_op(op, x, y, cmp, path, line):
    xp, yp = isinstance(x, CPointer), isinstance(y, CPointer)
    if cmp is not None:
        if xp or yp:
            xa = x.addr if xp else x
            ya = y.addr if yp else y
            if not isinstance(xa, int) or not isinstance(ya, int):
                raise Unsupported(f"comparison of {type(x).__name__} and {type(y).__name__}", path, line)
            return 1 if cmp(xa, ya) else 0
        if isinstance(x, int) and isinstance(y, int):
            return 1 if cmp(x, y) else 0
        if op in ("==", "!="):
            return 1 if cmp(x, y) else 0
        raise Unsupported(f"comparison of {type(x).__name__} and {type(y).__name__}", path, line)
    if xp and isinstance(y, int) and op in ("+", "-"):
        return x.moved(y if op == "+" else -y)
    if yp and isinstance(x, int) and op == "+":
        return y.moved(x)
    if xp and yp and op == "-":
        return (x.addr - y.addr) // max(1, x.ctype.size)
    if isinstance(x, int) and isinstance(y, int):
        return int_op(op, x, y, path, line)
    raise Unsupported(f"operator {op} on {type(x).__name__} and {type(y).__name__}", path, line)


