"""Facts from one Makefile or Kbuild file: what it links, and what it builds without ftrace.

Reads make syntax only as far as kbuild needs it; never runs make.

KbuildRule facts, one per assignment line:

* object lists: ``obj-*``, ``lib-*``, and the arch Makefile's ``core-*``, ``libs-*``,
  ``head-*``, ``drivers-*`` (``obj-$(CONFIG_X) += foo.o dir/``);
* composite objects and other ``<name>-<suffix>`` lists (``foo-y``, ``foo-objs``,
  ``foo-$(CONFIG_X)``, ``machine-$(CONFIG_Y)``);
* plain variables that those lines use (``KVM := ../../../virt/kvm`` for ``$(KVM)/x.o``),
  that hold objects (``AMDKFD_FILES``, used by the Makefile that includes this one), or
  that a file with ``include`` lines sets (``AMDKFD_PATH := ../amdkfd``);
* ``include`` directives: variable ``"include"``, objects = the file names as written;
* ``CFLAGS_<obj>.o`` lines that put ftrace flags *back* after a directory-wide removal
  (kernel/trace/Makefile: ``CFLAGS_trace_selftest_dynamic.o = $(CC_FLAGS_FTRACE)``):
  variable ``"CFLAGS_<obj>.o"``, objects = the flags.

``objects`` are the right-hand side split on blanks outside ``$(...)``, as written.

``config`` is a condition in a small language over the enclosing ``ifdef``/``ifeq``
blocks and the ``$(CONFIG_X)`` in the variable name (evaluated by
:func:`kpanalyze.conditions.evaluate_kbuild`)::

    expr := or ;  or := and ('||' and)* ;  and := unary ('&&' unary)*
    unary := '!' unary | '(' expr ')' | atom
    atom := CONFIG_X          # set to y or m (ifdef CONFIG_X, ifneq ($(CONFIG_X),), obj-$(CONFIG_X))
          | CONFIG_X=VALUE    # ifeq ($(CONFIG_X),y) -> CONFIG_X=y ; VALUE may be empty
          | $(VAR)=VALUE      # another make variable: ifeq ($(BITS),32); ifdef VAR is !$(VAR)=
          | [text]            # a test we do not model, as written: unknown
          | 0 | 1             # ifeq between two literals

e.g. ``CONFIG_KPROBES&&CONFIG_A&&!CONFIG_B=y``. ``""`` means unconditional. A later
``var := ...`` discards what earlier lines put in ``var``; the earlier lines get "unless
that line applies" added (mm/Makefile: ``mmu-y := nommu.o`` has ``!CONFIG_MMU=y`` because
``mmu-$(CONFIG_MMU) := ...`` follows).

FlagRemoval facts: ``CFLAGS_REMOVE_<obj>.o`` (target ``<obj>.o``), ``ccflags-remove-*``
(target ``"*"``), ``subdir-ccflags-remove-*`` and ``KBUILD_CFLAGS := $(filter-out
$(CC_FLAGS_FTRACE),...)``/``$(subst ...)`` (target ``"**"``: the directory and below), kept
only when the removed flags include ftrace flags. Their ``config`` uses the same language.
"""

from __future__ import annotations

import re

from ..facts import FileFacts, FlagRemoval, KbuildRule

# ftrace instrumentation flags (Makefile:780-981 and the arch Makefiles)
_FTRACE_FLAG = re.compile(
    r"\$[({]CC_FLAGS_FTRACE\w*[)}]|(?<![\w-])-pg\b|-mfentry\b|-mrecord-mcount\b|-mnop-mcount\b"
    r"|-fpatchable-function-entry\b|-mprofile-kernel\b")

