#!/usr/bin/env python3
"""Build tests/data/arm_kprobe_testsuite.tsv from the kernel's own arm kprobe test suite.

arch/arm/probes/kprobes/test-arm.c and test-thumb.c list, with the TEST_* macros of
test-core.h, instructions a kprobe must accept (TEST, TEST_R, TEST_RR, ..., TEST_SUPPORTED:
the framework registers a probe on them and fails if it cannot) and instructions it must
refuse (TEST_UNSUPPORTED). This tool turns them into (encoding, expectation) rows:

1. The .c files (and the few headers whose macros they use) are READ AS TEXT and run
   through a small C preprocessor written here (object/function-like macros, # and ##,
   GNU named variadics, #if/#ifdef/#elif/#else with the build's config), so every test
   case becomes exactly the inline-asm string the compiler would hand to the assembler.
   Nothing from the tree is executed.
2. Each case's asm is emitted into one batch file per instruction set, with a label
   `kpa_insn_N` at the probed instruction: the one after "50:", i.e. the address
   test-core.c puts `test_case_probe` on.
3. arm-linux-gnueabihf-as assembles the batch (-march=armv7-a; for Thumb also -mthumb
   -mimplicit-it=always, as the kernel's CFLAGS_ISA does), arm-linux-gnueabihf-ld links
   it (so interworking branches get their final form, as the module loader would give),
   and the encodings are read at the labels with pyelftools.
4. A case the assembler refuses is removed, its message kept, and the batch assembled
   again: such cases go to the skipped list, never silently dropped.

Build assumptions (recorded in the TSV header): ARM mode = Debian armhf armmp kernel
(its config, CONFIG_CPU_32v7, __LINUX_ARM_ARCH__ = 7, no CONFIG_THUMB2_KERNEL) for
test-arm.c; the same config with CONFIG_THUMB2_KERNEL=y for test-thumb.c (the file is only
built in a Thumb-2 kernel). The `condition` column gives the #if conditions of the test
file the row sits under; tests under #if branches false for this build are not rows
(their number is reported in the header).

Usage: .venv/bin/python tests/tools/gen_arm_testsuite.py [--tree T] [--config C] [--out F]
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TREE = ROOT / ".kernel-cache" / "linux-source-6.1"
DEFAULT_CONFIG = ROOT.parent / "shared" / "groundtruth" / "linux-6.1.176" / "armhf" / "config"
DEFAULT_OUT = ROOT / "tests" / "data" / "arm_kprobe_testsuite.tsv"
TESTDIR = "arch/arm/probes/kprobes"
AS = "arm-linux-gnueabihf-as"
LD = "arm-linux-gnueabihf-ld"

# Headers whose macros the test files use. The kernel build reaches asm/ptrace.h (PSR_*)
# through linux/kernel.h; we read only these few, as text, instead of the whole include web.
INCLUDE_DIRS = ("arch/arm/include", "arch/arm/include/uapi", "include", "include/uapi")
FOLLOWED_INCLUDES = {"test-core.h", "asm/opcodes.h", "asm/probes.h", "linux/stringify.h"}
PRELUDE = ("include/linux/stringify.h", "arch/arm/include/uapi/asm/ptrace.h")

COLUMNS = ("mode", "encoding", "expected", "source", "macro", "asm", "condition", "via", "note")
SKIP_COLUMNS = ("file", "source", "macro", "asm", "condition", "via", "reason")

# test-core.h: struct test_arg_end.flags
ARG_FLAG_UNSUPPORTED = 0x01
ARG_FLAG_SUPPORTED = 0x02


# ---------------------------------------------------------------------------
# A small C preprocessor (enough for these files; unknown directives are errors)


@dataclass(frozen=True)
class Frame:
    """One macro invocation: `name` invoked at file:line."""

    name: str
    file: str
    line: int


class Tok:
    __slots__ = ("kind", "text", "file", "line", "space", "hide", "chain", "cond")

    def __init__(self, kind, text, file, line, space, hide=frozenset(), chain=(), cond=()):
        self.kind = kind  # id num str chr punct
        self.text = text
        self.file = file
        self.line = line
        self.space = space  # whitespace before it (for # stringizing)
        self.hide = hide  # macro names not to expand again (Prosser's hide set)
        self.chain = chain  # invocation frames that produced it, outermost first
        self.cond = cond  # #if conditions active where it was read

    def copy(self, **kw) -> "Tok":
        t = Tok(self.kind, self.text, self.file, self.line, self.space, self.hide, self.chain, self.cond)
        for k, v in kw.items():
            setattr(t, k, v)
        return t

    def __repr__(self) -> str:
        return f"Tok({self.text!r}@{self.file}:{self.line})"


_TOKEN_RE = re.compile(
    r"""(?P<ws>[ \t\r\f\v]+)
      |(?P<str>"(?:\\.|[^"\\\n])*")
      |(?P<chr>'(?:\\.|[^'\\\n])*')
      |(?P<num>\.?\d(?:[eEpP][+-]|[\w.])*)
      |(?P<id>[A-Za-z_$]\w*)
      |(?P<punct>\.\.\.|<<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||\#\#|[-+*/%&|^]=|.)""",
    re.X,
)


