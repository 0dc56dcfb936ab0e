"""Three-valued evaluation of C preprocessor conditions (`#if` expressions).

The facts carry the enclosing `#if` conditions as strings (``defined(CONFIG_X86_32)``,
``!(defined(A)) && (B)``, ``IS_ENABLED(CONFIG_X) && CONFIG_NR_CPUS > 1``). Given an arch
and, optionally, a `.config`, :func:`evaluate` says True, False, or None (unknown).

What is known:

* ``CONFIG_*`` from the config, the way include/generated/autoconf.h defines them:
  ``=y`` defines ``CONFIG_X`` as 1, ``=m`` defines ``CONFIG_X_MODULE`` (and *not*
  ``CONFIG_X``), numbers and strings define ``CONFIG_X`` as the value. Unset: undefined.
  Without a config only the arch's own symbol (``CONFIG_X86`` on x86) and the other arches'
  symbols are known, plus ``CONFIG_64BIT`` on arches of one word size.
* ``IS_ENABLED`` / ``IS_BUILTIN`` / ``IS_MODULE`` / ``IS_REACHABLE`` (include/linux/kconfig.h).
* ``__KERNEL__`` (always), ``__ASSEMBLY__`` and ``MODULE`` (parameters), the compiler's
  arch macros (``__x86_64__``, ``__aarch64__``, ``__riscv``, ``__LP64__``...) and
  ``BITS_PER_LONG``; ``__GNUC__``/``__clang__`` from ``CONFIG_CC_IS_GCC``/``GCC_VERSION``.

Any other identifier may be a macro from some header: unknown. ``&&``, ``||`` and ``?:``
short-circuit in three-valued logic (False && unknown is False).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .config import KernelConfig

Value = Optional[int]  # None = unknown

# -- tokenizer ----------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>(?:\s|\\\n|/\*.*?\*/|//[^\n]*)+)
  | (?P<num>0[xX][0-9a-fA-F]+|0[bB][01]+|\d+)[uUlL]*
  | (?P<chr>'(?:\\.|[^'\\])+')
  | (?P<id>[A-Za-z_]\w*)
  | (?P<op>&&|\|\||==|!=|<=|>=|<<|>>|[!~<>+\-*/%&|^?:(),])
  | (?P<other>"(?:\\.|[^"\\])*"|.)
    """,
    re.VERBOSE | re.DOTALL,
)

_CHAR_ESCAPES = {"n": 10, "t": 9, "r": 13, "0": 0, "\\": 92, "'": 39, '"': 34, "a": 7,
                 "b": 8, "f": 12, "v": 11}


def _tokenize(expr: str) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for m in _TOKEN.finditer(expr):
        kind = m.lastgroup
        if kind == "ws":
            continue
        if kind == "num":
            text = m.group("num")
            if text[:2] in ("0x", "0X"):
                out.append(("num", int(text, 16)))
            elif text[:2] in ("0b", "0B"):
                out.append(("num", int(text[2:], 2)))
            elif len(text) > 1 and text[0] == "0":
                out.append(("num", int(text, 8) if text.isdigit() and "8" not in text
                            and "9" not in text else int(text)))
            else:
                out.append(("num", int(text)))
        elif kind == "chr":
            body = m.group("chr")[1:-1]
            if body.startswith("\\"):
                esc = body[1:]
                if esc[:1] in ("x", "X"):
                    val = int(esc[1:], 16)
                elif esc.isdigit():
                    val = int(esc, 8)
                else:
                    val = _CHAR_ESCAPES.get(esc, ord(esc[0]))
            else:
                val = ord(body[0])
            out.append(("num", val))
        elif kind == "id":
            out.append(("id", m.group("id")))
        elif kind == "op":
            out.append(("op", m.group("op")))
        else:
            out.append(("other", m.group(0)))
    return out


# -- parser (recursive descent, C precedence) --------------------------------------

class _ParseError(Exception):
    pass


_CFG_FUNCS = frozenset({"IS_ENABLED", "IS_BUILTIN", "IS_MODULE", "IS_REACHABLE"})