# lists of objects / directories linked into vmlinux or modules
_LIST_BASES = frozenset({"obj", "lib", "core", "libs", "head", "drivers", "init", "net", "virt"})
# `<base>-<suffix>` variables that are not composite objects
_NOT_COMPOSITE = frozenset({
    "ccflags", "asflags", "ldflags", "cflags", "aflags", "cppflags", "rustflags", "subdir",
    "subdir-ccflags", "subdir-asflags", "subdir-rustflags", "ccflags-remove", "asflags-remove",
    "subdir-ccflags-remove", "always", "extra", "targets", "hostprogs", "userprogs",
    "hostprogs-always", "userprogs-always", "clean-files", "clean-dirs", "dtb", "dtbo",
    "generic", "generated", "mandatory", "header-test", "no-header-test", "syscall",
    "modorder", "real-obj", "multi-obj", "subdir-builtin", "subdir-modorder", "lib-ksyms",
    "KBUILD", "quiet_cmd", "cmd", "dtc", "DTC_FLAGS", "hostccflags", "HOSTCFLAGS",
})
_COMPOSITE_VAR = re.compile(r"^(?P<base>[^$\s]*?)-(?P<suffix>y|m|objs|\$[({].*|)$")
_CONFIG_REF = re.compile(r"\bCONFIG_[A-Za-z0-9_]+")
_VAR_REF = re.compile(r"\$[({]([A-Za-z_][A-Za-z0-9_.\-]*)(?:[)}]|:)")
_VALUE_OK = re.compile(r"^[\w.\-/+,]*$")
_ASSIGN_OPS = ("::=", ":=", "+=", "?=", "!=", "=")


# -- reading make syntax -------------------------------------------------------------

def _logical_lines(text: str):
    """(first line number, joined text) for each logical line (backslash continuations
    joined with one blank, as make does)."""
    lines = text.split("\n")
    i, n = 0, len(lines)
    while i < n:
        start = i
        parts = [lines[i]]
        while parts[-1].endswith("\\") and not parts[-1].endswith("\\\\") and i + 1 < n:
            parts[-1] = parts[-1][:-1]
            i += 1
            parts.append(lines[i].lstrip())
        i += 1
        yield start + 1, " ".join(p.rstrip() if k < len(parts) - 1 else p for k, p in enumerate(parts))


def _strip_comment(line: str) -> str:
    """Drop a `#` comment (not inside $(...), not escaped)."""
    depth = 0
    for k, ch in enumerate(line):
        if ch == "(" or ch == "{":
            depth += 1
        elif (ch == ")" or ch == "}") and depth:
            depth -= 1
        elif ch == "#" and depth == 0 and (k == 0 or line[k - 1] != "\\"):
            return line[:k]
    return line


def _split_top(text: str, sep: str = None) -> list[str]:
    """Split on blanks (or on `sep`) outside $(...)/${...}."""
    out, cur, depth = [], [], 0
    for ch in text:
        if ch in "({":
            depth += 1
        elif ch in ")}" and depth:
            depth -= 1
        if depth == 0 and ((sep is None and ch in " \t") or ch == sep):
            if sep is not None or cur:
                out.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    if sep is not None or cur:
        out.append("".join(cur))
    return out


def _find_assignment(line: str):
    """(variable, operator, value) if the line is a variable assignment, else None.
    Rule lines (`target: prereq`) and target-specific assignments give None."""
    depth = 0
    k, n = 0, len(line)
    while k < n:
        ch = line[k]
        if ch in "({":
            depth += 1
        elif ch in ")}" and depth:
            depth -= 1
        elif depth == 0:
            for op in _ASSIGN_OPS:
                if line.startswith(op, k):
                    var = line[:k].strip()
                    for prefix in ("export ", "override "):
                        if var.startswith(prefix):
                            var = var[len(prefix):].strip()
                    if not var or len(_split_top(var)) != 1:
                        return None
                    return var, op, line[k + len(op):].strip()
            if ch == ":":
                return None  # a rule
        k += 1
    return None


# -- conditions ------------------------------------------------------------------------

def _bracket(text: str) -> str:
    return "[" + " ".join(text.replace("[", "(").replace("]", ")").split()) + "]"