def tokenize(text: str, file: str, lines: list[int] | int) -> list[Tok]:
    out: list[Tok] = []
    space = False
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup
        if kind == "ws":
            space = True
            continue
        line = lines if isinstance(lines, int) else lines[m.start()]
        out.append(Tok(kind, m.group(), file, line, space))
        space = False
    return out


def spell(toks: list[Tok]) -> str:
    """Tokens back to text, one space where the source had whitespace."""
    return "".join((" " if (i and t.space) else "") + t.text for i, t in enumerate(toks))


def strip_comments(text: str) -> str:
    """Comments become spaces; newlines are kept so line numbers do not move."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def logical_lines(text: str):
    """(text, per-character physical line numbers) of each backslash-joined line."""
    phys = text.split("\n")
    i = 0
    while i < len(phys):
        chars: list[str] = []
        linemap: list[int] = []
        while True:
            s = phys[i]
            cont = s.rstrip(" \t").endswith("\\")
            if cont:
                s = s.rstrip(" \t")[:-1]
            chars.append(s)
            linemap.extend([i + 1] * len(s))
            i += 1
            if not cont or i >= len(phys):
                break
        yield "".join(chars), linemap


@dataclass
class Macro:
    name: str
    params: tuple[str, ...] | None  # None: object-like
    variadic: str | None  # name of the variadic parameter (__VA_ARGS__ or GNU `x...`)
    body: list[Tok]
    file: str
    line: int


class PPError(Exception):
    pass


class ListStream:
    def __init__(self, toks):
        self.q = collections.deque(toks)

    def next(self):
        return self.q.popleft() if self.q else None

    def peek(self):
        return self.q[0] if self.q else None

    def push(self, toks):
        self.q.extendleft(reversed(toks))


class FileStream(ListStream):
    """Tokens of a file (and the files it includes) with directives processed on the fly."""

    def __init__(self, pp: "Preprocessor", relpath: str):
        super().__init__([])
        self.pp = pp
        self.sources = [pp.line_source(relpath)]

    def _fill(self) -> bool:
        while not self.q:
            if not self.sources:
                return False
            try:
                kind, payload = next(self.sources[-1])
            except StopIteration:
                self.sources.pop()
                continue
            if kind == "include":
                self.sources.append(self.pp.line_source(payload))
            else:
                self.q.extend(payload)
        return True

    def next(self):
        return self.q.popleft() if self._fill() else None

    def peek(self):
        return self.q[0] if self._fill() else None


class Preprocessor:
    def __init__(self, tree: Path, defines: dict[str, str], main_file: str):
        self.tree = tree
        self.macros: dict[str, Macro] = {}
        self.main_file = main_file
        self.ignored_includes: set[str] = set()
        self.inactive_tests: list[tuple[str, int, str]] = []  # TEST* lines in false #if branches
        self.conds: list[dict] = []
        for name, value in defines.items():
            self.macros[name] = Macro(name, None, None, tokenize(value, "<command line>", 0), "<command line>", 0)

    # -- files and directives

    def resolve_include(self, name: str, quoted: bool, current: str) -> str | None:
        if name not in FOLLOWED_INCLUDES:
            return None
        if quoted:
            cand = str(Path(current).parent / name)
            if (self.tree / cand).is_file():
                return cand
        for d in INCLUDE_DIRS:
            if (self.tree / d / name).is_file():
                return f"{d}/{name}"
        raise PPError(f"{current}: include {name} not found in the tree")

    def active(self) -> bool:
        return all(c["active"] for c in self.conds)

    def cond_texts(self, relpath: str) -> tuple[str, ...]:
        return tuple(c["text"] for c in self.conds if c["file"] == relpath)

    def line_source(self, relpath: str):
        """Yields ("tokens", [Tok]) for each active non-directive line, ("include", path)."""
        data = (self.tree / relpath).read_text(encoding="utf-8", errors="replace")
        depth0 = len(self.conds)
        for text, linemap in logical_lines(strip_comments(data)):
            stripped = text.lstrip()
            if stripped.startswith("#"):
                inc = self.directive(text, linemap, relpath)
                if inc:
                    yield "include", inc
                continue
            if not self.active():
                if relpath == self.main_file and re.search(r"\bTEST\w*\s*\(", text):
                    self.inactive_tests.append((relpath, linemap[0] if linemap else 0, " ".join(text.split())))
                continue
            toks = tokenize(text, relpath, linemap)
            if toks:
                cond = self.cond_texts(relpath)
                for t in toks:
                    t.cond = cond
                yield "tokens", toks
        if len(self.conds) != depth0:
            raise PPError(f"{relpath}: unbalanced #if")

    def directive(self, text: str, linemap: list[int], relpath: str) -> str | None:
        toks = tokenize(text, relpath, linemap)
        if len(toks) < 2:
            return None  # null directive
        name, rest = toks[1].text, toks[2:]
        line = toks[0].line
        where = f"{relpath}:{line}"
        expr_text = spell(rest)
        if name in ("if", "ifdef", "ifndef"):
            if name == "ifdef":
                label, val = f"defined({expr_text})", rest[0].text in self.macros
            elif name == "ifndef":
                label, val = f"!defined({expr_text})", rest[0].text not in self.macros
            else:
                label = expr_text
                val = self.eval_if(rest, where) if self.active() else False
            parent = self.active()
            self.conds.append({"active": parent and val, "taken": val, "parent": parent, "prev": [label],
                               "text": label, "file": relpath})
            return None
        if name in ("elif", "else"):
            if not self.conds:
                raise PPError(f"{where}: #{name} without #if")
            c = self.conds[-1]
            negs = " && ".join(f"!({p})" for p in c["prev"])
            if name == "else":
                c["active"] = c["parent"] and not c["taken"]
                c["text"] = negs
            else:
                val = self.eval_if(rest, where) if (c["parent"] and not c["taken"]) else False
                c["active"] = c["parent"] and not c["taken"] and val
                c["taken"] = c["taken"] or val
                c["text"] = f"{negs} && ({expr_text})"
                c["prev"].append(expr_text)
            return None
        if name == "endif":
            if not self.conds:
                raise PPError(f"{where}: #endif without #if")
            self.conds.pop()
            return None
        if not self.active():
            return None
        if name == "define":
            self.define(rest, relpath, line, where)
        elif name == "undef":
            self.macros.pop(rest[0].text, None)
        elif name == "include":
            if rest and rest[0].kind == "str":
                inc, quoted = rest[0].text[1:-1], True
            else:
                inc, quoted = "".join(t.text for t in rest).strip("<>"), False
            path = self.resolve_include(inc, quoted, relpath)
            if path is None:
                self.ignored_includes.add(inc)
            return path
        elif name in ("error", "warning"):
            raise PPError(f"{where}: #{name} {expr_text}")
        elif name in ("pragma", "line", "ident"):
            pass
        else:
            raise PPError(f"{where}: unknown directive #{name}")
        return None

    def define(self, rest: list[Tok], relpath: str, line: int, where: str) -> None:
        if not rest or rest[0].kind != "id":
            raise PPError(f"{where}: bad #define")
        name = rest[0].text
        params = None
        variadic = None
        body = rest[1:]
        if body and body[0].text == "(" and not body[0].space:
            params = []
            i = 1
            while body[i].text != ")":
                t = body[i]
                if t.text == ",":
                    i += 1
                    continue
                if t.text == "...":
                    params.append("__VA_ARGS__")
                    variadic = "__VA_ARGS__"
                elif t.kind == "id":
                    params.append(t.text)
                    if i + 1 < len(body) and body[i + 1].text == "...":
                        variadic = t.text
                        i += 1
                else:
                    raise PPError(f"{where}: bad macro parameter {t.text!r}")
                i += 1
            body = body[i + 1 :]
            params = tuple(params)
        if body:
            body = [body[0].copy(space=False)] + body[1:]
        self.macros[name] = Macro(name, params, variadic, body, relpath, line)

    def eval_if(self, toks: list[Tok], where: str) -> bool:
        # `defined X` / `defined(X)` first, then expand, then unknown names are 0.
        pre: list[Tok] = []
        i = 0
        while i < len(toks):
            t = toks[i]
            if t.text == "defined":
                if toks[i + 1].text == "(":
                    nm, i = toks[i + 2].text, i + 4
                else:
                    nm, i = toks[i + 1].text, i + 2
                pre.append(Tok("num", "1" if nm in self.macros else "0", t.file, t.line, True))
                continue
            pre.append(t)
            i += 1
        out = self.expand_list(pre)
        py = []
        for t in out:
            if t.kind == "id":
                py.append("0")
            elif t.kind == "num":
                py.append(re.sub(r"[uUlL]+$", "", t.text))
            elif t.text == "&&":
                py.append(" and ")
            elif t.text == "||":
                py.append(" or ")
            elif t.text == "!":
                py.append(" not ")
            elif t.text == "/":
                py.append("//")
            else:
                py.append(t.text)
        try:
            return bool(eval("".join(py), {"__builtins__": {}}, {}))  # noqa: S307 - digits and operators only
        except Exception as e:  # noqa: BLE001
            raise PPError(f"{where}: cannot evaluate #if {spell(toks)!r}: {e}") from None

    # -- macro expansion (Prosser's algorithm, as in the C standard's rescanning rules)

    def expand_list(self, toks: list[Tok]) -> list[Tok]:
        out: list[Tok] = []
        self.expand_stream(ListStream(toks), out)
        return out

    def expand_stream(self, stream: ListStream, out: list[Tok]) -> None:
        while True:
            t = stream.next()
            if t is None:
                return
            m = self.macros.get(t.text) if t.kind == "id" else None
            if m is None or t.text in t.hide:
                out.append(t)
                continue
            if m.params is None:
                stream.push(self.subst(m, [], t.hide | {m.name}, t))
                continue
            nxt = stream.peek()
            if nxt is None or nxt.text != "(":
                out.append(t)
                continue
            stream.next()
            args, rparen = self.collect_args(stream, m, t)
            stream.push(self.subst(m, args, (t.hide & rparen.hide) | {m.name}, t))

    def collect_args(self, stream: ListStream, m: Macro, inv: Tok):
        args: list[list[Tok]] = [[]]
        depth = 0
        while True:
            t = stream.next()
            if t is None:
                raise PPError(f"{inv.file}:{inv.line}: unterminated call of {m.name}")
            if t.text == "(":
                depth += 1
            elif t.text == ")":
                if depth == 0:
                    break
                depth -= 1
            elif t.text == "," and depth == 0 and not (m.variadic and len(args) == len(m.params)):
                args.append([])
                continue
            args[-1].append(t)
        if len(args) == 1 and not args[0] and len(m.params) == 0:
            args = []
        if len(args) == len(m.params) - 1 and m.variadic:
            args.append([])
        if len(args) != len(m.params):
            raise PPError(f"{inv.file}:{inv.line}: {m.name} takes {len(m.params)} arguments, got {len(args)}")
        return args, t

    @staticmethod
    def stringize(arg: list[Tok]) -> str:
        parts = []
        for i, t in enumerate(arg):
            s = t.text
            if t.kind in ("str", "chr"):
                s = s.replace("\\", "\\\\").replace('"', '\\"')
            parts.append((" " if (i and t.space) else "") + s)
        return '"' + "".join(parts) + '"'

    def subst(self, m: Macro, args: list[list[Tok]], hs: frozenset, inv: Tok) -> list[Tok]:
        chain = inv.chain + (Frame(m.name, inv.file, inv.line),)
        pidx = {p: i for i, p in enumerate(m.params or ())}
        body = m.body
        res: list[Tok] = []
        expanded: dict[int, list[Tok]] = {}
        i = 0
        while i < len(body):
            b = body[i]
            if b.text == "#" and m.params is not None and i + 1 < len(body) and body[i + 1].text in pidx:
                s = self.stringize(args[pidx[body[i + 1].text]])
                res.append(Tok("str", s, b.file, b.line, b.space, chain=chain, cond=inv.cond))
                i += 2
                continue
            if b.text == "##" and i + 1 < len(body):
                nb = body[i + 1]
                if nb.text in pidx:
                    rhs = [t.copy() for t in args[pidx[nb.text]]]
                    if not rhs and nb.text == m.variadic and res and res[-1].text == ",":
                        res.pop()  # GNU: `, ## __VA_ARGS__` with no variadic arguments
                else:
                    rhs = [nb.copy(chain=chain, cond=inv.cond)]
                if rhs and res:
                    lhs = res.pop()
                    pasted = tokenize(lhs.text + rhs[0].text, lhs.file, lhs.line)
                    if len(pasted) != 1:
                        raise PPError(f"{b.file}:{b.line}: ## does not give one token: {lhs.text}{rhs[0].text}")
                    res.append(lhs.copy(kind=pasted[0].kind, text=pasted[0].text))
                    res.extend(rhs[1:])
                else:
                    res.extend(rhs)
                i += 2
                continue
            if b.text in pidx and m.params is not None:
                k = pidx[b.text]
                if i + 1 < len(body) and body[i + 1].text == "##":
                    toks = args[k]  # operand of ##: not macro-expanded
                else:
                    if k not in expanded:
                        expanded[k] = self.expand_list([t.copy() for t in args[k]])
                    toks = expanded[k]
                toks = [t.copy() for t in toks]
                if toks:
                    toks[0].space = b.space
                res.extend(toks)
                i += 1
                continue
            res.append(b.copy(chain=chain, cond=inv.cond))
            i += 1
        for t in res:
            t.hide = t.hide | hs
        if res:
            res[0].space = inv.space  # the expansion takes the place (and spacing) of the call
        return res

    def run(self, prelude: tuple[str, ...]) -> list[Tok]:
        out: list[Tok] = []
        for p in (*prelude, self.main_file):
            self.expand_stream(FileStream(self, p), out)
        return out


# ---------------------------------------------------------------------------
# From the preprocessed file to test cases


@dataclass
class Case:
    file: str  # tree-relative .c file
    function: str  # kprobe_arm_test_cases, kprobe_thumb16_test_cases, ...
    asm: str  # the inline-asm text as the assembler sees it
    chain: tuple[Frame, ...]
    cond: tuple[str, ...]
    index: int = 0
    insn_text: str = ""
    flags: int = 0
    isa: int = 0
    notes: list[str] = field(default_factory=list)
    prepared: list[str] = field(default_factory=list)  # asm lines with the kpa_insn_N label

    @property
    def macro(self) -> str:
        names = [f.name for f in self.chain]
        k = max(i for i, n in enumerate(names) if n == "TESTCASE_START")
        return names[k - 1] if k > 0 else names[k]

    @property
    def source(self) -> str:
        f = self.chain[0]
        return f"{f.file}:{f.line}"

    @property
    def via(self) -> str:
        return " > ".join(f"{fr.name}@{Path(fr.file).name}:{fr.line}" for fr in self.chain)


_ESC = re.compile(r"\\(x[0-9a-fA-F]+|[0-7]{1,3}|.)", re.S)
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v",
           "\\": "\\", '"': '"', "'": "'", "?": "?"}


def c_string_value(lit: str) -> str:
    def rep(m):
        s = m.group(1)
        if s[0] == "x":
            return chr(int(s[1:], 16))
        if s[0] in "01234567":
            return chr(int(s, 8))
        return _SIMPLE.get(s, s)

    return _ESC.sub(rep, lit[1:-1])


def extract_cases(toks: list[Tok], relpath: str) -> list[Case]:
    cases: list[Case] = []
    depth = 0
    function = ""
    i = 0
    n = len(toks)
    while i < n:
        t = toks[i]
        if t.text == "{":
            if depth == 0:
                # the function name is the identifier before the parameter list
                j = i - 1
                while j >= 0 and toks[j].text != "(":
                    j -= 1
                function = toks[j - 1].text if j > 0 else ""
            depth += 1
        elif t.text == "}":
            depth -= 1
        elif t.text in ("__asm__", "asm") and any(f.name == "TESTCASE_START" for f in t.chain):
            j = i + 1
            while toks[j].text in ("__volatile__", "volatile"):
                j += 1
            if toks[j].text != "(":
                raise PPError(f"{t.file}:{t.line}: asm without (")
            j += 1
            parts = []
            while toks[j].kind == "str":
                parts.append(c_string_value(toks[j].text))
                j += 1
            extended = toks[j].text == ":"
            text = "".join(parts)
            if extended:
                text = text.replace("%%", "%")
            # the case's condition is where its outermost macro was invoked (the .c file)
            cases.append(Case(relpath, function, text, t.chain, t.cond))
            while toks[j].text != ";":
                j += 1
            i = j
        i += 1
    return cases


_LABEL_50 = re.compile(r"^\s*50:")
_LABEL_1 = re.compile(r"^\s*1:\s*(.*)$")


def prepare_case(case: Case) -> list[str]:
    """Lines of the case's asm with `kpa_insn_N:` at the probed instruction."""
    lines = case.asm.split("\n")
    at = None
    for k, s in enumerate(lines):
        if _LABEL_50.match(s):
            at = k + 1
            break
    if at is None or at >= len(lines) or not _LABEL_1.match(lines[at]):
        raise PPError(f"{case.source}: no '50: ... 1:' probe point in {case.asm!r}")
    text = [_LABEL_1.match(lines[at]).group(1)]
    for s in lines[at + 1 :]:  # comment-only lines that follow (e.g. __inst_arm(...) "@ mnemonic")
        if s.strip().startswith("@"):
            text.append(s.strip())
        else:
            break
    case.insn_text = " ".join(" ".join(text).split())
    end_flags = None
    for k, s in enumerate(lines):
        if re.match(r"^\s*\.short\s+50f-0f\s*$", s):
            end_flags = lines[k - 1]
            break
    m = re.match(r"^\s*\.byte\s+(\S+)\s*$", end_flags or "")
    if not m:
        raise PPError(f"{case.source}: no TEST_ARG_END flags in {case.asm!r}")
    vals = [int(v, 0) for v in m.group(1).split("|") if v]
    case.isa = vals[0]
    case.flags = 0
    for v in vals[1:]:
        case.flags |= v
    return lines[:at] + [f"kpa_insn_{case.index}:"] + lines[at:]


