"""Scanner for assembly (``.S``) files: code labels, their sections, asm blacklist
registrations.

Assembly is not C, so this is a line scanner, not tree-sitter. It models just
enough of the C preprocessor and of gas to know, for every label that reaches
kallsyms, which section it lands in:

* cpp: ``#if/#ifdef/#ifndef/#elif/#else/#endif`` (kept as ``conditions``; blocks
  that only exist for C, ``#ifndef __ASSEMBLY__``, are dropped), ``#define`` /
  ``#undef`` (object-like and function-like, ``##`` pasting, variadics),
  ``#include`` of headers handed in by the caller (:class:`AsmMacros`);
* gas: labels, ``.section/.pushsection/.popsection/.previous/.text/.data/.bss``,
  ``.globl/.weak/.type``, ``.macro ... .endm`` (``\\arg``, ``\\()``, defaults,
  keyword arguments, ``:req``, ``:vararg``), ``.irp/.irpc/.rept``;
* kernel macros as built-ins: the ``SYM_*`` family, ``ENTRY``/``GLOBAL``/``WEAK``,
  powerpc ``_GLOBAL``/``_GLOBAL_TOC``, mips ``LEAF``/``NESTED``, the section
  macros of include/linux/init.h (``__INIT``, ``__HEAD``...), and the asm
  blacklist macros ``_ASM_NOKPROBE``, ``NOKPROBE``, ``_ASM_NOKPROBE_SYMBOL``.

A macro defined under ``#ifdef`` is kept with its conditions; a use expands every
definition whose conditions do not contradict the use's, so config-dependent
variants all appear (each with its own ``conditions``).

Extraction is per file so facts can be cached by content. Headers are never read
here: the caller builds an :class:`AsmMacros` with :func:`build_asm_context`
(which reads through a callback) and passes it to :func:`extract_asm`::

    cache = {}  # per build: tree path -> AsmHeader | None, shared by all .S files
    ctx = build_asm_context(relpath, data, arch, read, cache)  # read(path) -> bytes | None
    facts = extract_asm(relpath, data, ctx)

``arch`` is the arch directory name (``x86``, ``arm64``...); for a .S outside
``arch/`` pass the arch being analysed. The facts then depend on the headers too:
key a cache on the file's hash plus ``ctx.digest`` (or re-extract when any path
the resolution looked up changes). Symbols and registrations written in a header
(``DECLARE_IDTENTRY(...)`` lines in idtentry.h) carry the header's path and line.

Known approximations: gas ``.if`` is not evaluated (both sides are scanned, and
recursive macros stop at their second level); ``\\@`` numbering is approximate;
a section changed in one ``#if`` branch continues after ``#endif`` with the
state of the first live branch.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterable, Mapping

from kpanalyze.facts import AsmSymbol, FileFacts, Registration

__all__ = [
    "AsmHeader",
    "AsmMacros",
    "scan_asm_header",
    "include_candidates",
    "build_asm_context",
    "extract_asm",
    "arch_of_path",
]

# ---------------------------------------------------------------------------
# Lexical layer: bytes -> logical lines (comments removed, continuations joined)

_COMMENT_RE = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"', re.S)
_DIRECTIVE_RE = re.compile(r"\s*#\s*([A-Za-z_]\w*)?(.*)\Z", re.S)
_CPP_DIRECTIVES = frozenset(
    "define undef include include_next if ifdef ifndef elif else endif error warning pragma line".split()
)
# Names that are always defined while preprocessing kernel assembly
# (-D__ASSEMBLY__ -D__KERNEL__, and gcc's own __ASSEMBLER__).
_ASM_TRUE_NAMES = frozenset({"__ASSEMBLY__", "__ASSEMBLER__", "__KERNEL__"})


def _strip_comments(text: str) -> str:
    def repl(m: re.Match) -> str:
        s = m.group(0)
        if s[0] == '"':
            return s
        return " " + "\n" * s.count("\n")  # keep line numbers

    if "/" not in text:
        return text
    return _COMMENT_RE.sub(repl, text)


def _logical_lines(data: bytes) -> list[tuple[int, str]]:
    """(first line number, text) per logical line: comments gone, `\\`-newlines joined."""
    text = data.decode("utf-8", "replace").replace("\r\n", "\n")
    text = _strip_comments(text)
    out: list[tuple[int, str]] = []
    buf: list[str] = []
    start = 0
    for i, raw in enumerate(text.split("\n"), 1):
        if not buf:
            start = i
        if raw.endswith("\\"):
            buf.append(raw[:-1])
            continue
        buf.append(raw)
        line = " ".join(buf) if len(buf) > 1 else buf[0]
        buf = []
        if line.strip():
            out.append((start, line))
    if buf:
        out.append((start, " ".join(buf)))
    return _join_open_parens(out)


def _paren_balance(text: str) -> int:
    if "(" not in text and ")" not in text:
        return 0
    text = re.sub(r'"(?:\\.|[^"\\])*"', "", text)
    return text.count("(") - text.count(")")


def _join_open_parens(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """cpp reads a macro call's arguments across lines: join a line whose parens are
    open with the following ones (never across directives, at most 30 lines)."""
    out: list[tuple[int, str]] = []
    i, n = 0, len(lines)
    while i < n:
        ln, text = lines[i]
        bal = _paren_balance(text)
        if bal > 0 and not text.lstrip().startswith("#"):
            j, acc = i + 1, [text]
            while j < n and j - i <= 30 and bal > 0 and not lines[j][1].lstrip().startswith("#"):
                acc.append(lines[j][1])
                bal += _paren_balance(lines[j][1])
                j += 1
            if bal == 0:
                out.append((ln, " ".join(acc)))
                i = j
                continue
        out.append((ln, text))
        i += 1
    return out


# ---------------------------------------------------------------------------
# Condition handling (shared by the header pre-scan and the interpreter)

def _split_top(expr: str, op: str) -> list[str]:
    parts, depth, last, i, n = [], 0, 0, 0, len(expr)
    while i < n:
        c = expr[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif depth == 0 and expr.startswith(op, i):
            parts.append(expr[last:i])
            i += len(op)
            last = i
            continue
        i += 1
    parts.append(expr[last:])
    return [p.strip() for p in parts]


def _strip_parens(expr: str) -> str:
    expr = expr.strip()
    while expr.startswith("(") and expr.endswith(")"):
        depth = 0
        for i, c in enumerate(expr):
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0 and i != len(expr) - 1:
                    return expr
        expr = expr[1:-1].strip()
    return expr


_DEFINED_RE = re.compile(r"defined\s*\(\s*(\w+)\s*\)\Z|defined\s+(\w+)\Z")


def _norm_expr(expr: str) -> str:
    expr = " ".join(expr.split())
    return re.sub(r"defined\s+(\w+)", r"defined(\1)", expr)


@lru_cache(maxsize=8192)
def _compile(expr: str) -> tuple:
    """A #if expression as a tree of what assembly mode can decide."""
    e = _strip_parens(expr)
    if not e:
        return ("?",)
    for op, tag in (("||", "or"), ("&&", "and")):
        parts = _split_top(e, op)
        if len(parts) > 1:
            return (tag, tuple(_compile(p) for p in parts))
    if e.startswith("!") and not e.startswith("!="):
        return ("not", _compile(e[1:]))
    m = _DEFINED_RE.match(e)
    if m:
        return ("def", m.group(1) or m.group(2))
    if e in _ASM_TRUE_NAMES or e == "1":
        return ("const", True)
    if e == "0":
        return ("const", False)
    return ("?",)


def _run(tree: tuple, is_defined: Callable[[str], bool | None]) -> bool | None:
    tag = tree[0]
    if tag == "?":
        return None
    if tag == "const":
        return tree[1]
    if tag == "def":
        return is_defined(tree[1])
    if tag == "not":
        v = _run(tree[1], is_defined)
        return None if v is None else not v
    vals = [_run(t, is_defined) for t in tree[1]]
    if tag == "or":
        if True in vals:
            return True
        return False if all(v is False for v in vals) else None
    if False in vals:
        return False
    return True if all(v is True for v in vals) else None


