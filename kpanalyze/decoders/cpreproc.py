"""The C preprocessor as the decoders need it: comments, `#if` nesting, `#define`s and the
expansion of macro uses. One implementation for cinterp (which evaluates the conditions
as it reads) and arm_source (which keeps them as text, decided per build context).

Text in, text out: nothing here parses C or evaluates an expression; `#if` conditions are
decided by a callback of the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice
from typing import Callable, Iterator, Sequence

from ..verdict import Evidence

_COMMENT_RE = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|//[^\n]*|/\*.*?\*/', re.S)
_DIRECTIVE_RE = re.compile(r"^\s*#\s*(\w+)?(.*)$", re.S)
_DEFINE_RE = re.compile(r"\s*([A-Za-z_]\w*)(\()?")
_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
  | (?P<id>[A-Za-z_]\w*)
  | (?P<num>\.?\d(?:[eEpP][+-]|[\w.])*)
  | (?P<op>\#\#|\.\.\.|.)
""", re.X | re.S)
CONDITIONAL = frozenset({"if", "ifdef", "ifndef", "elif", "else", "endif"})


# -- text -------------------------------------------------------------------------------

def blank(s: str) -> str:
    """`s` with every character but newlines turned into a space (offsets and lines kept)."""
    return re.sub(r"[^\n]", " ", s)


def strip_comments(text: str) -> str:
    """Comments blanked (string and character literals kept)."""
    def repl(m):
        s = m.group(0)
        return s if s[0] in "\"'" else blank(s)
    return _COMMENT_RE.sub(repl, text)


def tokens(text: str) -> list[str]:
    """Preprocessing tokens, whitespace runs included (joining them gives `text` back)."""
    return [m.group(0) for m in _TOKEN_RE.finditer(text)]


# -- #if nesting --------------------------------------------------------------------------

@dataclass
class Branch:
    kind: str  # "if", "ifdef", "ifndef", "elif", "else"
    expr: str  # as written; "defined(X)" for `#ifdef X`, "!defined(X)" for `#ifndef X`, "" for #else
    state: bool | None  # compiled (True), not (False), unknown (None), the earlier branches counted


@dataclass(frozen=True)
class Line:
    first: int  # 0-based index of the first physical line
    last: int  # of the last one (backslash continuations joined)
    directive: str | None = None  # the directive name (None: not a directive; "": a lone #)
    rest: str = ""  # what follows the directive name


def _taken(block: list[Branch]) -> bool | None:
    """Whether an earlier branch of the block is compiled (None: maybe)."""
    states = [b.state for b in block]
    return True if True in states else (None if None in states else False)


