"""Expansion of file-scope macro uses into the functions and registrations they
generate (x86 ``DEFINE_IDTENTRY*``, powerpc ``DEFINE_INTERRUPT_HANDLER*``, arm64
``UNHANDLED``...).

Runs after every file is extracted, because the definitions live in headers.
A use is expanded with the definition that the compiler would most likely see
(same file, same directory, this arch's headers, generic headers), nested macro
invocations are expanded in turn, and the resulting text is parsed with the
ordinary C extractor. The generated facts point at the use site (path, line)
and name the macro and its definition (``via_macro``, ``macro_path``,
``macro_line``).

Token pasting (``##``), ``__VA_ARGS__``, GNU named variadics (``args...``) and
``#`` stringizing are modelled. Of the object-like macros only attribute aliases
are expanded (powerpc ``interrupt_handler`` -> ``__visible noinline notrace ...``,
recorded by c_extract as a MacroDef with no parameters and a keyword-only body);
other names stay in the text as written.
"""

from __future__ import annotations

import posixpath
import re
from typing import Iterable, Mapping

from kpanalyze.facts import FunctionDef, MacroDef, MacroUse, Registration

__all__ = ["expand", "expand_use", "index_defs", "substitute", "expand_text", "apply_aliases", "pick_defs",
           "MAX_DEPTH"]

MAX_DEPTH = 8

# Left to other parts of kpanalyze: syscall naming is per arch (the lead's
# syscalls model), tracepoints are a machine of their own.
_NO_EXPAND_PREFIXES = (
    "SYSCALL_DEFINE", "COMPAT_SYSCALL_DEFINE", "__SYSCALL_DEFINE", "__COMPAT_SYSCALL_DEFINE",
    "SYSCALL32_DEFINE", "COND_SYSCALL", "SYS_NI", "SYSCALL_ALIAS", "TRACE_EVENT", "DECLARE_EVENT_CLASS", "DEFINE_EVENT", "TRACE_DEFINE_",
    "DECLARE_TRACE", "DEFINE_TRACE", "TRACE_SYSTEM", "TP_", "__TRACE", "EXPORT_", "MODULE_",
)
# Kept as text: the C extractor turns them into Registration facts.
_TERMINAL = frozenset(("NOKPROBE_SYMBOL",))

_TOKEN_RE = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|##|#|[A-Za-z_]\w*|\s+|.', re.S)
_INVOKE_RE = re.compile(r"\b([A-Za-z_]\w*)\s*\(")


def _no_expand(name: str) -> bool:
    return name in _TERMINAL or name.startswith(_NO_EXPAND_PREFIXES)


# ---------------------------------------------------------------------------
# Choosing a definition


def _arch_of(path: str) -> str | None:
    if path.startswith("arch/"):
        parts = path.split("/")
        if len(parts) > 2:
            return parts[1]
    return None


def _rank(def_path: str, use_path: str, arch: str | None) -> int | None:
    """Lower is better; None: that definition cannot be the one compiled."""
    if def_path == use_path:
        return 0
    ddir, udir = posixpath.dirname(def_path), posixpath.dirname(use_path)
    if ddir == udir:
        return 1
    def_arch = _arch_of(def_path)
    if def_arch is not None and def_arch != arch:
        return None  # another arch's header
    if def_arch is not None:
        return 2 if def_path.startswith(f"arch/{arch}/include/") else 3
    if def_path.startswith("include/"):
        return 4
    if udir.startswith(ddir + "/"):
        return 5  # a header in a parent directory (drivers/foo/foo.h for drivers/foo/bar/x.c)
    return None


def pick_defs(name: str, defs: Mapping[str, list[MacroDef]], use_path: str,
              arch: str | None = None) -> list[MacroDef]:
    """The definitions of `name` the compiler would see from `use_path`: all of the
    best-ranked place (several when they differ by #if), none if nothing fits.

    A use under ``arch/<a>/`` is compiled for ``<a>`` whatever ``arch`` says."""
    arch = _arch_of(use_path) or arch
    best: list[MacroDef] = []
    best_rank = None
    for d in defs.get(name, ()):
        r = _rank(d.path, use_path, arch)
        if r is None:
            continue
        if best_rank is None or r < best_rank:
            best, best_rank = [d], r
        elif r == best_rank:
            best.append(d)
    if best_rank is not None and best_rank >= 4 and len({d.path for d in best}) > 1:
        first = min(d.path for d in best)
        best = [d for d in best if d.path == first]  # stable choice
    return best


