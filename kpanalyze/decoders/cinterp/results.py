"""What an interpreted call reports: its value, the trace, the deciding return; and the
one error of the interpreter (a construct it does not know, with where)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...verdict import Evidence


class Unsupported(Exception):
    """The interpreter met a construct it does not know (named, with where)."""

    def __init__(self, construct: str, path: str = "", line: int = 0):
        super().__init__(construct, path, line)
        self.construct = construct
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = f" at {self.path}:{self.line}" if self.path else ""
        return f"{self.construct}{where}"



@dataclass(frozen=True)
class TraceStep:
    kind: str  # "call", "return", "if", "case"
    name: str  # the function (call/return) or "" (if/case)
    path: str
    line: int
    value: Any = None  # return value; for "if": True/False (branch taken)

    def __str__(self) -> str:
        if self.kind == "call":
            return f"call {self.name} ({self.path}:{self.line})"
        if self.kind == "return":
            return f"{self.name} returns {self.value!r} ({self.path}:{self.line})"
        return f"{self.kind} {self.value!r} ({self.path}:{self.line})"


@dataclass(frozen=True)
class Outcome:
    value: Any
    trace: tuple[TraceStep, ...]
    decisive: Evidence | None  # the `return` statement that produced the value
    conditions: tuple[str, ...] = ()  # unknown #if conditions the path went through