class Conditionals:
    """The open `#if` blocks at a point of a file (a stack of branch lists).

    `decide(expr, kind, name)` gives the truth of a branch's own condition (None: unknown;
    `name` is the macro of #ifdef/#ifndef); it is asked only where the enclosing blocks may be
    compiled. Without it every condition is unknown but include guards (`#ifndef X` followed
    by `#define X`), which are compiled."""

    def __init__(self, decide: Callable[[str, str, str], bool | None] | None = None):
        self.blocks: list[list[Branch]] = []
        self.decide = decide
        self._unknown: tuple[str, ...] | None = ()  # cache, None after a change

    def active(self, depth: int | None = None) -> bool:
        """Whether the code here (or inside the outer `depth` blocks) may be compiled."""
        return all(b[-1].state is not False for b in self.blocks[:depth])

    def _value(self, expr: str, kind: str, name: str) -> bool | None:
        if not self.active(-1 if kind in ("elif", "else") else None):
            return False
        return self.decide(expr, kind, name) if self.decide is not None else None

    def apply(self, directive: str, rest: str, guard: bool = False) -> None:
        """One conditional directive; `guard`: it is an include guard (compiled when the
        conditions are not decided)."""
        self._unknown = None
        if directive in ("if", "ifdef", "ifndef"):
            name = rest.split()[0] if rest.split() else ""
            expr = rest if directive == "if" else \
                (f"defined({name})" if directive == "ifdef" else f"!defined({name})") if name else "0"
            state = True if guard and self.decide is None else self._value(expr, directive, name)
            self.blocks.append([Branch(directive, expr, state)])
        elif not self.blocks:
            return
        elif directive == "elif":
            block = self.blocks[-1]
            taken = _taken(block)
            if taken is True:
                state = False
            else:
                state = self._value(rest, "elif", "")
                if taken is None and state is not False:
                    state = None
            block.append(Branch("elif", rest, state))
        elif directive == "else":
            taken = _taken(self.blocks[-1])
            self.blocks[-1].append(Branch("else", "", None if taken is None else not taken))
        elif directive == "endif":
            self.blocks.pop()

    def unknown(self) -> tuple[str, ...]:
        """One text per block whose current branch is undecided: its condition, with the
        earlier branches folded in (`!(A) && (B)` for the #elif B of an undecided #if A)."""
        if self._unknown is not None:
            return self._unknown
        out = []
        for block in self.blocks:
            if block[-1].state is not None:
                continue
            label = block[0].expr
            for i, b in enumerate(block[1:], 1):
                if b.kind == "else":
                    label = f"!({label})"
                elif _taken(block[:i]) is False:
                    label = b.expr
                elif _taken(block[:i]) is None:
                    label = f"!({label}) && ({b.expr})"
            out.append(label)
        self._unknown = tuple(out)
        return self._unknown

    def texts(self) -> tuple[str, ...]:
        """Every condition the code here sits under, as text: per block the negation of each
        earlier branch ("0" after an always-compiled one), then the current branch's own."""
        out: list[str] = []
        for block in self.blocks:
            for b in block[:-1]:
                out.append("0" if b.state is True or not b.expr else f"!({b.expr})")
            cur = block[-1]
            if cur.expr and cur.state is not True:
                out.append(cur.expr)
        return tuple(out)


def scan(text: str, conds: Conditionals) -> Iterator[Line]:
    """The logical lines of `text` (comments already blanked), in order; the conditional
    directives among them are applied to `conds` before their line is yielded."""
    lines = text.split("\n")
    logical: list[tuple[int, int, str]] = []
    i, n = 0, len(lines)
    while i < n:
        j, s = i, lines[i]
        while s.endswith("\\") and j + 1 < n:
            j += 1
            s = s[:-1] + " " + lines[j]
        logical.append((i, j, s))
        i = j + 1
    for k, (first, last, s) in enumerate(logical):
        m = _DIRECTIVE_RE.match(s)
        if m is None:
            yield Line(first, last)
            continue
        name, rest = m.group(1) or "", m.group(2).strip()
        if name in CONDITIONAL:
            conds.apply(name, rest, name == "ifndef" and _guarded(logical, k, rest))
        yield Line(first, last, name, rest)


def _guarded(logical, k: int, rest: str) -> bool:
    """`#ifndef X` directly followed (blank lines aside) by `#define X`: an include guard."""
    name = rest.split()[0] if rest.split() else ""
    for _first, _last, s in islice(logical, k + 1, None):
        if s.strip():
            return bool(name) and re.match(rf"\s*#\s*define\s+{re.escape(name)}\b", s) is not None
    return False


# -- #define --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Macro:
    name: str
    params: tuple[str, ...] | None  # None: object-like
    body: str
    variadic: str  # "" or the parameter standing for the variadic arguments (__VA_ARGS__)
    path: str
    line: int
    conds: tuple[str, ...]  # #if conditions of the definition (as the reader keeps them)
    text: str = ""  # the source line, for evidence

    @property
    def ev(self) -> Evidence:
        return Evidence(self.path, self.line, self.text)