# binary operators by precedence level, loosest first
_LEVELS = (
    ("||",),
    ("&&",),
    ("|",),
    ("^",),
    ("&",),
    ("==", "!="),
    ("<", ">", "<=", ">="),
    ("<<", ">>"),
    ("+", "-"),
    ("*", "/", "%"),
)


class _Parser:
    def __init__(self, tokens):
        self.toks = tokens
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else ("eof", None)

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def expect(self, op):
        tok = self.take()
        if tok != ("op", op):
            raise _ParseError(f"expected {op!r}, got {tok[1]!r}")

    def parse(self):
        node = self.ternary()
        if self.i != len(self.toks):
            raise _ParseError(f"trailing {self.peek()[1]!r}")
        return node

    def ternary(self):
        cond = self.binary(0)
        if self.peek() == ("op", "?"):
            self.take()
            a = self.ternary()
            self.expect(":")
            b = self.ternary()
            return ("cond", cond, a, b)
        return cond

    def binary(self, level):
        if level == len(_LEVELS):
            return self.unary()
        ops = _LEVELS[level]
        left = self.binary(level + 1)
        while True:
            kind, val = self.peek()
            if kind == "op" and val in ops:
                self.take()
                right = self.binary(level + 1)
                left = ("bin", val, left, right)
            else:
                return left

    def unary(self):
        kind, val = self.peek()
        if kind == "op" and val in ("!", "~", "-", "+"):
            self.take()
            return ("un", val, self.unary())
        return self.primary()

    def primary(self):
        kind, val = self.take()
        if kind == "num":
            return ("num", val)
        if kind == "op" and val == "(":
            node = self.ternary()
            self.expect(")")
            return node
        if kind == "id":
            if val == "defined":
                if self.peek() == ("op", "("):
                    self.take()
                    k, name = self.take()
                    self.expect(")")
                else:
                    k, name = self.take()
                if k != "id":
                    raise _ParseError("defined without a name")
                return ("defined", name)
            if self.peek() == ("op", "("):
                args = self.call_args()
                if val in _CFG_FUNCS and len(args) == 1 and len(args[0]) == 1 \
                        and args[0][0][0] == "id":
                    return ("cfgfn", val, args[0][0][1])
                return ("unknown", val)  # some function-like macro: __has_attribute(x)...
            return ("id", val)
        raise _ParseError(f"unexpected {val!r}")

    def call_args(self):
        """Skip a parenthesised argument list; return its arguments as token lists."""
        self.expect("(")
        depth, args, cur = 1, [], []
        while True:
            tok = self.take()
            if tok[0] == "eof":
                raise _ParseError("unbalanced parentheses")
            if tok == ("op", "("):
                depth += 1
            elif tok == ("op", ")"):
                depth -= 1
                if depth == 0:
                    if cur or args:
                        args.append(cur)
                    return args
            elif tok == ("op", ",") and depth == 1:
                args.append(cur)
                cur = []
                continue
            cur.append(tok)


@lru_cache(maxsize=None)
def parse(expr: str):
    """The expression as a tuple tree, or None when it cannot be parsed."""
    try:
        return _Parser(_tokenize(expr)).parse()
    except (_ParseError, ValueError, IndexError):
        return None


# -- what is known about the build ----------------------------------------------------

# arch directory -> its own Kconfig symbol (CONFIG_X86 on x86...)
ARCH_SYMBOL = {
    "x86": "X86", "arm64": "ARM64", "arm": "ARM", "riscv": "RISCV", "powerpc": "PPC",
    "s390": "S390", "loongarch": "LOONGARCH", "mips": "MIPS", "sparc": "SPARC",
    "ia64": "IA64", "parisc": "PARISC", "alpha": "ALPHA", "arc": "ARC", "csky": "CSKY",
    "hexagon": "HEXAGON", "m68k": "M68K", "microblaze": "MICROBLAZE", "nios2": "NIOS2",
    "openrisc": "OPENRISC", "sh": "SUPERH", "xtensa": "XTENSA", "um": "UML",
}
# word size fixed by the arch (6.1 Kconfig); others (x86, riscv, powerpc, mips, sparc,
# parisc) take it from CONFIG_64BIT
ARCH_FIXED_BITS = {
    "arm64": 64, "alpha": 64, "ia64": 64, "loongarch": 64, "s390": 64,
    "arm": 32, "arc": 32, "csky": 32, "hexagon": 32, "m68k": 32, "microblaze": 32,
    "nios2": 32, "openrisc": 32, "sh": 32, "xtensa": 32,
}
_LITTLE = {"x86", "riscv", "loongarch", "alpha", "ia64", "csky", "nios2", "hexagon", "um"}
_BIG = {"s390", "sparc", "parisc", "m68k", "openrisc"}

