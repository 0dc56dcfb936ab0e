"""A small C interpreter for the kernel's instruction-decoding code.

Arch decoders (arm64, riscv, csky, parts of x86 and arm) decide from C functions,
predicate macros and const tables in the tree. Rather than re-typing them, we parse the
tree's files (tree-sitter through kpanalyze.tsparse), preprocess them ourselves (#if with
kpanalyze.conditions, #define collection, textual expansion of function-like macros) and
evaluate the functions on Python ints.

Laziness: files are parsed once at load; a function body is compiled to Python closures
the first time it is called (then cached); macro expansions are parsed once per text.
Whatever the interpreter does not know raises Unsupported(construct, path, line) when it
is *executed* (a construct in a branch never taken costs nothing).

Three-valued #if: with no config, a block whose condition is unknown is kept (both
branches of an #else), and everything in it is tagged with the condition; a call that
goes through a tagged return, taken branch or definition lists it in Outcome.conditions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from .. import conditions as _conditions
from ..tsparse import parse_c
from ..verdict import Evidence


# --------------------------------------------------------------------------- errors

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


# --------------------------------------------------------------------------- results

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


# --------------------------------------------------------------------------- types

@dataclass(frozen=True)
class CType:
    kind: str  # "int", "ptr", "struct", "void", "func", "any"
    bits: int = 0
    signed: bool = False
    pointee: "CType | None" = None
    name: str = ""

    @property
    def size(self) -> int:
        if self.kind == "int":
            return max(1, self.bits // 8)
        if self.kind == "ptr":
            return 8  # replaced per program by the arch word (see _Types)
        return 0


ANY = CType("any", name="?")
VOID = CType("void", name="void")
BOOL = CType("int", 1, False, name="bool")
INT = CType("int", 32, True, name="int")
UINT = CType("int", 32, False, name="unsigned int")


def _int(bits: int, signed: bool, name: str) -> CType:
    return CType("int", bits, signed, name=name)


_FIXED = {
    "u8": (8, False), "u16": (16, False), "u32": (32, False), "u64": (64, False),
    "s8": (8, True), "s16": (16, True), "s32": (32, True), "s64": (64, True),
    "__u8": (8, False), "__u16": (16, False), "__u32": (32, False), "__u64": (64, False),
    "__s8": (8, True), "__s16": (16, True), "__s32": (32, True), "__s64": (64, True),
    "uint8_t": (8, False), "uint16_t": (16, False), "uint32_t": (32, False), "uint64_t": (64, False),
    "int8_t": (8, True), "int16_t": (16, True), "int32_t": (32, True), "int64_t": (64, True),
    "__le16": (16, False), "__le32": (32, False), "__le64": (64, False),
    "__be16": (16, False), "__be32": (32, False), "__be64": (64, False),
    "char": (8, True), "short": (16, True), "int": (32, True), "long long": (64, True),
    "signed char": (8, True), "unsigned char": (8, False), "unsigned short": (16, False),
    "unsigned": (32, False), "unsigned int": (32, False), "signed": (32, True),
    "signed int": (32, True), "unsigned long long": (64, False),
    "short int": (16, True), "unsigned short int": (16, False), "long int": (64, True),
    "long long int": (64, True), "unsigned long int": (64, False),
}
_WORD = {"long": True, "signed long": True, "unsigned long": False, "size_t": False,
         "ssize_t": True, "uintptr_t": False, "intptr_t": True, "ptrdiff_t": True,
         "long int": True, "unsigned long int": False, "phys_addr_t": False}


def _wrap(v: int, t: CType) -> int:
    if t.kind != "int":
        return v
    if t.bits == 1:
        return 1 if v else 0
    mask = (1 << t.bits) - 1
    v &= mask
    if t.signed and v >> (t.bits - 1):
        v -= 1 << t.bits
    return v


def _wrapper(t: CType) -> Callable[[Any], Any]:
    if t.kind != "int":
        return lambda v: v
    if t.bits == 1:
        return lambda v: 1 if v else 0
    mask = (1 << t.bits) - 1
    if not t.signed:
        def w(v):
            return v & mask if isinstance(v, int) else _as_int(v, t)
        return w
    top = 1 << (t.bits - 1)
    full = 1 << t.bits

    def ws(v):
        if not isinstance(v, int):
            v = _as_int(v, t)
        v &= mask
        return v - full if v & top else v
    return ws


def _as_int(v, t):
    if isinstance(v, CPointer):
        return _wrap(v.addr, t)
    if v is None:
        return 0
    if isinstance(v, bool):
        return int(v)
    raise Unsupported(f"integer conversion of {type(v).__name__}")


def _arith(a: CType, b: CType, word: int) -> CType:
    """The usual arithmetic conversions (integer part)."""
    if a.kind != "int" or b.kind != "int":
        if a.kind == "int":
            return _promote(a)
        if b.kind == "int":
            return _promote(b)
        return _int(word, True, "long")
    a, b = _promote(a), _promote(b)
    if a.signed == b.signed:
        return a if a.bits >= b.bits else b
    u, s = (a, b) if not a.signed else (b, a)
    if u.bits >= s.bits:
        return u
    return s


def _promote(t: CType) -> CType:
    if t.kind == "int" and t.bits < 32:
        return INT
    return t


# --------------------------------------------------------------------------- values

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
        self.ctype = ctype or _int(8 * elem_size, signed, f"u{8 * elem_size}")
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
    """`&variable`: builtins read/write out-parameters through .value."""

    __slots__ = ("vars", "key", "ctype")

    def __init__(self, vars_: dict, key: str, ctype: CType):
        self.vars = vars_
        self.key = key
        self.ctype = ctype

    @property
    def value(self):
        return self.vars[self.key]

    @value.setter
    def value(self, v):
        self.vars[self.key] = _wrap(v, self.ctype) if isinstance(v, int) else v

    def load(self):
        return self.vars[self.key]

    def store(self, v):
        self.value = v


class _ReinterpretRef:
    """`*(s16 *)&x`: the low bits of x read as another integer type."""

    __slots__ = ("ref", "ctype")

    def __init__(self, ref, ctype):
        self.ref = ref
        self.ctype = ctype

    def load(self):
        v = self.ref.load()
        return _wrap(v, self.ctype) if isinstance(v, int) else v

    def store(self, v):
        self.ref.store(v)


class _FieldRef:
    __slots__ = ("struct", "key")

    def __init__(self, struct, key):
        self.struct = struct
        self.key = key

    @property
    def value(self):
        return self.struct[self.key]

    @value.setter
    def value(self, v):
        self.struct[self.key] = v

    def load(self):
        return self.struct[self.key]

    def store(self, v):
        self.struct[self.key] = v


@dataclass(frozen=True)
class FuncRef:
    """A function designator used as a value (`api->handler = simulate_b_cond`)."""

    name: str


@dataclass
class _Array:
    values: list
    ctype: CType
    lines: list  # per element: the source line of its initializer (0 = implicit)


# --------------------------------------------------------------------------- preprocessing

_COMMENT_RE = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|//[^\n]*|/\*.*?\*/', re.S)
_DIRECTIVE_RE = re.compile(r"^\s*#\s*(\w+)?(.*)$", re.S)
_DEFINE_RE = re.compile(r"\s*([A-Za-z_]\w*)(\()?")
_IDENT_RE = re.compile(r"[A-Za-z_]\w*")
_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
  | (?P<id>[A-Za-z_]\w*)
  | (?P<num>\.?\d(?:[eEpP][+-]|[\w.])*)
  | (?P<op>\#\#|\.\.\.|.)
""", re.X | re.S)

# Attribute-like kernel macros blanked before parsing (they sit in declarator position).
_ATTRIBUTES = frozenset({
    "__kprobes", "__always_inline", "notrace", "noinstr", "__init", "__exit", "__meminit",
    "__maybe_unused", "__cold", "__pure", "__must_check", "__used", "__weak", "__visible",
    "asmlinkage", "__nocfi", "__noreturn", "__attribute_const__", "__ro_after_init",
    "__read_mostly", "__initdata", "__initconst", "__init_or_module", "nokprobe_inline",
    "noinline", "__noinline", "__always_unused", "__force", "__user", "__iomem", "__rcu",
    "__percpu", "__kernel", "__nocast", "__bitwise", "__safe", "__idmap", "__ref",
    "__irq_entry", "__cpuidle", "__sched", "__head", "__packed", "__aligned_largest",
    "__section", "__aligned", "__attribute__", "__printf", "__malloc", "__no_sanitize_address",
    "__noinstr_section", "__no_kcsan", "__no_profile", "__always_unused", "__latent_entropy",
    "__inline__", "__inline", "__fix_address", "__no_kasan_or_inline", "fallthrough",
    "__must_hold", "__acquires", "__releases", "__flatten",
})
_PAREN_ATTRIBUTES = frozenset({"__attribute__", "__section", "__aligned", "__printf",
                               "__must_hold", "__acquires", "__releases"})


def _blank(s: str) -> str:
    return re.sub(r"[^\n]", " ", s)


def _strip_comments(text: str) -> str:
    def repl(m):
        s = m.group(0)
        return s if s[0] in "\"'" else _blank(s)
    return _COMMENT_RE.sub(repl, text)


@dataclass
class _Macro:
    name: str
    params: tuple[str, ...] | None  # None: object-like
    body: str
    variadic: str  # "" or the name standing for the variadic arguments
    ev: Evidence
    cond: tuple[str, ...]


@dataclass
class _Unit:
    """One parsed text: a file (rows map to lines) or a macro expansion (every row maps to
    the line of the macro use)."""

    path: str
    tree: Any
    line_conds: dict  # line -> tuple of unknown conditions
    fixed_line: int = 0  # expansion units: the use line
    lines: list = field(default_factory=list)  # original source lines of the file

    def line(self, node) -> int:
        return self.fixed_line or node.start_point[0] + 1

    def conds(self, line: int) -> tuple[str, ...]:
        return self.line_conds.get(line, ())

    def text_at(self, line: int) -> str:
        return self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""

    def ev(self, node) -> Evidence:
        ln = self.line(node)
        return Evidence(self.path, ln, self.text_at(ln))


@dataclass
class _Def:
    kind: str  # "function", "array", "proto"
    name: str
    node: Any
    unit: _Unit
    cond: tuple[str, ...]
    ev: Evidence
    origin: tuple[str, tuple[str, ...]] | None = None  # (macro, args) of a generating use


def _split_args(s: str) -> list[str]:
    """Split a macro argument list (without the outer parens) at top-level commas."""
    out, depth, cur = [], 0, []
    for m in _TOKEN_RE.finditer(s):
        tok = m.group(0)
        if tok in "([{":
            depth += 1
        elif tok in ")]}":
            depth -= 1
        if tok == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(tok)
    out.append("".join(cur).strip())
    return out


def _matching_paren(text: str, i: int) -> int:
    """Index of the ')' matching text[i] == '(' (comments already blanked), or -1."""
    depth = 0
    n = len(text)
    j = i
    while j < n:
        c = text[j]
        if c == '"' or c == "'":
            k = j + 1
            while k < n and text[k] != c:
                k += 2 if text[k] == "\\" else 1
            j = k + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return -1