_ATOM = re.compile(r"CONFIG_\w+(=[\w.\-/+,]*)?|\$\([\w.\-]+\)=[\w.\-/+,]*|\[[^\]]*\]|[01]")


def _neg(expr: str) -> str:
    if expr.startswith("!") and _ATOM.fullmatch(expr[1:]):
        return expr[1:]
    if expr.startswith("!(") and _balanced_outer(expr[1:]):
        return expr[2:-1]
    if _ATOM.fullmatch(expr) or (expr.startswith("(") and _balanced_outer(expr)):
        return "!" + expr
    return "!(" + expr + ")"


def _and(parts) -> str:
    out = []
    for p in parts:
        if not p:
            continue
        if _top_level_or(p):
            p = "(" + p + ")"
        out.append(p)
    return "&&".join(out)


def _top_level_or(p: str) -> bool:
    depth = 0
    for k, ch in enumerate(p):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "|" and depth == 0 and p.startswith("||", k):
            return True
    return False


def _balanced_outer(p: str) -> bool:
    """True when the first `(` of p closes at its last character."""
    depth = 0
    for k, ch in enumerate(p):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and k != len(p) - 1:
                return False
    return True


def _single_ref(text: str):
    """`$(NAME)`, `${NAME}` or `$(strip $(NAME))` -> NAME, else None."""
    m = re.fullmatch(r"\$[({](?:strip\s+\$[({])?([A-Za-z_][\w.\-]*)[)}]{1,2}", text.strip())
    return m.group(1) if m else None


def _compare(a: str, b: str) -> str | None:
    """The condition `a == b` (strings after make expansion) in the kbuild language."""
    a, b = a.strip(), b.strip()
    if "$" in b and "$" not in a:
        a, b = b, a
    if "$" not in a:
        return "1" if a == b else "0"  # two literals: make compares them as written
    if "$" in b or not _VALUE_OK.match(b):
        return None
    name = _single_ref(a)
    if name is not None:
        if name.startswith("CONFIG_"):
            return f"!{name}" if b == "" else f"{name}={b}"
        return f"$({name})={b}"
    refs = re.findall(r"\$[({](CONFIG_\w+)[)}]", a)
    if refs and re.sub(r"\$[({]CONFIG_\w+[)}]", "", a) == "":
        if b == "":  # $(CONFIG_A)$(CONFIG_B) empty: none set
            return "&&".join(f"!{r}" for r in refs)
        if len(b) == len(refs) and set(b) <= {"y", "m"}:  # yy: each is y
            return "&&".join(f"{r}={v}" for r, v in zip(refs, b))
        return None
    m = re.fullmatch(r"\$[({](?:filter|findstring)\s+([ym ]+),\s*((?:\$[({]CONFIG_\w+[)}]\s*)+)[)}]", a)
    if m and b == "":  # $(filter y,$(CONFIG_A) $(CONFIG_B)) empty: none has the value
        vals = m.group(1).split()
        terms = [f"{r}={v}" for r in re.findall(r"CONFIG_\w+", m.group(2)) for v in vals]
        return "!(" + "||".join(terms) + ")" if len(terms) > 1 else "!" + terms[0]
    return None


def _ifeq_args(rest: str):
    """The two operands of `ifeq (a,b)`, `ifeq "a" "b"`, `ifeq 'a' 'b'`."""
    rest = rest.strip()
    if rest.startswith("(") and rest.endswith(")"):
        parts = _split_top(rest[1:-1], ",")
        if len(parts) == 2:
            return parts[0], parts[1]
        return None
    m = re.fullmatch(r"""(["'])(.*?)\1\s+(["'])(.*?)\3""", rest)
    if m:
        return m.group(2), m.group(4)
    return None