# compiler macros naming an arch: name -> (arch, required bits or None)
_ARCH_MACROS = {
    "__x86_64__": ("x86", 64), "__x86_64": ("x86", 64), "__amd64__": ("x86", 64),
    "__i386__": ("x86", 32), "__i386": ("x86", 32), "i386": ("x86", 32),
    "__aarch64__": ("arm64", None), "__arm__": ("arm", None),
    "__riscv": ("riscv", None), "__powerpc__": ("powerpc", None),
    "__powerpc64__": ("powerpc", 64), "__PPC64__": ("powerpc", 64), "__PPC__": ("powerpc", None),
    "__ppc__": ("powerpc", None), "__s390__": ("s390", None), "__s390x__": ("s390", 64),
    "__mips__": ("mips", None), "__mips64": ("mips", 64), "__loongarch__": ("loongarch", None),
    "__loongarch64": ("loongarch", 64), "__sparc__": ("sparc", None),
    "__sparc_v9__": ("sparc", 64), "__arch64__": ("sparc", 64), "__ia64__": ("ia64", None),
    "__alpha__": ("alpha", None), "__hppa__": ("parisc", None), "__m68k__": ("m68k", None),
    "__sh__": ("sh", None), "__xtensa__": ("xtensa", None), "__csky__": ("csky", None),
    "__nios2__": ("nios2", None), "__arc__": ("arc", None), "__microblaze__": ("microblaze", None),
    "__or1k__": ("openrisc", None), "__hexagon__": ("hexagon", None),
}