def expand_macro(m: _Macro, args: Sequence[str]) -> str:
    """Textual expansion of one function-like macro use (parameters, # and ##). Macros in
    the result are expanded later, when the text is compiled (lazily)."""
    params = m.params or ()
    if m.variadic:
        fixed = len(params) - 1
        if len(args) < fixed:
            raise Unsupported(f"macro {m.name}: {len(args)} arguments for {fixed}+", m.ev.path, m.ev.line)
        amap = dict(zip(params[:fixed], args[:fixed]))
        amap[m.variadic] = ", ".join(args[fixed:])
    else:
        if args == [""] and not params:
            args = []
        if len(args) != len(params):
            raise Unsupported(f"macro {m.name}: {len(args)} arguments for {len(params)}",
                              m.ev.path, m.ev.line)
        amap = dict(zip(params, args))
    toks = [t.group(0) for t in _TOKEN_RE.finditer(m.body)]
    out: list[str] = []
    i = 0
    n = len(toks)

    def nxt(k):  # index of the next non-space token at or after k
        while k < n and toks[k].isspace():
            k += 1
        return k

    while i < n:
        t = toks[i]
        if t == "#" and nxt(i + 1) < n and toks[nxt(i + 1)] in amap:
            k = nxt(i + 1)
            s = " ".join(amap[toks[k]].split())
            out.append('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"')
            i = k + 1
            continue
        if t == "##":
            while out and out[-1].isspace():
                out.pop()
            k = nxt(i + 1)
            if k < n:
                r = toks[k]
                out.append(amap.get(r, r))
            i = k + 1
            continue
        out.append(amap.get(t, t) if t in amap else t)
        i += 1
    return "".join(out)


# --------------------------------------------------------------------------- the program

_DEFAULT_BUILTINS: dict[str, Callable] = {
    "BIT": lambda n: 1 << n,
    "BIT_ULL": lambda n: 1 << n,
    "GENMASK": lambda h, low: ((1 << (h + 1)) - 1) & ~((1 << low) - 1),
    "GENMASK_ULL": lambda h, low: ((1 << (h + 1)) - 1) & ~((1 << low) - 1),
    "_UL": lambda x: x, "_ULL": lambda x: x, "UL": lambda x: x, "ULL": lambda x: x,
    "_AC": lambda x, _t=None: x,
    "likely": lambda x: 1 if x else 0, "unlikely": lambda x: 1 if x else 0,
    "le32_to_cpu": lambda x: x & 0xFFFFFFFF, "cpu_to_le32": lambda x: x & 0xFFFFFFFF,
    "le16_to_cpu": lambda x: x & 0xFFFF, "cpu_to_le16": lambda x: x & 0xFFFF,
    "le64_to_cpu": lambda x: x, "cpu_to_le64": lambda x: x,
    "hweight32": lambda x: bin(x & 0xFFFFFFFF).count("1"),
    "hweight16": lambda x: bin(x & 0xFFFF).count("1"),
    "hweight8": lambda x: bin(x & 0xFF).count("1"),
}
# compile-time checks: never evaluated
_NOOP_CALLS = frozenset({"BUILD_BUG_ON", "BUILD_BUG_ON_MSG", "BUILD_BUG_ON_ZERO", "static_assert",
                         "_Static_assert", "BUILD_BUG_ON_NOT_POWER_OF_2", "compiletime_assert"})
_DEFAULT_CONSTANTS = {"NULL": 0, "true": 1, "false": 0}


