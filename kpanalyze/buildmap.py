"""Which source files kbuild compiles into vmlinux or a module, for one arch and config.

Walks the Kbuild facts the way kbuild descends (scripts/Makefile.build, Makefile.lib):

* roots: the top ``Kbuild`` (``obj-y += init/ kernel/ arch/$(SRCARCH)/ ...``) and the
  ``core-*``/``libs-*``/``drivers-*``/``head-*`` lists of the top ``Makefile``
  (``libs-y := lib/``) and of ``arch/<arch>/Makefile`` (what ``$(ARCH_CORE)``,
  ``$(ARCH_LIB)`` and ``$(ARCH_DRIVERS)`` stand for in the top Kbuild);
* each directory's ``Kbuild`` (preferred) or ``Makefile``, plus the files it includes;
* ``obj-y``/``obj-m``/``obj-$(CONFIG_X)`` objects and subdirectories; composite objects
  (``foo-y``, ``foo-objs``, ``foo-$(CONFIG_X)``, and ``foo-m`` for modules);
* ``lib-y`` objects count as built in, in the directories listed in ``libs-*``
  (the only ones whose lib.a is linked).

A directory reached only through ``obj-m`` is built for modules only: its ``obj-y``
objects are not linked anywhere (Makefile.build builds built-in.a only with need-builtin).

Without a config, every ``CONFIG_`` test is unknown, so files behind one are "unknown".
Reads no files: the caller passes the facts.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

from .conditions import ARCH_FIXED_BITS, _env, config_symbols, evaluate_kbuild
from .facts import FileFacts, FlagRemoval, KbuildRule
from .parsing.kbuild import _COMPOSITE_VAR, _split_top

STATES = ("y", "m", "n", "unknown", "unlisted")
_RANK = {"y": 3, "m": 2, "u": 1, "n": 0}
_LIST_BASES = ("core", "libs", "drivers", "head")
_SRC_EXTS = (".c", ".S", ".s", ".rs", ".o")


@dataclass(frozen=True)
class BuildStatus:
    """How one source file is built. ``state``: "y" (into vmlinux), "m" (a module), "n"
    (named by a Makefile but not built), "unknown" (depends on config, none given),
    "unlisted" (no Makefile line names it: headers, #included .c files)."""

    state: str
    conditions: tuple[str, ...] = ()  # CONFIG_ symbols on the path from the root
    evidence: tuple[tuple[str, int], ...] = ()  # Makefile lines, root first
    # listed in lib-y: it goes into the directory's lib.a, and the linker takes an archive
    # member only if something references it (lib/logic_pio.o is not in x86_64 vmlinux)
    archive: bool = False


@dataclass
class _Obj:
    state: str  # y, m, u, n
    compile_dir: str  # the directory whose Makefile compiles it (CFLAGS_REMOVE_ lives there)
    conditions: tuple[str, ...]
    evidence: tuple[tuple[str, int], ...]
    archive: bool = False


class _Unknown(Exception):
    """A make expression depends on something we cannot know."""


# -- a small make expander --------------------------------------------------------------

def _match_pattern(pat: str, word: str) -> bool:
    if "%" not in pat:
        return pat == word
    pre, _, post = pat.partition("%")
    return word.startswith(pre) and word.endswith(post) and len(word) >= len(pre) + len(post)


def _patsubst(pat: str, rep: str, word: str) -> str:
    if "%" not in pat:
        return rep if word == pat else word
    pre, _, post = pat.partition("%")
    if word.startswith(pre) and word.endswith(post) and len(word) >= len(pre) + len(post):
        stem = word[len(pre):len(word) - len(post)] if post else word[len(pre):]
        return rep.replace("%", stem, 1) if "%" in rep else rep
    return word


def _close(text: str, start: int, opener: str) -> int:
    """Index of the bracket closing text[start] (== opener)."""
    closer = ")" if opener == "(" else "}"
    depth = 0
    for k in range(start, len(text)):
        ch = text[k]
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
            if depth == 0:
                if ch != closer:
                    continue
                return k
    raise _Unknown("unbalanced")


_FUNCS = {"subst", "patsubst", "addprefix", "addsuffix", "filter", "filter-out", "findstring",
          "if", "or", "and", "strip", "sort", "firstword", "lastword", "notdir", "dir",
          "basename", "suffix", "foreach", "word", "words", "join"}
_UNKNOWN_FUNCS = {"shell", "call", "wildcard", "origin", "value", "eval", "info", "warning",
                  "error", "realpath", "abspath", "file", "flavor", "guile"}


def expand(text: str, lookup: Callable[[str], str | None], _depth: int = 0) -> str:
    """Expand make references in `text`; raises _Unknown if a value is not known."""
    if "$" not in text:
        return text
    if _depth > 30:
        raise _Unknown("recursion")
    out = []
    k, n = 0, len(text)
    while k < n:
        ch = text[k]
        if ch != "$":
            out.append(ch)
            k += 1
            continue
        if k + 1 >= n:
            k += 1
            continue
        nxt = text[k + 1]
        if nxt == "$":
            out.append("$")
            k += 2
            continue
        if nxt not in "({":
            v = lookup(nxt)  # $@, $<, $X
            if v is None:
                raise _Unknown(nxt)
            out.append(v)
            k += 2
            continue
        end = _close(text, k + 1, nxt)
        out.append(_expand_ref(text[k + 2:end], lookup, _depth + 1))
        k = end + 1
    return "".join(out)


_PLAIN_NAME = re.compile(r"[\w.\-]+")
_CONFIG_SUFFIX = re.compile(r"(.*-)\$[({](CONFIG_\w+)[)}]")


def _expand_ref(body: str, lookup, depth: int) -> str:
    if _PLAIN_NAME.fullmatch(body):  # the common case: $(NAME)
        val = lookup(body)
        if val is None:
            raise _Unknown(body)
        return val
    m = re.match(r"([a-z\-]+)[ \t]", body)
    if m and (m.group(1) in _FUNCS or m.group(1) in _UNKNOWN_FUNCS):
        func = m.group(1)
        if func in _UNKNOWN_FUNCS:
            raise _Unknown(func)
        return _function(func, body[m.end():], lookup, depth)
    # substitution reference $(VAR:a=b)
    parts = _split_top(body, ":")
    if len(parts) == 2 and "=" in parts[1]:
        name = expand(parts[0], lookup, depth)
        a, _, b = parts[1].partition("=")
        val = lookup(name.strip())
        if val is None:
            raise _Unknown(name)
        pa = a if "%" in a else "%" + a
        pb = b if "%" in b else "%" + b
        return " ".join(_patsubst(pa, pb, w) for w in val.split())
    name = expand(body, lookup, depth).strip()
    val = lookup(name)  # already expanded
    if val is None:
        raise _Unknown(name)
    return val


def _function(func: str, argtext: str, lookup, depth: int) -> str:
    def arg(t):
        return expand(t, lookup, depth)

    raw = _split_top(argtext, ",")
    if func == "foreach":
        if len(raw) < 3:
            raise _Unknown("foreach")
        var = arg(raw[0]).strip()
        words = arg(raw[1]).split()
        body = ",".join(raw[2:])
        res = []
        for w in words:
            def inner(name, _w=w, _v=var):
                return _w if name == _v else lookup(name)
            res.append(expand(body, inner, depth))
        return " ".join(r for r in res if r.strip())
    if func == "if":
        cond = arg(raw[0]).strip()
        if cond:
            return arg(raw[1]) if len(raw) > 1 else ""
        return arg(",".join(raw[2:])) if len(raw) > 2 else ""
    if func == "or":
        for r in raw:
            v = arg(r).strip()
            if v:
                return v
        return ""
    if func == "and":
        v = ""
        for r in raw:
            v = arg(r).strip()
            if not v:
                return ""
        return v
    if func in ("strip", "sort", "firstword", "lastword", "notdir", "dir", "basename",
                "suffix", "words"):
        words = arg(",".join(raw)).split()
        if func == "strip":
            return " ".join(words)
        if func == "sort":
            return " ".join(sorted(set(words)))
        if func == "firstword":
            return words[0] if words else ""
        if func == "lastword":
            return words[-1] if words else ""
        if func == "words":
            return str(len(words))
        if func == "notdir":
            return " ".join(w.rsplit("/", 1)[-1] for w in words)
        if func == "dir":
            return " ".join(w.rsplit("/", 1)[0] + "/" if "/" in w else "./" for w in words)
        if func == "basename":
            return " ".join(re.sub(r"\.[^./]*$", "", w) for w in words)
        return " ".join(m.group(0) for w in words if (m := re.search(r"\.[^./]*$", w)))
    if len(raw) < 2:
        raise _Unknown(func)
    if func == "subst":
        if len(raw) < 3:
            raise _Unknown(func)
        return arg(",".join(raw[2:])).replace(arg(raw[0]), arg(raw[1])) if arg(raw[0]) else \
            arg(",".join(raw[2:]))
    if func == "patsubst":
        if len(raw) < 3:
            raise _Unknown(func)
        pat, rep = arg(raw[0]).strip(), arg(raw[1]).strip()
        return " ".join(_patsubst(pat, rep, w) for w in arg(",".join(raw[2:])).split())
    if func in ("addprefix", "addsuffix"):
        fix = arg(raw[0]).strip()
        words = arg(",".join(raw[1:])).split()
        return " ".join(fix + w if func == "addprefix" else w + fix for w in words)
    if func in ("filter", "filter-out"):
        pats = arg(raw[0]).split()
        words = arg(",".join(raw[1:])).split()
        keep = [w for w in words if any(_match_pattern(p, w) for p in pats) == (func == "filter")]
        return " ".join(keep)
    if func == "findstring":
        needle = arg(raw[0])
        return needle if needle in arg(",".join(raw[1:])) else ""
    if func == "word":
        try:
            idx = int(arg(raw[0]).strip())
        except ValueError:
            raise _Unknown("word") from None
        words = arg(",".join(raw[1:])).split()
        return words[idx - 1] if 0 < idx <= len(words) else ""
    if func == "join":
        a, b = arg(raw[0]).split(), arg(",".join(raw[1:])).split()
        return " ".join((a[i] if i < len(a) else "") + (b[i] if i < len(b) else "")
                        for i in range(max(len(a), len(b))))
    raise _Unknown(func)


# -- per-directory view of the facts ------------------------------------------------------

def _split_var(var: str) -> tuple[str, str] | None:
    """`obj-$(CONFIG_X)` -> ("obj", "$(CONFIG_X)"); `foo-objs` -> ("foo", "objs")."""
    m = _COMPOSITE_VAR.match(var)
    if not m:
        return None
    return m.group("base"), m.group("suffix")


def _suffix_state(suffix: str | None) -> str:
    if suffix is None:
        return "u"
    if suffix in ("y", "objs"):
        return "y"
    if suffix == "m":
        return "m"
    return "n"  # obj-, obj-n, obj-yy: never built


class _Dir:
    """The rules of one directory's Makefile (and the files it includes), with the
    make variables they define, evaluated lazily for one (arch, config)."""

    def __init__(self, bm: "BuildMap", path: str, makefile: str, rules: list[KbuildRule],
                 removals: list[FlagRemoval]):
        self.bm = bm
        self.path = path  # "" for the tree root
        self.makefile = makefile
        self.rules = rules
        self.removals = removals
        self._names: dict[int, str | None] = {}
        self._naming: set[int] = set()
        self._literal: dict[str, list[KbuildRule]] | None = None
        self._dollar: list[KbuildRule] = []
        self._busy: set[str] = set()
        self._composites: dict[str, list] | None = None
        self._values: dict[str, str | None] = {}
        self.incomplete = False  # an included file is missing from the facts

    def reset(self) -> None:
        """Forget what was derived from the rules (after more rules were added)."""
        self._names.clear()
        self._literal = None
        self._dollar = []
        self._composites = None
        self._values.clear()

    def gate(self, rule) -> bool | None:
        return self.bm.gate(rule.config)

    def _index(self):
        if self._literal is not None:
            return
        self._literal = {}
        for r in self.rules:
            if r.variable == "include" or r.variable.startswith("CFLAGS_"):
                continue
            if "$" in r.variable:
                self._dollar.append(r)
            else:
                self._literal.setdefault(r.variable, []).append(r)

    def name_of(self, rule) -> str | None:
        """The variable a rule assigns, expanded (None if it depends on the unknown)."""
        if "$" not in rule.variable:
            return rule.variable
        key = id(rule)
        if key in self._names:
            return self._names[key]
        if key in self._naming:
            return None
        m = _CONFIG_SUFFIX.fullmatch(rule.variable)
        if m and "$" not in m.group(1):  # obj-$(CONFIG_X): the common case
            v = self.lookup(m.group(2))
            self._names[key] = None if v is None else m.group(1) + v
            return self._names[key]
        self._naming.add(key)
        try:
            name = self.expand_or_none(rule.variable)
        finally:
            self._naming.discard(key)
        name = name.strip() if name is not None else None
        if not self.bm.any_mode:
            self._names[key] = name
        return name

    def rules_named(self, name: str) -> tuple[list[KbuildRule], list[KbuildRule]]:
        """Rules assigning variable `name`, and rules whose variable is unknown but may be it."""
        self._index()
        exact = list(self._literal.get(name, ()))
        maybe = []
        for r in self._dollar:
            n = self.name_of(r)
            if n == name:
                exact.append(r)
            elif n is None and name.startswith(r.variable.split("$", 1)[0]) \
                    and self.gate(r) is not False:
                maybe.append(r)
        if len(exact) > 1:
            exact.sort(key=lambda r: r.line)
        return exact, maybe

    def lookup(self, name: str) -> str | None:
        """The expanded value of make variable `name` here, None if unknown."""
        bm = self.bm
        if name in bm.make_vars and bm.make_vars[name] is not None:
            return bm.make_vars[name]
        if name.startswith("CONFIG_"):
            known, v = bm.env.cfg(name[7:])
            if known:
                return v or ""
            if bm.any_mode:
                bm.any_conds.append(name)
                return "y"
            return None
        if name in bm.make_vars:
            return None
        if name in ("obj", "src"):
            return "/" + self.path if self.path else ""
        if not bm.any_mode and name in self._values:
            return self._values[name]
        if name in self._busy:
            return ""  # `libs-y := arch/arm/lib/ $(libs-y)`: the lines are collected anyway
        self._busy.add(name)
        try:
            value = self._lookup(name)
        finally:
            self._busy.discard(name)
        if not bm.any_mode:
            self._values[name] = value
        return value

    def _lookup(self, name: str) -> str | None:
        bm = self.bm
        exact, maybe = self.rules_named(name)
        if maybe and not bm.any_mode:
            return None
        if not exact and not maybe:
            sv = _split_var(name)
            if (sv is not None and sv[0] in self.composites()) or any(
                    name.startswith(r.variable.split("$", 1)[0]) for r in self._dollar):
                return ""  # foo-y never assigned here (only foo-m...): empty, as in make
            found, value = bm.top_lookup(name, exclude=self)
            if found:
                return value
            # defined nowhere we can see: empty, as make has it, unless an include we
            # could not read may define it
            return None if self.incomplete else ""
        vals = []
        for r in exact + maybe:
            g = self.gate(r)
            if g is False:
                continue
            if g is None or r in maybe:
                if not bm.any_mode:
                    return None
                bm.any_conds.extend(config_symbols(r.config))
            for tok in r.objects:
                try:
                    vals.append(expand(tok, self.lookup))
                except _Unknown:
                    return None
        return " ".join(v for v in vals if v)

    def composites(self) -> dict[str, list[tuple[KbuildRule, str | None]]]:
        """base name -> [(rule, suffix or None if unknown)] of `<base>-<suffix>` lines."""
        if self._composites is None:
            comps: dict[str, list] = {}
            self._composites = comps  # guards re-entry through name_of
            for r in self.rules:
                sv = _split_var(r.variable)
                if sv is None or sv[0] in ("obj", "lib") or r.variable.startswith("CFLAGS_"):
                    continue
                if "$" not in sv[0]:
                    comps.setdefault(sv[0], [])
            for r in self.rules:
                sv = _split_var(r.variable)
                if sv is None or sv[0] in ("obj", "lib") or r.variable.startswith("CFLAGS_"):
                    continue
                name = self.name_of(r)
                if name is not None:
                    nsv = _split_var(name)
                    if nsv is None:
                        continue
                    comps.setdefault(nsv[0], []).append((r, nsv[1]))
                else:
                    comps.setdefault(sv[0], []).append((r, None))
        return self._composites

    def expand_or_none(self, text: str) -> str | None:
        try:
            return expand(text, self.lookup)
        except _Unknown:
            return None


# -- the map ----------------------------------------------------------------------------------

class BuildMap:
    """Build status of every source file for one arch (a directory name under arch/) and
    an optional config, from the Kbuild facts of the tree ({makefile path: FileFacts})."""

    def __init__(self, facts: Mapping[str, FileFacts], arch: str, config=None):
        self.facts = facts
        self.arch = arch
        self.config = config
        self.env = _env(config, arch, False, False)
        bits = ARCH_FIXED_BITS.get(arch)
        if bits is None and config is not None:
            bits = 64 if config.builtin("64BIT") else 32
        self.bits = bits
        self.make_vars: dict[str, str | None] = {
            "SRCARCH": arch, "ARCH": arch, "srctree": "", "objtree": "", "KBUILD_EXTMOD": "",
            "BITS": str(bits) if bits else None, "ARCH_CORE": "", "ARCH_LIB": "",
            "ARCH_DRIVERS": "", "comma": ",", "space": " ", "empty": "",
            # the top Makefile's mode switches, as in a plain `make` of vmlinux and modules
            "need-sub-make": "", "mixed-build": "", "config-build": "", "need-config": "1",
            "may-sync-config": "", "need-compiler": "1", "single-build": "",
        }
        self._gate_cache: dict[str, bool | None] = {}
        self.any_mode = False  # expanding "every value it could have" (see _expand_token)
        self.any_conds: list[str] = []
        self._dirs: dict[str, _Dir | None] = {}
        self.objects: dict[str, _Obj] = {}  # object stem ("kernel/kprobes") -> status
        self._visited: dict[tuple[str, bool, bool], int] = {}
        self._named: dict[str, tuple[str, int]] | None = None
        self.top = self.topmake = self.archdir = None
        self.top = self._dir_from("", "Kbuild") or _Dir(self, "", "Kbuild", [], [])
        self.topmake = self._dir_from("", "Makefile") or _Dir(self, "", "Makefile", [], [])
        self.archdir = self._dir_from("", f"arch/{arch}/Makefile") or \
            _Dir(self, "", f"arch/{arch}/Makefile", [], [])
        self.unresolved: list[tuple[str, int, str]] = []  # (makefile, line, token)
        self._walk()

    # -- directories ------------------------------------------------------------------------
    def _dir_from(self, path: str, makefile: str) -> _Dir | None:
        ff = self.facts.get(makefile)
        if ff is None:
            return None
        rules = list(ff.kbuild_rules)
        removals = list(ff.flag_removals)
        d = _Dir(self, path, makefile, rules, removals)
        # included makefiles (virt/kvm/Makefile.kvm...) act as part of this one
        seen = {makefile}
        k = 0
        while k < len(d.rules):
            r = d.rules[k]
            k += 1
            if r.variable != "include" or d.gate(r) is False:
                continue
            for tok in r.objects:
                inc = d.expand_or_none(tok)
                if inc is None:
                    d.incomplete = True
                    continue
                for word in inc.split():
                    word = posixpath.normpath(word.lstrip("/"))
                    if word not in self.facts:
                        d.incomplete = True  # e.g. arch/mips/Kbuild.platforms, not extracted
                    if word in seen or word not in self.facts:
                        continue
                    seen.add(word)
                    d.rules.extend(self.facts[word].kbuild_rules)
                    d.removals.extend(self.facts[word].flag_removals)
                    d.reset()  # the new lines may define variables already looked up
        return d

    def gate(self, expr: str) -> bool | None:
        """Truth of a rule's `config` condition for this arch and config."""
        try:
            return self._gate_cache[expr]
        except KeyError:
            v = self._gate_cache[expr] = evaluate_kbuild(expr, self.config, self.arch, self.make_vars)
            return v

    def dir(self, path: str) -> _Dir | None:
        """The rules for directory `path` (its Kbuild if present, else its Makefile)."""
        if path not in self._dirs:
            prefix = path + "/" if path else ""
            d = self._dir_from(path, prefix + "Kbuild")
            if d is None:
                d = self._dir_from(path, prefix + "Makefile")
            self._dirs[path] = d
        return self._dirs[path]

    def top_lookup(self, name: str, exclude: _Dir | None = None) -> tuple[bool, str | None]:
        """(defined there, value) for a variable of the top Makefile or the arch Makefile
        (one make run, whose exported variables every directory sees)."""
        for d in (self.archdir, self.topmake):
            if d is None or d is exclude:
                continue
            exact, maybe = d.rules_named(name)
            if exact or maybe:
                return True, d.lookup(name)
        return False, None

    # -- the walk --------------------------------------------------------------------------
    def _walk(self) -> None:
        # The arch Makefile's core-y/libs-y/drivers-y/head-y and the top Makefile's libs-y
        for d in (self.topmake, self.archdir):
            for r in d.rules:
                sv = _split_var(r.variable)
                if sv is None or sv[0] not in _LIST_BASES:
                    continue
                line_state = self._line_state(d, r)
                is_lib = sv[0] == "libs"
                for path, kind, extra, unsure in self._targets(d, r):
                    state = _unsure(_combine_dir("y", line_state), unsure)
                    conds = config_symbols(r.config) + extra
                    ev = ((r.path, r.line),)
                    if kind == "dir":
                        self._visit(path, state, is_lib, conds, ev, lib_only=False)
                    elif kind == "lib.a":
                        self._visit(path, state, True, conds, ev, lib_only=True)
        # The top Kbuild: obj-y += init/ kernel/ arch/$(SRCARCH)/ ...
        self._visit_rules(self.top, "y", False, (), (), lib_only=False)

    def _visit(self, path: str, state: str, lib_root: bool, conds, ev, lib_only: bool) -> None:
        """Walk directory `path` reached as `state`; lib_root: its lib.a is linked (listed
        in libs-*); lib_only: only its lib-* lines (reached as .../lib.a)."""
        key = (path, lib_root, lib_only)
        rank = _RANK[state]
        if self._visited.get(key, -1) >= rank:
            return
        self._visited[key] = rank
        d = self.dir(path)
        if d is None:
            return
        self._visit_rules(d, state, lib_root, conds, ev, lib_only)

    def _visit_rules(self, d: _Dir, state: str, lib_root: bool, conds, ev, lib_only: bool) -> None:
        for r in d.rules:
            sv = _split_var(r.variable)
            if sv is None or sv[0] not in ("obj", "lib"):
                continue
            is_lib = sv[0] == "lib"
            if lib_only and not is_lib:
                continue
            line_state = self._line_state(d, r)
            if is_lib:
                if not lib_root:
                    line_state = "n"  # lib.a of this directory is not linked
                elif line_state == "m":
                    line_state = "y"  # lib-m is folded into lib-y
            rconds = conds + config_symbols(r.config)
            rev = ev + ((r.path, r.line),)
            for path, kind, extra, unsure in self._targets(d, r):
                if kind == "dir":
                    if is_lib:
                        continue
                    sub = _unsure(_combine_dir(state, line_state), unsure)
                    self._visit(path, sub, False, _dedup(rconds + extra), rev, lib_only=False)
                elif kind == "obj":
                    obj_state = _unsure(_combine_obj(state, line_state), unsure)
                    self._add_object(d, path, obj_state, _dedup(rconds + extra), rev, is_lib)

    def _line_state(self, d: _Dir, r: KbuildRule) -> str:
        """y/m/n/u for one list line: its variable's suffix and its enclosing conditions."""
        gate = d.gate(r)
        name = d.name_of(r)
        if name is not None:
            sv = _split_var(name.strip())
            suffix = sv[1] if sv else "n"
        else:
            suffix = None
        s = _suffix_state(suffix)
        if gate is False or s == "n":
            return "n"
        if gate is None:
            return "u"
        return s

    def _targets(self, d: _Dir, r: KbuildRule):
        """(path, kind, extra conditions, unsure) for each word of a list line: kind "dir",
        "obj" (path = object stem) or "lib.a"; unsure when the word comes from a variable
        whose value depends on the unknown (so the word may or may not be there)."""
        out = []
        for tok in r.objects:
            variants = self._expand_token(d, tok)
            if variants is None:
                self.unresolved.append((r.path, r.line, tok))
                continue
            for text, extra, unsure in variants:
                for word in text.split():
                    word = word.strip()
                    if not word:
                        continue
                    if word.startswith("/"):
                        full = word.lstrip("/")
                    else:
                        full = (d.path + "/" + word) if d.path else word
                    is_dir = word.endswith("/")
                    full = posixpath.normpath(full) if full else ""
                    if full.startswith("../") or full == "..":
                        continue
                    if is_dir:
                        out.append((full if full != "." else "", "dir", extra, unsure))
                    elif full.endswith("/lib.a"):
                        out.append((full[:-6], "lib.a", extra, unsure))
                    elif full.endswith(".o"):
                        out.append((full[:-2], "obj", extra, unsure))
        return out

    def _expand_token(self, d: _Dir, tok: str):
        """[(expanded text, extra conditions, unsure)] or None (cannot be expanded at all).
        With $(BITS) unknown (no config on x86...), both word sizes, each depending on
        CONFIG_64BIT; with other unknowns, every word the variables could hold."""
        if "$" not in tok:
            return [(tok, (), False)]
        text = d.expand_or_none(tok)
        if text is not None:
            return [(text, (), False)]
        if self.bits is None and "BITS" in tok:
            out = []
            for b in ("32", "64"):
                try:
                    t = expand(tok, lambda n, _b=b: _b if n == "BITS" else d.lookup(n))
                except _Unknown:
                    t = None
                if t is not None:
                    out.append((t, ("CONFIG_64BIT",), True))
            if out:
                return out
        self.any_mode, self.any_conds = True, []
        try:
            t = expand(tok, d.lookup)
        except _Unknown:
            t = None
        finally:
            self.any_mode = False
        if t is not None:
            return [(t, _dedup(self.any_conds), True)]
        return None

    def _add_object(self, d: _Dir, stem: str, state: str, conds, ev, archive: bool = False) -> None:
        """Record object `stem` (listed in d's Makefile); expand it if composite."""
        rel = stem[len(d.path) + 1:] if d.path and stem.startswith(d.path + "/") else stem
        comps = self._components(d, rel, state)
        if comps is None:
            self._record(stem, state, d.path, conds, ev, archive)
            return
        primitive_maybe = False
        for cstem, cstate, cconds, cev, maybe_only in comps:
            self._record(cstem, cstate, d.path, _dedup(conds + cconds), ev + cev, archive)
            primitive_maybe |= maybe_only
        if primitive_maybe:
            # every part depends on config: foo.o may be compiled from foo.c itself
            self._record(stem, "u" if state != "n" else "n", d.path, conds, ev, archive)

    def _components(self, d: _Dir, rel: str, parent: str):
        """Parts of composite object `rel` (relative to d), or None if it is primitive."""
        lines = d.composites().get(rel, [])
        if not lines:
            return None
        out = []
        any_known = False
        for r, suffix in lines:
            gate = d.gate(r)
            s = _suffix_state(suffix)
            if s == "m" and parent == "y":
                s = "n"  # foo-m only counts for modules
            if gate is False:
                s = "n"
            elif gate is None and s != "n":
                s = "u"
            if s == "n":
                state = "n"
            elif parent == "y":
                state = s  # y or u
            elif parent == "m":
                state = "m" if s in ("y", "m") else "u"
            elif parent == "u":
                state = "u"
            else:
                state = "n"
            if state in ("y", "m"):
                any_known = True
            for path, kind, extra, unsure in self._targets(d, r):
                if kind != "obj":
                    continue
                out.append((path, _unsure(state, unsure), config_symbols(r.config) + extra,
                            ((r.path, r.line),), False))
        if not out:
            return None
        if not any_known and all(s in ("u", "n") for _, s, *_ in out):
            if all(s == "n" for _, s, *_ in out):
                return None  # every part switched off: foo.o is built from foo.c
            out[0] = out[0][:4] + (True,)
        return out

    def _record(self, stem: str, state: str, compile_dir: str, conds, ev, archive=False) -> None:
        prev = self.objects.get(stem)
        if prev is None or _RANK[state] > _RANK[prev.state]:
            self.objects[stem] = _Obj(state, compile_dir, tuple(conds), tuple(ev), archive)
        elif prev.state == state and prev.archive and not archive:
            # also listed in obj-y (lib-y := $(filter-out $(obj-y), ...)): certainly linked
            self.objects[stem] = _Obj(state, compile_dir, tuple(conds), tuple(ev), False)
        elif prev.state == "u" and state == "u":
            prev.conditions = _dedup(prev.conditions + tuple(conds))

    # -- queries ------------------------------------------------------------------------------
    def status(self, src_path: str) -> BuildStatus:
        """How `src_path` (tree-relative, e.g. "kernel/kprobes.c") is built."""
        stem = _stem(src_path)
        if stem is None:
            return BuildStatus("unlisted")
        obj = self.objects.get(stem)
        if obj is not None:
            state = "unknown" if obj.state == "u" else obj.state
            return BuildStatus(state, obj.conditions, obj.evidence, obj.archive)
        named = self._named_anywhere().get(stem)
        if named is not None:
            return BuildStatus("n", (), (named,))
        return BuildStatus("unlisted")

    def ftrace_removed(self, src_path: str) -> FlagRemoval | None:
        """The Makefile line that compiles `src_path` without ftrace flags, if any:
        CFLAGS_REMOVE_<obj>.o or ccflags-remove-* in the directory that compiles it, or a
        directory-and-below removal (subdir-ccflags-remove-*, KBUILD_CFLAGS filter-out) there
        or in a parent directory. Lines whose condition is false for the config are skipped."""
        stem = _stem(src_path)
        if stem is None:
            return None
        obj = self.objects.get(stem)
        cdir = obj.compile_dir if obj is not None else posixpath.dirname(stem)
        d = self.dir(cdir)
        rel = stem[len(cdir) + 1:] if cdir else stem
        if d is not None:
            for r in d.rules:  # CFLAGS_<obj>.o = $(CC_FLAGS_FTRACE) puts them back
                if r.variable.startswith("CFLAGS_") and d.gate(r) is True:
                    target = d.expand_or_none(r.variable[len("CFLAGS_"):])
                    if target == rel + ".o":
                        return None
            for fr in d.removals:
                if fr.target in ("*", "**"):
                    continue
                target = d.expand_or_none(fr.target)
                if target is not None and target == rel + ".o" and self._active(d, fr):
                    return fr
            for fr in d.removals:
                if fr.target in ("*", "**") and self._active(d, fr):
                    return fr
        parent = cdir
        while parent:
            parent = posixpath.dirname(parent)
            pd = self.dir(parent)
            if pd is None:
                continue
            for fr in pd.removals:
                if fr.target == "**" and self._active(pd, fr):
                    return fr
        return None

    def _active(self, d: _Dir, fr: FlagRemoval) -> bool:
        return self.gate(fr.config) is not False

    def built_objects(self) -> dict[str, BuildStatus]:
        """Every object the walk reached and that is (or may be) built, by object path
        ("kernel/kprobes.o")."""
        return {stem + ".o": BuildStatus("unknown" if o.state == "u" else o.state,
                                         o.conditions, o.evidence, o.archive)
                for stem, o in self.objects.items() if o.state != "n"}

    def built_sources(self, sources: Iterable[str] | None = None) -> dict[str, BuildStatus]:
        """Like built_objects, keyed by source file. With `sources` (the tree's .c/.S
        paths), each object maps to its real source file; without, keys are the object
        paths ("kernel/kprobes.o") since the source's suffix is not known."""
        objs = self.built_objects()
        if sources is None:
            return objs
        out = {}
        for src in sources:
            stem = _stem(src)
            if stem is not None and stem + ".o" in objs:
                out[src] = objs[stem + ".o"]
        return out

    def _named_anywhere(self) -> dict[str, tuple[str, int]]:
        """Object stems named by any Makefile line of the tree (reached or not)."""
        if self._named is None:
            named: dict[str, tuple[str, int]] = {}
            for mk, ff in self.facts.items():
                base = posixpath.dirname(mk)
                for r in ff.kbuild_rules:
                    if r.variable == "include" or r.variable.startswith("CFLAGS_"):
                        continue
                    for tok in r.objects:
                        for word in _cheap_expand(tok, self.arch):
                            if not word.endswith(".o"):
                                continue
                            full = word.lstrip("/") if word.startswith("/") else \
                                (base + "/" + word if base else word)
                            named.setdefault(posixpath.normpath(full)[:-2], (r.path, r.line))
            self._named = named
        return self._named


def _cheap_expand(tok: str, arch: str) -> list[str]:
    """A Makefile word without config: $(SRCARCH), $(BITS) (both), $(srctree)/."""
    if "$" not in tok:
        return [tok]
    tok = re.sub(r"\$[({](?:SRCARCH|ARCH)[)}]", arch, tok)
    tok = re.sub(r"\$[({](?:srctree|objtree|src|obj)[)}]/", "", tok)
    if "$" not in tok:
        return [tok]
    if re.fullmatch(r"[^$]*\$[({]BITS[)}][^$]*", tok):
        return [re.sub(r"\$[({]BITS[)}]", b, tok) for b in ("32", "64")]
    return []


def _stem(src_path: str) -> str | None:
    path = posixpath.normpath(src_path.replace("\\", "/").lstrip("/"))
    for ext in _SRC_EXTS:
        if path.endswith(ext):
            return path[: -len(ext)]
    return None


def _dedup(items) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _unsure(state: str, unsure: bool) -> str:
    return "u" if unsure and state != "n" else state


def _combine_dir(parent: str, line: str) -> str:
    """State of a subdirectory reached from a `parent` directory by a `line`."""
    if line == "n" or parent == "n":
        return "n"
    if parent == "y":
        return line
    if parent == "m":
        return "m" if line in ("y", "m") else "u"
    return "u"


def _combine_obj(parent: str, line: str) -> str:
    """State of an object listed by a `line` in a directory reached as `parent`."""
    if line == "n" or parent == "n":
        return "n"
    if parent == "y":
        return line
    if parent == "m":
        return "n" if line == "y" else ("m" if line == "m" else "u")
    return "u"