def directive_condition(word: str, rest: str) -> str:
    """The kbuild-language condition of `ifdef X`, `ifeq (a,b)`, ... (true branch)."""
    raw = f"{word} {rest}".strip()
    if word in ("ifdef", "ifndef"):
        name = rest.strip()
        if re.fullmatch(r"CONFIG_\w+", name):
            cond = name
        elif re.fullmatch(r"[A-Za-z_][\w.\-]*", name):
            cond = f"!$({name})="  # ifdef: the variable is not empty
        else:
            return _bracket(raw)
        return cond if word == "ifdef" else _neg(cond)
    args = _ifeq_args(rest)
    cond = _compare(*args) if args else None
    if cond is None:
        return _bracket(raw)
    if word == "ifneq":
        if cond in ("0", "1"):
            return "1" if cond == "0" else "0"
        return _neg(cond)
    return cond


def _own_config(var: str) -> str:
    """The CONFIG_ condition carried by a variable name: obj-$(CONFIG_X) -> CONFIG_X."""
    names = list(dict.fromkeys(_CONFIG_REF.findall(var)))
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    # $(subst y,$(CONFIG_A),$(CONFIG_B)) and $(findstring y, $(CONFIG_A) $(CONFIG_B))
    if "findstring" in var or "filter" in var:
        return "(" + "||".join(names) + ")"
    return "&&".join(names)


class _CondStack:
    """The enclosing conditional blocks: each frame is (earlier branch conditions, current)."""

    def __init__(self):
        self.frames: list[tuple[list[str], str]] = []

    def push(self, cond: str):
        self.frames.append(([], cond))

    def else_(self, cond: str | None) -> bool:
        if not self.frames:
            return False
        earlier, cur = self.frames[-1]
        self.frames[-1] = (earlier + [cur], cond or "")
        return True

    def pop(self) -> bool:
        if not self.frames:
            return False
        self.frames.pop()
        return True

    def expr(self) -> str:
        terms = []
        for earlier, cur in self.frames:
            terms.extend(_neg(e) for e in earlier if e)
            if cur:
                terms.append(cur)
        return _and(terms)


# -- the extractor -----------------------------------------------------------------------

def _is_list_var(var: str) -> bool:
    base = var.split("-", 1)[0]
    return "-" in var and base in _LIST_BASES


def _composite_base(var: str) -> str | None:
    m = _COMPOSITE_VAR.match(var)
    if not m:
        return None
    base = m.group("base")
    if not base or base in _NOT_COMPOSITE or base.startswith(("CFLAGS", "AFLAGS")):
        return None
    if m.group("suffix").startswith("$") and _split_top(m.group("suffix"))[0] != m.group("suffix"):
        return None
    return base


def _has_ftrace(value: str) -> bool:
    return bool(_FTRACE_FLAG.search(value))