class CProgram:
    """The functions, macros, enums, typedefs and const arrays of a few tree files."""

    def __init__(self, tree, *, config=None, arch: str = "", assume: Iterable[str] = (),
                 types: dict[str, str] | None = None, builtins: dict | None = None):
        self.tree = tree
        self.config = config
        self.arch = arch
        self.assume = frozenset(assume)
        self.word = _conditions.ARCH_FIXED_BITS.get(arch, 64)
        if config is not None and arch not in _conditions.ARCH_FIXED_BITS:
            try:
                self.word = 64 if config.builtin("64BIT") else 32
            except Exception:
                pass
        self.builtins = dict(builtins or {})
        self.macros: dict[str, list[_Macro]] = {}
        self.functions: dict[str, list[_Def]] = {}
        self.protos: dict[str, _Def] = {}
        self.arrays: dict[str, list[_Def]] = {}
        self.enums: dict[str, tuple[Any, _Unit, tuple]] = {}  # name -> (value node/int, unit, cond)
        self.enum_types: dict[str, list[str]] = {}  # enum tag -> constant names in order
        self.typedefs: dict[str, CType] = {}
        self.typedef_nodes: dict[str, tuple[Any, _Unit]] = {}
        self.units: list[_Unit] = []
        self.paths: list[str] = []
        self._compiled: dict[str, "_Function"] = {}
        self._parse_cache: dict[tuple[str, str], Any] = {}
        self._enum_values: dict[str, int] = {}
        self._array_values: dict[str, _Array] = {}
        self._const_cache: dict[str, int] = {}
        self._file_lines: dict[str, list[str]] = {}
        for k, v in (types or {}).items():
            self.typedefs[k] = self._basic_type(v) or ANY

    # -- loading -------------------------------------------------------------------

    @classmethod
    def load(cls, tree, paths: Sequence[str], *, config=None, arch: str = "",
             assume: Iterable[str] = (), types: dict[str, str] | None = None,
             builtins: dict | None = None) -> "CProgram":
        """Parse these tree-relative files (missing files raise FileNotFoundError).
        `assume`: CONFIG_ names taken as =y whatever the config says (CONFIG_KPROBES for a
        kprobe decoder). `types`: extra typedefs, name -> C type name."""
        prog = cls(tree, config=config, arch=arch, assume=assume, types=types, builtins=builtins)
        texts = []
        for p in paths:
            data = tree.read(p)
            if data is None:
                raise FileNotFoundError(p)
            text = data.decode("latin-1")
            prog._file_lines[p] = text.split("\n")
            prog.paths.append(p)
            texts.append((p, prog._preprocess(p, text)))
        # macros of every file are known before any top-level use is looked for, so the
        # order of `paths` matters only for duplicate definitions (first wins)
        for p, (blanked, line_conds) in texts:
            prog._add_text(p, blanked, line_conds, 0, None)
        return prog

    def _cond_value(self, expr: str) -> bool | None:
        e = expr
        for sym in self.assume:
            e = re.sub(rf"\b(?:defined\s*\(\s*{sym}\s*\)|defined\s+{sym}\b|IS_ENABLED\s*\(\s*{sym}\s*\)"
                       rf"|IS_BUILTIN\s*\(\s*{sym}\s*\)|{sym}\b)", "1", e)
        v = _conditions.evaluate(e, self.config, self.arch)
        if v is None and "CONFIG_" not in e:
            # names the loaded files define (include guards and the like)
            e2 = re.sub(r"\bdefined\s*\(\s*(\w+)\s*\)|\bdefined\s+(\w+)",
                        lambda m: "1" if (m.group(1) or m.group(2)) in self.macros else "0", e)
            if e2 != e:
                v = _conditions.evaluate(e2, self.config, self.arch)
        return v

    def _preprocess(self, path: str, text: str) -> tuple[str, dict]:
        """Collect #defines, evaluate #if, blank directives, inactive code and attributes.
        Returns (text with the same line structure, {line: unknown conditions})."""
        text = _strip_comments(text)
        lines = text.split("\n")
        out = list(lines)
        line_conds: dict[int, tuple[str, ...]] = {}
        # stack entries: [state of this branch, cond string, any branch taken (True/None/False)]
        stack: list[list] = []
        i = 0
        n = len(lines)
        while i < n:
            j = i
            logical = lines[i]
            while logical.endswith("\\") and j + 1 < n:
                j += 1
                logical = logical[:-1] + " " + lines[j]
            active = all(s[0] is not False for s in stack)
            unknown = tuple(s[1] for s in stack if s[0] is None)
            m = _DIRECTIVE_RE.match(logical)
            if m:
                d = m.group(1) or ""
                rest = m.group(2).strip()
                for k in range(i, j + 1):
                    out[k] = ""
                if d in ("if", "ifdef", "ifndef"):
                    word = rest.split()[0] if rest.split() else "__kpa_empty__"
                    expr = rest if d == "if" else (f"defined({word})" if d == "ifdef" else f"!defined({word})")
                    if d == "ifndef" and not word.startswith("CONFIG_") and word not in self.macros:
                        v = True  # include guards and the like
                    else:
                        v = self._cond_value(expr) if active else False
                    stack.append([v, expr, v])
                elif d == "elif" and stack:
                    top = stack[-1]
                    if top[2] is True:
                        top[0] = False
                    else:
                        v = self._cond_value(rest)
                        expr = rest if top[2] is False else f"!({top[1]}) && ({rest})"
                        if top[2] is None and v is not False:
                            v = None
                        top[0], top[1] = v, expr
                        top[2] = True if v is True else (None if v is None or top[2] is None else False)
                elif d == "else" and stack:
                    top = stack[-1]
                    if top[2] is True:
                        top[0] = False
                    elif top[2] is False:
                        top[0] = True
                        top[1] = f"!({top[1]})"
                    else:
                        top[0] = None
                        top[1] = f"!({top[1]})"
                elif d == "endif" and stack:
                    stack.pop()
                elif d == "define" and active:
                    self._define(path, i + 1, rest, unknown)
                i = j + 1
                continue
            if not active:
                for k in range(i, j + 1):
                    out[k] = ""
            elif unknown:
                for k in range(i, j + 1):
                    line_conds[k + 1] = unknown
            i = j + 1
        return "\n".join(out), line_conds

    def _define(self, path: str, line: int, rest: str, cond) -> None:
        m = _DEFINE_RE.match(rest)
        if not m:
            return
        name = m.group(1)
        params = None
        variadic = ""
        body_start = m.end()
        if m.group(2):
            close = rest.find(")", body_start)
            if close < 0:
                return
            raw = [p.strip() for p in rest[body_start:close].split(",") if p.strip()]
            params = []
            for p in raw:
                if p == "...":
                    params.append("__VA_ARGS__")
                    variadic = "__VA_ARGS__"
                elif p.endswith("..."):
                    params.append(p[:-3].strip())
                    variadic = p[:-3].strip()
                else:
                    params.append(p)
            params = tuple(params)
            body_start = close + 1
        body = rest[body_start:].strip()
        ev = Evidence(path, line, self._src_line(path, line))
        self.macros.setdefault(name, []).append(_Macro(name, params, body, variadic, ev, cond))

    def _src_line(self, path: str, line: int) -> str:
        lines = self._file_lines.get(path, ())
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""

    def _generating_uses(self, text: str) -> tuple[str, list[tuple[int, int, str, list[str]]]]:
        """Find top-level uses of function-like macros (outside any braces/parens, not
        followed by a body) and blank them. Returns (text, [(start, end, name, args)])."""
        uses = []
        depth = 0
        chars = list(text)
        pos = 0
        n = len(text)
        tok_re = re.compile(r'[A-Za-z_]\w*|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|[{}()\[\]]')
        while pos < n:
            m = tok_re.search(text, pos)
            if not m:
                break
            t = m.group(0)
            pos = m.end()
            if t in "{([":
                depth += 1
                continue
            if t in "})]":
                depth -= 1
                continue
            if depth or t[0] in "\"'":
                continue
            if t in _ATTRIBUTES:
                if t in _PAREN_ATTRIBUTES:
                    k = pos
                    while k < n and text[k] in " \t\n":
                        k += 1
                    if k < n and text[k] == "(":
                        end = _matching_paren(text, k)
                        if end > 0:
                            chars[m.start():end + 1] = list(_blank(text[m.start():end + 1]))
                            pos = end + 1
                            continue
                chars[m.start():m.end()] = [" "] * (m.end() - m.start())
                continue
            defs = self.macros.get(t)
            if not defs or defs[0].params is None:
                continue
            k = pos
            while k < n and text[k] in " \t\n":
                k += 1
            if k >= n or text[k] != "(":
                continue
            end = _matching_paren(text, k)
            if end < 0:
                continue
            after = end + 1
            while after < n and text[after] in " \t\n":
                after += 1
            if after < n and text[after] == "{":
                continue  # DEFINE_X(...) { body }: not a generating use
            stop = after + 1 if after < n and text[after] == ";" else end + 1
            uses.append((m.start(), stop, t, _split_args(text[k + 1:end])))
            chars[m.start():stop] = list(_blank(text[m.start():stop]))
            pos = stop
        # attributes inside function bodies and declarations too
        blanked = "".join(chars)
        blanked = _ATTR_RE.sub(lambda mm: _blank(mm.group(0)), blanked)
        return blanked, uses

    def _add_text(self, path: str, text: str, line_conds: dict, fixed_line: int,
                  origin: tuple[str, tuple[str, ...]] | None, depth: int = 0) -> None:
        text, uses = self._generating_uses(text)
        data = text.encode("latin-1", "replace")
        unit = _Unit(path, parse_c(data), line_conds, fixed_line, self._file_lines.get(path, []))
        self.units.append(unit)
        self._collect(unit.tree.root_node, unit, origin)
        if depth > 8:
            return
        for start, _end, name, args in uses:
            line = fixed_line or text.count("\n", 0, start) + 1
            mac = self.macros[name][0]
            try:
                expansion = expand_macro(mac, args)
            except Unsupported:
                continue
            self._add_text(path, expansion, {line: unit.conds(line)} if unit.conds(line) else {},
                           line, (name, tuple(args)), depth + 1)

    def _collect(self, root, unit: _Unit, origin) -> None:
        for node in root.children:
            t = node.type
            if t in ("ERROR", "linkage_specification", "declaration_list"):
                self._collect(node, unit, origin)
            elif t == "function_definition":
                name = _declarator_name(node.child_by_field_name("declarator"))
                if name:
                    ln = unit.line(node.child_by_field_name("declarator") or node)
                    d = _Def("function", name, node, unit, unit.conds(ln),
                             Evidence(unit.path, ln, unit.text_at(ln)), origin)
                    self.functions.setdefault(name, []).append(d)
                self._collect_types(node, unit)
            elif t in ("declaration", "type_definition"):
                self._collect_types(node, unit)
                if t == "type_definition":
                    self._collect_typedef(node, unit)
                    continue
                for decl in node.children_by_field_name("declarator"):
                    ln = unit.line(decl)
                    ev = Evidence(unit.path, ln, unit.text_at(ln))
                    core = decl.child_by_field_name("declarator") if decl.type == "init_declarator" else decl
                    name = _declarator_name(core)
                    if not name:
                        continue
                    if decl.type == "init_declarator" and _has_array(core):
                        self.arrays.setdefault(name, []).append(
                            _Def("array", name, node, unit, unit.conds(ln), ev, origin))
                    elif _is_function_declarator(core):
                        self.protos.setdefault(name, _Def("proto", name, node, unit, unit.conds(ln),
                                                          ev, origin))
            elif t in ("enum_specifier", "struct_specifier", "union_specifier"):
                self._collect_types(node, unit)

    def _collect_types(self, node, unit: _Unit) -> None:
        """Enums (anywhere in the declaration's specifiers)."""
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type == "enum_specifier":
                body = n.child_by_field_name("body")
                if body is not None:
                    tag = n.child_by_field_name("name")
                    names = []
                    for e in body.children:
                        if e.type == "enumerator":
                            nm = e.child_by_field_name("name").text.decode("latin-1")
                            names.append(nm)
                            if nm not in self.enums:
                                self.enums[nm] = (e, unit, unit.conds(unit.line(e)))
                    if tag is not None:
                        self.enum_types.setdefault(tag.text.decode("latin-1"), names)
                continue
            if n.type in ("compound_statement",):
                continue
            stack.extend(n.children)

    def _collect_typedef(self, node, unit: _Unit) -> None:
        for decl in node.children_by_field_name("declarator"):
            name = _declarator_name(decl)
            if name and name not in self.typedefs and name not in self.typedef_nodes:
                self.typedef_nodes[name] = (node, unit)

    # -- types ---------------------------------------------------------------------

    def _basic_type(self, name: str) -> CType | None:
        name = " ".join(name.split())
        for q in ("const ", "volatile ", "static ", "register "):
            name = name.replace(q, "")
        name = name.strip()
        if name in ("bool", "_Bool"):
            return BOOL
        if name == "void":
            return VOID
        if name in _FIXED:
            b, s = _FIXED[name]
            return _int(b, s, name)
        if name in _WORD:
            return _int(self.word, _WORD[name], name)
        if name.startswith("enum "):
            return CType("int", 32, True, name=name)
        if name.startswith(("struct ", "union ")):
            return CType("struct", name=name)
        if name.endswith("*"):
            inner = self._basic_type(name[:-1])
            return CType("ptr", pointee=inner or ANY, name=name)
        if name in self.typedefs:
            return self.typedefs[name]
        if name in self.typedef_nodes:
            node, unit = self.typedef_nodes.pop(name)
            t = self._type_of(node, node.children_by_field_name("declarator")[0], unit) or ANY
            self.typedefs[name] = t
            return t
        return None

    def _spec_type(self, decl_node, unit) -> CType | None:
        """The type named by a declaration's specifiers (type field + qualifiers)."""
        tnode = decl_node.child_by_field_name("type")
        if tnode is None:
            return None
        if tnode.type in ("struct_specifier", "union_specifier"):
            nm = tnode.child_by_field_name("name")
            return CType("struct", name=(nm.text.decode("latin-1") if nm is not None else "struct"))
        if tnode.type == "enum_specifier":
            nm = tnode.child_by_field_name("name")
            return CType("int", 32, True, name="enum " + (nm.text.decode("latin-1") if nm is not None else ""))
        txt = tnode.text.decode("latin-1")
        # `unsigned long` may be split over a sized_type_specifier; `long` alone too
        return self._basic_type(txt)

    def _type_of(self, decl_node, declarator, unit) -> CType | None:
        base = self._spec_type(decl_node, unit)
        if base is None:
            return None
        return self._apply_declarator(base, declarator)

    def _apply_declarator(self, base: CType, d) -> CType:
        while d is not None:
            t = d.type
            if t in ("pointer_declarator", "abstract_pointer_declarator"):
                base = CType("ptr", pointee=base, name=(base.name or "?") + " *")
            elif t in ("array_declarator", "abstract_array_declarator"):
                base = CType("ptr", pointee=base, name=(base.name or "?") + " []")
            elif t in ("function_declarator", "abstract_function_declarator"):
                base = CType("func", name="function")
            elif t in ("parenthesized_declarator", "abstract_parenthesized_declarator"):
                d = next((c for c in d.children if c.is_named), None)
                continue
            else:
                break
            d = d.child_by_field_name("declarator")
        return base

    def type_named(self, name: str) -> CType | None:
        return self._basic_type(name)

    def _descriptor_type(self, node, unit) -> CType | None:
        """type_descriptor node -> CType."""
        base = self._spec_type(node, unit)
        if base is None:
            return None
        d = node.child_by_field_name("declarator")
        return self._apply_declarator(base, d) if d is not None else base

    def sizeof(self, t: CType) -> int:
        if t.kind == "int":
            return t.size
        if t.kind == "ptr":
            return self.word // 8
        raise Unsupported(f"sizeof({t.name or t.kind})")

    # -- public queries --------------------------------------------------------------

    def has_function(self, name: str) -> bool:
        return name in self.functions

    def return_type(self, name: str) -> CType:
        """The declared return type of a function (`enum probe_insn` keeps its name)."""
        f = self.compiled(name)
        if f.body is None:
            f._build()
        return f.rtype

    def defined_in(self, name: str) -> str:
        """The file (tree-relative) that defines a function or holds its generating macro use."""
        return self.functions[name][0].ev.path

    def function_names(self) -> list[str]:
        return list(self.functions)

    def where(self, name: str) -> Evidence:
        """Definition site of a function (the macro use for generated functions), macro,
        enum constant or array."""
        if name in self.functions:
            return self.functions[name][0].ev
        if name in self.macros:
            return self.macros[name][0].ev
        if name in self.enums:
            node, unit, _ = self.enums[name]
            return unit.ev(node)
        if name in self.arrays:
            return self.arrays[name][0].ev
        if name in self.protos:
            return self.protos[name].ev
        raise KeyError(name)

    def macro_use(self, name: str) -> tuple[str, tuple[str, ...]] | None:
        """For a function generated by a top-level macro use: (macro name, argument texts)."""
        defs = self.functions.get(name)
        return defs[0].origin if defs else None

    def condition_of(self, name: str) -> tuple[str, ...]:
        """Unknown #if conditions a function/macro/array definition sits under."""
        for table in (self.functions, self.macros, self.arrays):
            if name in table:
                return table[name][0].cond
        if name in self.enums:
            return self.enums[name][2]
        return ()

    def conditions_at(self, path: str, line: int) -> tuple[str, ...]:
        """Unknown #if conditions around a line of a loaded file."""
        for u in self.units:
            if u.path == path and not u.fixed_line:
                return u.conds(line)
        return ()

    def macro(self, name: str) -> _Macro | None:
        defs = self.macros.get(name)
        return defs[0] if defs else None

    def enum_constants(self, tag: str) -> list[str]:
        return list(self.enum_types.get(tag, ()))

    def constant(self, name: str) -> int:
        """Value of an enum constant or an object-like macro (a constant expression)."""
        if name in self._const_cache:
            return self._const_cache[name]
        if name in self.enums:
            v = self._enum_value(name)
        else:
            v = self.eval_expr(name)
        if not isinstance(v, int):
            raise Unsupported(f"constant {name} is not an integer")
        self._const_cache[name] = v
        return v

    def eval_expr(self, text: str, path: str = "<expr>", line: int = 0, **variables):
        """Evaluate a C expression text (macros, enums and the given variables known)."""
        node, unit = self._parse_expr(text, path, line)
        scope = _Scope(None)
        env = {}
        for k, v in variables.items():
            key = scope.declare(k, INT if isinstance(v, int) else ANY)
            env[key] = v
        fn = _Compiler(self, unit, "<expr>").expr_in(node, scope)[0]
        rt = _Runtime(self, {}, 100_000)
        return fn(_Frame(env, rt))

    def predicate(self, text: str, variables: Sequence[str]) -> Callable[..., Any]:
        """Compile an expression text once; returns f(*values) binding `variables` in order
        (for evaluating many candidate encodings against one condition)."""
        key = (text, tuple(variables))
        cache = self.__dict__.setdefault("_pred_cache", {})
        hit = cache.get(key)
        if hit is None:
            node, unit = self._parse_expr(text, "<expr>", 0)
            scope = _Scope(None)
            keys = [scope.declare(v, UINT) for v in variables]
            fn = _Compiler(self, unit, "<expr>").expr_in(node, scope)[0]
            prog = self

            def hit(*values):
                return fn(_Frame(dict(zip(keys, values)), _Runtime(prog, {}, 100_000)))
            cache[key] = hit
        return hit

    def _enum_value(self, name: str) -> int:
        if name in self._enum_values:
            return self._enum_values[name]
        node, unit, _ = self.enums[name]
        # enumerators without a value follow the previous one
        body = node.parent
        prev = -1
        for e in body.children:
            if e.type != "enumerator":
                continue
            nm = e.child_by_field_name("name").text.decode("latin-1")
            vnode = e.child_by_field_name("value")
            if vnode is not None:
                comp = _Compiler(self, unit, "<enum>")
                fn = comp.expr_in(vnode, _Scope(None))[0]
                val = fn(_Frame({}, _Runtime(self, {}, 10_000)))
            else:
                val = prev + 1
            self._enum_values.setdefault(nm, val)
            prev = val
            if nm == name:
                break
        return self._enum_values[name]

    def array(self, name: str) -> list:
        return list(self._array(name).values)

    def array_lines(self, name: str) -> list[int]:
        """For each element of a const array, the line of its initializer (0 = implicit)."""
        return list(self._array(name).lines)

    def _array(self, name: str) -> _Array:
        if name in self._array_values:
            return self._array_values[name]
        d = self.arrays[name][0]
        node = d.node
        for decl in node.children_by_field_name("declarator"):
            if decl.type == "init_declarator" and _declarator_name(decl.child_by_field_name("declarator")) == name:
                break
        else:
            raise Unsupported(f"array {name}", d.ev.path, d.ev.line)
        core = decl.child_by_field_name("declarator")
        elem = self._type_of(node, core, d.unit)
        elem = elem.pointee if elem is not None and elem.kind == "ptr" else ANY
        size_node = _array_size_node(core)
        comp = _Compiler(self, d.unit, f"<array {name}>")
        frame = _Frame({}, _Runtime(self, {}, 1_000_000))
        size = None
        if size_node is not None:
            size = comp.expr_in(size_node, _Scope(None))[0](frame)
        values, lines = comp.initializer(decl.child_by_field_name("value"), frame, size, elem)
        arr = _Array(values, elem, lines)
        self._array_values[name] = arr
        return arr

    # -- calling -----------------------------------------------------------------------

    def call(self, name: str, *args, builtins: dict | None = None, limit: int = 100_000,
             memory: Sequence[Memory | CPointer] = ()) -> Outcome:
        """Evaluate function `name` with Python ints / CStruct / CPointer args. `memory`:
        extra memories that integer addresses cast to pointers may point into (the memory
        of every CPointer argument is known already)."""
        rt = _Runtime(self, builtins or {}, limit)
        for m in memory:
            rt.memories.append(m.mem if isinstance(m, CPointer) else m)
        for a in args:
            if isinstance(a, CPointer):
                rt.memories.append(a.mem)
        fn = self.compiled(name)
        value, ret_ev = fn.invoke(rt, list(args), None)
        steps = tuple(TraceStep(*s) for s in rt.trace)
        return Outcome(value, steps, ret_ev, tuple(dict.fromkeys(rt.conds)))

    def compiled(self, name: str) -> "_Function":
        f = self._compiled.get(name)
        if f is None:
            defs = self.functions.get(name)
            if not defs:
                raise Unsupported(f"function {name} (no definition in {', '.join(self.paths)})")
            f = _Function(self, defs[0])
            self._compiled[name] = f
        return f

    # -- parsing helpers -------------------------------------------------------------

    def _parse_snippet(self, kind: str, text: str, path: str, line: int):
        """Parse an expansion as an expression or statement list; cached by text."""
        key = (kind, text)
        hit = self._parse_cache.get(key)
        if hit is None:
            blanked = _ATTR_RE.sub(lambda m: _blank(m.group(0)), text)
            if kind == "expr":
                src = f"void __kpa_f(void) {{ __kpa_v = ({blanked}\n); }}"
            else:
                src = f"void __kpa_f(void) {{ {blanked}\n; }}"
            tree = parse_c(src.encode("latin-1", "replace"))
            body = tree.root_node.children[0].child_by_field_name("body") \
                if tree.root_node.child_count else None
            if body is None or tree.root_node.has_error:
                hit = (None, tree)
            elif kind == "expr":
                stmt = body.named_children[0]
                rhs = stmt.named_children[0].child_by_field_name("right")
                hit = (rhs.named_children[0] if rhs.type == "parenthesized_expression" else rhs, tree)
            else:
                hit = (body, tree)
            self._parse_cache[key] = hit
        node, _tree = hit
        if node is None:
            raise Unsupported(f"macro expansion that does not parse as {'an expression' if kind == 'expr' else 'statements'}: "
                              f"{' '.join(text.split())[:80]}", path, line)
        return node

    def _parse_expr(self, text: str, path: str, line: int):
        node = self._parse_snippet("expr", text, path, line)
        unit = _Unit(path, None, {}, line or 1, self._file_lines.get(path, []))
        return node, unit

    # -- static views for rule listings -----------------------------------------------

    def return_paths(self, name: str) -> list["ReturnPath"]:
        """Every `return` of a function with the if/switch guards that lead to it (the
        conditions of the enclosing ifs, with polarity, and the negation of earlier
        early-returning ifs), read from the AST without evaluating anything."""
        d = self.functions.get(name)
        if not d:
            raise Unsupported(f"function {name}")
        d = d[0]
        body = d.node.child_by_field_name("body")
        out: list[ReturnPath] = []
        _walk_paths(self, d.unit, body, [], out)
        return out

    def decision_paths(self, name: str, *, assignments: bool = False) -> list[DecisionPath]:
        """The decisions of a function as a list of paths: the leaf conditions (with
        polarity) under which each `return` (and, with assignments=True, each `x = v;`) is
        reached. Calls of functions with several returns are followed into them; leaves
        that call a predicate generated by a macro use name it in Literal.func.
        Contradictory paths (a leaf both true and false) are dropped."""
        d = self.__dict__.setdefault("_decisions", _Decisions(self))
        kinds = ("return", "assign") if assignments else ("return",)
        return [DecisionPath(p.literals, p.value, p.ev) if p.kind == "return" else
                DecisionPath(p.literals, f"{p.target} = {p.value}", p.ev)
                for p in d.paths(name, kinds)]

    def expand_condition(self, name_or_text: str, holds: bool = True, *, path: str = "<expr>",
                         line: int = 0) -> list[tuple[Literal, ...]]:
        """The alternatives (DNF) under which an expression text has truth `holds`."""
        d = self.__dict__.setdefault("_decisions", _Decisions(self))
        node, unit = self._parse_expr(name_or_text, path, line)
        return [tuple(lits) for lits, _ev in d.expand(node, unit, holds)]