def _eval(expr: str, is_defined: Callable[[str], bool | None]) -> bool | None:
    """Tri-state value of a #if expression: only what assembly mode decides."""
    return _run(_compile(expr), is_defined)


def _static_defined(name: str) -> bool | None:
    return True if name in _ASM_TRUE_NAMES else None


def _canon(atom: str) -> str:
    """`!(!(E))` -> `E`, `!(defined(X))` -> `!defined(X)`: one spelling per literal."""
    atom = _strip_parens(atom)
    neg = False
    while atom.startswith("!") and not atom.startswith("!="):
        atom = _strip_parens(atom[1:])
        neg = not neg
    return "!" + atom if neg else atom


@lru_cache(maxsize=4096)
def _atoms(cond: str) -> frozenset[str]:
    return frozenset(_canon(p) for p in _split_top(_strip_parens(cond), "&&"))


def _compatible(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """False if one condition stack plainly contradicts the other (X vs !(X))."""
    if not a or not b:
        return True
    atoms_a: set[str] = set()
    for c in a:
        atoms_a |= _atoms(c)
    for c in b:
        for x in _atoms(c):
            if (x[1:] if x.startswith("!") else "!" + x) in atoms_a:
                return False
    return True


def _merge(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    if not b:
        return a
    if not a:
        return b
    return a + tuple(c for c in b if c not in a)


class _CondStack:
    """#if nesting for one file; branch conditions per KPanalyze facts convention."""

    __slots__ = ("frames", "is_defined", "errors")

    def __init__(self, is_defined: Callable[[str], bool | None]):
        # frame: [live_parent, unknown_prev_exprs, taken, live, cond_or_None]
        self.frames: list[list] = []
        self.is_defined = is_defined
        self.errors = 0

    @property
    def live(self) -> bool:
        return not self.frames or self.frames[-1][3]

    def conds(self) -> tuple[str, ...]:
        return tuple(f[4] for f in self.frames if f[4] is not None)

    def _branch(self, frame: list, expr: str | None) -> None:
        prev = frame[1]
        if frame[2] or not frame[0]:
            frame[3], frame[4] = False, None
            return
        val = None if expr is None else _eval(expr, self.is_defined)
        if val is False:
            frame[3], frame[4] = False, None
            if expr is not None:
                return
        pieces = [f"!({p})" for p in prev]
        if expr is not None and val is None:
            pieces.append(f"({expr})" if pieces else expr)
        frame[3] = True
        frame[4] = " && ".join(pieces) if pieces else None
        if expr is not None:
            if val is True:
                frame[2] = True
            elif val is None:
                prev.append(expr)
        else:
            frame[2] = True

    def directive(self, word: str, rest: str) -> bool:
        """Apply a conditional directive; True if `word` was one."""
        if word in ("if", "ifdef", "ifndef"):
            arg = rest.strip()
            if word == "ifdef":
                expr = f"defined({arg.split()[0] if arg else ''})"
            elif word == "ifndef":
                expr = f"!defined({arg.split()[0] if arg else ''})"
            else:
                expr = _norm_expr(arg)
            frame = [self.live, [], False, False, None]
            self.frames.append(frame)
            self._branch(frame, expr)
            return True
        if word == "elif":
            if not self.frames:
                self.errors += 1
                return True
            self._branch(self.frames[-1], _norm_expr(rest.strip()))
            return True
        if word == "else":
            if not self.frames:
                self.errors += 1
                return True
            self._branch(self.frames[-1], None)
            return True
        if word == "endif":
            if self.frames:
                self.frames.pop()
            else:
                self.errors += 1
            return True
        return False


# ---------------------------------------------------------------------------
# Headers and the context the caller passes in

_INCLUDE_RE = re.compile(r'\s*(<[^>]+>|"[^"]+")')


@dataclass(frozen=True)
class AsmHeader:
    """One header (or included .S) as seen from assembly, pre-scanned once.

    ``lines`` are its logical lines pre-parsed into ops (see ``_prescan``), C-only
    regions (``#ifndef __ASSEMBLY__``) left out; ``includes`` are the
    spellings (``<asm/foo.h>``, ``"calling.h"``) of its assembly-visible includes;
    ``guard`` is its include-guard macro, if any."""

    path: str
    lines: tuple[tuple, ...]
    includes: tuple[str, ...]
    guard: str = ""
    digest: str = ""
    # For a header that only defines things (no asm statement, #if only on CONFIG_*):
    # its definitions in order, (line, kind, a, b, local conditions), replayed
    # without re-running its #if machinery. None otherwise.
    effects: tuple | None = None


_CONSTANT_BODY = frozenset("0123456789(~-")


def _parse_define(rest: str):
    """`NAME(params) body` -> (name, params or None, variadic name, body), or None."""
    m = _DEFINE_RE.match(rest)
    if not m:
        return None
    name, params, body = m.group(1), m.group(2), m.group(3).strip()
    plist: tuple[str, ...] | None = None
    variadic = ""
    if params is not None:
        out = []
        for p in params[1:-1].split(","):
            p = p.strip()
            if not p:
                continue
            if p == "...":
                variadic = "__VA_ARGS__"
                out.append(variadic)
            elif p.endswith("..."):
                variadic = p[:-3].strip()
                out.append(variadic)
            else:
                out.append(p)
        plist = tuple(out)
    return name, plist, variadic, body


def _prescan(data: bytes, header: bool = False) -> tuple[list[tuple], list[str], str]:
    """Logical lines -> ops (line, kind, a, b); kinds: "c" #if-family (word, rest),
    "d" #define (parsed), "u" #undef (name), "i" #include (spelling), "s" asm text.
    C-only regions are dropped (their #if/#else/#endif kept for balance); in headers,
    numeric constants (`#define X 0x10`, `(1 << 3)`) are dropped too: they never
    name a label or start a statement, and there are thousands of them."""
    lines = _logical_lines(data)
    conds = _CondStack(_static_defined)
    ops: list[tuple] = []
    includes: list[str] = []
    guard = ""
    directives_seen = 0
    for ln, text in lines:
        if "#" in text and text.lstrip().startswith("#"):
            m = _DIRECTIVE_RE.match(text)
            word = (m.group(1) or "") if m else ""
            if word not in _CPP_DIRECTIVES:
                continue  # '# comment' lines
            rest = m.group(2)
            directives_seen += 1
            if directives_seen == 1 and word == "ifndef":
                guard = rest.split()[0] if rest.split() else ""
            elif directives_seen == 2 and guard:
                if not (word == "define" and rest.split()[:1] == [guard]):
                    guard = ""
            if conds.directive(word, rest):
                ops.append((ln, "c", word, rest))
                continue
            if not conds.live:
                continue
            if word == "define":
                d = _parse_define(rest)
                if d is None:
                    ops.append((ln, "e", "malformed #define", None))
                elif header and d[1] is None and d[3] and d[3][0] in _CONSTANT_BODY:
                    continue
                else:
                    ops.append((ln, "d", d, None))
            elif word == "undef":
                ops.append((ln, "u", rest.split()[0] if rest.split() else "", None))
            elif word in ("include", "include_next"):
                mi = _INCLUDE_RE.match(rest)
                if mi:
                    includes.append(mi.group(1))
                    ops.append((ln, "i", mi.group(1), None))
            continue  # #error, #warning, #pragma, #line
        if conds.live:
            ops.append((ln, "s", text, None))
    if directives_seen < 2:
        guard = ""
    return _group_macros(ops), includes, guard


_MACRO_LINE_RE = re.compile(r"\s*\.macro\s", re.I)
_ENDM_LINE_RE = re.compile(r"\s*\.endm\b", re.I)


def _group_macros(ops: list[tuple]) -> list[tuple]:
    """Fold a `.macro ... .endm` with no cpp directive inside into one op
    (line, "m", head, body texts): headers are replayed for every .S file, and
    re-collecting their macro bodies line by line dominated the scan."""
    out: list[tuple] = []
    i, n = 0, len(ops)
    while i < n:
        op = ops[i]
        if op[1] == "s" and _MACRO_LINE_RE.match(op[2]) and ";" not in op[2]:
            depth, j, body = 0, i + 1, []
            while j < n and ops[j][1] == "s":
                t = ops[j][2]
                if _MACRO_LINE_RE.match(t):
                    depth += 1
                elif _ENDM_LINE_RE.match(t):
                    if depth == 0:
                        break
                    depth -= 1
                body.append(t)
                j += 1
            if j < n and ops[j][1] == "s" and depth == 0 and ";" not in ops[j][2]:
                head = op[2].strip()[6:].strip()
                out.append((op[0], "m", head, tuple(body)))
                i = j + 1
                continue
        out.append(op)
        i += 1
    return out


def _def_names(tree: tuple):
    if tree[0] == "def":
        yield tree[1]
    elif tree[0] == "not":
        yield from _def_names(tree[1])
    elif tree[0] in ("and", "or"):
        for t in tree[1]:
            yield from _def_names(t)


def _header_effects(ops: list[tuple], guard: str) -> tuple | None:
    conds = _CondStack(_static_defined)
    out: list[tuple] = []
    first = True
    for ln, kind, a, b in ops:
        if kind == "c":
            if first and guard and a == "ifndef" and b.split()[:1] == [guard]:
                conds.frames.append([True, [], True, True, None])
                first = False
                continue
            expr = b.strip()
            if a in ("ifdef", "ifndef"):
                names = [expr.split()[0]] if expr.split() else []
            elif a in ("if", "elif"):
                names = list(_def_names(_compile(_norm_expr(expr))))
            else:
                names = []
            for n in names:  # a #define seen earlier in the .S could decide it
                if not (n.startswith("CONFIG_") or n in _ASM_TRUE_NAMES):
                    return None
            conds.directive(a, b)
        elif conds.live:
            if kind == "s":
                return None
            out.append((ln, kind, a, b, conds.conds()))
        first = False
    return tuple(out)


def scan_asm_header(path: str, data: bytes) -> AsmHeader:
    """Pre-scan one header for use in an :class:`AsmMacros` (cache it by content)."""
    ops, includes, guard = _prescan(data, header=True)
    return AsmHeader(path, tuple(ops), tuple(includes), guard, hashlib.sha1(data).hexdigest(),
                     _header_effects(ops, guard))


@dataclass(frozen=True)
class AsmMacros:
    """Headers visible to one .S file, for :func:`extract_asm`.

    ``headers``: tree path -> :class:`AsmHeader`; ``resolved``: (including path,
    spelling as written) -> tree path of the header. Built by
    :func:`build_asm_context`; ``digest`` changes when any of these headers does."""

    headers: Mapping[str, AsmHeader] = field(default_factory=dict)
    resolved: Mapping[tuple[str, str], str] = field(default_factory=dict)
    arch: str = ""
    missing: tuple[str, ...] = ()  # spellings no candidate was found for (generated headers)
    digest: str = ""


def arch_of_path(path: str) -> str:
    parts = path.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "arch" else ""


def include_candidates(spelling: str, includer: str, arch: str) -> list[str]:
    """Tree paths an #include may resolve to, in the kernel's -I order."""
    if len(spelling) < 3:
        return []
    name = spelling[1:-1].strip()
    bases: list[str] = []
    if spelling[0] == '"':
        bases.append(posixpath.dirname(includer))
    if arch:
        bases.append(f"arch/{arch}/include")
    bases.append("include")
    if arch:
        bases.append(f"arch/{arch}/include/uapi")
    bases.append("include/uapi")
    out = []
    for b in bases:
        p = posixpath.normpath(posixpath.join(b, name)) if b else posixpath.normpath(name)
        if not p.startswith("..") and p not in out:
            out.append(p)
    if name.startswith("asm/"):  # Kbuild generic-y / mandatory-y wrappers
        for p in (f"include/asm-generic/{name[4:]}", f"include/uapi/asm-generic/{name[4:]}"):
            if p not in out:
                out.append(p)
    return out


def build_asm_context(
    path: str,
    data: bytes,
    arch: str,
    read: Callable[[str], bytes | None],
    cache: dict | None = None,
) -> AsmMacros:
    """Resolve the assembly-visible #include closure of one .S file.

    ``read(tree_path)`` returns a file's bytes or None; ``cache`` (optional, shared
    across calls) maps tree path -> AsmHeader | None so headers are scanned once."""
    if cache is None:
        cache = {}
    arch = arch or arch_of_path(path)
    headers: dict[str, AsmHeader] = {}
    resolved: dict[tuple[str, str], str] = {}
    missing: list[str] = []

    def get(p: str) -> AsmHeader | None:
        if p not in cache:
            b = read(p)
            cache[p] = None if b is None else scan_asm_header(p, b)
        return cache[p]

    _, top_includes, _ = _prescan(data)
    todo: list[tuple[str, list[str] | tuple[str, ...]]] = [(path, top_includes)]
    seen: set[str] = {path}
    while todo:
        includer, spellings = todo.pop()
        for sp in spellings:
            hit = None
            for cand in include_candidates(sp, includer, arch):
                h = get(cand)
                if h is not None:
                    hit = h
                    break
            if hit is None:
                if sp not in missing:
                    missing.append(sp)
                continue
            resolved[(includer, sp)] = hit.path
            if hit.path not in seen:
                seen.add(hit.path)
                headers[hit.path] = hit
                todo.append((hit.path, hit.includes))
    h = hashlib.sha1(arch.encode())
    for p in sorted(headers):
        h.update(p.encode() + b"\0" + headers[p].digest.encode() + b"\0")
    for k in sorted(resolved):
        h.update(f"{k[0]}|{k[1]}|{resolved[k]}\0".encode())
    return AsmMacros(headers, resolved, arch, tuple(missing), h.hexdigest())


# ---------------------------------------------------------------------------
# Interpreter

_IDENT = r"[A-Za-z_.$][\w.$]*"
_LABEL_RE = re.compile(r"\s*(" + _IDENT + r"|\d+)\s*:(?![:=])")
_SPECIAL_RE = re.compile(r'[";()`!]')
_ARG_ASSIGN_RE = re.compile(r"\s*\\\w+\s*=")
_LABEL_ANY_RE = re.compile(r"\s*([\w.$\\@()#]+)\s*:(?![:=])")
_HEAD_RE = re.compile(r"\s*([A-Za-z_.$][\w.$]*)")
_NAME_RE = re.compile(_IDENT + r"\Z")
_DEFINE_RE = re.compile(r"\s*([A-Za-z_]\w*)(\([^)]*\))?(.*)\Z", re.S)
_GAS_SUBST_RE = re.compile(r"\\(\(\)|@|\w+)")
_CALL_IN_TEXT_RE = re.compile(r"[A-Za-z_]\w*(?=\s*\()")

# Line comment characters of gas, per arch directory (C comments are gone already).
_LINE_COMMENT = {
    "x86": "#", "um": "#", "powerpc": "#", "riscv": "#", "mips": "#", "s390": "#",
    "alpha": "#", "xtensa": "#", "microblaze": "#", "nios2": "#", "openrisc": "#",
    "loongarch": "#", "csky": "#", "arm": "@", "sparc": "!", "sh": "!",
    "parisc": ";", "arc": ";", "m68k": "|",
}
_NO_SEMICOLON_SEP = frozenset({"parisc", "arc"})

# Section macros of include/linux/init.h and linkage.h, used when no #define is visible.
_BUILTIN_SECTION_MACROS = {
    "__HEAD": '.section ".head.text","ax"',
    "__INIT": '.section ".init.text","ax"',
    "__FINIT": ".previous",
    "__INITDATA": '.section ".init.data","aw",%progbits',
    "__INITRODATA": '.section ".init.rodata","a",%progbits',
    "__FINITDATA": ".previous",
    "__REF": '.section ".ref.text", "ax"',
    "__REFDATA": '.section ".ref.data", "aw"',
    "__PAGE_ALIGNED_DATA": '.section ".data..page_aligned", "aw"',
    "__PAGE_ALIGNED_BSS": '.section ".bss..page_aligned", "aw"',
}

# Built-in label macros: name -> (name arg index, linkage: "global"/"local"/arg index,
# kind: "func"/"data"/"section").
_LABEL_MACROS: dict[str, tuple[int, object, str]] = {}
for _n in ("SYM_FUNC_START", "SYM_FUNC_START_NOALIGN", "SYM_FUNC_START_WEAK",
           "SYM_FUNC_START_WEAK_NOALIGN", "SYM_TYPED_FUNC_START", "SYM_CODE_START",
           "SYM_CODE_START_NOALIGN", "ENTRY", "GLOBAL", "WEAK", "_GLOBAL", "_GLOBAL_TOC",
           "_GLOBAL_TOC_KASAN", "LEAF", "NESTED", "GLOBAL_ENTRY", "ENTRY_CFI"):
    _LABEL_MACROS[_n] = (0, "global", "func")
for _n in ("SYM_FUNC_START_LOCAL", "SYM_FUNC_START_LOCAL_NOALIGN", "SYM_CODE_START_LOCAL",
           "SYM_CODE_START_LOCAL_NOALIGN"):
    _LABEL_MACROS[_n] = (0, "local", "func")
for _n in ("SYM_INNER_LABEL", "SYM_INNER_LABEL_ALIGN", "SYM_START", "SYM_ENTRY",
           "SYM_TYPED_START", "SYM_TYPED_ENTRY"):
    _LABEL_MACROS[_n] = (0, 1, "section")
for _n in ("SYM_DATA_START", "SYM_DATA_START_PAGE_ALIGNED", "SYM_DATA_START_PTI_ALIGNED",
           "SYM_DATA"):
    _LABEL_MACROS[_n] = (0, "global", "data")
for _n in ("SYM_DATA_START_LOCAL", "SYM_DATA_LOCAL"):
    _LABEL_MACROS[_n] = (0, "local", "data")
_LABEL_MACROS["SYM_DATA_END_LABEL"] = (2, 1, "data")
_LABEL_MACROS["SYM_FUNC_ALIAS"] = (0, "global", "func")
_LABEL_MACROS["SYM_FUNC_ALIAS_WEAK"] = (0, "global", "func")
_LABEL_MACROS["SYM_FUNC_ALIAS_LOCAL"] = (0, "local", "func")
_LABEL_MACROS["SYM_ALIAS"] = (0, 2, "section")

_REGISTRATION_MACROS = frozenset({"_ASM_NOKPROBE", "NOKPROBE", "_ASM_NOKPROBE_SYMBOL"})
_EXPORT_MACROS = frozenset({"EXPORT_SYMBOL", "EXPORT_SYMBOL_GPL", "EXPORT_SYMBOL_NOKASAN",
                            "_ASM_EXPORT", "EXPORT_SYMBOL_NS", "EXPORT_SYMBOL_NS_GPL"})
_IGNORED_MACROS = frozenset({"SYM_FUNC_END", "SYM_CODE_END", "SYM_DATA_END", "SYM_END",
                             "END", "ENDPROC", "SYM_FUNC_END_ALIAS", "SYM_FUNC_END_PI"})

_DATA_PREFIXES = (".data", ".rodata", ".bss", ".init.data", ".init.rodata", ".ref.data",
                  ".meminit.data", ".exit.data", ".head.data", "__ex_table", ".discard",
                  ".note", ".comment", "__bug_table", "_kprobe_blacklist", ".altinstructions",
                  ".smp_locks", ".parainstructions", ".opd", ".toc", ".got", ".sdata", ".sbss",
                  ".tbss", ".tdata", "__ksymtab", "___ksymtab", "__param", ".init.setup",
                  ".initcall", ".con_initcall", ".static_call_sites", ".return_sites",
                  ".call_sites", ".ibt_endbr_seal", ".retpoline_sites", ".orc_",
                  ".apicdrivers", ".x86_cpu_dev", ".init.ramfs", ".init_array",
                  "__jump_table", ".fixup_table", ".pci_fixup")

_MAX_DEPTH = 24
_MAX_ALTERNATIVES = 16
_MAX_EXPANSIONS = 200_000  # per file: cpp + gas expansions (alternatives multiply)


@dataclass(eq=False)  # identity-hashed: memo keys
class _CppDef:
    name: str
    params: tuple[str, ...] | None  # None: object-like
    variadic: str  # name of the variadic parameter ("" if none)
    body: str
    conds: tuple[str, ...]
    path: str
    line: int


@dataclass(eq=False)
class _GasDef:
    name: str
    params: list[tuple[str, str | None, bool, bool]]  # (name, default, required, vararg)
    body: list[tuple[str, tuple[str, ...]]]  # (text, conditions relative to the def)
    conds: tuple[str, ...]
    path: str
    line: int


@dataclass
class _Site:
    """Where an expansion was written (what facts cite), and through which macro."""

    path: str
    line: int
    conds: tuple[str, ...]
    via: str = ""
    via_path: str = ""
    via_line: int = 0


class _Block:
    """A .macro/.irp/.rept being collected."""

    __slots__ = ("kind", "head", "site", "lines", "depth", "alt_heads")

    def __init__(self, kind: str, head: str, site: _Site):
        self.kind, self.head, self.site = kind, head, site
        self.lines: list[tuple[str, tuple[str, ...]]] = []
        self.depth = 0
        # `#ifdef X / .macro m a, b / #else / .macro m b, a / #endif`: one body, two heads
        self.alt_heads: list[tuple[str, _Site]] = []


def _split_args(s: str) -> list[str]:
    """Top-level comma split of a cpp argument list (without the outer parens)."""
    out, depth, cur = [], 0, []
    for c in s:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
            continue
        cur.append(c)
    out.append("".join(cur).strip())
    return out


def _call_args(text: str, start: int) -> tuple[list[str], int] | None:
    """Parse `( ... )` at text[start:] (start at the paren); (args, end index)."""
    depth = 0
    for i in range(start, len(text)):
        c = text[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                inner = text[start + 1:i]
                return (_split_args(inner) if inner.strip() else []), i + 1
    return None


def _gas_args(s: str) -> list[str]:
    """gas macro arguments: separated by commas or blanks; quotes and parens kept."""
    args: list[str] = []
    cur: list[str] = []
    depth = 0
    quote = False
    blank = False
    prev = ""
    for c in s:
        if quote:
            cur.append(c)
            if c == '"' and prev != "\\":
                quote = False
            prev = c
            continue
        prev = c
        if c == '"':
            if blank and cur:
                args.append("".join(cur))
                cur = []
            blank = False
            quote = True
            cur.append(c)
            continue
        if depth == 0 and c == ",":
            args.append("".join(cur))
            cur, blank = [], False
            continue
        if depth == 0 and c in " \t":
            if cur:
                blank = True
            continue
        if blank and cur and c != "=" and not (cur and cur[-1] == "="):
            args.append("".join(cur))
            cur = []
        blank = False
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        cur.append(c)
    if cur or (args and s.rstrip().endswith(",")):
        args.append("".join(cur))
    return [a.strip() for a in args]


@lru_cache(maxsize=4096)
def _parse_macro_head(head: str):
    """`name arg1, arg2:req, arg3=default, rest:vararg` -> (name, params)."""
    parts = head.split(None, 1)
    if not parts:
        return None
    name = parts[0].rstrip(",")
    rest = parts[1] if len(parts) > 1 else ""
    if "," in name:  # `.macro name,arg`
        name, extra = name.split(",", 1)
        rest = extra + "," + rest
    params = []
    for a in _gas_args(rest):
        if not a:
            continue
        default = None
        req = vararg = False
        if "=" in a:
            a, default = a.split("=", 1)
        if ":" in a:
            a, q = a.split(":", 1)
            req, vararg = q.strip() == "req", q.strip() == "vararg"
        params.append((a.strip(), default.strip() if default is not None else None, req, vararg))
    return name, tuple(params)


def _section_name(arg: str) -> str:
    arg = arg.strip()
    if arg.startswith('"'):
        end = arg.find('"', 1)
        return arg[1:end] if end > 0 else arg[1:]
    name = re.split(r"[,\s]", arg, 1)[0]
    return name.strip('"') or ".text"


def _section_flags(arg: str) -> str | None:
    m = re.match(r'\s*("[^"]*"|[^,]*)\s*,\s*"([^"]*)"', arg)
    return m.group(2) if m else None


def _is_data_section(name: str, flags: str | None) -> bool:
    if flags is not None:
        return "x" not in flags
    return name.startswith(_DATA_PREFIXES)


class _Interp:
    def __init__(self, path: str, ctx: AsmMacros | None):
        self.path = path
        self.ctx = ctx
        arch = arch_of_path(path) or (ctx.arch if ctx else "")
        self.comment_char = _LINE_COMMENT.get(arch, "")
        self.sep = "" if arch in _NO_SEMICOLON_SEP else ";"
        self.cpp: dict[str, list[_CppDef]] = {}
        self.gas: dict[str, list[_GasDef]] = {}
        self.section = ".text"
        self.previous = ".text"
        self.flags: dict[str, str | None] = {}
        self.stack: list[tuple[str, str]] = []
        self.globals: set[str] = set()
        self.types: dict[str, str] = {}
        self.symbols: list[tuple] = []
        self.regs: list[Registration] = []
        self.exports: list[str] = []
        self.object_macros: list[str] = []
        self.warnings: list[str] = []
        self.errors = 0
        self.guards: set[str] = set()
        self.including: list[str] = []
        self.block: _Block | None = None
        self.counter = 0
        self.budget = _MAX_EXPANSIONS
        self.memo: dict[object, bool] = {}
        self.memo_gen: dict[object, int] = {}
        self.generation = 0  # bumped per gas macro definition (invalidates "not interesting")

    _STATE = ("cpp", "gas", "section", "previous", "flags", "stack", "globals", "types",
              "symbols", "regs", "exports", "warnings", "errors", "guards", "counter",
              "budget", "memo", "memo_gen", "generation")

    def snapshot(self) -> tuple:
        # Macro tables map names to lists that are replaced, never mutated: a shallow
        # copy of each container is a faithful copy.
        return tuple(v.copy() if hasattr(v, "copy") else v
                     for v in (getattr(self, k) for k in self._STATE))

    def restore(self, snap: tuple) -> None:
        for k, v in zip(self._STATE, snap):
            setattr(self, k, v.copy() if hasattr(v, "copy") else v)

    def err(self, site: _Site, msg: str) -> None:
        self.errors += 1
        self.warnings.append(f"{site.path}:{site.line}: {msg}")

    # -- cpp ------------------------------------------------------------

    def is_defined(self, name: str, conds: tuple[str, ...] = ()) -> bool | None:
        """`defined(X)` is known true when a visible #define of X applies here."""
        if name in _ASM_TRUE_NAMES:
            return True
        for d in self.cpp.get(name, ()):
            if conds[: len(d.conds)] == d.conds:
                return True
        return None

    def run_file(self, path: str, ops: Iterable[tuple], outer: tuple[str, ...],
                 guard: str = "") -> None:
        conds = _CondStack(lambda n: self.is_defined(n, outer + conds.conds()))
        forks: list[list] = []  # per #if: [state at #if, state after the first live branch]
        guard_pending = bool(guard)
        cur = outer
        live = True
        ln = 0
        for ln, kind, a, b in ops:
            if kind == "s":
                guard_pending = False
                if live:
                    self.feed(a, _Site(path, ln, cur))
                continue
            if kind == "c":
                if guard_pending and a == "ifndef" and b.split()[:1] == [guard]:
                    conds.frames.append([True, [], True, True, None])  # the include guard
                    guard_pending = False
                    continue
                guard_pending = False
                before = conds.errors
                self.fork_sections(a, forks, conds.live)
                conds.directive(a, b)
                if conds.errors != before:
                    self.warnings.append(f"{path}:{ln}: #{a} without #if")
                live = conds.live
                cur = outer + conds.conds() if live else cur
                continue
            guard_pending = False
            if live:
                self.effect(path, ln, kind, a, b, cur)
        self.errors += conds.errors
        if conds.frames and not (len(conds.frames) == 1 and guard):
            self.warnings.append(f"{path}:{ln}: unterminated #if")
            self.errors += 1

    def macro_op(self, ln: int, head: str, body: tuple[str, ...], path: str,
                 cur: tuple[str, ...]) -> None:
        site = _Site(path, ln, cur)
        replay = self.block is not None
        if not replay:
            for t in body:  # a body line that is a cpp macro could hold the .endm
                m = _HEAD_RE.match(t)
                if m and m.group(1) in self.cpp:
                    replay = True
                    break
        if replay:
            self.feed(".macro " + head, site)
            for t in body:
                self.feed(t, site)
            self.feed(".endm", site)
            return
        if self.comment_char and self.comment_char in head:
            head = self._strip_line_comment(head)
        self.define_gas(head, [(t, ()) for t in body], site)

    def fork_sections(self, word: str, forks: list[list], live: bool) -> None:
        """Each #if branch starts from the section state at the #if; after #endif the
        state is the one the first live branch left (the `#ifdef CONFIG_X` side)."""
        state = (self.section, self.previous, tuple(self.stack))
        if word in ("if", "ifdef", "ifndef"):
            forks.append([state, None])
            return
        if not forks:
            return
        fork = forks[-1]
        if live and fork[1] is None:
            fork[1] = state
        if word == "endif":
            forks.pop()
            state = fork[1] or state
        else:
            state = fork[0]
        self.section, self.previous, stack = state
        self.stack = list(stack)

    def define(self, parsed: tuple, conds: tuple[str, ...], path: str, line: int) -> None:
        name, plist, variadic, body = parsed
        if path == self.path:
            self.object_macros.append(name)
        old = self.cpp.get(name)
        d = _CppDef(name, plist, variadic, body, conds, path, line)
        if old is None:
            self.cpp[name] = [d]
        else:
            self.cpp[name] = [o for o in old if o.conds != conds] + [d]

    def include(self, includer: str, spelling: str, conds: tuple[str, ...], line: int) -> None:
        if self.ctx is None:
            return
        target = self.ctx.resolved.get((includer, spelling))
        hdr = self.ctx.headers.get(target) if target else None
        if hdr is None or hdr.path in self.including or len(self.including) > 40:
            return
        if hdr.guard:
            if hdr.guard in self.guards:
                return
            self.guards.add(hdr.guard)
        self.including.append(hdr.path)
        try:
            if hdr.effects is not None:
                self.replay(hdr.path, hdr.effects, conds)
            else:
                self.run_file(hdr.path, hdr.lines, conds, hdr.guard)
        finally:
            self.including.pop()

    def replay(self, path: str, effects: tuple, outer: tuple[str, ...]) -> None:
        for ln, kind, a, b, local in effects:
            self.effect(path, ln, kind, a, b, outer + local if outer and local else (local or outer))

    def effect(self, path: str, ln: int, kind: str, a, b, cur: tuple[str, ...]) -> None:
        """Apply one live directive or macro op of a file (or of a header's replayed effects)."""
        if kind == "d":
            self.define(a, cur, path, ln)
        elif kind == "m":
            self.macro_op(ln, a, b, path, cur)
        elif kind == "i":
            self.include(path, a, cur, ln)
        elif kind == "u":
            self.undef(a, cur)
        elif kind == "e":
            self.err(_Site(path, ln, cur), a)

    def undef(self, name: str, cur: tuple[str, ...]) -> None:
        if not cur:
            self.cpp.pop(name, None)
            return
        keep = [d for d in self.cpp.get(name, ()) if d.conds != cur]
        if keep:
            self.cpp[name] = keep
        else:
            self.cpp.pop(name, None)

    def alternatives(self, defs: list, conds: tuple[str, ...]) -> list:
        alts = [d for d in defs if _compatible(conds, d.conds)]
        return alts[-_MAX_ALTERNATIVES:]

    def expand_cpp(self, d: _CppDef, args: list[str], active: frozenset) -> str:
        if d.params is None:
            return d.body
        params = d.params
        bind: dict[str, str] = {}
        n = len(params)
        for i, p in enumerate(params):
            if d.variadic and p == d.variadic and i == n - 1:
                bind[p] = ", ".join(args[i:])
            else:
                bind[p] = args[i] if i < len(args) else ""
        body = d.body
        if not params:
            return body
        if "#" not in body:
            # Fast path: no pasting, substitute (pre-expanded) arguments.
            return re.sub(r"[A-Za-z_]\w*",
                          lambda m: self.inline(bind[m.group(0)], active) if m.group(0) in bind
                          else m.group(0), body)
        out: list[str] = []
        pieces = re.split(r"([A-Za-z_]\w*|##|#)", body)
        i = 0
        while i < len(pieces):
            tok = pieces[i]
            if tok == "#" and i + 2 < len(pieces) and not pieces[i + 1].strip() \
                    and pieces[i + 2] in bind:
                # `#param`: stringify the raw argument
                raw = bind[pieces[i + 2]].replace('"', '\\"')
                out.append('"' + raw + '"')
                i += 3
                continue
            if tok in bind:
                left = "".join(pieces[:i]).rstrip().endswith("##")
                right = "".join(pieces[i + 1:]).lstrip().startswith("##")
                out.append(bind[tok] if (left or right) else self.inline(bind[tok], active))
            else:
                out.append(tok)
            i += 1
        return re.sub(r"\s*##\s*", "", "".join(out))

    def inline(self, text: str, active: frozenset, conds: tuple[str, ...] = ()) -> str:
        """Expand function-like macro calls anywhere in text (argument pre-expansion)."""
        if "(" not in text:
            return text
        for _ in range(8):
            changed = False
            for m in _CALL_IN_TEXT_RE.finditer(text):
                name = m.group(0)
                if name in active or name in _LABEL_MACROS or name in _REGISTRATION_MACROS:
                    continue
                defs = self.cpp.get(name)
                if not defs:
                    continue
                alts = [d for d in self.alternatives(defs, conds) if d.params is not None]
                if not alts:
                    continue
                paren = text.index("(", m.end())
                parsed = _call_args(text, paren)
                if parsed is None:
                    continue
                args, end = parsed
                rep = self.expand_cpp(alts[-1], args, active | {name})
                text = text[: m.start()] + rep + text[end:]
                changed = True
                break
            if not changed:
                break
        return text

    def rename(self, name: str, conds: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
        """Apply `#define old new` object-like renames to a label name."""
        for _ in range(5):
            defs = self.cpp.get(name)
            if not defs:
                break
            alts = [d for d in self.alternatives(defs, conds) if d.params is None]
            if len(alts) != 1 or len(defs) != 1 or not _NAME_RE.match(alts[0].body or "-"):
                break
            conds = _merge(conds, alts[0].conds)
            name = alts[0].body
        return name, conds

    # -- gas ------------------------------------------------------------

    def feed(self, text: str, site: _Site, active: frozenset = frozenset(), depth: int = 0) -> None:
        """One line of assembly (already past cpp directives)."""
        if self.block is not None:
            self.collect(text, site)
            return
        if self.comment_char and self.comment_char in text:
            text = self._strip_line_comment(text)
        if self.sep and self.sep in text:
            stmts = self._split_statements(text)
        else:
            stmts = [text]
        for st in stmts:
            if self.block is not None:
                self.collect(st, site)
            else:
                self.statement(st, site, active, depth)

    def _strip_line_comment(self, text: str) -> str:
        q = False
        for i, c in enumerate(text):
            if c == '"':
                q = not q
            elif c == self.comment_char and not q:
                return text[:i]
        return text

    def _split_statements(self, text: str) -> list[str]:
        """Split on the statement separator, not inside quotes or parentheses."""
        if '"' not in text and "(" not in text:
            return text.split(self.sep)
        out, last, q, depth = [], 0, False, 0
        for m in _SPECIAL_RE.finditer(text):
            c = m.group(0)
            if c == '"':
                q = not q
            elif q:
                continue
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            elif c == self.sep and depth <= 0:
                out.append(text[last:m.start()])
                last = m.end()
        out.append(text[last:])
        return out

    def collect(self, text: str, site: _Site) -> None:
        b = self.block
        assert b is not None
        m = _HEAD_RE.match(text)
        if m and m.group(1) in self.cpp:
            # cpp runs before gas: a #define may hold the `.endm` (powerpc INT_DEFINE_END)
            for d in self.alternatives(self.cpp[m.group(1)], site.conds):
                if re.search(r"\.(endm|endr|macro|rept|irpc?)\b", d.body, re.I):
                    after = text[m.end():]
                    if d.params is not None:
                        parsed = _call_args(text, text.index("(", m.end())) \
                            if after.lstrip().startswith("(") else None
                        if parsed is None:
                            break
                        body = self.expand_cpp(d, parsed[0], frozenset({d.name}))
                        after = text[parsed[1]:]
                    else:
                        body = d.body
                    self.feed_expansion(body + after, site, frozenset({d.name}), 1)
                    return
        head = text.strip().split(None, 1)[0].lower() if text.strip() else ""
        opens = (".macro",) if b.kind == "macro" else (".rept", ".irp", ".irpc")
        closes = (".endm",) if b.kind == "macro" else (".endr",)
        if head in opens:
            if (b.depth == 0 and b.kind == "macro" and not b.lines
                    and not _compatible(site.conds, b.site.conds)):
                b.alt_heads.append((text.strip().split(None, 1)[1] if len(text.split()) > 1
                                    else "", site))
                return
            b.depth += 1
        elif head in closes:
            if b.depth == 0:
                self.block = None
                self.finish_block(b)
                return
            b.depth -= 1
        b.lines.append((text, site.conds))

    def define_gas(self, head: str, body: list[tuple[str, tuple[str, ...]]], site: _Site) -> None:
        parsed = _parse_macro_head(head)
        if parsed is None:
            self.err(site, ".macro without a name")
            return
        name, params = parsed
        key = name.lower()
        self.generation += 1
        defs = [d for d in self.gas.get(key, ()) if d.conds != site.conds]
        defs.append(_GasDef(name, list(params), body, site.conds, site.path, site.line))
        self.gas[key] = defs

    def finish_block(self, b: _Block) -> None:
        for head, site in b.alt_heads:
            alt = _Block(b.kind, head, site)
            alt.lines = b.lines
            self.finish_block(alt)
        site = b.site
        rel = len(site.conds)
        body = [(t, c[rel:] if c[:rel] == site.conds else c) for t, c in b.lines]
        if b.kind == "macro":
            self.define_gas(b.head, body, site)
            return
        # .irp / .irpc / .rept: replay the body once per value.
        values: list[tuple[str, str]] = [("", "")]
        if b.kind in (".irp", ".irpc"):
            args = _gas_args(b.head)
            var = args[0] if args else ""
            vals = args[1:]
            if b.kind == ".irpc":
                vals = list(vals[0]) if vals else []
            values = [(var, v) for v in vals] or [(var, "")]
        for var, val in values:
            for text, rc in body:
                if var:
                    text = re.sub(r"\\" + re.escape(var) + r"(?!\w)", lambda _m: val, text)
                    text = text.replace("\\()", "")
                self.feed(text, _Site(site.path, site.line, _merge(site.conds, rc), site.via,
                                      site.via_path, site.via_line))

    def statement(self, st: str, site: _Site, active: frozenset, depth: int) -> None:
        # Leading labels.
        while True:
            m = _LABEL_RE.match(st)
            if not m:
                break
            name = m.group(1)
            if not name[0].isdigit():
                self.label(name, site, None, None)
            st = st[m.end():]
        m = _HEAD_RE.match(st)
        if not m:
            return
        head = m.group(1)
        after = st[m.end():]
        if head[0] == ".":
            self.directive(head.lower(), after, site)
            return
        is_call = after.lstrip().startswith("(")
        if is_call and (head in _LABEL_MACROS or head in _REGISTRATION_MACROS
                        or head in _EXPORT_MACROS or head in _IGNORED_MACROS):
            paren = st.index("(", m.end())
            parsed = _call_args(st, paren)
            if parsed is None:
                self.err(site, f"unbalanced parentheses after {head}")
                return
            args, end = parsed
            self.builtin(head, args, site, active)
            rest = st[end:]
            if rest.strip():
                self.statement(rest, site, active, depth)
            return
        if depth > _MAX_DEPTH:
            self.warnings.append(f"{site.path}:{site.line}: macro expansion too deep at {head}")
            return
        defs = self.cpp.get(head)
        if defs and head not in active:
            every = self.alternatives(defs, site.conds)
            alts = [d for d in every if d.params is not None] if is_call else []
            if not alts:
                alts = [d for d in every if d.params is None]
            if alts:
                self.budget -= len(alts)
                if self.budget < 0:
                    if self.budget + len(alts) >= 0:
                        self.err(site, "macro expansion budget exhausted")
                    return
                for d in alts:
                    if d.params is not None:
                        paren = st.index("(", m.end())
                        parsed = _call_args(st, paren)
                        if parsed is None:
                            self.err(site, f"unbalanced parentheses after {head}")
                            return
                        args, end = parsed
                        tail = st[end:]
                        # `L(name):` -- the label is outside the macro body
                        if not tail.strip() and not self.interesting(d):
                            continue
                        text = self.expand_cpp(d, args, active | {head}) + tail
                    else:
                        if not after.strip() and not self.interesting(d):
                            continue
                        text = d.body + after
                    sub = _Site(site.path, site.line, _merge(site.conds, d.conds),
                                site.via or head, site.via_path or d.path,
                                site.via_line or d.line)
                    self.feed_expansion(text, sub, active | {head}, depth + 1)
                return
        if head in _BUILTIN_SECTION_MACROS and not defs:
            self.statement(_BUILTIN_SECTION_MACROS[head] + after, site, active, depth)
            return
        key = head.lower()
        gdefs = self.gas.get(key)
        if gdefs and key not in active:  # gas recursion ends on `.if`, which is not modelled
            self.budget -= 1
            if self.budget < 0:
                if self.budget == -1:
                    self.err(site, "macro expansion budget exhausted")
                return
            for d in self.alternatives(gdefs, site.conds):
                if self.interesting(d):
                    self.expand_gas(d, after, site, active | {key}, depth + 1)

    # A macro whose expansion can neither define a label, switch sections, define
    # macros nor register a symbol is skipped (crypto code expands to 100k+ lines).
    _DIRECTIVES_OF_INTEREST = frozenset({
        ".section", ".pushsection", ".popsection", ".previous", ".text", ".data", ".bss",
        ".subsection", ".macro", ".purgem", ".globl", ".global", ".weak", ".type"})

    def interesting(self, d) -> bool:
        key = d
        hit = self.memo.get(key)
        if hit is not None and (hit or self.memo_gen.get(key) == self.generation):
            return hit
        self.memo[key] = False  # in progress: recursion answers "no"
        self.memo_gen[key] = self.generation
        if isinstance(d, _GasDef):
            texts = [t for t, _ in d.body]
        else:
            texts = [re.sub(r"\s*##\s*", "##", d.body) if "##" in d.body else d.body]
        depth = [0]  # .pushsection/.popsection balance: a balanced pair changes nothing
        result = any(self.interesting_text(t, depth) for t in texts) or depth[0] != 0
        self.memo[key] = result
        return result

    def interesting_text(self, text: str, depth: list[int]) -> bool:
        stmts = self._split_statements(text) if self.sep and self.sep in text else [text]
        for st in stmts:
            while True:
                m = _LABEL_ANY_RE.match(st)
                if not m:
                    break
                name = m.group(1)
                if not name.startswith(".L") and not name.isdigit():
                    return True
                st = st[m.end():]
            if st.lstrip().startswith("\\") and not _ARG_ASSIGN_RE.match(st):
                return True  # a macro name taken from an argument
            m = _HEAD_RE.match(st)
            if not m:
                continue
            head = m.group(1)
            if head[0] == ".":
                low = head.lower()
                if low == ".pushsection":
                    depth[0] += 1
                elif low == ".popsection":
                    depth[0] -= 1
                    if depth[0] < 0:
                        return True
                elif low in self._DIRECTIVES_OF_INTEREST:
                    return True
                continue
            if (head in _LABEL_MACROS or head in _REGISTRATION_MACROS or head in _EXPORT_MACROS
                    or head in _BUILTIN_SECTION_MACROS):
                return True
            for d in self.cpp.get(head, ()):
                if self.interesting(d):
                    return True
            for d in self.gas.get(head.lower(), ()):
                if self.interesting(d):
                    return True
            if st[m.end(): m.end() + 1] == "\\":
                return True  # a macro name completed by an argument: `foo_\\name`
        return False

    def feed_expansion(self, text: str, site: _Site, active: frozenset, depth: int) -> None:
        if self.sep and self.sep in text:
            for st in self._split_statements(text):
                if self.block is not None:
                    self.collect(st, site)
                else:
                    self.statement(st, site, active, depth)
        elif self.block is not None:
            self.collect(text, site)
        else:
            self.statement(text, site, active, depth)

    def expand_gas(self, d: _GasDef, argtext: str, site: _Site, active: frozenset,
                   depth: int) -> None:
        args = _gas_args(argtext) if argtext.strip() else []
        names = [p[0] for p in d.params]
        bind: dict[str, str] = {p[0]: (p[1] if p[1] is not None else "") for p in d.params}
        pos = 0
        for i, a in enumerate(args):
            km = re.match(r"(\w+)\s*=(.*)\Z", a, re.S)
            if km and km.group(1) in bind:
                bind[km.group(1)] = km.group(2).strip()
                continue
            if pos < len(names):
                if d.params[pos][3]:  # vararg: the rest
                    bind[names[pos]] = ", ".join(args[i:])
                    pos = len(names)
                    break
                if a != "" or d.params[pos][1] is None:
                    bind[names[pos]] = a
                pos += 1
        for k, v in bind.items():  # gas drops the quotes of a string argument
            if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
                bind[k] = v[1:-1].replace('\\"', '"')
        self.counter += 1
        counter = str(self.counter)

        def subst(m: re.Match) -> str:
            k = m.group(1)
            if k == "()":
                return ""
            if k == "@":
                return counter
            if k in bind:
                return bind[k]
            return m.group(0)

        sub = _Site(site.path, site.line, _merge(site.conds, d.conds), site.via or d.name,
                    site.via_path or d.path, site.via_line or d.line)
        saved = self.block
        self.block = None
        for text, rc in d.body:
            if "\\" in text:
                text = _GAS_SUBST_RE.sub(subst, text)
            s2 = sub if not rc else _Site(sub.path, sub.line, _merge(sub.conds, rc), sub.via,
                                          sub.via_path, sub.via_line)
            if self.block is not None:
                self.collect(text, s2)
            else:
                self.feed_line_in_macro(text, s2, active, depth)
        if self.block is not None:
            self.warnings.append(f"{site.path}:{site.line}: unterminated {self.block.kind} "
                                 f"in expansion of {d.name}")
            self.block = None
        self.block = saved

    def feed_line_in_macro(self, text: str, site: _Site, active: frozenset, depth: int) -> None:
        if self.comment_char and self.comment_char in text:
            text = self._strip_line_comment(text)
        self.feed_expansion(text, site, active, depth)

    def directive(self, head: str, rest: str, site: _Site) -> None:
        if head == ".macro":
            self.block = _Block("macro", rest.strip(), site)
        elif head in (".rept", ".irp", ".irpc"):
            self.block = _Block(head, rest.strip(), site)
        elif head in (".section", ".pushsection"):
            name = _section_name(rest)
            if head == ".pushsection":
                self.stack.append((self.section, self.previous))
            self.previous, self.section = self.section, name
            flags = _section_flags(rest)
            if flags is not None or name not in self.flags:
                self.flags[name] = flags
        elif head in (".text", ".data", ".bss"):
            self.previous, self.section = self.section, head
        elif head == ".subsection":  # same section; only matters to `.previous`
            self.previous = self.section
        elif head == ".popsection":
            if self.stack:
                self.section, self.previous = self.stack.pop()
            else:
                self.err(site, ".popsection with empty stack")
        elif head == ".previous":
            self.section, self.previous = self.previous, self.section
        elif head in (".globl", ".global", ".weak"):
            for n in rest.split(","):
                n = n.strip()
                if n:
                    self.globals.add(n)
        elif head == ".type":
            parts = [p.strip() for p in rest.split(",")]
            if len(parts) >= 2:
                self.types[parts[0]] = parts[1].lstrip("@%#").lower()
        elif head == ".purgem":
            self.gas.pop(rest.strip().lower(), None)

    # -- facts ----------------------------------------------------------

    def arg_name(self, arg: str, site: _Site, active: frozenset) -> tuple[str, tuple[str, ...]]:
        name = self.inline(arg.strip(), active, site.conds).strip()
        return self.rename(name, site.conds)

    def label(self, name: str, site: _Site, is_global: bool | None, is_function: bool | None,
              conds: tuple[str, ...] | None = None) -> None:
        if conds is None:
            name, conds = self.rename(name, site.conds)
        if name.startswith("__USER_LABEL_PREFIX__"):  # a compiler builtin, empty on ELF
            name = name[21:]
        if not _NAME_RE.match(name) or name.startswith(".L") or name[0].isdigit():
            if "\\" in name or not _NAME_RE.match(name):
                self.warnings.append(f"{site.path}:{site.line}: unresolved label {name!r}")
            return
        self.symbols.append((name, site.path, site.line, self.section, is_global, is_function,
                             conds, site.via))

    def builtin(self, head: str, args: list[str], site: _Site, active: frozenset) -> None:
        if head in _REGISTRATION_MACROS:
            if args and args[0]:
                name, conds = self.arg_name(args[0], site, active)
                if _NAME_RE.match(name):
                    self.regs.append(Registration(name, site.path, site.line, head, conds,
                                                  site.via, site.via_path, site.via_line))
                else:
                    self.warnings.append(f"{site.path}:{site.line}: unresolved {head}({name})")
            return
        if head in _EXPORT_MACROS:
            if args and args[0]:
                name, _ = self.arg_name(args[0], site, active)
                if _NAME_RE.match(name) and name not in self.exports:
                    self.exports.append(name)
            return
        if head in _IGNORED_MACROS:
            return
        idx, linkage, kind = _LABEL_MACROS[head]
        if idx >= len(args) or not args[idx]:
            self.err(site, f"{head} without a name")
            return
        name, conds = self.arg_name(args[idx], site, active)
        if isinstance(linkage, int):
            lk = args[linkage].strip() if linkage < len(args) else ""
            is_global = lk in ("SYM_L_GLOBAL", "SYM_L_WEAK")
        else:
            is_global = linkage == "global"
        is_function = {"func": True, "data": False}.get(kind)
        self.label(name, site, is_global, is_function, conds)

    def facts(self) -> FileFacts:
        out: list[AsmSymbol] = []
        seen: set[tuple] = set()
        for name, path, line, section, is_global, is_function, conds, via in self.symbols:
            if is_global is None or not is_global:
                is_global = bool(is_global) or name in self.globals
            if is_function is None:
                t = self.types.get(name)
                if t in ("function", "stt_func", "gnu_indirect_function"):
                    is_function = True
                elif t in ("object", "stt_object", "tls_object", "common"):
                    is_function = False
                else:
                    is_function = not _is_data_section(section, self.flags.get(section))
            key = (name, path, line, section, conds)
            if key in seen:
                continue
            seen.add(key)
            out.append(AsmSymbol(name, path, line, section, is_global, is_function, conds, via))
        regs: list[Registration] = []
        rseen: set[tuple] = set()
        for r in self.regs:
            key = (r.name, r.path, r.line, r.conditions)
            if key not in rseen:
                rseen.add(key)
                regs.append(r)
        return FileFacts(
            path=self.path,
            kind="asm",
            registrations=regs,
            asm_symbols=out,
            exports=self.exports,
            object_macros=list(dict.fromkeys(self.object_macros)),
            parse_errors=self.errors,
            warnings=self.warnings,
        )


# Interpreter state after the leading #includes of a .S file, keyed by the paths and
# contents of the headers they reach (so it can never serve a stale tree): most .S
# files of an arch start with the same few includes.
_STATE_MEMO: dict[tuple, tuple] = {}
_STATE_MEMO_SIZE = 64


def _add_closure(ctx: AsmMacros, start: str | None, out: dict[str, str]) -> None:
    todo = [start] if start else []
    while todo:
        p = todo.pop()
        if p in out:
            continue
        h = ctx.headers.get(p)
        if h is None:
            continue
        out[p] = h.digest
        for sp in h.includes:
            q = ctx.resolved.get((p, sp))
            if q and q not in out:
                todo.append(q)


def extract_asm(path: str, data: bytes, macro_context: AsmMacros | None = None) -> FileFacts:
    """Facts of one .S file (kind "asm"): labels with sections, asm registrations.

    ``macro_context`` carries the headers the file includes (see
    :func:`build_asm_context`); without it only the file's own macros and the
    built-in kernel macros are known."""
    if path.endswith(".lds.S"):  # linker scripts: SECTIONS { .text : ... } are not labels
        return FileFacts(path=path, kind="asm")
    interp = _Interp(path, macro_context)
    ops, _, guard = _prescan(data)
    if guard:
        interp.guards.add(guard)
    interp.including.append(path)
    start = 0
    ctx = macro_context
    if ctx is not None and not guard:
        # The state after the leading `#include`s is a function of the headers they
        # pull in (paths and contents): reuse it across .S files that start alike.
        closure: dict[str, str] = {}
        leading: tuple = (ctx.arch, interp.comment_char, interp.sep)
        while start < len(ops) and ops[start][1] == "i":
            target = ctx.resolved.get((path, ops[start][2]))
            leading += (target,)
            _add_closure(ctx, target, closure)
            key = leading + (hashlib.sha1(repr(sorted(closure.items())).encode()).digest(),)
            snap = _STATE_MEMO.get(key)
            if snap is None:
                interp.run_file(path, ops[start:start + 1], ())
                if len(_STATE_MEMO) >= _STATE_MEMO_SIZE:
                    _STATE_MEMO.clear()
                _STATE_MEMO[key] = interp.snapshot()
            else:
                interp.restore(snap)
            start += 1
    interp.run_file(path, ops[start:] if start else ops, (), guard)
    if interp.block is not None:
        b = interp.block
        interp.warnings.append(f"{b.site.path}:{b.site.line}: unterminated {b.kind}")
        interp.errors += 1
        interp.block = None
    return interp.facts()