def extract_kbuild(path: str, data: bytes) -> FileFacts:
    """Facts of one Makefile / Kbuild file (see the module docstring)."""
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
    facts = FileFacts(path=path, kind="kbuild")
    conds = _CondStack()
    in_define = 0
    in_recipe = False
    assigns: list[_Assign] = []  # every list / composite / plain-variable assignment

    for lineno, raw in _logical_lines(text):
        if in_define:
            stripped = raw.strip()
            if stripped.startswith("define ") or stripped == "define":
                in_define += 1
            elif stripped == "endef" or stripped.startswith("endef "):
                in_define -= 1
            continue
        if raw.startswith("\t") and in_recipe:
            continue
        line = _strip_comment(raw).strip()
        if not line:
            continue
        word, _, rest = line.partition(" ")
        if "\t" in word:
            word, _, rest2 = word.partition("\t")
            rest = rest2 + " " + rest
        rest = rest.strip()
        if word in ("ifdef", "ifndef", "ifeq", "ifneq"):
            conds.push(directive_condition(word, rest))
            continue
        if word == "else":
            cond = None
            if rest:
                w2, _, r2 = rest.partition(" ")
                cond = directive_condition(w2, r2.strip()) if w2 in ("ifdef", "ifndef", "ifeq", "ifneq") \
                    else _bracket(rest)
            if not conds.else_(cond):
                facts.parse_errors += 1
                facts.warnings.append(f"{path}:{lineno}: else without if")
            continue
        if word == "endif":
            if not conds.pop():
                facts.parse_errors += 1
                facts.warnings.append(f"{path}:{lineno}: endif without if")
            continue
        if word == "define" or (word in ("export", "override") and rest.startswith("define")):
            in_define = 1
            continue
        in_recipe = False  # conditionals above keep a recipe going; anything else ends it
        if word in ("include", "-include", "sinclude"):
            facts.kbuild_rules.append(KbuildRule(path, lineno, "include", conds.expr(),
                                                 tuple(_split_top(rest))))
            continue
        if word in ("export", "unexport", "override", "vpath", "undefine") and not _find_assignment(line):
            continue
        assign = _find_assignment(line)
        if assign is None:
            # a rule (`target: prereq`): the tab-indented lines that follow are its recipe
            if ":" in line:
                in_recipe = True
            elif not line.startswith("$("):  # bare $(call ...)/$(eval ...) lines are fine
                facts.parse_errors += 1
                facts.warnings.append(f"{path}:{lineno}: unrecognised line: {line[:60]!r}")
            continue
        var, op, value = assign
        _assignment(facts, path, lineno, var, op, value, conds.expr(), assigns)

    if conds.frames:
        facts.parse_errors += 1
        facts.warnings.append(f"{path}: {len(conds.frames)} conditional block(s) not closed")

    # Lists are kept; plain variables only if a kept line uses them (transitively):
    # $(KVM)/kvm_main.o, obj-$(VDSO64-y), $(mmu-y)
    wanted: set[str] = set()
    for r in facts.kbuild_rules:
        _refs_into(r.variable + " " + " ".join(r.objects), wanted)
    for a in assigns:
        if a.listed:
            _refs_into(a.var + " " + a.value, wanted)
    # ... and variables holding objects, which an including Makefile may use
    # (amdgpu/Makefile includes amdkfd/Makefile for its AMDKFD_FILES)
    for a in assigns:
        if not a.listed and "$" not in a.var and any(t.endswith(".o") for t in _split_top(a.value)):
            wanted.add(a.var)
    # a file that includes another may set variables for it (AMDKFD_PATH := ../amdkfd)
    if any(r.variable == "include" for r in facts.kbuild_rules):
        for a in assigns:
            toks = _split_top(a.value)
            if not a.listed and "$" not in a.var and toks and not any(
                    t.startswith("-") or "$(shell" in t or "$(call" in t for t in toks):
                wanted.add(a.var)
    done: set[str] = set()
    todo = list(wanted)
    while todo:
        name = todo.pop()
        if name in done:
            continue
        done.add(name)
        for a in assigns:
            if not a.listed and not a.keep and _may_name(a.var, name):
                a.keep = True
                more: set[str] = set()
                _refs_into(a.var + " " + a.value, more)
                todo.extend(n for n in more if n not in done)
    for a in assigns:
        if a.listed or a.keep:
            facts.kbuild_rules.append(KbuildRule(path, a.line, a.var, a.config, tuple(_split_top(a.value))))
    facts.kbuild_rules.sort(key=lambda r: r.line)
    return facts


class _Assign:
    __slots__ = ("line", "var", "op", "value", "config", "listed", "keep")

    def __init__(self, line, var, op, value, config, listed):
        self.line, self.var, self.op, self.value = line, var, op, value
        self.config, self.listed, self.keep = config, listed, False


def _may_name(var: str, name: str) -> bool:
    """Can variable `var` (as written, maybe `foo-$(CONFIG_X)`) be the variable `name`?"""
    if var == name:
        return True
    if "$" not in var:
        return False
    return name.startswith(var.split("$", 1)[0])