_ATTR_RE = re.compile(r"\b(?:__kprobes|__always_inline|notrace|noinstr|__maybe_unused|__init|__exit"
                      r"|__force|__user|__iomem|__rcu|__percpu|nokprobe_inline|__must_check"
                      r"|__visible|asmlinkage|__cold|__pure|noinline|__attribute_const__|fallthrough)\b")


# --------------------------------------------------------------------------- static paths

@dataclass(frozen=True)
class Guard:
    expr: str  # the condition text as written (macros not expanded)
    holds: bool  # True: the condition is true on this path; False: it is false
    ev: Evidence
    case: str = ""  # switch guards: the case labels of the branch ("default" for default)
    others: tuple[str, ...] = ()  # for "default": every other label of the switch
    node: Any = field(default=None, compare=False, repr=False)
    unit: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ReturnPath:
    guards: tuple[Guard, ...]
    value: str  # the returned (or assigned) expression text
    ev: Evidence
    kind: str = "return"  # "return", or "assign" (`target = value;` statements)
    target: str = ""
    node: Any = field(default=None, compare=False, repr=False)
    unit: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Literal:
    """One leaf condition of a decision path."""

    text: str  # the condition as written ("aarch64_insn_is_mrs(insn)", "x == 3", "x in (A, B)")
    holds: bool
    ev: Evidence  # where the condition is tested
    func: str = ""  # a predicate generated by a top-level macro use, when the leaf calls one

    def __str__(self) -> str:
        return self.text if self.holds else f"!({self.text})"


@dataclass(frozen=True)
class DecisionPath:
    literals: tuple[Literal, ...]
    value: str  # the returned expression
    ev: tuple[Evidence, ...]  # the return statements along the path (outermost first)


def _walk_paths(prog, unit, node, guards, out) -> bool:
    """Append ReturnPaths under `node`; returns True when node always returns."""
    t = node.type
    if t == "compound_statement" or t == "else_clause":
        g = list(guards)
        for c in node.named_children:
            before = len(out)
            if _walk_paths(prog, unit, c, g, out):
                return True
            if c.type == "if_statement":
                g.extend(_after_if_guards(unit, c))
                continue
            # `do { if (x) return ...; } while (0)` (macro bodies): later code has !x
            for rp in out[before:]:
                extra = rp.guards[len(g):]
                if rp.kind == "return" and len(extra) == 1 and not extra[0].case:
                    x = extra[0]
                    g.append(Guard(x.expr, not x.holds, x.ev, node=x.node, unit=x.unit))
        return False
    if t == "return_statement":
        vn = node.named_children[0] if node.named_children else None
        val = " ".join(vn.text.decode("latin-1").split()) if vn is not None else ""
        out.append(ReturnPath(tuple(guards), val, unit.ev(node), node=vn, unit=unit))
        return True
    if t == "if_statement":
        cond = node.child_by_field_name("condition")
        ctext = _cond_text(cond)
        ev = unit.ev(node)
        cn = _unparen(cond)
        a = _walk_paths(prog, unit, node.child_by_field_name("consequence"),
                        guards + [Guard(ctext, True, ev, node=cn, unit=unit)], out)
        alt = node.child_by_field_name("alternative")
        b = False
        if alt is not None:
            b = _walk_paths(prog, unit, alt, guards + [Guard(ctext, False, ev, node=cn, unit=unit)], out)
        return a and b
    if t == "switch_statement":
        cnode = node.child_by_field_name("condition")
        cond = _cond_text(cnode)
        body = node.child_by_field_name("body")
        ev = unit.ev(node)
        cases = [c for c in body.named_children if c.type == "case_statement"]
        all_labels = [_case_label(c) for c in cases if c.child_by_field_name("value") is not None]
        labels: list[str] = []
        for case in cases:
            v = case.child_by_field_name("value")
            labels.append("default" if v is None else _case_label(case))
            stmts = [c for c in case.named_children if c != v and c.type not in ("ERROR", "comment")]
            if not stmts:
                continue  # falls through to the next label
            if "default" in labels:
                gd = Guard(cond, True, ev, case="default",
                           others=tuple(x for x in all_labels if x not in labels), node=_unparen(cnode), unit=unit)
            else:
                gd = Guard(cond, True, ev, case=", ".join(labels), node=_unparen(cnode), unit=unit)
            g = guards + [gd]
            for st in stmts:
                if _walk_paths(prog, unit, st, g, out) or st.type == "break_statement":
                    break
            labels = []
        return False
    if t in ("do_statement", "while_statement", "for_statement"):
        b = node.child_by_field_name("body")
        if b is not None:
            _walk_paths(prog, unit, b, guards, out)
        return False
    if t == "expression_statement" and node.named_children:
        e = node.named_children[0]
        if e.type == "assignment_expression" and e.child_by_field_name("operator").type == "=" \
                and e.child_by_field_name("left").type == "identifier":
            vn = e.child_by_field_name("right")
            out.append(ReturnPath(tuple(guards), " ".join(vn.text.decode("latin-1").split()), unit.ev(node),
                                  "assign", e.child_by_field_name("left").text.decode("latin-1"),
                                  node=vn, unit=unit))
            return False
        if e.type == "call_expression":
            fn = e.child_by_field_name("function")
            name = fn.text.decode("latin-1") if fn.type == "identifier" else ""
            m = prog.macro(name)
            if m is not None and m.params is not None:
                args = [a.text.decode("latin-1") for a in e.child_by_field_name("arguments").named_children]
                try:
                    text = expand_macro(m, args)
                    body = prog._parse_snippet("stmt", text, unit.path, unit.line(node))
                except Unsupported:
                    return False
                sub = _Unit(unit.path, None, unit.line_conds, unit.line(node), unit.lines)
                return _walk_paths(prog, sub, body, guards, out)
    return False