# ---------------------------------------------------------------------------
# Assembling


@dataclass
class IsaBatch:
    name: str  # arm | thumb
    header: list[str]
    as_flags: list[str]


ARM_BATCH = IsaBatch("arm", [".syntax unified", ".arm", ".text"], ["-march=armv7-a", "-mfpu=vfp"])
THUMB_BATCH = IsaBatch("thumb", [".syntax unified", ".thumb", ".text"],
                       ["-march=armv7-a", "-mfpu=vfp", "-mthumb", "-mimplicit-it=always"])

# What the kernel provides at run time (test-core.c); stubs so the batch links.
STUBS = [
    ".pushsection .text.kpa_stubs, \"ax\"",
    ".arm",
    ".type __kprobes_test_case_start, %function",
    "__kprobes_test_case_start: bx lr",
    ".type __kprobes_test_case_end_32, %function",
    "__kprobes_test_case_end_32: bx lr",
    ".thumb",
    ".thumb_func",
    ".type __kprobes_test_case_end_16, %function",
    "__kprobes_test_case_end_16: bx lr",
    ".popsection",
]


def build_batch(batch: IsaBatch, cases: list[Case]) -> tuple[str, dict[int, int]]:
    out = list(batch.header)
    owner: dict[int, int] = {}  # batch line number -> case index
    for c in cases:
        out.append(f"@ case {c.index} {c.source} {c.macro}")
        for s in c.prepared:
            out.append(s)
            owner[len(out)] = c.index
        out.append(".code 32" if batch.name == "arm" else ".code 16")
    out.extend(STUBS)
    return "\n".join(out) + "\n", owner