class _Env:
    """Everything `evaluate` needs about one (config, arch, asm, module) combination."""

    __slots__ = ("config", "arch", "asm", "module", "bits", "little", "fixed")

    def __init__(self, config, arch, asm, module):
        self.config = config
        self.arch = arch
        self.asm = asm
        self.module = module
        bits = ARCH_FIXED_BITS.get(arch)
        if config is not None and bits is None:
            bits = 64 if config.builtin("64BIT") else 32
        self.bits = bits
        if arch in _LITTLE:
            self.little = True
        elif arch in _BIG:
            self.little = False
        elif config is not None:
            self.little = not config.builtin("CPU_BIG_ENDIAN")
        else:
            self.little = None
        # symbols known without a config: the arches' own symbols and fixed word size
        fixed: dict[str, str | None] = {}
        if arch in ARCH_SYMBOL and arch != "um":
            for a, sym in ARCH_SYMBOL.items():
                if a != "um":
                    fixed[sym] = "y" if a == arch else None
        if arch in ARCH_FIXED_BITS:
            fixed["64BIT"] = "y" if ARCH_FIXED_BITS[arch] == 64 else None
        self.fixed = fixed

    def cfg(self, sym: str) -> tuple[bool, str | None]:
        """(known, value) of a Kconfig symbol (no prefix)."""
        if self.config is not None:
            return True, self.config.value(sym)
        if sym in self.fixed:
            return True, self.fixed[sym]
        return False, None

    def macro(self, name: str) -> tuple[Value, Value]:
        """(defined, value) of a macro name; None where unknown."""
        if name.startswith("CONFIG_"):
            sym = name[7:]
            known, v = self.cfg(sym)
            if not known:
                return None, None
            if v is None:
                if sym.endswith("_MODULE"):
                    known_base, base = self.cfg(sym[:-7])
                    if not known_base:
                        return None, None
                    if base == "m":
                        return 1, 1
                return 0, 0
            if v == "y":
                return 1, 1
            if v == "m":  # autoconf.h defines CONFIG_X_MODULE instead
                return 0, 0
            try:
                return 1, int(v, 0)
            except ValueError:
                return 1, None  # a string option: defined, no numeric value
        if name == "__KERNEL__":
            return 1, 1
        if name == "__ASSEMBLY__":
            return (1, 1) if self.asm else (0, 0)
        if name == "MODULE":
            return (1, 1) if self.module else (0, 0)
        if name in ("__CHECKER__", "__GENKSYMS__"):  # sparse and genksyms, not the compiler
            return 0, 0
        if name == "__OPTIMIZE__":
            return 1, 1
        if name in _ARCH_MACROS:
            march, mbits = _ARCH_MACROS[name]
            if march != self.arch:
                return 0, 0
            if mbits is None:
                return 1, 1
            if self.bits is None:
                return None, None
            return (1, 1) if self.bits == mbits else (0, 0)
        if name in ("BITS_PER_LONG", "__BITS_PER_LONG", "__riscv_xlen"):
            if name == "__riscv_xlen" and self.arch != "riscv":
                return 0, 0
            return (None, None) if self.bits is None else (1, self.bits)
        if name in ("__SIZEOF_LONG__", "__SIZEOF_POINTER__"):
            return (None, None) if self.bits is None else (1, self.bits // 8)
        if name in ("__LP64__", "_LP64"):
            if self.bits is None:
                return None, None
            return (1, 1) if self.bits == 64 else (0, 0)
        if name in ("__ILP32__", "_ILP32"):
            if self.bits is None:
                return None, None
            return (1, 1) if self.bits == 32 else (0, 0)
        if name == "__ORDER_LITTLE_ENDIAN__":
            return 1, 1234
        if name == "__ORDER_BIG_ENDIAN__":
            return 1, 4321
        if name == "__BYTE_ORDER__":
            return (None, None) if self.little is None else (1, 1234 if self.little else 4321)
        if name in ("__LITTLE_ENDIAN", "__BIG_ENDIAN"):  # defined by the byteorder headers
            if self.little is None:
                return None, None
            want = name == "__LITTLE_ENDIAN"
            return (1, 1234 if want else 4321) if self.little == want else (0, 0)
        if name in ("__LITTLE_ENDIAN_BITFIELD", "__BIG_ENDIAN_BITFIELD"):
            if self.little is None:
                return None, None
            return (1, 1) if self.little == (name == "__LITTLE_ENDIAN_BITFIELD") else (0, 0)
        if name in ("HZ", "NR_CPUS"):  # asm-generic/param.h, linux/threads.h: the config value
            known, v = self.cfg(name)
            if not known or v is None:
                return None, None
            try:
                return 1, int(v, 0)
            except ValueError:
                return None, None
        if name == "USER_HZ":  # asm-generic/param.h; alpha has its own
            return (None, None) if self.arch == "alpha" else (1, 100)
        if name == "__STDC_VERSION__":  # the kernel builds with -std=gnu11
            return 1, 201112
        if name == "__thumb2__":
            if self.arch != "arm":
                return 0, 0
            known, v = self.cfg("THUMB2_KERNEL")
            return (None, None) if not known else ((1, 1) if v == "y" else (0, 0))
        if name in ("__clang__", "__GNUC__"):
            known, gcc = self.cfg("CC_IS_GCC")
            if not known or self.config is None:
                return None, None
            if name == "__clang__":
                return (0, 0) if gcc == "y" else (1, 1)
            if gcc == "y":
                ver = self.config.int_value("GCC_VERSION")
                return 1, (ver // 10000 if ver else None)
            return 1, 4  # clang claims to be GCC 4.2
        return None, None

    def cfgfn(self, func: str, name: str) -> Value:
        if not name.startswith("CONFIG_"):
            return None
        known, v = self.cfg(name[7:])
        if not known:
            return None
        if func == "IS_ENABLED":
            return int(v in ("y", "m"))
        if func == "IS_BUILTIN":
            return int(v == "y")
        if func == "IS_MODULE":
            return int(v == "m")
        # IS_REACHABLE: built in, or a module seen from a module
        return int(v == "y" or (v == "m" and self.module))


@lru_cache(maxsize=256)
def _env(config, arch, asm, module) -> _Env:
    return _Env(config, arch, asm, module)


# -- evaluation --------------------------------------------------------------------

def _eval(node, env: _Env) -> Value:
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "bin":
        op = node[1]
        if op == "&&":
            a = _eval(node[2], env)
            if a == 0:
                return 0
            b = _eval(node[3], env)
            if b == 0:
                return 0
            return None if a is None or b is None else 1
        if op == "||":
            a = _eval(node[2], env)
            if a is not None and a != 0:
                return 1
            b = _eval(node[3], env)
            if b is not None and b != 0:
                return 1
            return None if a is None or b is None else 0
        a = _eval(node[2], env)
        b = _eval(node[3], env)
        if op in ("*", "&") and (a == 0 or b == 0):
            return 0
        if a is None or b is None:
            return None
        return _binop(op, a, b)
    if kind == "un":
        v = _eval(node[2], env)
        if v is None:
            return None
        op = node[1]
        if op == "!":
            return int(v == 0)
        if op == "-":
            return -v
        if op == "~":
            return ~v
        return v
    if kind == "defined":
        return env.macro(node[1])[0]
    if kind == "id":
        defined, value = env.macro(node[1])
        if defined is None:
            return None
        return value if defined else 0
    if kind == "cfgfn":
        return env.cfgfn(node[1], node[2])
    if kind == "cond":
        c = _eval(node[1], env)
        if c is None:
            a, b = _eval(node[2], env), _eval(node[3], env)
            return a if a is not None and a == b else None
        return _eval(node[2] if c else node[3], env)
    return None  # "unknown": a function-like macro we do not model


def _binop(op: str, a: int, b: int) -> Value:
    if op == "==":
        return int(a == b)
    if op == "!=":
        return int(a != b)
    if op == "<":
        return int(a < b)
    if op == ">":
        return int(a > b)
    if op == "<=":
        return int(a <= b)
    if op == ">=":
        return int(a >= b)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op in ("/", "%"):
        if b == 0:
            return None  # the preprocessor would reject it
        q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)  # C truncation
        return q if op == "/" else a - q * b
    if op == "&":
        return a & b
    if op == "|":
        return a | b
    if op == "^":
        return a ^ b
    if op in ("<<", ">>"):
        if b < 0 or b > 127:
            return None
        return a << b if op == "<<" else a >> b
    return None


@lru_cache(maxsize=1 << 18)
def evaluate(expr: str, config: "KernelConfig | None", arch: str, assembly: bool = False,
             module: bool = False) -> bool | None:
    """Truth of one `#if` expression for `arch` (a directory name under arch/) and
    `config` (None: no config given). None when it cannot be decided, including when the
    expression does not parse. `assembly` defines __ASSEMBLY__ (for .S files); `module`
    defines MODULE (for objects built as modules)."""
    tree = parse(expr)
    if tree is None:
        return None
    v = _eval(tree, _env(config, arch, bool(assembly), bool(module)))
    return None if v is None else v != 0


def evaluate_all(conditions: tuple[str, ...], config: "KernelConfig | None", arch: str,
                 assembly: bool = False, module: bool = False) -> bool | None:
    """Conjunction of a stack of conditions (outermost first): False as soon as one is
    False, else None if any is unknown, else True."""
    result: bool | None = True
    for expr in conditions:
        v = evaluate(expr, config, arch, assembly, module)
        if v is False:
            return False
        if v is None:
            result = None
    return result


@lru_cache(maxsize=1 << 16)
def config_symbols(expr: str) -> tuple[str, ...]:
    """The CONFIG_ names an expression mentions (in order, no duplicates), for messages."""
    seen: dict[str, None] = {}
    for name in re.findall(r"\bCONFIG_[A-Za-z0-9_]+", expr):
        seen.setdefault(name, None)
    return tuple(seen)


# -- Kbuild conditions (the `config` field of KbuildRule / FlagRemoval) ----------------

_KB_TOKEN = re.compile(r"\s*(?:(\[[^\]]*\])|(&&|\|\||!|\(|\))|(CONFIG_\w+(?:=[\w.\-/+,]*)?)"
                       r"|(\$\([\w.\-]+\)=[\w.\-/+,]*)|([01]))")


_SIMPLE_CFG = re.compile(r"CONFIG_\w+")


@lru_cache(maxsize=None)
def parse_kbuild(expr: str):
    """The kbuild condition language of kpanalyze.parsing.kbuild as a tuple tree
    (None when it does not parse; "" parses as True)."""
    toks, pos, expr = [], 0, expr.strip()
    while pos < len(expr):
        m = _KB_TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            return None
        pos = m.end()
        if m.group(1):
            toks.append(("unknown", m.group(1)))
        elif m.group(2):
            toks.append(("op", m.group(2)))
        elif m.group(3):
            name, eq, val = m.group(3).partition("=")
            toks.append(("cfg", name[7:], val if eq else None))
        elif m.group(4):
            name, _, val = m.group(4).partition("=")
            toks.append(("var", name[2:-1], val))
        else:
            toks.append(("const", m.group(5) == "1"))
    if not toks:
        return ("const", True)
    i = 0

    def peek():
        return toks[i] if i < len(toks) else ("eof",)

    def or_():
        nonlocal i
        node = and_()
        while peek() == ("op", "||"):
            i += 1
            node = ("or", node, and_())
        return node

    def and_():
        nonlocal i
        node = unary()
        while peek() == ("op", "&&"):
            i += 1
            node = ("and", node, unary())
        return node

    def unary():
        nonlocal i
        tok = peek()
        i += 1
        if tok == ("op", "!"):
            return ("not", unary())
        if tok == ("op", "("):
            node = or_()
            if peek() != ("op", ")"):
                raise _ParseError("missing )")
            i += 1
            return node
        if tok[0] in ("unknown", "cfg", "var", "const"):
            return tok
        raise _ParseError(f"unexpected {tok}")

    try:
        node = or_()
    except _ParseError:
        return None
    return node if i == len(toks) else None


def evaluate_kbuild(expr: str, config: "KernelConfig | None", arch: str,
                    make_vars: "dict[str, str | None] | None" = None) -> bool | None:
    """Truth of a KbuildRule/FlagRemoval `config` condition. `make_vars` gives the values
    of other make variables ($(BITS), $(SRCARCH)...); missing or None means unknown.
    Without a config, CONFIG_ atoms are unknown (except the arch's own symbols)."""
    if not expr:
        return True
    if expr.startswith("CONFIG_") and _SIMPLE_CFG.fullmatch(expr):  # the common case
        known, v = _env(config, arch, False, False).cfg(expr[7:])
        return (v is not None) if known else None
    tree = parse_kbuild(expr)
    if tree is None:
        return None
    return _eval_kb(tree, _env(config, arch, False, False), make_vars or {})


def _eval_kb(node, env: _Env, make_vars) -> bool | None:
    kind = node[0]
    if kind == "and":
        a = _eval_kb(node[1], env, make_vars)
        if a is False:
            return False
        b = _eval_kb(node[2], env, make_vars)
        if b is False:
            return False
        return None if a is None or b is None else True
    if kind == "or":
        a = _eval_kb(node[1], env, make_vars)
        if a is True:
            return True
        b = _eval_kb(node[2], env, make_vars)
        if b is True:
            return True
        return None if a is None or b is None else False
    if kind == "not":
        v = _eval_kb(node[1], env, make_vars)
        return None if v is None else not v
    if kind == "const":
        return node[1]
    if kind == "cfg":
        known, v = env.cfg(node[1])
        if not known:
            return None
        if node[2] is None:  # ifdef / obj-$(CONFIG_X): set to anything
            return v is not None
        return (v or "") == node[2]
    if kind == "var":
        v = make_vars.get(node[1])
        return None if v is None else v.strip() == node[2]
    return None  # [unknown test]