def _after_if_guards(unit, node) -> list[Guard]:
    """What code after an if/else-if chain knows: the negation of the branches that always
    return, or, when the final else returns, that one of the other branches was taken."""
    chain = []  # (cond node, body)
    final_else = None
    n = node
    while n is not None and n.type == "if_statement":
        chain.append((n, n.child_by_field_name("consequence")))
        alt = n.child_by_field_name("alternative")
        if alt is None:
            n = None
            break
        inner = next((c for c in alt.named_children if c.type != "comment"), None)
        if inner is not None and inner.type == "if_statement":
            n = inner
        else:
            final_else = inner
            n = None
    returning = [(c, b) for c, b in chain if _always_returns(b)]
    staying = [(c, b) for c, b in chain if not _always_returns(b)]
    if final_else is not None and _always_returns(final_else):
        if not staying:
            return []
        if len(staying) == 1:
            c = staying[0][0]
            cn = c.child_by_field_name("condition")
            return [Guard(_cond_text(cn), True, unit.ev(c), node=_unparen(cn), unit=unit)]
        # one of several branches: a disjunction, kept as a synthetic guard
        conds = tuple(x[0].child_by_field_name("condition") for x in staying)
        text = " || ".join(f"({_cond_text(cn)})" for cn in conds)
        return [Guard(text, True, unit.ev(staying[0][0]), node=tuple(_unparen(cn) for cn in conds), unit=unit)]
    out = []
    for c, _b in returning:
        cn = c.child_by_field_name("condition")
        out.append(Guard(_cond_text(cn), False, unit.ev(c), node=_unparen(cn), unit=unit))
    return out


def _case_label(case) -> str:
    """The label text of `case LABEL:` (with GCC ranges `A ... B`, which parse as errors)."""
    colon = next((c for c in case.children if c.type == ":"), None)
    kw = case.children[0]
    if colon is None:
        v = case.child_by_field_name("value")
        return " ".join(v.text.decode("latin-1").split())
    raw = case.text[kw.end_byte - case.start_byte:colon.start_byte - case.start_byte]
    return " ".join(raw.decode("latin-1").split())


def _has_error(node) -> bool:
    return node is not None and (node.type == "ERROR" or node.has_error)


def _unparen(node):
    while node is not None and not isinstance(node, tuple) and node.type == "parenthesized_expression" and node.named_children:
        node = node.named_children[0]
    return node


def _always_returns(node) -> bool:
    if node is None:
        return False
    if node.type == "return_statement":
        return True
    if node.type == "compound_statement":
        return any(_always_returns(c) for c in node.named_children)
    if node.type == "if_statement":
        alt = node.child_by_field_name("alternative")
        return alt is not None and _always_returns(node.child_by_field_name("consequence")) \
            and _always_returns(alt)
    if node.type == "else_clause":
        return any(_always_returns(c) for c in node.named_children)
    return False


def _cond_text(node) -> str:
    s = node.text.decode("latin-1")
    if node.type == "parenthesized_expression":
        s = s[1:-1]
    return " ".join(s.split())


_TRUE_TEXTS = frozenset({"true", "1"})
_FALSE_TEXTS = frozenset({"false", "0"})


def _label_test(expr: str, label: str) -> str:
    if "..." in label:
        lo, _, hi = label.partition("...")
        return f"(({expr}) >= {lo.strip()} && ({expr}) <= {hi.strip()})"
    return f"({expr}) == {label}"


class _Decisions:
    """Static DNF of a function's decisions: which leaf conditions lead to which return.
    Calls to functions with several returns are inlined (their paths), calls to one-line
    functions are replaced by their expression, predicates generated by a macro use and
    anything else (comparisons, calls of unknown functions) are leaves."""

    MAX = 4096

    def __init__(self, prog: "CProgram"):
        self.prog = prog
        self.cache: dict[str, list[DecisionPath]] = {}
        self.active: set[str] = set()

    def lit(self, node, unit, holds, func="") -> list[list[Literal]]:
        text = " ".join(node.text.decode("latin-1").split())
        return [[Literal(text, holds, unit.ev(node), func)]]

    def expand(self, node, unit, holds) -> list[tuple[list[Literal], list[Evidence]]]:
        """Alternatives (literal conjunctions + evidence) under which `node` has truth `holds`."""
        node = _unparen(node)
        if isinstance(node, tuple):  # synthetic disjunction (after an if/else-if chain)
            if holds:
                return [a for n in node for a in self.expand(n, unit, True)]
            return self._product([self.expand(n, unit, False) for n in node])
        t = node.type
        if t == "unary_expression" and node.child_by_field_name("operator").type == "!":
            return self.expand(node.child_by_field_name("argument"), unit, not holds)
        if t == "binary_expression":
            op = node.child_by_field_name("operator").type
            a, b = node.child_by_field_name("left"), node.child_by_field_name("right")
            if (op == "||") == holds and op in ("||", "&&"):
                return self.expand(a, unit, holds) + self.expand(b, unit, holds)
            if op in ("||", "&&"):
                return self._product([self.expand(a, unit, holds), self.expand(b, unit, holds)])
        if t == "call_expression":
            fn = node.child_by_field_name("function")
            name = fn.text.decode("latin-1") if fn.type == "identifier" else ""
            prog = self.prog
            if name in prog.functions and name not in self.active:
                if prog.macro_use(name) is not None:
                    return [(lit, []) for lit in self.lit(node, unit, holds, name)]
                paths = self.paths(name)
                alts = []
                for p in paths:
                    v = p.value
                    if v in _TRUE_TEXTS or v in _FALSE_TEXTS:
                        if (v in _TRUE_TEXTS) == holds:
                            alts.append((list(p.literals), list(p.ev)))
                    elif p.node is not None:
                        for lits, evs in self.expand(p.node, p.unit, holds):
                            alts.append((list(p.literals) + lits, list(p.ev) + evs))
                return self._prune(alts)
        return [(lit, []) for lit in self.lit(node, unit, holds)]

    def _product(self, groups):
        out = [([], [])]
        for g in groups:
            out = [(a + b, ea + eb) for a, ea in out for b, eb in g]
            if len(out) > self.MAX:
                raise Unsupported("too many decision paths")
        return self._prune(out)

    @staticmethod
    def _prune(alts):
        keep = []
        for lits, evs in alts:
            seen: dict[str, bool] = {}
            ok = True
            for lit in lits:
                if seen.get(lit.text, lit.holds) != lit.holds:
                    ok = False
                    break
                seen[lit.text] = lit.holds
            if ok:
                dedup = list({(x.text, x.holds): x for x in lits}.values())
                keep.append((dedup, evs))
        return keep

    def guard_alts(self, g: Guard):
        if g.case:
            # a switch branch: `expr` equals one of the labels (default: none of the others)
            labels = g.others if g.case == "default" else tuple(x.strip() for x in g.case.split(","))
            if not labels:
                return [([], [])]
            text = " || ".join(_label_test(g.expr, lab) for lab in labels)
            return [([Literal(text, g.case != "default", g.ev)], [])]
        if g.node is None:
            return [([Literal(g.expr, g.holds, g.ev)], [])]
        return self.expand(g.node, g.unit, g.holds)

    def paths(self, name: str, kinds=("return",)) -> list["_DPath"]:
        key = f"{name}|{','.join(kinds)}"
        if key in self.cache:
            return self.cache[key]
        self.active.add(name)
        try:
            out = []
            for rp in self.prog.return_paths(name):
                if rp.kind not in kinds:
                    continue
                for lits, evs in self._product([self.guard_alts(g) for g in rp.guards]):
                    out.append(_DPath(tuple(lits), rp.value, tuple(evs) + (rp.ev,), rp.node, rp.unit,
                                      rp.kind, rp.target))
        finally:
            self.active.discard(name)
        self.cache[key] = out
        return out


@dataclass(frozen=True)
class _DPath:
    literals: tuple[Literal, ...]
    value: str
    ev: tuple[Evidence, ...]
    node: Any = field(default=None, compare=False, repr=False)
    unit: Any = field(default=None, compare=False, repr=False)
    kind: str = "return"
    target: str = ""


# --------------------------------------------------------------------------- AST helpers

def _declarator_name(d) -> str:
    while d is not None:
        if d.type in ("identifier", "field_identifier", "type_identifier"):
            return d.text.decode("latin-1")
        nxt = d.child_by_field_name("declarator")
        if nxt is None:
            nxt = next((c for c in d.named_children if c.type in (
                "identifier", "parenthesized_declarator", "pointer_declarator",
                "function_declarator", "array_declarator", "type_identifier")), None)
        d = nxt
    return ""


def _has_array(d) -> bool:
    while d is not None:
        if d.type == "array_declarator":
            return True
        d = d.child_by_field_name("declarator")
    return False


def _array_size_node(d):
    while d is not None:
        if d.type == "array_declarator":
            return d.child_by_field_name("size")
        d = d.child_by_field_name("declarator")
    return None


def _is_function_declarator(d) -> bool:
    while d is not None:
        if d.type == "function_declarator":
            return True
        if d.type != "pointer_declarator":
            return False
        d = d.child_by_field_name("declarator")
    return False


def _number(text: str) -> tuple[int, CType]:
    s = text.lower().replace("'", "")
    suffix = ""
    while s and s[-1] in "ul" and not (s.startswith("0x") and len(s) <= 2):
        if s.startswith("0x") and s[-1] not in "ul":
            break
        suffix = s[-1] + suffix
        s = s[:-1]
    if s.startswith("0x"):
        v, hexa = int(s, 16), True
    elif s.startswith("0b"):
        v, hexa = int(s[2:], 2), True
    elif len(s) > 1 and s.startswith("0"):
        v, hexa = int(s, 8), True
    else:
        v, hexa = int(s), False
    uns = "u" in suffix
    longs = suffix.count("l")
    if longs == 0:
        if not uns and v < 2 ** 31:
            return v, INT
        if (uns or hexa) and v < 2 ** 32:
            return v, UINT
    if longs <= 1:
        if not uns and v < 2 ** 63:
            return v, _int(64, True, "long")
        return v, _int(64, False, "unsigned long")
    return v, _int(64, not uns and v < 2 ** 63, "long long")


_CHAR_ESC = {"n": 10, "t": 9, "r": 13, "0": 0, "\\": 92, "'": 39, '"': 34, "a": 7, "b": 8,
             "f": 12, "v": 11}


# --------------------------------------------------------------------------- runtime

class _Runtime:
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


class _Frame:
    __slots__ = ("v", "rt")

    def __init__(self, v, rt):
        self.v = v
        self.rt = rt


class _Scope:
    _counter = 0

    def __init__(self, parent):
        self.parent = parent
        self.names: dict[str, tuple[str, CType]] = {}

    def declare(self, name: str, t: CType) -> str:
        _Scope._counter += 1
        key = f"{name}#{_Scope._counter}"
        self.names[name] = (key, t)
        return key

    def lookup(self, name):
        s = self
        while s is not None:
            if name in s.names:
                return s.names[name]
            s = s.parent
        return None


_BREAK = "b"
_CONTINUE = "c"


class _Function:
    """A compiled C function: parameters and a body of closures (built on first call)."""

    def __init__(self, prog: CProgram, d: _Def):
        self.prog = prog
        self.d = d
        self.name = d.name
        self.body = None
        self.params: list[tuple[str, CType]] = []
        self.rtype = INT
        self.cond = d.cond

    def _build(self):
        node, unit = self.d.node, self.d.unit
        comp = _Compiler(self.prog, unit, self.name)
        base = self.prog._spec_type(node, unit) or ANY
        decl = node.child_by_field_name("declarator")
        fdecl = decl
        while fdecl is not None and fdecl.type != "function_declarator":
            if fdecl.type == "pointer_declarator":
                base = CType("ptr", pointee=base, name=base.name + " *")
            fdecl = fdecl.child_by_field_name("declarator")
        self.rtype = base
        scope = _Scope(None)
        params = []
        plist = fdecl.child_by_field_name("parameters") if fdecl is not None else None
        for p in (plist.named_children if plist is not None else ()):
            if p.type != "parameter_declaration":
                continue
            pd = p.child_by_field_name("declarator")
            if pd is None:
                continue  # (void)
            pname = _declarator_name(pd)
            pt = self.prog._type_of(p, pd, unit) or ANY
            params.append((scope.declare(pname, pt), pt))
        self.params = params
        self.wraps = [_wrapper(t) for _, t in params]
        self.rwrap = _wrapper(self.rtype)
        self.body = comp.stmt(node.child_by_field_name("body"), scope)
        self.ev = self.d.ev

    def invoke(self, rt: _Runtime, args: list, call_ev) -> tuple[Any, Evidence | None]:
        if self.body is None:
            self._build()
        if len(args) != len(self.params):
            raise Unsupported(f"call of {self.name} with {len(args)} arguments for {len(self.params)}",
                              *(call_ev or (self.ev.path, self.ev.line)))
        rt.depth += 1
        if rt.depth > 200:
            raise Unsupported(f"recursion too deep in {self.name}", self.ev.path, self.ev.line)
        if self.cond:
            rt.conds.extend(self.cond)
        rt.trace.append(("call", self.name, self.ev.path, self.ev.line, tuple(args)))
        env = {}
        for (key, _t), w, a in zip(self.params, self.wraps, args):
            env[key] = w(a) if isinstance(a, int) else a
        r = self.body(_Frame(env, rt))
        rt.depth -= 1
        if type(r) is tuple:
            v = r[1]
            if isinstance(v, int):
                v = self.rwrap(v)
            rt.trace.append(("return", self.name, r[2].path, r[2].line, v))
            return v, r[2]
        if self.rtype.kind != "void":
            raise Unsupported(f"{self.name} ends without a return statement", self.ev.path, self.ev.line)
        rt.trace.append(("return", self.name, self.ev.path, self.ev.line, None))
        return None, None