_DIAG = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<kind>Error|Warning): (?P<msg>.*)$")


def assemble(batch: IsaBatch, cases: list[Case], work: Path,
             skipped: list[tuple[Case, str]]) -> dict[int, tuple[str, int]]:
    """Assemble and link; returns case index -> (mode, encoding). Refused cases go to `skipped`."""
    live = list(cases)
    for _attempt in range(20):
        text, owner = build_batch(batch, live)
        src = work / f"{batch.name}.s"
        obj = work / f"{batch.name}.o"
        elf = work / f"{batch.name}.elf"
        src.write_text(text)
        r = subprocess.run([AS, *batch.as_flags, "-o", str(obj), str(src)], capture_output=True, text=True)
        errors: dict[int, list[str]] = collections.defaultdict(list)
        warnings: dict[int, list[str]] = collections.defaultdict(list)
        src_lines = text.split("\n")
        for line in r.stderr.splitlines():
            m = _DIAG.match(line)
            if not m:
                continue
            ln = int(m.group("line"))
            if ln not in owner:
                raise PPError(f"assembler {m.group('kind')} outside any case: {line}")
            msg = f"{m.group('msg')} [line: {src_lines[ln - 1].strip()}]"
            (errors if m.group("kind") == "Error" else warnings)[owner[ln]].append(msg)
        if r.returncode != 0 and not errors:
            raise PPError(f"{AS} failed: {r.stderr}")
        if errors:
            bad = set(errors)
            for c in live:
                if c.index in bad:
                    skipped.append((c, "; ".join(errors[c.index])))
            live = [c for c in live if c.index not in bad]
            continue
        by_index = {c.index: c for c in live}
        for idx, ws in warnings.items():
            by_index[idx].notes.append("as warning: " + "; ".join(ws))
        r = subprocess.run([LD, "-o", str(elf), "-e", "0", "-Ttext=0x10000", str(obj)], capture_output=True, text=True)
        if r.returncode != 0:
            raise PPError(f"{LD} failed: {r.stderr}")
        return read_encodings(elf, by_index)
    raise PPError("assembler kept failing")


