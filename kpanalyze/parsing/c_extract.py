"""Facts from one C file (``.c`` or ``.h``): function definitions, blacklist
registrations, macro definitions and file-scope macro uses, calls and references,
file-scope data, ``#define``d names.

How, and why that way:

* One tree-sitter query (queries/c_facts.scm) walks the parse once; Python only
  looks at its captures, never at every node (the walk alone costs ~25% of a parse).
* Kernel attribute macros in declarator position (``static int __init foo(``,
  ``void noinstr foo(``) make tree-sitter emit ERROR nodes and sometimes split a
  definition in two. They are blanked with the same number of spaces before parsing
  (byte offsets and lines stay right; files with ERROR nodes drop by ~37% and the
  parse gets faster). The keywords are read back from the raw bytes between the
  previous top-level node and the function name (:func:`decl_keywords`).
* ``#if`` conditions come from a scan of the directive lines, not from the tree: an
  ``#ifdef`` inside an initializer can turn the rest of a file into one ERROR node.
  An include guard is no condition.
* Function-like ``#define`` bodies are read from the raw logical line (tree-sitter
  ends a macro body at a comment inside it).
* ``NOKPROBE_SYMBOL(f)`` lines that error recovery hid from the query are recovered
  from the raw text, with a warning (none on 6.1).
* Files with no ``{`` and no ``NOKPROBE`` (register headers: a third of the tree's
  bytes) are not parsed: a regex over their ``#define`` lines gives all their facts.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from kpanalyze.facts import (
    CallEdge,
    DataSymbol,
    FileFacts,
    FunctionDef,
    MacroDef,
    MacroUse,
    Registration,
    SymbolRef,
)
from kpanalyze.tsparse import load_query, parse_c, raw_captures

__all__ = [
    "extract_c",
    "is_keyword_alias",
    "blank_attributes",
    "decl_keywords",
    "split_args",
    "is_macro_name",
    "macro_defines_something",
    "clean_macro_body",
    "QUERY_FILE",
]

QUERY_FILE = "c_facts.scm"

# ---------------------------------------------------------------------------
# Blanking: attribute macros that tree-sitter cannot place

# Words that follow "__" (so the regex has a literal prefix and runs at C speed).
_BLANK_UNDERSCORE = """
init exit meminit ref weak naked irq_entry exception_irq_entry idmap visible
notrace_funcgraph cpuidle sched always_unused kprobes always_inline
cold hot noreturn maybe_unused used must_check lockfunc head init_memblock net_init net_exit
init_or_module softirq_entry no_kcsan no_sanitize_address latent_entropy pure attribute_const__
flatten noclone fix_address noendbr no_kmsan_checks no_profile nocfi init_or_acpilib unused
initdata initconst read_mostly ro_after_init net_initdata cacheline_aligned cacheline_aligned_in_smp
exitdata meminitdata refdata initrodata page_aligned_bss page_aligned_data
user iomem percpu rcu force
""".split()
# Function-like attribute macros: blanked with their (one level nested) arguments.
_BLANK_UNDERSCORE_FN = "section printf scanf aligned acquires releases must_hold alloc_size realloc_size".split()


def _alt(words) -> bytes:
    return b"|".join(w.encode() for w in sorted(set(words), key=len, reverse=True))


_BLANK_RES = (
    re.compile(
        rb"__(?:" + _alt(_BLANK_UNDERSCORE) + rb")\b"
        rb"|__(?:" + _alt(_BLANK_UNDERSCORE_FN) + rb")\s*\((?:[^()\n]|\([^()\n]*\))*\)"
    ),
    re.compile(rb"no(?:trace|instr|inline_for_stack|inline|kprobe_inline)\b"),
    re.compile(rb"asmlinkage\b"),
)
_IDENT_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _in_directive(data: bytes, pos: int) -> bool:
    """Is byte `pos` on a preprocessor line (continuations included)?"""
    ls = data.rfind(b"\n", 0, pos) + 1
    while True:
        if data[ls:pos].lstrip(b" \t").startswith(b"#"):
            return True
        if ls >= 2 and data[ls - 2:ls] == b"\\\n":
            pos = ls - 1
            ls = data.rfind(b"\n", 0, pos) + 1
            continue
        return False


def blank_attributes(data: bytes) -> bytes:
    """Replace known attribute macros outside preprocessor lines by spaces (same length)."""
    spans = []
    for rx in _BLANK_RES:
        for m in rx.finditer(data):
            s = m.start()
            if s and data[s - 1] in _IDENT_BYTES:
                continue
            spans.append((s, m.end()))
    if not spans:
        return data
    out = bytearray(data)
    for s, e in spans:
        if not _in_directive(data, s):
            out[s:e] = re.sub(rb"[^\n]", b" ", data[s:e])
    return bytes(out)


# ---------------------------------------------------------------------------
# Keywords written before a name

# Known attribute/section macros and keywords that are recorded (not types).
_KNOWN_KEYWORDS = frozenset(
    """static extern inline __inline __inline__ _Noreturn register
    noinline noinline_for_stack notrace noinstr nokprobe_inline asmlinkage
    """.split()
    + ["__" + w for w in _BLANK_UNDERSCORE]
) - frozenset(
    "__user __iomem __percpu __rcu __force".split()
)
# Sparse annotations: qualifiers of a pointer, not of the function.
_SPARSE = frozenset("__user __iomem __percpu __rcu __force __bitwise __private __kernel __safe __nocast".split())
_PRIMITIVE = frozenset(
    """void char short int long float double signed unsigned _Bool bool size_t ssize_t
    __signed__ __int128 _Complex""".split()
)
_QUALIFIERS = frozenset("const volatile restrict __restrict __restrict__ __const __volatile__ _Atomic auto".split())
_TAGS = frozenset(("struct", "union", "enum"))
_TYPEOF = frozenset(("typeof", "__typeof__", "__typeof"))
_ATTRIBUTE = frozenset(("__attribute__", "__attribute"))
_UNDERSCORE_TYPE_RE = re.compile(r"__(?:[us]\d+|be\d+|le\d+|wsum|sum16|poll_t|kernel_\w+|int128_t|uint128_t|bf16|builtin_\w+)\Z")
_COMMENT_RE = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_TOKEN_RE = re.compile(r"[A-Za-z_]\w*|\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|\S")
_UPPER_RE = re.compile(r"[A-Z_][A-Z0-9_]*\Z")


def _is_upper(name: str) -> bool:
    return _UPPER_RE.match(name) is not None and any("A" <= c <= "Z" for c in name)


def _squash(text: str) -> str:
    """Whitespace-normalised text: no newlines, single spaces, none inside parens edges."""
    text = " ".join(text.split())
    return text.replace("( ", "(").replace(" )", ")")


def _group(tokens: list[str], i: int) -> tuple[str, int]:
    """tokens[i] == '(' -> (text inside the balanced parens, index after ')')."""
    depth, j, n = 0, i, len(tokens)
    while j < n:
        t = tokens[j]
        if t == "(":
            depth += 1
        elif t == ")":
            depth -= 1
            if depth == 0:
                return _join_tokens(tokens[i + 1:j]), j + 1
        j += 1
    return _join_tokens(tokens[i + 1:]), n


def _join_tokens(toks: list[str]) -> str:
    out = []
    prev = ""
    for t in toks:
        if out and (t[0].isalnum() or t[0] in "_\"'") and (prev[-1].isalnum() or prev[-1] in "_\"'"):
            out.append(" ")
        out.append(t)
        prev = t
    return "".join(out).replace(",", ", ").replace(",  ", ", ")


def _attribute_items(inner: str) -> list[str]:
    """'(noinline, __section__(".x"))' -> ['noinline', 'section(".x")']."""
    s = inner.strip()
    if s.startswith("(") and s.endswith(")"):
        s = s[1:-1]
    items, depth, cur = [], 0, []
    for c in s:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if c == "," and depth == 0:
            items.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    items.append("".join(cur))
    out = []
    for it in items:
        it = _squash(it)
        if not it:
            continue
        m = re.match(r"__(\w+?)__(?=\(|\Z)", it)
        if m:
            it = m.group(1) + it[m.end():]
        out.append(it)
    return out


_KW_CACHE: dict[str, tuple[str, ...]] = {}


def decl_keywords(text: str) -> tuple[str, ...]:
    """Cached :func:`_decl_keywords`: most definitions start with the same few words."""
    if "/" in text:
        text = _COMMENT_RE.sub(" ", text)
    key = " ".join(text.replace("\\\n", " ").split())
    kws = _KW_CACHE.get(key)
    if kws is None:
        if len(_KW_CACHE) > 50000:
            _KW_CACHE.clear()
        kws = _KW_CACHE[key] = _decl_keywords(key)
    return kws


def _decl_keywords(text: str) -> tuple[str, ...]:
    """Keywords and attribute/section macros in the declaration text before a name.

    ``text`` runs from the end of the previous top-level item to the name, e.g.
    ``"\\nstatic int __kprobes\\n"`` -> ``("static", "__kprobes")``. Types (``int``,
    ``struct foo``, ``u32``) are left out: of the plain identifiers, the last one
    that is not all-caps is taken as the type (``acpi_status ACPI_INIT_FUNCTION``).
    """
    toks = _TOKEN_RE.findall(text)
    items: list[tuple[str, str]] = []  # (kind, text): kind "kw" | "cand" | "type"
    have_type = False
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        nxt = toks[i + 1] if i + 1 < n else ""
        if not (t[0].isalpha() or t[0] == "_"):
            i += 1
            continue
        if nxt == "(":
            inner, j = _group(toks, i + 1)
            if t in _ATTRIBUTE:
                items.extend(("kw", f"__attribute__({a})") for a in _attribute_items(inner))
            elif t in _TYPEOF:
                have_type = True
            elif t.startswith("_") or _is_upper(t):
                items.append(("kw", f"{t}({inner})"))
            i = j
            continue
        if t in _TAGS:
            have_type = True
            i += 2
            continue
        if t in _KNOWN_KEYWORDS:
            items.append(("kw", t))
        elif t in _PRIMITIVE:
            have_type = True
        elif t in _QUALIFIERS or t in _SPARSE:
            pass
        elif t.startswith("__") and not _UNDERSCORE_TYPE_RE.match(t):
            items.append(("kw", t))
        else:
            items.append(("cand", t))
        i += 1
    if not have_type:
        cands = [k for k, (kind, t) in enumerate(items) if kind == "cand"]
        if cands:
            lower = [k for k in cands if not _is_upper(items[k][1])]
            k = (lower or cands)[-1]
            items[k] = ("type", items[k][1])
    return tuple(t for kind, t in items if kind != "type")


# ---------------------------------------------------------------------------
# Macro helpers (also used by macros.py)

_EXPORTS = frozenset(
    """EXPORT_SYMBOL EXPORT_SYMBOL_GPL EXPORT_SYMBOL_NS EXPORT_SYMBOL_NS_GPL
    EXPORT_PER_CPU_SYMBOL EXPORT_PER_CPU_SYMBOL_GPL EXPORT_SYMBOL_GPL_FUTURE""".split()
)
REGISTRATION_MACROS = frozenset(("NOKPROBE_SYMBOL",))


def is_macro_name(name: str) -> bool:
    """All-caps-ish name of a macro worth recording as a use (A-Z0-9_)."""
    return _is_upper(name) and not name.startswith(("EXPORT_", "MODULE_"))


def split_args(text: str) -> tuple[str, ...]:
    """'a, f(b, c), "x,y"' -> ('a', 'f(b, c)', '"x,y"'), whitespace squashed."""
    args, depth, start, i, n = [], 0, 0, 0, len(text)
    while i < n:
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            i = j
        elif c == "," and depth == 0:
            args.append(text[start:i])
            start = i + 1
        i += 1
    args.append(text[start:])
    out = tuple(" ".join(a.split()) for a in args)
    return () if out == ("",) else out


def clean_macro_body(text: str) -> str:
    """Replacement text with continuations joined and comments removed, squashed."""
    text = _COMMENT_RE.sub(" ", text.replace("\\\r\n", " ").replace("\\\n", " "))
    return " ".join(text.split())


_DEF_TOKEN_RE = re.compile(r"[A-Za-z_]\w*(?:\s*##\s*[A-Za-z_0-9]\w*)*|##|\S")
_DEFINER_PREFIXES = ("DEFINE_", "DECLARE_", "UNHANDLED", "__DEFINE_", "__DECLARE_", "_DEFINE_")
_DEFINER_PREFIXES_B = tuple(p.encode() for p in _DEFINER_PREFIXES)
_NOT_DECL_START = frozenset("do if for while switch return goto case else sizeof typeof __typeof__ asm __asm__ __asm".split())


def macro_defines_something(name: str, body: str) -> bool:
    """Does this function-like macro body define a function, register a symbol,
    or (for a definer-looking name) invoke another macro at top level?

    Lexical only: tokens at parenthesis depth 0. A definition looks like
    ``<words> name(...)`` followed by ``{``, by the end of the body (the user writes
    the braces) or by ``;`` (a declaration, kept: a later macro may give it a body).
    """
    if "NOKPROBE_SYMBOL" in body:
        return True
    toks = _DEF_TOKEN_RE.findall(body)
    if not toks or toks[0] in _NOT_DECL_START or toks[0] in "({":
        return False
    words = 0  # identifiers seen since the last statement boundary, at depth 0
    i, n = 0, len(toks)
    definer = name.startswith(_DEFINER_PREFIXES) or _is_upper(name)  # FOO_2(f) -> FOO_x(2, f)
    while i < n:
        t = toks[i]
        if t == "(":
            depth, j = 0, i
            while j < n:
                if toks[j] == "(":
                    depth += 1
                elif toks[j] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            after = toks[j + 1] if j + 1 < n else ""
            prev = toks[i - 1] if i else ""
            is_ident = prev[:1].isalpha() or prev[:1] == "_"
            if is_ident and words >= 2 and after in ("{", "", ";") and prev not in _NOT_DECL_START:
                return True
            if definer and is_ident and words == 1 and (prev[:1].isupper() or prev[:1] == "_" and any(c.isupper() for c in prev)) \
                    and after in ("", ";", "{"):
                return True  # DEFINE_X(f) -> DEFINE_Y(f): an alias of another definer
            i = j + 1
            continue
        if t[:1].isalpha() or t[:1] == "_":
            words += 1
        elif t != "*":
            words = 0  # `;`, `}`, `->`, `=`...: not inside a declaration's specifiers
        i += 1
    return False


# ---------------------------------------------------------------------------
# Preprocessor conditions

_COND_RE = re.compile(rb"#[ \t]*(ifdef|ifndef|if|elifdef|elifndef|elif|else|endif)\b")


_DEFINED_RE = re.compile(r"defined\s*\(\s*(\w+)\s*\)|defined\s+(\w+)")


def _norm_cond(text: str) -> str:
    if "\\" in text:
        text = text.replace("\\\r\n", " ").replace("\\\n", " ")
    if "/" in text:
        text = _COMMENT_RE.sub(" ", text)
    text = " ".join(text.split())
    if "defined" in text:
        text = _DEFINED_RE.sub(lambda m: f"defined({m.group(1) or m.group(2)})", text)
    return text


class _Conditions:
    """Enclosing #if conditions by byte offset, from a scan of the directive lines.

    Not from the syntax tree: an #ifdef inside an initializer can turn most of a
    file into one ERROR node, and the conditions must survive that. The scan finds
    '#' with a literal-prefixed regex (C speed) and keeps those that start a line.
    """

    __slots__ = ("starts", "conds")

    def __init__(self, data: bytes):
        starts = [0]
        conds: list[tuple[str, ...]] = [()]
        frames: list[list] = []  # [prev_exprs, current_branch_cond]
        for m in _COND_RE.finditer(data):
            pos = m.start()
            ls = data.rfind(b"\n", 0, pos) + 1
            if data[ls:pos].strip(b" \t"):
                continue
            word = m.group(1)
            end = data.find(b"\n", m.end())
            while end > 0 and data[end - 1:end] == b"\\":
                end = data.find(b"\n", end + 1)
            if end < 0:
                end = len(data)
            rest = data[m.end():end].decode("utf-8", "replace")
            if word in (b"if", b"ifdef", b"ifndef"):
                expr = _directive_expr(word, rest)
                guard = len(starts) == 1 and word == b"ifndef" and _is_guard(data, end, expr[9:-1])
                frames.append([[expr], None if guard else expr])
            elif word in (b"elif", b"elifdef", b"elifndef"):
                if not frames:
                    continue
                expr = _directive_expr(word, rest)
                prev = frames[-1][0]
                frames[-1][1] = " && ".join([f"!({p})" for p in prev] + [f"({expr})"])
                prev.append(expr)
            elif word == b"else":
                if not frames:
                    continue
                frames[-1][1] = " && ".join(f"!({p})" for p in frames[-1][0])
            else:  # endif
                if not frames:
                    continue
                frames.pop()
            starts.append(end)
            conds.append(tuple(f[1] for f in frames if f[1] is not None))
        self.starts = starts
        self.conds = conds

    def at(self, pos: int) -> tuple[str, ...]:
        return self.conds[bisect_right(self.starts, pos) - 1]


_GUARD_DEFINE_RE = re.compile(rb"\s*(?:/\*.*?\*/\s*|//[^\n]*\s*)*#\s*define\s+(\w+)", re.S)


def _is_guard(data: bytes, end: int, name: str) -> bool:
    """`#ifndef X` right followed by `#define X` as the first conditional: an include
    guard, true wherever the header's text is seen, so it is no condition."""
    m = _GUARD_DEFINE_RE.match(data, end)
    return m is not None and m.group(1).decode("utf-8", "replace") == name


def _directive_expr(word: bytes, rest: str) -> str:
    if word in (b"ifdef", b"elifdef", b"ifndef", b"elifndef"):
        parts = _COMMENT_RE.sub(" ", rest).split()
        name = parts[0] if parts else "?"
        return f"!defined({name})" if word.endswith(b"ndef") else f"defined({name})"
    return _norm_cond(rest)


# ---------------------------------------------------------------------------
# Declarators

_WRAPPERS = frozenset(("pointer_declarator", "parenthesized_declarator", "attributed_declarator"))


def _declared_name(decl):
    """(identifier node, is_function) for a declarator, or (None, False).

    A name whose direct parent is a function_declarator names a function
    (``int f(void)``, ``struct s *f(void)``); ``int (*fp)(void)`` is a variable."""
    d = decl
    parent_type = ""
    while d is not None:
        t = d.type
        if t == "identifier":
            return d, parent_type == "function_declarator"
        if t == "function_declarator" or t == "init_declarator" or t == "array_declarator":
            parent_type = t
            d = d.child_by_field_name("declarator")
        elif t in _WRAPPERS:
            parent_type = t
            nd = d.child_by_field_name("declarator")
            if nd is None:
                nd = next((c for c in d.named_children if c.type != "comment"), None)
            d = nd
        else:
            return None, False
    return None, False


# ---------------------------------------------------------------------------
# Extraction

_NOKPROBE_LINE_RE = re.compile(rb"^[ \t]*NOKPROBE_SYMBOL[ \t]*\([ \t]*([A-Za-z_]\w*)[ \t]*\)", re.M)
_IDENT_RE = re.compile(r"[A-Za-z_]\w*\Z")
_FN_DEFINE_RE = re.compile(r"\s*#\s*define\s+([A-Za-z_]\w*)\(")
_DEFINE_LINE_RE = re.compile(rb"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)(\()?", re.M)


def _text(data: bytes, node) -> str:
    return data[node.start_byte:node.end_byte].decode("utf-8", "replace")


def _directive_text(data: bytes, start: int) -> str:
    """The logical #define line starting at `start` (continuations joined)."""
    end = start
    while True:
        nl = data.find(b"\n", end)
        if nl < 0:
            return data[start:].decode("utf-8", "replace")
        if data[nl - 1:nl] == b"\\" or data[nl - 2:nl] == b"\\\r":
            end = nl + 1
            continue
        return data[start:nl].decode("utf-8", "replace")


def _macro_def_from_text(path: str, line: int, name: str, logical: str, conds=()) -> MacroDef | None:
    """MacroDef for '#define NAME(params) body' if the body defines something."""
    m = re.match(r"\s*#\s*define\s+\w+\(([^)]*)\)(.*)\Z", logical, re.S)
    if not m:
        return None
    body = clean_macro_body(m.group(2))
    if not macro_defines_something(name, body):
        return None
    params = tuple(p.strip() for p in m.group(1).split(",") if p.strip())
    return MacroDef(name, path, line, params, body, tuple(conds))


_LOWER_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")  # any case: ACPI_INIT_FUNCTION -> __init
# First byte of a body worth a closer look (`__visible ...`, `noinline ...`, `DEFINE_X`),
# so `#define mmREG_FOO 0x1234` lines cost nothing.
_ALIAS_START = frozenset(b"_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ALIAS_START_B = frozenset(bytes((c,)) for c in _ALIAS_START)


def is_keyword_alias(name: str, body: str) -> bool:
    """`#define interrupt_handler __visible noinline notrace ...`: an object-like macro
    made only of attribute keywords (at least one of them known). The kernel's own
    keywords (`noinstr`, `__init`...) are not aliases: they stay as written."""
    if not _LOWER_NAME_RE.match(name) or name in _KNOWN_KEYWORDS or not body:
        return False
    kws = decl_keywords(body)
    return bool(kws) and len(kws) == len(_TOKEN_RE.findall(body)) and any(k in _KNOWN_KEYWORDS for k in kws)


def _alias_def(path: str, line: int, name: str, body: str, conds=()) -> MacroDef | None:
    """`#define DEFINE_IDTENTRY_MCE DEFINE_IDTENTRY_IST`: an object-like alias of a
    definer, kept as the equivalent `NAME(...) -> TARGET(__VA_ARGS__)`."""
    if name.isupper() and name.startswith(_DEFINER_PREFIXES) and _IDENT_RE.match(body) and body.isupper():
        return MacroDef(name, path, line, ("...",), f"{body}(__VA_ARGS__)", tuple(conds))
    if is_keyword_alias(name, body):
        return MacroDef(name, path, line, (), body, tuple(conds))  # expanded where a use's text has it
    return None


def _scan_defines_only(path: str, data: bytes, facts: FileFacts) -> None:
    """Files that are not parsed (no '{'): #define names by a line regex."""
    seen = set()
    line, last = 1, 0
    conds = None
    for m in _DEFINE_LINE_RE.finditer(data):
        seen.add(m.group(1))
        if not m.group(2) and (m.group(1).startswith(_DEFINER_PREFIXES_B) or (
                97 <= m.group(1)[0] <= 122 and data[m.end():m.end() + 40].lstrip(b" \t")[:1] in _ALIAS_START_B)):
            line += data.count(b"\n", last, m.start())
            last = m.start()
            if conds is None:
                conds = _Conditions(data)
            md = _alias_def(path, line, m.group(1).decode("utf-8", "replace"),
                            clean_macro_body(_directive_text(data, m.end())), conds.at(m.start()))
            if md is not None:
                facts.macro_defs.append(md)
        elif m.group(2):
            name = m.group(1).decode("utf-8", "replace")
            line += data.count(b"\n", last, m.start())
            last = m.start()
            logical = _directive_text(data, m.start())
            if conds is None:
                conds = _Conditions(data)
            md = _macro_def_from_text(path, line, name, logical, conds.at(m.start()))
            if md is not None:
                facts.macro_defs.append(md)
    facts.object_macros = _probe_like(seen)


def _probe_like(names) -> list[str]:
    """Macro names worth indexing: those a user could mistake for a function (lower
    case, like kernel function names). Constant and register macros (`FOO_BAR`,
    `mmREG_X`: 4.9M in the AMD GPU headers alone) are left out."""
    return sorted(n.decode("utf-8", "replace") for n in names if n.lower() == n and n.upper() != n)


# Call-graph edges (caller -> callee) are 2.6M rows on the full tree and no verdict uses
# them yet; per-file call counts (refs) are always recorded.
RECORD_CALL_EDGES = False

_TOP_MACRO_USE_RE = re.compile(rb"^[A-Z_][A-Z0-9_]*\(", re.M)


def _closing_paren(data: bytes, open_pos: int, limit: int = 20000) -> int:
    """Index of the ')' matching data[open_pos] == '(' (-1 if not within `limit` bytes)."""
    depth = 0
    for i in range(open_pos, min(len(data), open_pos + limit)):
        c = data[i]
        if c == 40:
            depth += 1
        elif c == 41:
            depth -= 1
            if depth == 0:
                return i
    return -1


# A definition header at column 0: words, then the name and its '('. Lines starting with
# a word and holding no ';', '=', '#' or braces before the '('.
_FN_HEAD_RE = re.compile(rb"^(?P<head>(?:[A-Za-z_][\w]*[ \t\*]+)*)(?P<name>[A-Za-z_]\w*)[ \t]*\(", re.M)
_PREV_HEAD_RE = re.compile(r"[A-Za-z_][\w \t\*]*[\w\*][ \t]*\n?\Z")


def _closing_brace(data: bytes, open_pos: int, limit: int = 400000) -> int:
    """Index of the '}' matching data[open_pos] == '{' (-1 if none); strings, chars and
    comments are skipped so braces inside them do not count."""
    depth, i, n = 0, open_pos, min(len(data), open_pos + limit)
    while i < n:
        c = data[i]
        if c == 123:
            depth += 1
        elif c == 125:
            depth -= 1
            if depth == 0:
                return i
        elif c in (34, 39):  # "..." or '...'
            j = i + 1
            while j < n and data[j] != c:
                j += 2 if data[j] == 92 else 1
            i = j
        elif c == 47 and i + 1 < n and data[i + 1] in (42, 47):  # /* or //
            end = data.find(b"*/", i + 2) + 2 if data[i + 1] == 42 else data.find(b"\n", i)
            i = end if end > i else n
            continue
        i += 1
    return -1


def needs_parse(data: bytes) -> bool:
    """Files with no brace, no NOKPROBE and no file-scope macro use (TRACE_EVENT(...)
    headers have none of the first two) only #define and declare things, like the
    register headers: a regex over #define lines gives all their facts."""
    return b"{" in data or b"NOKPROBE" in data or _TOP_MACRO_USE_RE.search(data) is not None


def _macro_use_args(data: bytes, args_node) -> tuple[str, ...]:
    """Arguments of NAME(...) as written (raw bytes, so blanked words come back)."""
    return split_args(data[args_node.start_byte + 1:args_node.end_byte - 1].decode("utf-8", "replace"))


_C_KEYWORDS = frozenset(
    "if else for while do switch case default return goto break continue sizeof typeof".split()
)


class _Extractor:
    def __init__(self, path: str, data: bytes, tree):
        self.path = path
        self.data = data
        self.tree = tree
        self.facts = FileFacts(path=path, kind="c")
        # (pos, name, line, args, args_are_refs): the last is True where tree-sitter did not
        # see an argument_list (so the @ref captures missed the arguments).
        self.uses: list[tuple[int, str, int, tuple[str, ...], bool]] = []
        # Bodies: (start, end, name, start of the definition if at column 0 else -1).
        self.ranges: list[tuple[int, int, str, int]] = []
        self.local_funcs: set[bytes] = set()
        self._fstarts: list[int] = []  # start byte of each entry of facts.functions

    def run(self) -> FileFacts:
        caps = raw_captures(load_query(QUERY_FILE), self.tree.root_node)
        facts = self.facts
        data = self.data
        path = self.path
        get = caps.get
        facts.parse_errors = len(get("error", ()))
        self.cond = _Conditions(data)

        # Function bodies first: everything else is placed inside or outside them.
        fdefs = get("fdef", ())
        if fdefs:
            for fd in fdefs:
                self._function(fd)
        # `NAME(args) {` at the start of a file parses as a statement and a bare block.
        for st in get("use", ()):
            self._use_statement(st)
        ranges = self._outer_ranges()
        starts = [r[0] for r in ranges]
        ends = [r[1] for r in ranges]
        rnames = [r[2] for r in ranges]

        def inside(pos: int) -> int:
            i = bisect_right(starts, pos) - 1
            return i if i >= 0 and pos < ends[i] else -1

        # Definitions tree-sitter found inside another body are misparses
        # (`for_each_cpu(i)\n  stmt;` reads like a function definition).
        if facts.functions and ranges:
            facts.functions = [f for f, s in zip(facts.functions, self._fstarts) if inside(s) < 0]

        if facts.parse_errors:
            self._function_net()

        addr: dict[bytes, int] = {}
        mts_nodes = get("mts", ())
        for mts in mts_nodes:
            if inside(mts.start_byte) >= 0:
                continue
            name_node = mts.child_by_field_name("name")
            ty = mts.child_by_field_name("type")
            if name_node is None or ty is None:
                continue
            # The arguments as written: the type field holds only part of `A(w, fn)`.
            inner = data[name_node.end_byte:mts.end_byte].decode("utf-8", "replace").strip()
            inner = inner[1:-1] if inner.startswith("(") and inner.endswith(")") else _text(data, ty)
            self.uses.append((mts.start_byte, _text(data, name_node), name_node.start_point[0] + 1,
                              split_args(inner), True))

        for decl in get("decl", ()):
            if inside(decl.start_byte) < 0 and not _in_directive(data, decl.start_byte):
                self._declaration(decl)

        # Preprocessor definitions.
        macros = get("macro", ())
        names = {m.text for m in macros}
        for m in macros:
            self._alias(m)  # DEFINE_X aliases and attribute aliases of any case
        for fm in get("fmacro", ()):
            nm = self._macro_def(fm)
            if nm is not None:
                names.add(nm)
        if names:
            facts.object_macros = _probe_like(names)
            facts.macro_defs.sort(key=lambda m: m.line)
        # Lower-case generator macros defined in this file (`show_one(foo);` defining
        # `show_foo`) are recorded at their uses too; all-caps ones always are.
        local_generators = {m.name for m in facts.macro_defs if m.params}

        # File-scope macro uses -> registrations / exports / macro_uses.
        seen_use = set()
        self.uses.sort(key=lambda u: u[0])
        cond_at = self.cond.at
        local = self.local_funcs
        for pos, name, line, args, args_are_refs in self.uses:
            if (pos, name) in seen_use or inside(pos) >= 0 or _in_directive(data, pos):
                continue  # (the last: a #define body that tree-sitter cut short at a comment)
            seen_use.add((pos, name))
            if args_are_refs:
                for a in args:
                    b = a.encode()
                    if b in local:
                        addr[b] = addr.get(b, 0) + 1
            if name in REGISTRATION_MACROS:
                if args:
                    facts.registrations.append(Registration(args[0], path, line, name, cond_at(pos)))
            elif name in _EXPORTS:
                if args:
                    facts.exports.append(args[0])
            elif is_macro_name(name) or name in local_generators:
                facts.macro_uses.append(MacroUse(name, path, line, args, cond_at(pos)))

        if b"NOKPROBE_SYMBOL" in data:
            self._registration_net()
        if facts.parse_errors:
            self._macro_use_net()


        # Calls (one edge per caller/callee pair, first line) and references.
        ncalls: dict[bytes, int] = {}
        first: dict[tuple[str, bytes], object] = {}
        first_get = first.get
        for c in get("call", ()):
            t = c.text
            if t in local:
                ncalls[t] = ncalls.get(t, 0) + 1
            if not RECORD_CALL_EDGES:
                continue
            s = c.start_byte
            i = bisect_right(starts, s) - 1
            if i >= 0 and s < ends[i]:
                key = (rnames[i], t)
                old = first_get(key)
                if old is None or s < old[0]:
                    first[key] = (s, c)  # captures come out of order: keep the first site
        for r in get("ref", ()):
            t = r.text
            if t in local:
                addr[t] = addr.get(t, 0) + 1
        facts.calls = [CallEdge(caller, callee.decode("utf-8", "replace"), path, c.start_point[0] + 1)
                       for (caller, callee), (_, c) in sorted(first.items(), key=_by_first_pos)]
        facts.refs = [
            SymbolRef(n.decode("utf-8", "replace"), path, ncalls.get(n, 0), addr.get(n, 0))
            for n in sorted(local)
            if n in ncalls or n in addr
        ]
        facts.functions.sort(key=lambda f: f.line)
        facts.data.sort(key=lambda d: d.line)
        return facts

    # -- pieces ---------------------------------------------------------

    def _registration_net(self) -> None:
        """Blacklist registrations are the facts that matter most: any file-scope
        `NOKPROBE_SYMBOL(f)` line that tree-sitter error recovery hid is added
        from the raw line (with a warning), so none is lost."""
        data = self.data
        have = {r.line for r in self.facts.registrations}
        line, last = 1, 0
        for m in _NOKPROBE_LINE_RE.finditer(data):
            line += data.count(b"\n", last, m.start())
            last = m.start()
            ln = line + (data[m.start():m.start(1)].count(b"\n"))
            if ln in have or _in_directive(data, m.start(1)):
                continue  # found by the query / inside a #define body (macros.py expands it)
            name = m.group(1).decode("utf-8", "replace")
            self.facts.registrations.append(
                Registration(name, self.path, ln, "NOKPROBE_SYMBOL", self.cond.at(m.start(1))))
            self.facts.warnings.append(f"{self.path}:{ln}: NOKPROBE_SYMBOL({name}) recovered from raw text")
        self.facts.registrations.sort(key=lambda r: r.line)

    def _function_net(self) -> None:
        """Column-0 definitions `head name(params)\n{` that error recovery swallowed into
        an ERROR node (kernel/cgroup/cgroup.c loses a third of them) are read from the raw
        text: the header gives the keywords, brace matching the body length."""
        data = self.data
        have = {f.name for f in self.facts.functions}
        for m in _FN_HEAD_RE.finditer(data):
            name = m.group("name").decode("ascii")
            if name in have or name in _C_KEYWORDS or _is_upper(name) or _in_directive(data, m.start()):
                continue
            close = _closing_paren(data, m.end() - 1)
            if close < 0:
                continue
            after = data[close + 1:close + 200].lstrip()
            if not after.startswith(b"{"):
                continue  # a prototype, a call at file scope or an attribute we cannot see past
            head = m.group("head").decode("utf-8", "replace")
            if not head.strip():
                prev_start = data.rfind(b"\n", 0, max(0, m.start() - 1)) + 1
                prev = data[prev_start:m.start()].decode("utf-8", "replace")
                if _PREV_HEAD_RE.match(prev):
                    head = prev  # `static int __kprobes\ndo_page_fault(...)`
            kws = decl_keywords(head) if head.strip() else ()
            open_brace = data.index(b"{", close)
            end = _closing_brace(data, open_brace)
            line = data.count(b"\n", 0, m.start("name")) + 1
            body = data.count(b"\n", open_brace, end) + 1 if end > 0 else 0
            self.facts.functions.append(FunctionDef(
                name, self.path, line, "static" if "static" in kws else "extern", kws,
                self.cond.at(m.start()), body, error_node=True))
            self.local_funcs.add(name.encode())
            have.add(name)

    def _macro_use_net(self) -> None:
        """Macro uses at column 0 (`SYSCALL_DEFINE5(waitid, ...)`, `DEFINE_EVENT(...)`)
        that error recovery swallowed into a file-wide ERROR node are read from the raw
        text, arguments split with balanced parentheses."""
        data = self.data
        have = {u.line for u in self.facts.macro_uses}
        for m in _TOP_MACRO_USE_RE.finditer(data):
            name = m.group(0)[:-1].decode("ascii")
            if not is_macro_name(name) or name in REGISTRATION_MACROS or _in_directive(data, m.start()):
                continue
            line = data.count(b"\n", 0, m.start()) + 1
            if line in have:
                continue
            end = _closing_paren(data, m.end() - 1)
            if end < 0:
                continue
            args = split_args(data[m.end():end].decode("utf-8", "replace"))
            self.facts.macro_uses.append(MacroUse(name, self.path, line, args, self.cond.at(m.start())))
        self.facts.macro_uses.sort(key=lambda u: u.line)

    def _outer_ranges(self) -> list[tuple[int, int, str]]:
        """Function bodies sorted and made disjoint.

        A definition found inside another body is a misparse when indented
        (``for_each_cpu(i)\\n\\tstmt;`` reads like a definition) and dropped; at
        column 0 it is real and the body around it (swollen by error recovery) is
        cut short where it starts."""
        rs = sorted(self.ranges)
        out: list[list] = []
        for s, e, name, head in rs:
            if out and s < out[-1][1]:
                if head < 0:
                    continue
                out[-1][1] = min(out[-1][1], head)
            out.append([s, e, name])
        return [tuple(r) for r in out]

    def _keyword_region_start(self, fd, name_row: int) -> int:
        """Where the declaration text of `fd` begins in the raw bytes: the end of the
        previous sibling, reaching back over pieces tree-sitter split off
        (``acpi_status ACPI_INIT_FUNCTION`` parsed as a declaration missing its ';')."""
        prev = fd.prev_sibling
        while prev is not None:
            t = prev.type
            if t in ("declaration", "ERROR") and prev.start_point[0] >= name_row - 3:
                last = prev.child(prev.child_count - 1) if prev.child_count else None
                raw = self.data[prev.start_byte:prev.end_byte]
                broken = t == "ERROR" or (last is not None and last.is_missing)
                # Not over a macro use missing its ';' (`BDI_SHOW(a, b)\nstatic ssize_t f(`).
                if broken and not any(ch in raw for ch in (b";", b"{", b"}", b"#", b"(")):
                    prev = prev.prev_sibling
                    continue
            return prev.end_byte
        parent = fd.parent
        # The root node starts at the first token, after any blanked attributes.
        return 0 if parent is None or parent.type == "translation_unit" else parent.start_byte

    def _add_use(self, pos: int, name: str, line: int, args: tuple[str, ...], body) -> None:
        if body is not None and args:
            self.ranges.append((body.start_byte, body.end_byte, args[0], _col0_start(self.data, pos)))
        self.uses.append((pos, name, line, args, False))

    def _use_statement(self, st) -> None:
        data = self.data
        call = st.named_child(0) if st.type == "expression_statement" else st
        if call is None or call.type != "call_expression":
            return
        fn = call.child_by_field_name("function")
        args_node = call.child_by_field_name("arguments")
        if fn is None or args_node is None:
            return
        name = _text(data, fn)
        args = _macro_use_args(data, args_node)
        body = None
        if st.type == "expression_statement" and _is_upper(name):
            nxt = st.next_named_sibling
            if nxt is not None and nxt.type == "compound_statement":
                body = nxt
        self._add_use(st.start_byte, name, fn.start_point[0] + 1, args, body)

    def _function(self, fd) -> None:
        data = self.data
        decl = fd.child_by_field_name("declarator")
        if decl is None:
            return
        body = fd.child_by_field_name("body")
        ty = fd.child_by_field_name("type")
        dtype = decl.type
        if dtype == "parenthesized_declarator" and ty is not None and ty.type == "type_identifier":
            inner = data[decl.start_byte + 1:decl.end_byte - 1].decode("utf-8", "replace")
            tname = _text(data, ty)
            if is_macro_name(tname) or tname in REGISTRATION_MACROS:
                # `DEFINE_IDTENTRY_RAW(exc_int3) { ... }`: type MACRO, declarator (arg).
                self._add_use(fd.start_byte, tname, ty.start_point[0] + 1, split_args(inner), body)
                return
            if body is not None and tname not in _C_KEYWORDS and _looks_like_params(inner):
                # `acpi_status ACPI_INIT_FUNCTION f(void)`: the unknown macro made
                # tree-sitter read `f` as the type and `(void)` as the declarator.
                self._add_function(fd, ty, tname, body, None)
            return
        # the common shape (a function_declarator naming an identifier) needs no walk
        ident = decl.child_by_field_name("declarator") if dtype == "function_declarator" else None
        if ident is None or ident.type != "identifier":
            ident, is_func = _declared_name(decl)
            if ident is None or not is_func:
                return
        name = ident.text.decode("utf-8", "replace")
        if name in _C_KEYWORDS:
            return
        if name.isupper():  # identifiers: only A-Z, 0-9, _
            # `SYSCALL_DEFINE3(openat, int, dfd, ...) { ... }`: an all-caps "function"
            # whose parameters carry no names is a macro use.
            fdecl = ident.parent
            params = fdecl.child_by_field_name("parameters") if fdecl is not None else None
            if params is not None and _is_macro_params(params):
                self._add_use(ident.start_byte, name, ident.start_point[0] + 1,
                              _macro_use_args(data, params), body)
                return
        self._add_function(fd, ident, name, body, ty)

    def _add_function(self, fd, ident, name: str, body, ty) -> None:
        data = self.data
        fstart = fd.start_byte
        head = _col0_start(data, fstart)
        err = fd.has_error
        if err and head < 0:
            return  # an indented definition with errors: a statement misread (`for_each_cpu(i)\n\tx;`)
        if _in_directive(data, fstart):
            return  # the rest of a #define body that tree-sitter cut short at a comment
        row = ident.start_point[0]
        start = self._keyword_region_start(fd, row)
        if ty is not None and ty.type == "macro_type_specifier":
            start = max(start, ty.end_byte)  # `NOKPROBE_SYMBOL(x)` glued in front (no ';')
        kws = decl_keywords(data[start:ident.start_byte].decode("utf-8", "replace"))
        if body is not None:
            bstart, bend = body.start_byte, body.end_byte
            body_lines = data.count(b"\n", bstart, bend) + 1
            self.ranges.append((bstart, bend, name, head))
        else:
            body_lines = 0
        self.facts.functions.append(
            FunctionDef(name, self.path, row + 1, "static" if "static" in kws else "extern", kws,
                        self.cond.at(fstart), body_lines, "", "", 0, err)
        )
        self._fstarts.append(fstart)
        self.local_funcs.add(name.encode())

    def _declaration(self, decl) -> None:
        data = self.data
        storage = ""
        ty = decl.child_by_field_name("type")
        for c in decl.children:
            if c.type == "storage_class_specifier":
                w = _text(data, c)
                if w in ("static", "extern"):
                    storage = w
        decls = decl.children_by_field_name("declarator")
        # `static DEFINE_MUTEX(lock);`: type MACRO, declarator (lock).
        if ty is not None and ty.type == "type_identifier" and len(decls) == 1 and decls[0].type == "parenthesized_declarator":
            mname = _text(data, ty)
            if is_macro_name(mname) or mname in REGISTRATION_MACROS:
                d = decls[0]
                self.uses.append((decl.start_byte, mname, ty.start_point[0] + 1,
                                  _macro_use_args(data, d), True))
                return
        for d in decls:
            ident, is_func = _declared_name(d)
            if ident is None:
                continue
            if is_func:
                name = ident.text
                if len(decls) == 1 and ident.parent.id == d.id and _is_upper(name.decode("utf-8", "replace")):
                    params = d.child_by_field_name("parameters")
                    if params is not None and _is_macro_params(params):
                        # `static DECLARE_WORK(w, fn);` reads as a prototype of DECLARE_WORK.
                        self.uses.append((decl.start_byte, _text(data, ident), ident.start_point[0] + 1,
                                          _macro_use_args(data, params), True))
                        return
                self.local_funcs.add(name)
            elif storage != "extern":
                self.facts.data.append(
                    DataSymbol(_text(data, ident), self.path, ident.start_point[0] + 1, storage or "extern",
                               self.cond.at(decl.start_byte))
                )

    def _alias(self, name_node) -> None:
        value = name_node.next_named_sibling
        if value is not None and value.type == "preproc_arg" and self.data[value.start_byte] in _ALIAS_START:
            md = _alias_def(self.path, name_node.start_point[0] + 1, _text(self.data, name_node),
                            clean_macro_body(_text(self.data, value)), self.cond.at(name_node.start_byte))
            if md is not None:
                self.facts.macro_defs.append(md)

    def _macro_def(self, fm) -> bytes | None:
        """A function-like #define, read from the raw logical line: tree-sitter ends
        the replacement text at a comment inside it. Returns the macro name."""
        data = self.data
        start = fm.start_byte
        logical = _directive_text(data, start)
        m = _FN_DEFINE_RE.match(logical)
        if m is None:
            return None
        name = m.group(1)
        md = _macro_def_from_text(self.path, fm.start_point[0] + 1, name, logical, self.cond.at(start))
        if md is not None:
            self.facts.macro_defs.append(md)
        return name.encode()


def _by_first_pos(item) -> int:
    return item[1][0]


def _col0_start(data: bytes, pos: int) -> int:
    """pos if its line is not indented in the raw bytes (kernel style puts real
    definitions at column 0; blanked attributes may come first), else -1."""
    ls = data.rfind(b"\n", 0, pos) + 1
    return pos if ls == pos or data[ls] not in (9, 32) else -1  # tab, space


_PARAMS_RE = re.compile(r"\s*(?:void|\.\.\.|[A-Za-z_][\w\s\*,\[\]]*[\w\]]|)\s*\Z")


def _looks_like_params(inner: str) -> bool:
    """'void' or 'int a, struct s *b': a parameter list, not a single macro argument."""
    inner = inner.strip()
    return inner == "void" or (" " in inner or "*" in inner) and _PARAMS_RE.match(inner) is not None


def _is_macro_params(params) -> bool:
    """Parameters written as bare words (`openat, int, dfd`) or none named."""
    for p in params.named_children:
        if p.type == "parameter_declaration":
            d = p.child_by_field_name("declarator")
            if d is not None:
                ident, _ = _declared_name(d)
                if ident is not None:
                    return False
    return True


def extract_c(path: str, data: bytes) -> FileFacts:
    """Facts of one C source or header file (``kind == "c"``).

    * ``functions``: every definition, ``line`` = the line of the name, ``keywords`` =
      keywords and attribute macros before the name in source order (types left out),
      ``storage`` "static" iff ``static`` is among them. ``MACRO(arg) { ... }`` is a
      macro use, not a function.
    * ``registrations``: file-scope ``NOKPROBE_SYMBOL(f)``, with or without ``;``.
    * ``macro_defs``: function-like macros that define or declare a function, register
      a symbol, or alias another definer; plus object-like aliases of a definer
      (``NAME(...) -> TARGET(__VA_ARGS__)``) and attribute aliases (``params == ()``,
      body of keywords only, e.g. powerpc ``interrupt_handler``).
    * ``macro_uses``: file-scope all-caps ``NAME(args)`` except ``EXPORT_*``/``MODULE_*``;
      ``exports``: the first argument of ``EXPORT_SYMBOL*``.
    * ``calls``: one edge per (caller, callee) pair, at its first line; inside a
      ``MACRO(arg) { ... }`` body the caller is ``arg``.
    * ``refs``: for names of functions defined or declared in this file: direct calls,
      and other uses as a value (initializers, arguments, ``&f``, assignments, macro
      arguments at file scope such as ``NOKPROBE_SYMBOL(f)``).
    * ``data``: file-scope variable definitions (``extern`` declarations left out).
    * ``object_macros``: every ``#define``d name, sorted; ``parse_errors``: ERROR nodes.
    """
    if not needs_parse(data):
        facts = FileFacts(path=path, kind="c")
        _scan_defines_only(path, data, facts)
        return facts
    tree = parse_c(blank_attributes(data))
    return _Extractor(path, data, tree).run()