def _raiser(what, path, line):
    def f(fr):
        raise Unsupported(what, path, line)
    return f


class _Compiler:
    """Turns tree-sitter nodes into closures f(frame). Compile-time problems become
    closures that raise Unsupported when executed."""

    def __init__(self, prog: CProgram, unit: _Unit, fname: str, expanding: frozenset = frozenset()):
        self.prog = prog
        self.unit = unit
        self.fname = fname
        self.expanding = expanding

    def where(self, node) -> tuple[str, int]:
        return self.unit.path, self.unit.line(node)

    def unsupported(self, what, node):
        return _raiser(what, *self.where(node))

    def sub(self, unit: _Unit, name: str) -> "_Compiler":
        return _Compiler(self.prog, unit, self.fname, self.expanding | {name})

    # ---- statements

    def stmt(self, node, scope: _Scope):
        try:
            return self._stmt(node, scope)
        except Unsupported as e:
            return _raiser(e.construct, e.path or self.where(node)[0], e.line or self.where(node)[1])

    def _stmt(self, node, scope):
        t = node.type
        if t == "compound_statement":
            inner = _Scope(scope)
            parts = [self.stmt(c, inner) for c in node.named_children if c.type != "comment"]
            return _block(parts)
        if t == "expression_statement":
            if not node.named_children:
                return lambda fr: None
            e = node.named_children[0]
            if e.type == "call_expression":
                fn = e.child_by_field_name("function")
                if fn.type == "identifier":
                    name = fn.text.decode("latin-1")
                    if name in _NOOP_CALLS:
                        return lambda fr: None
                    m = self.prog.macro(name)
                    if m is not None and m.params is not None and name not in self.expanding \
                            and name not in self.prog.builtins:
                        return self._macro_stmt(m, e, scope)
            f = self.expr(e, scope)[0]

            def run_expr(fr):
                f(fr)
            return run_expr
        if t == "declaration":
            return self._declaration(node, scope)
        if t == "return_statement":
            return self._return(node, scope)
        if t == "if_statement":
            return self._if(node, scope)
        if t == "switch_statement":
            return self._switch(node, scope)
        if t == "while_statement":
            return self._while(node, scope)
        if t == "do_statement":
            return self._do(node, scope)
        if t == "for_statement":
            return self._for(node, scope)
        if t == "break_statement":
            return lambda fr: _BREAK
        if t == "continue_statement":
            return lambda fr: _CONTINUE
        if t in (";", "comment", "type_definition"):
            return lambda fr: None
        if t == "else_clause":
            return self.stmt(node.named_children[0], scope)
        return self.unsupported(f"statement {t}: {_short(node)}", node)

    def _macro_stmt(self, m: _Macro, call, scope):
        path, line = self.where(call)
        args = [a.text.decode("latin-1") for a in call.child_by_field_name("arguments").named_children
                if a.type != "comment"]
        if not call.child_by_field_name("arguments").named_children and m.params:
            args = []
        text = expand_macro(m, args if args or m.params else [])
        body = self.prog._parse_snippet("stmt", text, path, line)
        unit = _Unit(path, None, {line: self.unit.conds(line)} if self.unit.conds(line) else {},
                     line, self.unit.lines)
        parts = [self.sub(unit, m.name).stmt(c, scope) for c in body.named_children]
        return _block(parts)

    def _declaration(self, node, scope):
        parts = []
        for decl in node.children_by_field_name("declarator"):
            core = decl.child_by_field_name("declarator") if decl.type == "init_declarator" else decl
            name = _declarator_name(core)
            t = self.prog._type_of(node, core, self.unit)
            if t is None:
                tn = node.child_by_field_name("type")
                raise Unsupported(f"type {tn.text.decode('latin-1') if tn is not None else '?'}",
                                  *self.where(node))
            if decl.type == "init_declarator":
                val = decl.child_by_field_name("value")
                if val.type == "initializer_list":
                    raise Unsupported("local initializer list", *self.where(node))
                f = self.expr(val, scope)[0]
            else:
                f = None
            key = scope.declare(name, t)
            w = _wrapper(t)
            if f is None:
                if t.kind == "struct":
                    parts.append(lambda fr, key=key: fr.v.__setitem__(key, CStruct()))
                else:
                    parts.append(lambda fr, key=key: fr.v.__setitem__(key, 0))
            else:
                def init(fr, key=key, f=f, w=w):
                    v = f(fr)
                    fr.v[key] = w(v) if isinstance(v, int) else v
                parts.append(init)
        return _block(parts)

    def _return(self, node, scope):
        path, line = self.where(node)
        ev = Evidence(path, line, self.unit.text_at(line))
        conds = self.unit.conds(line)
        if not node.named_children:
            r = ("r", None, ev)
            return lambda fr: r
        f = self.expr(node.named_children[0], scope)[0]
        if conds:
            def ret_c(fr):
                fr.rt.conds.extend(conds)
                return ("r", f(fr), ev)
            return ret_c
        return lambda fr: ("r", f(fr), ev)

    def _if(self, node, scope):
        cond = self.cond(node.child_by_field_name("condition"), scope)
        then = self.stmt(node.child_by_field_name("consequence"), scope)
        alt = node.child_by_field_name("alternative")
        els = self.stmt(alt, scope) if alt is not None else None
        path, line = self.where(node)
        conds = self.unit.conds(line)

        def run_if(fr):
            rt = fr.rt
            rt.steps += 1
            if rt.steps > rt.limit:
                raise Unsupported("step limit exceeded", path, line)
            if cond(fr):
                rt.trace.append(("if", "", path, line, True))
                if conds:
                    rt.conds.extend(conds)
                return then(fr)
            rt.trace.append(("if", "", path, line, False))
            if els is not None:
                return els(fr)
            return None
        return run_if

    def _switch(self, node, scope):
        cond = self.expr(node.child_by_field_name("condition"), scope)[0]
        body = node.child_by_field_name("body")
        inner = _Scope(scope)
        labels = []  # (lo, hi) or None for default, index into stmts
        stmts = []
        for case in body.named_children:
            if case.type != "case_statement":
                stmts.append(self.stmt(case, inner))
                continue
            v = case.child_by_field_name("value")
            idx = len(stmts)
            if v is None:
                labels.append((None, idx, case))
            else:
                label = _case_label(case)
                if "..." in label or _has_error(v):
                    # GCC case ranges `case A ... B:` do not parse: read the label text
                    lo_t, _, hi_t = label.partition("...")
                    path, line = self.where(case)
                    try:
                        lo = self.expr(self.prog._parse_snippet("expr", lo_t, path, line), inner)[0]
                        hi = self.expr(self.prog._parse_snippet("expr", hi_t or lo_t, path, line), inner)[0]
                    except Unsupported:
                        lo = hi = self.unsupported(f"case label {label}", case)
                else:
                    lo = hi = self.expr(v, inner)[0]
                labels.append(((lo, hi), idx, case))
            for c in case.named_children:
                if c == v or c.type in ("ERROR", "comment"):
                    continue
                stmts.append(self.stmt(c, inner))
        path, line = self.where(node)
        resolved = []

        def run_switch(fr):
            if not resolved:
                done = []
                for lab, idx, case in labels:
                    if lab is None:
                        done.append((None, None, idx, self.where(case)[1]))
                    else:
                        done.append((lab[0](fr), lab[1](fr), idx, self.where(case)[1]))
                resolved.extend(done)
            v = cond(fr)
            start = None
            for lo, hi, idx, cl in resolved:
                if lo is not None and lo <= v <= hi:
                    start, at = idx, cl
                    break
            if start is None:
                for lo, hi, idx, cl in resolved:
                    if lo is None:
                        start, at = idx, cl
                        break
            if start is None:
                fr.rt.trace.append(("case", "", path, line, None))
                return None
            fr.rt.trace.append(("case", "", path, at, v))
            for s in stmts[start:]:
                r = s(fr)
                if r is not None:
                    if r == _BREAK:
                        return None
                    return r
            return None
        return run_switch

    def _loop_guard(self, node):
        path, line = self.where(node)

        def tick(rt):
            rt.steps += 1
            if rt.steps > rt.limit:
                raise Unsupported("step limit exceeded", path, line)
        return tick

    def _while(self, node, scope):
        cond = self.cond(node.child_by_field_name("condition"), scope)
        body = self.stmt(node.child_by_field_name("body"), scope)
        tick = self._loop_guard(node)

        def run(fr):
            while cond(fr):
                tick(fr.rt)
                r = body(fr)
                if r is not None:
                    if r == _BREAK:
                        break
                    if r == _CONTINUE:
                        continue
                    return r
            return None
        return run

    def _do(self, node, scope):
        cond = self.cond(node.child_by_field_name("condition"), scope)
        body = self.stmt(node.child_by_field_name("body"), scope)
        tick = self._loop_guard(node)

        def run(fr):
            while True:
                tick(fr.rt)
                r = body(fr)
                if r is not None:
                    if r == _BREAK:
                        break
                    if r != _CONTINUE:
                        return r
                if not cond(fr):
                    break
            return None
        return run

    def _for(self, node, scope):
        inner = _Scope(scope)
        init = node.child_by_field_name("initializer")
        cnode = node.child_by_field_name("condition")
        upd = node.child_by_field_name("update")
        finit = None
        if init is not None:
            finit = self.stmt(init, inner) if init.type == "declaration" else self.expr(init, inner)[0]
        cond = self.cond(cnode, inner) if cnode is not None else (lambda fr: True)
        fupd = self.expr(upd, inner)[0] if upd is not None else None
        body = self.stmt(node.child_by_field_name("body"), inner)
        tick = self._loop_guard(node)

        def run(fr):
            if finit is not None:
                finit(fr)
            while cond(fr):
                tick(fr.rt)
                r = body(fr)
                if r is not None and r != _CONTINUE:
                    if r == _BREAK:
                        break
                    return r
                if fupd is not None:
                    fupd(fr)
            return None
        return run

    # ---- expressions

    def cond(self, node, scope):
        f = self.expr(node, scope)[0]

        def truth(fr):
            v = f(fr)
            if isinstance(v, int):
                return v != 0
            if isinstance(v, CPointer):
                return True
            return bool(v)
        return truth

    def expr_in(self, node, scope):
        return self.expr(node, scope)

    def expr(self, node, scope) -> tuple[Callable, CType]:
        try:
            return self._expr(node, scope)
        except Unsupported as e:
            p, ln = self.where(node)
            return _raiser(e.construct, e.path or p, e.line or ln), ANY
        except RecursionError:
            return self.unsupported("expression nested too deeply", node), ANY

    def _expr(self, node, scope):
        t = node.type
        if t == "number_literal":
            v, ct = _number(node.text.decode("latin-1"))
            return (lambda fr: v), ct
        if t == "char_literal":
            s = node.text.decode("latin-1")[1:-1]
            v = ord(s[0]) if not s.startswith("\\") else _CHAR_ESC.get(s[1:2], None)
            if v is None:
                v = int(s[1:], 8) if s[1:].isdigit() else ord(s[1])
            return (lambda fr: v), INT
        if t in ("true", "false"):
            v = 1 if t == "true" else 0
            return (lambda fr: v), BOOL
        if t == "null":
            return (lambda fr: 0), CType("ptr", pointee=VOID, name="void *")
        if t == "identifier":
            return self._identifier(node, scope)
        if t == "parenthesized_expression":
            inner = node.named_children[0] if node.named_children else None
            if inner is None:
                raise Unsupported("empty parentheses", *self.where(node))
            if inner.type == "compound_statement":
                return self._stmt_expr(inner, scope)
            return self.expr(inner, scope)
        if t == "binary_expression":
            return self._binary(node, scope)
        if t == "unary_expression":
            return self._unary(node, scope)
        if t == "update_expression":
            return self._update(node, scope)
        if t == "assignment_expression":
            return self._assign(node, scope)
        if t == "conditional_expression":
            c = self.cond(node.child_by_field_name("condition"), scope)
            a, ta = self.expr(node.child_by_field_name("consequence"), scope)
            b, tb = self.expr(node.child_by_field_name("alternative"), scope)
            rt_ = _arith(ta, tb, self.prog.word) if ta.kind == "int" and tb.kind == "int" else ta
            return (lambda fr: a(fr) if c(fr) else b(fr)), rt_
        if t == "comma_expression":
            a = self.expr(node.child_by_field_name("left"), scope)[0]
            b, tb = self.expr(node.child_by_field_name("right"), scope)
            return (lambda fr: (a(fr), b(fr))[1]), tb
        if t == "call_expression":
            return self._call(node, scope)
        if t == "cast_expression":
            return self._cast(node, scope)
        if t == "sizeof_expression":
            return self._sizeof(node, scope)
        if t == "pointer_expression":
            return self._pointer(node, scope)
        if t == "subscript_expression":
            return self._subscript(node, scope)
        if t == "field_expression":
            get, _set, ft = self._field(node, scope)
            return get, ft
        raise Unsupported(f"expression {t}: {_short(node)}", *self.where(node))

    def _stmt_expr(self, comp, scope):
        """GCC statement expression ({ ...; last; }): the value of the last expression."""
        inner = _Scope(scope)
        kids = [c for c in comp.named_children if c.type != "comment"]
        if not kids or kids[-1].type != "expression_statement":
            raise Unsupported("statement expression without a final expression", *self.where(comp))
        parts = [self.stmt(c, inner) for c in kids[:-1]]
        last, lt = self.expr(kids[-1].named_children[0], inner)

        def run(fr):
            for p in parts:
                r = p(fr)
                if r is not None:
                    raise Unsupported("control flow out of a statement expression", *self.where(comp))
            return last(fr)
        return run, lt

    def _identifier(self, node, scope):
        name = node.text.decode("latin-1")
        hit = scope.lookup(name)
        if hit is not None:
            key, t = hit
            return (lambda fr: fr.v[key]), t
        prog = self.prog
        m = prog.macro(name)
        if m is not None and m.params is None and name not in self.expanding:
            path, line = self.where(node)
            if m.cond:
                conds = m.cond
            else:
                conds = ()
            if not m.body:
                raise Unsupported(f"macro {name} with an empty body used as a value", path, line)
            sub_node = prog._parse_snippet("expr", m.body, path, line)
            unit = _Unit(m.ev.path, None, {}, m.ev.line, prog._file_lines.get(m.ev.path, []))
            f, t = self.sub(unit, name).expr(sub_node, scope)
            if conds:
                def withc(fr):
                    fr.rt.conds.extend(conds)
                    return f(fr)
                return withc, t
            return f, t
        if name in prog.enums:
            conds = prog.enums[name][2]
            v = prog._enum_value(name)
            if conds:
                def enumc(fr):
                    fr.rt.conds.extend(conds)
                    return v
                return enumc, INT
            return (lambda fr: v), INT
        if name in prog.arrays:
            def arr(fr):
                return prog._array(name)
            return arr, CType("ptr", pointee=ANY, name="array")
        if name in prog.functions or name in prog.protos:
            ref = FuncRef(name)
            return (lambda fr: ref), CType("func", name=name)
        if name in prog.builtins:
            b = prog.builtins[name]
            return (lambda fr: b), ANY
        if name in _DEFAULT_CONSTANTS:
            v = _DEFAULT_CONSTANTS[name]
            return (lambda fr: v), INT
        path, line = self.where(node)

        def runtime_lookup(fr):
            b = fr.rt.builtins.get(name, _MISSING)
            if b is _MISSING:
                raise Unsupported(f"identifier {name}", path, line)
            return b
        return runtime_lookup, ANY

    def _binary(self, node, scope):
        op = node.child_by_field_name("operator").type
        a, ta = self.expr(node.child_by_field_name("left"), scope)
        b, tb = self.expr(node.child_by_field_name("right"), scope)
        word = self.prog.word
        if op == "&&":
            return (lambda fr: 1 if _truth(a(fr)) and _truth(b(fr)) else 0), INT
        if op == "||":
            return (lambda fr: 1 if _truth(a(fr)) or _truth(b(fr)) else 0), INT
        if ta.kind == "ptr" or tb.kind == "ptr" or ta.kind == "any" or tb.kind == "any":
            return self._ptr_binary(op, a, ta, b, tb, node)
        if op in ("<<", ">>"):
            rtype = _promote(ta)
        else:
            rtype = _arith(ta, tb, word)
        w = _wrapper(rtype)
        if op in ("==", "!=", "<", ">", "<=", ">="):
            # compare in the common type (unsigned comparisons of negative values)
            cmp = _CMP[op]
            return (lambda fr: 1 if cmp(w(a(fr)), w(b(fr))) else 0), INT
        if op == "&":
            return (lambda fr: w(a(fr) & b(fr))), rtype
        if op == "|":
            return (lambda fr: w(a(fr) | b(fr))), rtype
        if op == "^":
            return (lambda fr: w(a(fr) ^ b(fr))), rtype
        if op == "+":
            return (lambda fr: w(a(fr) + b(fr))), rtype
        if op == "-":
            return (lambda fr: w(a(fr) - b(fr))), rtype
        if op == "*":
            return (lambda fr: w(a(fr) * b(fr))), rtype
        if op == "<<":
            return (lambda fr: w(w(a(fr)) << b(fr))), rtype
        if op == ">>":
            return (lambda fr: w(w(a(fr)) >> b(fr))), rtype
        path, line = self.where(node)
        if op in ("/", "%"):
            def div(fr):
                x, y = w(a(fr)), w(b(fr))
                if y == 0:
                    raise Unsupported("division by zero", path, line)
                q = abs(x) // abs(y)
                if (x < 0) != (y < 0):
                    q = -q
                return w(q) if op == "/" else w(x - q * y)
            return div, rtype
        raise Unsupported(f"operator {op}", path, line)

    def _ptr_binary(self, op, a, ta, b, tb, node):
        path, line = self.where(node)
        cmp = _CMP.get(op)

        def run(fr):
            x, y = a(fr), b(fr)
            return _ptr_op(op, x, y, cmp, path, line)
        rtype = ta if ta.kind == "ptr" and op in ("+", "-") and tb.kind != "ptr" else \
            (tb if tb.kind == "ptr" and op == "+" else (INT if cmp else _int(self.prog.word, True, "long")))
        if ta.kind == "any" and tb.kind == "any":
            rtype = ANY
        return run, rtype

    def _unary(self, node, scope):
        op = node.child_by_field_name("operator").type
        a, ta = self.expr(node.child_by_field_name("argument"), scope)
        if op == "!":
            return (lambda fr: 0 if _truth(a(fr)) else 1), INT
        rtype = _promote(ta) if ta.kind == "int" else _int(self.prog.word, True, "long")
        w = _wrapper(rtype)
        if op == "~":
            return (lambda fr: w(~a(fr))), rtype
        if op == "-":
            return (lambda fr: w(-a(fr))), rtype
        if op == "+":
            return (lambda fr: w(a(fr))), rtype
        raise Unsupported(f"unary operator {op}", *self.where(node))

    def _lvalue(self, node, scope):
        """(get, set, type) of an assignable expression."""
        t = node.type
        if t == "parenthesized_expression" and node.named_children:
            return self._lvalue(node.named_children[0], scope)
        if t == "identifier":
            name = node.text.decode("latin-1")
            hit = scope.lookup(name)
            if hit is None:
                raise Unsupported(f"assignment to {name} (not a local variable)", *self.where(node))
            key, ct = hit
            w = _wrapper(ct)

            def setv(fr, v):
                fr.v[key] = w(v) if isinstance(v, int) else v
            return (lambda fr: fr.v[key]), setv, ct
        if t == "field_expression":
            return self._field(node, scope)
        if t == "pointer_expression" and node.child_by_field_name("operator").type == "*":
            p, pt = self.expr(node.child_by_field_name("argument"), scope)
            path, line = self.where(node)

            def get(fr):
                return _deref(p(fr), path, line)

            def setp(fr, v):
                ptr = p(fr)
                if not hasattr(ptr, "store"):
                    raise Unsupported("store through a non-pointer", path, line)
                ptr.store(v)
            return get, setp, (pt.pointee or ANY) if pt.kind == "ptr" else ANY
        if t == "subscript_expression":
            raise Unsupported("assignment to an array element", *self.where(node))
        raise Unsupported(f"assignment to {t}", *self.where(node))

    def _assign(self, node, scope):
        op = node.child_by_field_name("operator").type
        get, setv, lt = self._lvalue(node.child_by_field_name("left"), scope)
        rhs, rt_ = self.expr(node.child_by_field_name("right"), scope)
        if op == "=":
            def assign(fr):
                v = rhs(fr)
                setv(fr, v)
                return get(fr)
            return assign, lt
        bop = op[:-1]
        path, line = self.where(node)
        ctype = _arith(lt, rt_, self.prog.word) if lt.kind == "int" and rt_.kind == "int" else lt

        def compound(fr):
            x = get(fr)
            y = rhs(fr)
            if isinstance(x, int) and isinstance(y, int):
                v = _int_op(bop, _wrap(x, ctype), _wrap(y, ctype), path, line)
            else:
                v = _ptr_op(bop, x, y, None, path, line)
            setv(fr, v)
            return get(fr)
        return compound, lt

    def _update(self, node, scope):
        op = node.child_by_field_name("operator").type
        arg = node.child_by_field_name("argument")
        get, setv, lt = self._lvalue(arg, scope)
        prefix = node.children[0].type in ("++", "--")
        d = 1 if op == "++" else -1

        def upd(fr):
            old = get(fr)
            new = old.moved(d) if isinstance(old, CPointer) else old + d
            setv(fr, new)
            return get(fr) if prefix else old
        return upd, lt

    def _call(self, node, scope):
        fn = node.child_by_field_name("function")
        argn = [a for a in node.child_by_field_name("arguments").named_children if a.type != "comment"]
        path, line = self.where(node)
        if fn.type != "identifier":
            raise Unsupported(f"indirect call {_short(fn)}", path, line)
        name = fn.text.decode("latin-1")
        prog = self.prog
        if name in _NOOP_CALLS:
            return (lambda fr: 0), INT
        if scope.lookup(name) is not None:
            raise Unsupported(f"call through the variable {name}", path, line)
        m = prog.macro(name)
        if m is not None and m.params is not None and name not in self.expanding \
                and name not in prog.builtins:
            args = [a.text.decode("latin-1") for a in argn]
            text = expand_macro(m, args)
            sub_node = prog._parse_snippet("expr", text, path, line)
            unit = _Unit(path, None, {line: self.unit.conds(line)} if self.unit.conds(line) else {},
                         line, self.unit.lines)
            f, t = self.sub(unit, name).expr(sub_node, scope)
            if m.cond:
                conds = m.cond

                def withc(fr):
                    fr.rt.conds.extend(conds)
                    return f(fr)
                return withc, t
            return f, t
        afs = [self.expr(a, scope)[0] for a in argn]
        if name in prog.builtins:
            b = prog.builtins[name]

            def call_pb(fr):
                rb = fr.rt.builtins.get(name, b)
                return rb(*[f(fr) for f in afs])
            return call_pb, ANY
        if name in prog.functions:
            target = prog.compiled(name)
            ev = (path, line)
            if target.body is None:
                try:
                    target._build()
                except Unsupported:
                    pass
            rtype = target.rtype if target.body is not None else ANY

            def call_c(fr):
                rt = fr.rt
                b = rt.builtins.get(name)
                args = [f(fr) for f in afs]
                if b is not None:
                    return b(*args)
                return target.invoke(rt, args, ev)[0]
            return call_c, rtype
        dflt = _DEFAULT_BUILTINS.get(name)

        def call_rt(fr):
            b = fr.rt.builtins.get(name, dflt)
            if b is None:
                raise Unsupported(f"call to {name} (no definition in the loaded files and no builtin)",
                                  path, line)
            return b(*[f(fr) for f in afs])
        return call_rt, INT if dflt is not None else ANY

    def _cast(self, node, scope):
        tnode = node.child_by_field_name("type")
        target = self.prog._descriptor_type(tnode, self.unit)
        if target is None:
            raise Unsupported(f"cast to unknown type {tnode.text.decode('latin-1')}", *self.where(node))
        valn = node.child_by_field_name("value")
        f = self.expr(valn, scope)[0]
        path, line = self.where(node)
        if target.kind == "int":
            w = _wrapper(target)

            def to_int(fr):
                v = f(fr)
                if isinstance(v, int):
                    return w(v)
                if isinstance(v, CPointer):
                    return w(v.addr)
                if isinstance(v, (_ReinterpretRef, Ref)):
                    raise Unsupported("cast of an address of a variable to an integer", path, line)
                return w(_as_int(v, target))
            return to_int, target
        if target.kind == "ptr":
            pt = target.pointee or ANY

            def to_ptr(fr):
                v = f(fr)
                if isinstance(v, CPointer):
                    return v.retyped(pt) if pt.kind == "int" else v
                if isinstance(v, (Ref, _ReinterpretRef)):
                    return _ReinterpretRef(v, pt) if pt.kind == "int" else v
                if isinstance(v, int):
                    if v == 0:
                        return 0
                    if pt.kind != "int":
                        raise Unsupported(f"cast of {v:#x} to {target.name}", path, line)
                    return CPointer(fr.rt.memory_at(v, path, line), ctype=pt, addr=v)
                return v  # structs, function refs: pointer-ness is not modelled
            return to_ptr, target
        return f, target if target.kind != "void" else VOID

    def _sizeof(self, node, scope):
        tnode = node.child_by_field_name("type")
        prog = self.prog
        if tnode is not None:
            t = prog._descriptor_type(tnode, self.unit)
            if t is None:
                raise Unsupported(f"sizeof({tnode.text.decode('latin-1')})", *self.where(node))
        else:
            v = node.child_by_field_name("value")
            inner = v.named_children[0] if v.type == "parenthesized_expression" and v.named_children else v
            t = None
            if inner.type in ("identifier", "type_identifier") and scope.lookup(inner.text.decode("latin-1")) is None:
                t = prog.type_named(inner.text.decode("latin-1"))
            if t is None:
                t = self.expr(v, scope)[1]
        n = prog.sizeof(t)
        return (lambda fr: n), _int(self.prog.word, False, "size_t")

    def _pointer(self, node, scope):
        op = node.child_by_field_name("operator").type
        arg = node.child_by_field_name("argument")
        path, line = self.where(node)
        if op == "*":
            p, pt = self.expr(arg, scope)
            return (lambda fr: _deref(p(fr), path, line)), (pt.pointee or ANY) if pt.kind == "ptr" else ANY
        # &x
        inner = arg
        while inner.type == "parenthesized_expression" and inner.named_children:
            inner = inner.named_children[0]
        if inner.type == "identifier":
            name = inner.text.decode("latin-1")
            hit = scope.lookup(name)
            if hit is not None:
                key, t = hit
                if t.kind == "struct":
                    return (lambda fr: fr.v[key]), CType("ptr", pointee=t, name=t.name + " *")
                return (lambda fr: Ref(fr.v, key, t)), CType("ptr", pointee=t, name=t.name + " *")
            if name in self.prog.functions or name in self.prog.protos:
                ref = FuncRef(name)
                return (lambda fr: ref), CType("func", name=name)
            raise Unsupported(f"address of {name}", path, line)
        if inner.type == "field_expression":
            base = self._struct_base(inner.child_by_field_name("argument"), scope)
            fname = inner.child_by_field_name("field").text.decode("latin-1")

            def addr_field(fr):
                s = base(fr)
                if not isinstance(s, CStruct):
                    raise Unsupported(f"address of field {fname} of a non-struct", path, line)
                v = dict.get(s, fname)
                if v is None or isinstance(v, CStruct):
                    return s.sub(fname)
                return _FieldRef(s, fname)
            return addr_field, CType("ptr", pointee=ANY, name="field *")
        if inner.type == "subscript_expression":
            a, at = self.expr(inner.child_by_field_name("argument"), scope)
            i = self.expr(inner.child_by_field_name("index"), scope)[0]

            def addr_elem(fr):
                base = a(fr)
                if isinstance(base, CPointer):
                    return base.moved(i(fr))
                raise Unsupported("address of an array element", path, line)
            return addr_elem, at
        raise Unsupported(f"address of {inner.type}", path, line)

    def _subscript(self, node, scope):
        a, at = self.expr(node.child_by_field_name("argument"), scope)
        i = self.expr(node.child_by_field_name("index"), scope)[0]
        path, line = self.where(node)

        def index(fr):
            base = a(fr)
            k = i(fr)
            if isinstance(base, _Array):
                if not 0 <= k < len(base.values):
                    raise Unsupported(f"array index {k} out of range", path, line)
                return base.values[k]
            if isinstance(base, CPointer):
                return base.moved(k).load()
            if isinstance(base, (list, tuple)):
                return base[k]
            raise Unsupported("subscript of a non-array", path, line)
        return index, (at.pointee or ANY) if at.kind == "ptr" else ANY

    def _struct_base(self, node, scope):
        """Evaluate `node` as a struct (nested fields are created on use)."""
        if node.type == "field_expression":
            inner = self._struct_base(node.child_by_field_name("argument"), scope)
            fname = node.child_by_field_name("field").text.decode("latin-1")
            path, line = self.where(node)

            def nested(fr):
                s = inner(fr)
                if not isinstance(s, CStruct):
                    raise Unsupported(f"field {fname} of a non-struct", path, line)
                return s.sub(fname)
            return nested
        if node.type == "parenthesized_expression" and node.named_children:
            return self._struct_base(node.named_children[0], scope)
        return self.expr(node, scope)[0]

    def _field(self, node, scope):
        base = self._struct_base(node.child_by_field_name("argument"), scope)
        fname = node.child_by_field_name("field").text.decode("latin-1")
        path, line = self.where(node)

        def get(fr):
            s = base(fr)
            if not isinstance(s, CStruct):
                raise Unsupported(f"field {fname} of a non-struct value", path, line)
            return s[fname]

        def setf(fr, v):
            s = base(fr)
            if not isinstance(s, CStruct):
                raise Unsupported(f"field {fname} of a non-struct value", path, line)
            s[fname] = v
        return get, setf, ANY

    # ---- initializers (const arrays)

    def initializer(self, node, frame, size, elem: CType):
        if node is None or node.type != "initializer_list":
            raise Unsupported("array without an initializer list", *self.where(node) if node else ("", 0))
        vals: dict[int, Any] = {}
        lines: dict[int, int] = {}
        pos = 0
        scope = _Scope(None)
        w = _wrapper(elem)
        for item in node.named_children:
            if item.type == "comment":
                continue
            if item.type == "initializer_pair":
                des = item.child_by_field_name("designator")
                desigs = item.children_by_field_name("designator")
                if len(desigs) != 1:
                    raise Unsupported("nested designators", *self.where(item))
                des = desigs[0]
                vnode = item.child_by_field_name("value")
                if des.type == "subscript_designator":
                    lo = hi = self.expr(des.named_children[0], scope)[0](frame)
                elif des.type == "subscript_range_designator":
                    lo = self.expr(des.child_by_field_name("start"), scope)[0](frame)
                    hi = self.expr(des.child_by_field_name("end"), scope)[0](frame)
                else:
                    raise Unsupported(f"designator {des.type}", *self.where(item))
            else:
                lo = hi = pos
                vnode = item
            v = self._init_value(vnode, frame, elem)
            v = w(v) if isinstance(v, int) else v
            for k in range(lo, hi + 1):
                vals[k] = v
                lines[k] = self.where(item)[1]
            pos = hi + 1
        n = size if size is not None else (max(vals) + 1 if vals else 0)
        return [vals.get(k, 0) for k in range(n)], [lines.get(k, 0) for k in range(n)]

    def _init_value(self, vnode, frame, elem):
        if vnode.type == "initializer_list":
            has_fields = any(c.type == "initializer_pair" and c.child_by_field_name("designator") is not None
                             and c.child_by_field_name("designator").type == "field_designator"
                             for c in vnode.named_children)
            if has_fields:
                s = CStruct()
                for c in vnode.named_children:
                    if c.type == "initializer_pair":
                        d = c.child_by_field_name("designator")
                        if d.type == "field_designator":
                            s[d.named_children[0].text.decode("latin-1")] = \
                                self._init_value(c.child_by_field_name("value"), frame, ANY)
                return s
            return [self._init_value(c, frame, ANY) for c in vnode.named_children if c.type != "comment"]
        return self.expr(vnode, _Scope(None))[0](frame)