def read_encodings(elf: Path, by_index: dict[int, Case]) -> dict[int, tuple[str, int]]:
    from elftools.elf.elffile import ELFFile

    want = {f"kpa_insn_{i}": i for i in by_index}
    found: dict[int, tuple[str, int]] = {}
    with elf.open("rb") as fh:
        ef = ELFFile(fh)
        secs = [s for s in ef.iter_sections() if s["sh_flags"] & 0x2 and s["sh_type"] == "SHT_PROGBITS"]
        data = {s.name: (s["sh_addr"], s.data()) for s in secs}
        symtab = ef.get_section_by_name(".symtab")
        for sym in symtab.iter_symbols():
            idx = want.get(sym.name)
            if idx is None:
                continue
            addr = sym["st_value"] & ~1
            for base, blob in data.values():
                if base <= addr < base + len(blob):
                    off = addr - base
                    break
            else:
                raise PPError(f"{sym.name}: address {addr:#x} in no section")
            case = by_index[idx]
            if case.isa == 32:
                found[idx] = ("arm", int.from_bytes(blob[off : off + 4], "little"))
            else:
                hw1 = int.from_bytes(blob[off : off + 2], "little")
                if hw1 >= 0xE800:  # is_wide_instruction() in arch/arm/include/asm/opcodes.h terms
                    hw2 = int.from_bytes(blob[off + 2 : off + 4], "little")
                    found[idx] = ("t32", hw1 << 16 | hw2)
                else:
                    found[idx] = ("t16", hw1)
    missing = [i for i in by_index if i not in found]
    if missing:
        raise PPError(f"labels not found in the linked image: {missing[:5]}...")
    return found