def parse_define(rest: str) -> tuple[str, tuple[str, ...] | None, str, str] | None:
    """(name, parameters or None, body, variadic parameter or "") of `#define rest`."""
    m = _DEFINE_RE.match(rest)
    if not m:
        return None
    name = m.group(1)
    params = None
    variadic = ""
    body_start = m.end()
    if m.group(2):
        close = rest.find(")", body_start)
        if close < 0:
            return None
        plist = []
        for p in (p.strip() for p in rest[body_start:close].split(",")):
            if p.endswith("..."):
                p = p[:-3].strip() or "__VA_ARGS__"
                variadic = p
            if p:
                plist.append(p)
        params = tuple(plist)
        body_start = close + 1
    return name, params, rest[body_start:].strip(), variadic


# -- expansion ------------------------------------------------------------------------------

class MacroError(Exception):
    """A macro use that does not expand (argument count, unbalanced parentheses, depth)."""


def call_args(toks: Sequence[str], j: int) -> tuple[list[str], int]:
    """Arguments of a macro use whose "(" is toks[j]: the texts between the commas outside
    nested parentheses (only parentheses nest, as in C), and the index after the ")"."""
    depth, cur, args = 0, [], []
    for k in range(j, len(toks)):
        t = toks[k]
        if t == "(":
            depth += 1
            if depth == 1:
                continue
        elif t == ")":
            depth -= 1
            if depth == 0:
                args.append("".join(cur).strip())
                return args, k + 1
        elif t == "," and depth == 1:
            args.append("".join(cur).strip())
            cur = []
            continue
        cur.append(t)
    raise MacroError("unbalanced parentheses in macro arguments")


def split_args(text: str) -> list[str]:
    """The arguments of a macro use, from the text between its parentheses."""
    return call_args(["("] + tokens(text) + [")"], 0)[0]


def matching_paren(text: str, i: int) -> int:
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


def substitute(m: Macro, args: Sequence[str], expand_arg: Callable[[str], str] | None = None) -> str:
    """The replacement of one use of a function-like macro: parameters replaced by the
    arguments (passed through `expand_arg` unless an operand of # or ##), # stringifies,
    ## pastes. Macros in the result are left to the caller."""
    params = m.params or ()
    args = list(args)
    if m.variadic:
        fixed = len(params) - 1
        if len(args) < fixed:
            raise MacroError(f"macro {m.name}: {len(args)} arguments for {fixed}+")
        amap = dict(zip(params[:fixed], args[:fixed]))
        amap[m.variadic] = ", ".join(args[fixed:])
    else:
        if args == [""] and not params:
            args = []
        if len(args) != len(params):
            raise MacroError(f"macro {m.name}: {len(args)} arguments for {len(params)}")
        amap = dict(zip(params, args))
    toks = tokens(m.body)
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
        if t in amap:
            pasted = expand_arg is None or (nxt(i + 1) < n and toks[nxt(i + 1)] == "##")
            out.append(amap[t] if pasted else expand_arg(amap[t]))
        else:
            out.append(t)
        i += 1
    return "".join(out)


def expand(text: str, lookup: Callable[[str], Macro | None], hide: frozenset = frozenset(),
           depth: int = 0) -> str:
    """`text` with every macro use expanded (C rules, simplified: a macro's replacement is
    rescanned on its own, which is enough for table-entry macros)."""
    if depth > 64:
        raise MacroError("macro expansion too deep")
    toks = tokens(text)
    out: list[str] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        mac = lookup(tok) if (tok[0].isalpha() or tok[0] == "_") and tok not in hide else None
        if mac is None:
            out.append(tok)
            i += 1
            continue
        if mac.params is None:
            out.append(expand(mac.body, lookup, hide | {tok}, depth + 1))
            i += 1
            continue
        j = i + 1
        while j < len(toks) and toks[j].isspace():
            j += 1
        if j >= len(toks) or toks[j] != "(":
            out.append(tok)
            i += 1
            continue
        args, i = call_args(toks, j)
        body = substitute(mac, args, lambda a: expand(a, lookup, hide, depth + 1))
        out.append(expand(body, lookup, hide | {tok}, depth + 1))
    return "".join(out)