def _alias(v1: str, v2: str) -> str | None:
    """Condition under which variable names v1 and v2 (as written) are the same variable:
    "" always, None never or undecidable."""
    if v1 == v2:
        return ""
    a, b = _COMPOSITE_VAR.match(v1), _COMPOSITE_VAR.match(v2)
    if not a or not b or a.group("base") != b.group("base"):
        return None
    s1, s2 = a.group("suffix"), b.group("suffix")
    r1, r2 = _single_ref(s1) if s1.startswith("$") else None, _single_ref(s2) if s2.startswith("$") else None
    if r1 and r2 and r1.startswith("CONFIG_") and r2.startswith("CONFIG_"):
        return f"({r1}=y&&{r2}=y)||({r1}=m&&{r2}=m)"
    if r2 and r2.startswith("CONFIG_") and not s1.startswith("$"):
        return f"{r2}={s1}" if s1 in ("y", "m") else None
    if r1 and r1.startswith("CONFIG_") and not s2.startswith("$"):
        return f"{r1}={s2}" if s2 in ("y", "m") else None
    return None


def _reset_earlier(assigns: list, var: str, config: str, block: str) -> None:
    """`var := ...` discards what earlier lines put in the same variable: add "unless this
    later line applies" to their conditions (mm/Makefile: mmu-y := nommu.o, then
    mmu-$(CONFIG_MMU) := highmem.o ...)."""
    for a in assigns:
        alias = _alias(a.var, var)
        if alias is None:
            continue
        # a non-empty alias already says that the later line's own CONFIG_ is set
        killer = _and([alias, block]) if alias else config
        a.config = _and([a.config, _neg(killer)]) if killer else "0"


def _refs_into(text: str, out: set[str]) -> None:
    for name in _VAR_REF.findall(text):
        if not name.startswith("CONFIG_"):
            out.add(name)


def _assignment(facts: FileFacts, path: str, lineno: int, var: str, op: str, value: str,
                block: str, assigns: list) -> None:
    own = _own_config(var)
    cfg = _and([own, block])
    # ftrace flags removed
    if var.startswith("CFLAGS_REMOVE_"):
        if _has_ftrace(value):
            facts.flag_removals.append(FlagRemoval(path, lineno, var[len("CFLAGS_REMOVE_"):], cfg, value))
        return
    if var.startswith("ccflags-remove-") or var.startswith("subdir-ccflags-remove-"):
        if _has_ftrace(value):
            target = "**" if var.startswith("subdir-") else "*"
            facts.flag_removals.append(FlagRemoval(path, lineno, target, cfg, value))
        return
    if (var == "KBUILD_CFLAGS" or var.startswith("cflags-")) and "KBUILD_CFLAGS" in value \
            and re.search(r"\$[({](filter-out|subst|patsubst)\b", value) and _has_ftrace(value):
        facts.flag_removals.append(FlagRemoval(path, lineno, "**", cfg, value))
        return
    if var.startswith("CFLAGS_") and var.endswith(".o") and not var.startswith("CFLAGS_REMOVE"):
        if _has_ftrace(value):  # puts ftrace flags back for this object
            facts.kbuild_rules.append(KbuildRule(path, lineno, var, cfg, tuple(_split_top(value))))
        return
    if var.startswith(("CFLAGS_REMOVE", "AFLAGS_", "KASAN_", "KCSAN_", "KCOV_", "UBSAN_", "GCOV_", "KMSAN_",
                       "OBJECT_FILES_NON_STANDARD", "quiet_cmd_", "cmd_", "LDFLAGS_", "CPPFLAGS_")):
        return
    if not re.fullmatch(r"[\w.][\w.\-/]*(?:-\$[({].*)?", var):
        return
    if op in (":=", "::=", "=") and not re.search(r"\$[({]" + re.escape(var) + r"[)}]", value):
        _reset_earlier(assigns, var, cfg, block)
    listed = _is_list_var(var) or (_composite_base(var) is not None and _looks_like_objects(value))
    assigns.append(_Assign(lineno, var, op, value, cfg, listed))
def _looks_like_objects(value: str) -> bool:
    if not value:
        return True  # `foo-y :=` still makes foo a composite of nothing / resets it
    for tok in _split_top(value):
        if tok.endswith((".o", "/", ".a")) or "$" in tok or tok in ("y", "m"):
            return True
    return False