# ---------------------------------------------------------------------------


def load_defines(config: Path, thumb2: bool) -> dict[str, str]:
    """The -D flags and autoconf.h the kernel compiles test-*.c with (armv7-a armmp)."""
    d = {"__KERNEL__": "1", "__arm__": "1", "__ARM_ARCH_7A__": "1", "__LINUX_ARM_ARCH__": "7",
         "__ARMEL__": "1", "MODULE": "1"}
    for line in config.read_text().splitlines():
        m = re.match(r"CONFIG_(\w+)=(.*)", line)
        if not m:
            continue
        name, val = m.groups()
        if val == "y":
            d[f"CONFIG_{name}"] = "1"
        elif val == "m":
            d[f"CONFIG_{name}_MODULE"] = "1"
        else:
            d[f"CONFIG_{name}"] = val
    if "CONFIG_CPU_32v7" not in d:
        raise PPError(f"{config}: not an armv7 config (no CONFIG_CPU_32v7)")
    if thumb2:
        d["CONFIG_THUMB2_KERNEL"] = "1"
        d["__thumb__"] = "1"
        d["__thumb2__"] = "1"
    else:
        d.pop("CONFIG_THUMB2_KERNEL", None)
    return d


def cpp_check(tree: Path, config: Path, thumb2: bool, rel: str, cases: list[Case], work: Path) -> str:
    """Cross-check of the preprocessor above: GNU cpp on the same file (headers not followed
    here are empty stubs) must give the same inline-asm text for every case."""
    stubs = work / "cpp-stubs"
    defs = work / "cpp-defines.h"
    for path in ("linux/kernel.h", "linux/module.h", "linux/linkage.h", "linux/types.h", "linux/swab.h",
                 "asm/system_info.h", "asm/hwcap.h"):
        (stubs / path).parent.mkdir(parents=True, exist_ok=True)
        (stubs / path).write_text("")
    defs.write_text("".join(f"#define {k} {v}\n" for k, v in load_defines(config, thumb2).items()))
    args = ["cpp", "-P", "-nostdinc", "-undef", f"-I{stubs}"] + [f"-I{tree / d}" for d in INCLUDE_DIRS]
    args += ["-include", str(defs), "-include", str(tree / PRELUDE[1]), str(tree / rel)]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode:
        raise PPError(f"cpp failed: {r.stderr[:500]}")
    toks = tokenize(r.stdout.replace("\n", " "), "cpp", 0)
    theirs = []
    for i, t in enumerate(toks):
        if t.text == "__asm__":
            j = i + 1
            while toks[j].text in ("__volatile__", "volatile", "("):
                j += 1
            parts = []
            while toks[j].kind == "str":
                parts.append(c_string_value(toks[j].text))
                j += 1
            text = "".join(parts).replace("%%", "%")
            if "__kprobes_test_case_start" in text:
                theirs.append(text)
    if len(theirs) != len(cases) or any(x != c.asm for x, c in zip(theirs, cases)):
        bad = next((c.source for x, c in zip(theirs, cases) if x != c.asm), "count")
        raise PPError(f"{rel}: GNU cpp disagrees ({len(theirs)} vs {len(cases)} cases; first at {bad})")
    return f"GNU cpp gives the same asm for all {len(cases)} cases"