# ---------------------------------------------------------------------------
# Substitution


def _bind(params: tuple[str, ...], args: tuple[str, ...]) -> dict[str, str]:
    env: dict[str, str] = {}
    for i, p in enumerate(params):
        if p == "...":
            env["__VA_ARGS__"] = ", ".join(args[i:])
            break
        if p.endswith("..."):  # GNU named variadic: `args...`
            env[p[:-3].strip()] = ", ".join(args[i:])
            break
        env[p] = args[i] if i < len(args) else ""
    return env


def substitute(d: MacroDef, args: tuple[str, ...]) -> str:
    """The body of `d` with its parameters replaced by `args` (one level, no rescan)."""
    env = _bind(d.params, args)
    toks = _TOKEN_RE.findall(d.body)
    out: list[str] = []
    paste = False  # the last significant token was ##
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        if t.isspace():
            if not paste:
                out.append(" ")
            i += 1
            continue
        if t == "##":
            while out and out[-1] == " ":
                out.pop()
            paste = True
            i += 1
            continue
        if t == "#":
            j = i + 1
            while j < n and toks[j].isspace():
                j += 1
            if j < n and toks[j] in env:
                out.append('"' + env[toks[j]].replace("\\", "\\\\").replace('"', '\\"') + '"')
                i = j + 1
                paste = False
                continue
        if t in env:
            val = env[t]
            if paste and not val and t in ("__VA_ARGS__",) and out and out[-1] == ",":
                out.pop()  # GNU `, ## __VA_ARGS__` swallows the comma
            out.append(val)
        else:
            out.append(t)
        paste = False
        i += 1
    return "".join(out).strip()


_LOWER_IDENT_RE = re.compile(r"\b[a-z][a-z0-9_]*\b(?!\s*\()")


def _is_alias(d: MacroDef) -> bool:
    """An object-like attribute alias (`interrupt_handler`), as c_extract records them:
    no parameters and a body of keywords only."""
    from kpanalyze.parsing.c_extract import is_keyword_alias

    return not d.params and is_keyword_alias(d.name, d.body)


def apply_aliases(text: str, defs: Mapping[str, list[MacroDef]], use_path: str, arch: str | None) -> str:
    """Replace attribute aliases by their keywords (`interrupt_handler` -> `__visible
    noinline notrace ...`), as the preprocessor would, so the keyword reader sees them."""
    def repl(m: re.Match) -> str:
        name = m.group(0)
        if name not in defs:
            return name
        for d in pick_defs(name, defs, use_path, arch):
            if _is_alias(d):
                return d.body
        return name

    for _ in range(2):  # an alias may name another alias
        text = _LOWER_IDENT_RE.sub(repl, text)
    return text