_MISSING = object()


def _block(parts):
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


def _truth(v) -> bool:
    if isinstance(v, int):
        return v != 0
    return v is not None


def _deref(p, path, line):
    if isinstance(p, (CPointer, Ref, _ReinterpretRef, _FieldRef)):
        return p.load()
    if isinstance(p, CStruct):
        return p
    raise Unsupported(f"dereference of {type(p).__name__}", path, line)


_CMP = {
    "==": lambda x, y: x == y, "!=": lambda x, y: x != y, "<": lambda x, y: x < y,
    ">": lambda x, y: x > y, "<=": lambda x, y: x <= y, ">=": lambda x, y: x >= y,
}


def _int_op(op, x, y, path, line):
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if op == "&":
        return x & y
    if op == "|":
        return x | y
    if op == "^":
        return x ^ y
    if op == "<<":
        return x << y
    if op == ">>":
        return x >> y
    if op in ("/", "%"):
        if y == 0:
            raise Unsupported("division by zero", path, line)
        q = abs(x) // abs(y)
        if (x < 0) != (y < 0):
            q = -q
        return q if op == "/" else x - q * y
    raise Unsupported(f"operator {op}=", path, line)


def _ptr_op(op, x, y, cmp, path, line):
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
        return _int_op(op, x, y, path, line)
    raise Unsupported(f"operator {op} on {type(x).__name__} and {type(y).__name__}", path, line)


def _short(node) -> str:
    s = " ".join(node.text.decode("latin-1").split())
    return s if len(s) <= 60 else s[:57] + "..."