# (test file, Thumb-2 kernel?, batch, the Makefile condition that builds it: first in `condition`)
FILES = (
    ("test-arm.c", False, ARM_BATCH, "!CONFIG_THUMB2_KERNEL"),
    ("test-thumb.c", True, THUMB_BATCH, "CONFIG_THUMB2_KERNEL"),
)


def tool_version(tool: str) -> str:
    return subprocess.run([tool, "--version"], capture_output=True, text=True).stdout.splitlines()[0]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", type=Path, default=DEFAULT_TREE)
    ap.add_argument("--config", type=Path, default=None, help="Debian armhf kernel config (default: ground truth copy)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--skipped", type=Path, default=None, help="default: <out>_skipped.tsv")
    ap.add_argument("--keep", type=Path, default=None, help="keep the batch .s/.o/.elf files in this directory")
    ap.add_argument("--cpp-check", action="store_true",
                    help="also preprocess with the host's GNU cpp and require identical asm for every case")
    a = ap.parse_args(argv)
    config = a.config
    if config is None:
        if DEFAULT_CONFIG.is_file():
            config = DEFAULT_CONFIG
        else:
            sys.path.insert(0, str(ROOT / "tests"))
            from conftest import fetch_debian_config  # noqa: PLC0415

            config = fetch_debian_config("arm")
    for tool in (AS, LD):
        if not shutil.which(tool):
            print(f"{tool} not found: apt-get install binutils-arm-linux-gnueabihf", file=sys.stderr)
            return 2
    skipped_path = a.skipped or a.out.with_name(a.out.stem + "_skipped.tsv")

    rows: list[dict] = []
    skipped: list[tuple[Case, str]] = []
    header_notes: list[str] = []
    index = 0
    work_ctx = tempfile.TemporaryDirectory() if a.keep is None else None
    work = Path(work_ctx.name) if work_ctx else a.keep
    work.mkdir(parents=True, exist_ok=True)
    try:
        for fname, thumb2, batch, build_cond in FILES:
            rel = f"{TESTDIR}/{fname}"
            pp = Preprocessor(a.tree, load_defines(config, thumb2), rel)
            toks = pp.run(PRELUDE)
            cases = extract_cases(toks, rel)
            for c in cases:
                c.index = index
                index += 1
                c.prepared = prepare_case(c)
            if a.cpp_check:
                header_notes.append(f"{fname}: " + cpp_check(a.tree, config, thumb2, rel, cases, work))
            enc = assemble(batch, cases, work, skipped)
            header_notes.append(
                f"{fname}: {len(cases)} test cases, {len(enc)} assembled, "
                f"{len(cases) - len(enc)} skipped; {len(pp.inactive_tests)} TEST* lines under #if false for this build; "
                f"build: {'CONFIG_THUMB2_KERNEL=y (Thumb-2 kernel)' if thumb2 else 'ARM kernel'}, "
                f"as {' '.join(batch.as_flags)}; includes not read: {', '.join(sorted(pp.ignored_includes)) or '-'}")
            for c in cases:
                if c.index not in enc:
                    continue
                mode, value = enc[c.index]
                notes = list(c.notes)
                want = {"kprobe_thumb16_test_cases": "t16", "kprobe_thumb32_test_cases": "t32"}.get(c.function)
                if want and mode != want:
                    notes.append(f"assembled as {mode} in {c.function} (test-core.c would fail the case: width)")
                if mode != "arm" and (value & 0xFF00) == 0xBF00 and (value & 0xF) and mode == "t16" \
                        and not c.insn_text.lower().startswith("it"):
                    notes.append("assembler inserted an IT instruction here (-mimplicit-it)")
                expected = "rejected" if c.flags & ARG_FLAG_UNSUPPORTED else "accepted"
                rows.append({
                    "mode": mode,
                    "encoding": f"{value:08x}" if mode != "t16" else f"{value:04x}",
                    "expected": expected,
                    "source": c.source,
                    "macro": c.macro,
                    "asm": c.insn_text,
                    "condition": " && ".join((build_cond, *(f"({x})" if "||" in x else x for x in c.cond))),
                    "via": c.via,
                    "note": "; ".join(notes),
                })
    finally:
        if work_ctx:
            work_ctx.cleanup()

    # the same encoding expected both ways would make agreement ill-defined: say so
    seen: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
    for r in rows:
        seen[(r["mode"], r["encoding"])].add(r["expected"])
    conflicts = sorted(k for k, v in seen.items() if len(v) > 1)
    for r in rows:
        if (r["mode"], r["encoding"]) in {k for k in conflicts}:
            r["note"] = "; ".join(x for x in (r["note"], "same encoding expected both ways elsewhere") if x)

    counts = collections.Counter((r["mode"], r["expected"]) for r in rows)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    with a.out.open("w") as fh:
        fh.write(f"# Generated by tests/tools/gen_arm_testsuite.py from {TESTDIR}/test-arm.c and test-thumb.c\n")
        fh.write(f"# tree: {a.tree.name}; config: {config.name} ({config.parent.name}); {tool_version(AS)}\n")
        for note in header_notes:
            fh.write(f"# {note}\n")
        fh.write("# expected: rejected = TEST_UNSUPPORTED (ARG_FLAG_UNSUPPORTED); accepted = every other case "
                 "(TEST_SUPPORTED or executed tests, which need the probe registered)\n")
        fh.write("# rows: " + ", ".join(f"{m}/{e}={n}" for (m, e), n in sorted(counts.items())) + "\n")
        fh.write("\t".join(COLUMNS) + "\n")
        for r in rows:
            fh.write("\t".join(r[c].replace("\t", " ") for c in COLUMNS) + "\n")
    with skipped_path.open("w") as fh:
        fh.write("# Test cases the assembler refused (generated by tests/tools/gen_arm_testsuite.py)\n")
        fh.write("\t".join(SKIP_COLUMNS) + "\n")
        for c, reason in skipped:
            vals = {"file": c.file, "source": c.source, "macro": c.macro, "asm": c.insn_text,
                    "condition": " && ".join(c.cond), "via": c.via, "reason": reason}
            fh.write("\t".join(" ".join(vals[k].split()) for k in SKIP_COLUMNS) + "\n")
    print(f"{len(rows)} rows -> {a.out}")
    for (m, e), n in sorted(counts.items()):
        print(f"  {m:4} {e:9} {n}")
    print(f"{len(skipped)} skipped -> {skipped_path}")
    for note in header_notes:
        print("  " + note)
    if conflicts:
        print(f"{len(conflicts)} encodings expected both ways: {conflicts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
