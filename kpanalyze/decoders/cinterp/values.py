"""Runtime values: integer wrapping to a C type, structs, the memory model, pointers,
references to variables and fields, function designators, const arrays."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .ctype import ANY, CType, int_type
from .results import Unsupported


def wrap(v: int, t: CType) -> int:
    if t.kind != "int":
        return v
    if t.bits == 1:
        return 1 if v else 0
    mask = (1 << t.bits) - 1
    v &= mask
    if t.signed and v >> (t.bits - 1):
        v -= 1 << t.bits
    return v


def wrapper(t: CType) -> Callable[[Any], Any]:
    if t.kind != "int":
        return lambda v: v
    if t.bits == 1:
        return lambda v: 1 if v else 0
    mask = (1 << t.bits) - 1
    if not t.signed:
        def w(v):
            return v & mask if isinstance(v, int) else as_int(v, t)
        return w
    top = 1 << (t.bits - 1)
    full = 1 << t.bits

    def ws(v):
        if not isinstance(v, int):
            v = as_int(v, t)
        v &= mask
        return v - full if v & top else v
    return ws


def as_int(v, t):
    if isinstance(v, CPointer):
        return wrap(v.addr, t)
    if v is None:
        return 0
    if isinstance(v, bool):
        return int(v)
    raise Unsupported(f"integer conversion of {type(v).__name__}")


class CStruct(dict):
    """A struct value: reading a never-written field gives 0; writes are recorded."""

    def __missing__(self, key):
        return 0

    def sub(self, key) -> "CStruct":
        """The nested struct in field `key` (created on first use: `&asi->api`)."""
        v = dict.get(self, key)
        if not isinstance(v, CStruct):
            v = CStruct()
            self[key] = v
        return v


class Memory:
    """Little-endian bytes at a base address (the one memory model of the interpreter)."""

    __slots__ = ("base", "data", "little")

    def __init__(self, data: bytes | bytearray, base: int = 0, little: bool = True):
        self.base = base
        self.data = bytearray(data)
        self.little = little

    def contains(self, addr: int, size: int = 1) -> bool:
        return self.base <= addr and addr + size <= self.base + len(self.data)

    def read(self, addr: int, size: int, signed: bool = False) -> int:
        off = addr - self.base
        if off < 0 or off + size > len(self.data):
            raise Unsupported(f"memory read of {size} bytes at {addr:#x} outside the known bytes "
                              f"[{self.base:#x}, {self.base + len(self.data):#x})")
        return int.from_bytes(self.data[off:off + size], "little" if self.little else "big",
                              signed=signed)

    def write(self, addr: int, size: int, value: int) -> None:
        off = addr - self.base
        if off < 0 or off + size > len(self.data):
            raise Unsupported(f"memory write at {addr:#x} outside the known bytes")
        self.data[off:off + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(
            size, "little" if self.little else "big")


class CPointer:
    """A pointer into a Memory. ``CPointer(words, index, elem_size)`` builds the memory from
    integer words (little-endian, elem_size bytes each) and points at words[index];
    ``words`` may also be raw bytes (then index counts elements of elem_size)."""

    __slots__ = ("mem", "addr", "ctype")

    def __init__(self, words: Sequence[int] | bytes | bytearray | Memory = (), index: int = 0,
                 elem_size: int = 4, *, base: int = 0, signed: bool = False,
                 ctype: CType | None = None, addr: int | None = None):
        if isinstance(words, Memory):
            mem = words
        elif isinstance(words, (bytes, bytearray)):
            mem = Memory(words, base)
        else:
            mask = (1 << (8 * elem_size)) - 1
            mem = Memory(b"".join((w & mask).to_bytes(elem_size, "little") for w in words), base)
        self.mem = mem
        self.ctype = ctype or int_type(8 * elem_size, signed, f"u{8 * elem_size}")
        self.addr = addr if addr is not None else mem.base + index * self.ctype.size

    @property
    def index(self) -> int:
        return (self.addr - self.mem.base) // max(1, self.ctype.size)

    def retyped(self, ctype: CType) -> "CPointer":
        return CPointer(self.mem, ctype=ctype, addr=self.addr)

    def moved(self, n: int) -> "CPointer":
        return CPointer(self.mem, ctype=self.ctype, addr=self.addr + n * max(1, self.ctype.size))

    def load(self):
        t = self.ctype
        if t.kind != "int":
            raise Unsupported(f"load of a {t.name or t.kind} through a pointer")
        return self.mem.read(self.addr, t.size, t.signed) if t.bits != 1 else \
            (1 if self.mem.read(self.addr, 1) else 0)

    def store(self, v: int) -> None:
        self.mem.write(self.addr, max(1, self.ctype.size), v)

    def __eq__(self, other):
        if isinstance(other, CPointer):
            return self.addr == other.addr
        if isinstance(other, int):
            return self.addr == other
        return NotImplemented

    def __hash__(self):
        return hash(self.addr)

    def __repr__(self):
        return f"CPointer({self.addr:#x}, {self.ctype.name})"


class Ref:
    """`&variable` (vars: the frame's variables) or `&s->field` (vars: the struct, ctype
    ANY: no wrapping); builtins read/write out-parameters through .value."""

    __slots__ = ("vars", "key", "ctype")

    def __init__(self, vars_: dict, key: str, ctype: CType = ANY):
        self.vars = vars_
        self.key = key
        self.ctype = ctype

    @property
    def value(self):
        return self.vars[self.key]

    @value.setter
    def value(self, v):
        self.vars[self.key] = wrap(v, self.ctype) if isinstance(v, int) else v

    def load(self):
        return self.vars[self.key]

    def store(self, v):
        self.value = v


class ReinterpretRef:
    """`*(s16 *)&x`: the low bits of x read as another integer type."""

    __slots__ = ("ref", "ctype")

    def __init__(self, ref, ctype):
        self.ref = ref
        self.ctype = ctype

    def load(self):
        v = self.ref.load()
        return wrap(v, self.ctype) if isinstance(v, int) else v

    def store(self, v):
        self.ref.store(v)


@dataclass(frozen=True)
class FuncRef:
    """A function designator used as a value (`api->handler = simulate_b_cond`)."""

    name: str


@dataclass
class Array:
    values: list
    ctype: CType
    lines: list  # per element: the source line of its initializer (0 = implicit)