def _call_args(text: str, open_paren: int) -> tuple[tuple[str, ...], int] | None:
    """Arguments of the invocation whose '(' is at `open_paren`, and the index after ')'."""
    from kpanalyze.parsing.c_extract import split_args

    depth, i, n = 0, open_paren, len(text)
    while i < n:
        c = text[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return split_args(text[open_paren + 1:i]), i + 1
        elif c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            i = j
        i += 1
    return None


def expand_text(text: str, defs: Mapping[str, list[MacroDef]], use_path: str, arch: str | None,
                depth: int = 0, active: frozenset = frozenset()) -> str:
    """Rescan `text`, expanding invocations of the function-like macros in `defs`
    (first chosen definition), up to MAX_DEPTH levels."""
    if depth >= MAX_DEPTH:
        return text
    out = []
    pos = 0
    for m in _INVOKE_RE.finditer(text):
        if m.start() < pos:
            continue
        name = m.group(1)
        if name in active or _no_expand(name) or name not in defs:
            continue
        chosen = [d for d in pick_defs(name, defs, use_path, arch) if d.params or not _is_alias(d)]
        if not chosen:
            continue
        got = _call_args(text, m.end() - 1)
        if got is None:
            continue
        args, end = got
        body = substitute(chosen[0], args)
        out.append(text[pos:m.start()])
        out.append(" " + expand_text(body, defs, use_path, arch, depth + 1, active | {name}) + " ")
        pos = end
    out.append(text[pos:])
    return "".join(out)


_DECLARATOR_TAIL_RE = re.compile(r"(?:[A-Za-z_]\w*[\s*]+)+([A-Za-z_]\w*)\s*\([^;{}]*\)\Z")


def _ends_at_declarator(text: str) -> bool:
    """`... __visible noinstr void f(struct pt_regs *regs)`: the body ends at a function
    declarator, so the user writes the braces after the use."""
    t = text.rstrip()
    if not t.endswith(")"):
        return False
    depth, cut = 0, 0
    for i, c in enumerate(t):  # the last top-level statement
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
            if c == "}" and depth == 0:
                cut = i + 1
        elif c == ";" and depth == 0:
            cut = i + 1
    m = _DECLARATOR_TAIL_RE.match(t[cut:].strip())
    return m is not None and not m.group(1).isupper()


# ---------------------------------------------------------------------------
# Expansion into facts


_LEADING_CAPS_RE = re.compile(r"^(?:[A-Z_][A-Z0-9_]*\s+)+(?=[a-z_])", re.M)


def _one_statement_per_line(text: str) -> str:
    """An expansion is one long line; the extractor trusts definitions that start a
    line, so break after each top-level `;` or `}`. All-caps words before a declaration
    (`__NOATTR u64 f(...)`, empty attribute macros) are dropped: they would make the
    declaration unparseable."""
    out, depth = [], 0
    for ch in text:
        out.append(ch)
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
            if ch == "}" and depth == 0:
                out.append("\n")
        elif ch == ";" and depth == 0:
            out.append("\n")
    lines = "".join(out).split("\n")
    return "\n".join(_LEADING_CAPS_RE.sub("", ln.strip()) for ln in lines)


def expand_use(use: MacroUse, defs: Mapping[str, list[MacroDef]],
               arch: str | None = None) -> tuple[list[FunctionDef], list[Registration]]:
    """Functions and registrations generated by one use (empty if not expandable)."""
    from kpanalyze.parsing.c_extract import extract_c

    if _no_expand(use.name):
        return [], []
    chosen = [d for d in pick_defs(use.name, defs, use.path, arch) if d.params or not _is_alias(d)]
    if not chosen:
        return [], []
    common = set(chosen[0].conditions)
    for d in chosen[1:]:
        common &= set(d.conditions)
    funcs: list[FunctionDef] = []
    regs: list[Registration] = []
    seen = set()
    for d in chosen:
        text = expand_text(substitute(d, use.args), defs, use.path, arch, 1, frozenset((use.name,)))
        text = _one_statement_per_line(apply_aliases(text, defs, use.path, arch))
        # DECLARE_* uses end with ';' in the source: their last declarator is a prototype.
        if _ends_at_declarator(text) and not use.name.startswith(("DECLARE_", "__DECLARE_")):
            text += " {}"
        facts = extract_c(use.path, text.encode())
        extra = tuple(c for c in d.conditions if c not in common)
        conds = use.conditions + extra
        for f in facts.functions:
            key = ("f", f.name, f.keywords, conds)
            if key in seen:
                continue
            seen.add(key)
            funcs.append(FunctionDef(
                name=f.name, path=use.path, line=use.line, storage=f.storage, keywords=f.keywords,
                conditions=conds, body_lines=0, via_macro=use.name, macro_path=d.path,
                macro_line=d.line, error_node=f.error_node,
            ))
        for r in facts.registrations:
            key = ("r", r.name, conds)
            if key in seen:
                continue
            seen.add(key)
            regs.append(Registration(
                name=r.name, path=use.path, line=use.line, macro=r.macro, conditions=conds,
                via_macro=use.name, macro_path=d.path, macro_line=d.line,
            ))
    return funcs, regs


def expand(uses: Iterable[MacroUse], defs: Mapping[str, list[MacroDef]],
           arch: str | None = None) -> tuple[list[FunctionDef], list[Registration]]:
    """Generated function definitions and NOKPROBE_SYMBOL registrations of all `uses`.

    ``defs`` maps a macro name to its definitions (from every file's
    ``macro_defs``); ``arch`` is the directory name under ``arch/`` (``x86``,
    ``arm64``...), used to pick among per-arch definitions of the same macro.
    Uses of macros with no usable definition generate nothing.
    """
    funcs: list[FunctionDef] = []
    regs: list[Registration] = []
    for u in uses:
        if u.name not in defs:
            continue
        f, r = expand_use(u, defs, arch)
        funcs.extend(f)
        regs.extend(r)
    return funcs, regs


def index_defs(macro_defs: Iterable[MacroDef]) -> dict[str, list[MacroDef]]:
    """name -> definitions, in input order (helper for callers of :func:`expand`)."""
    out: dict[str, list[MacroDef]] = {}
    for d in macro_defs:
        out.setdefault(d.name, []).append(d)
    return out
