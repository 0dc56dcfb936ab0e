"""One build context of the arm kprobe decoder: the decode tables, enums, action and
checker arrays of arch/arm/probes as the compiler sees them in an ARM kernel
(CONFIG_THUMB2_KERNEL unset) or a Thumb-2 kernel (set).

`#if` conditions are evaluated per context; `__LINUX_ARM_ARCH__` comes from
arch/arm/Makefile and the config. A table entry is read by expanding its macro use with
the tree's own macro definitions and evaluating the `{.bits = ...}` words it expands to;
the words are cut into entries by type, as decode_struct_sizes says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import conditions, tsparse
from ..verdict import Evidence
from . import arm_source as S
from .cconst import Unresolved, eval_const
from .cinterp.source import parse_snippet
from .cpreproc import Macro, MacroError, expand

_KINDS = ("END", "TABLE", "CUSTOM", "SIMULATE", "EMULATE", "OR", "REJECT")
INSN_RESULTS = ("INSN_REJECTED", "INSN_GOOD", "INSN_GOOD_NO_SLOT")  # enum probes_insn names


def evidence_at(sf: S.SourceFile, line: int) -> Evidence:
    return sf.evidence(line)


def one_line(text: str, limit: int = 110) -> str:
    s = " ".join(text.split())
    return s if len(s) <= limit else s[: limit - 3] + "..."


def strip_parens(node):
    while node is not None and node.type == "parenthesized_expression" and node.named_children:
        node = node.named_children[0]
    return node


# -- data walked ----------------------------------------------------------------------

@dataclass
class Entry:
    kind: str  # one of _KINDS, "" when the entry could not be read
    regs: int | None
    mask: int | None
    value: int | None
    target: object  # TABLE: sub-table name; CUSTOM/SIMULATE/EMULATE: action index
    where: Evidence
    text: str  # the entry as written (one line)
    comment: str  # the comments just above it
    cond: str = ""  # #if condition left undecided ("" = none)
    unsupported: str = ""
    label: str = ""  # the action's enum name as written (PROBES_MRS)


@dataclass
class Table:
    name: str
    where: Evidence
    entries: list[Entry]
    path: str


@dataclass
class Slot:
    """One designated element of an action or checker array."""

    field: str  # handler / decoder / checker
    func: str
    where: Evidence
    cond: str = ""
    label: str = ""  # the index as written (PROBES_T16_PUSH)


@dataclass
class DesignatedArray:
    name: str
    where: Evidence
    slots: dict[int, Slot]
    problems: list[str] = field(default_factory=list)


# -- the __LINUX_ARM_ARCH__ of a config, from arch/arm/Makefile --------------------------

_ARCH_LINE = re.compile(r"^\s*arch-\$\(CONFIG_(\w+)\)\s*:?=.*-D__LINUX_ARM_ARCH__=(\d+)")
_IFEQ = re.compile(r"^\s*(ifeq|ifneq)\s*\(\s*\$\(CONFIG_(\w+)\)\s*,\s*(\w*)\s*\)\s*$")
_IFDEF = re.compile(r"^\s*(ifdef|ifndef)\s+CONFIG_(\w+)\s*$")


def linux_arm_arch(tree, config) -> tuple[int | None, Evidence | None]:
    """__LINUX_ARM_ARCH__ as arch/arm/Makefile sets it for `config` (the last matching
    `arch-$(CONFIG_CPU_32vN) = -D__LINUX_ARM_ARCH__=N` line wins, as in make)."""
    if config is None:
        return None, None
    data = tree.read("arch/arm/Makefile")
    if not data:
        return None, None
    frames: list[bool | None] = []
    best: tuple[int | None, Evidence | None] = (None, None)
    for no, line in enumerate(data.decode("utf-8", "replace").split("\n"), 1):
        m = _IFEQ.match(line)
        if m:
            on = config.value(m.group(2)) == (m.group(3) or None)
            frames.append(on if m.group(1) == "ifeq" else not on)
            continue
        m = _IFDEF.match(line)
        if m:
            on = config.value(m.group(2)) is not None
            frames.append(on if m.group(1) == "ifdef" else not on)
            continue
        s = line.strip()
        if s.startswith(("ifeq", "ifneq", "ifdef", "ifndef")):
            frames.append(None)
            continue
        if s == "else" and frames:
            frames[-1] = None if frames[-1] is None else not frames[-1]
            continue
        if s == "endif" and frames:
            frames.pop()
            continue
        m = _ARCH_LINE.match(line)
        if m and config.builtin(m.group(1)):
            if any(f is None for f in frames):
                return None, None
            if all(frames):
                best = (int(m.group(2)), Evidence("arch/arm/Makefile", no, s[:120]))
    return best


# -- one build context ------------------------------------------------------------------

_THUMB2_RE = re.compile(
    r"\bdefined\s*\(\s*CONFIG_THUMB2_KERNEL\s*\)|\bdefined\s+CONFIG_THUMB2_KERNEL\b"
    r"|\bIS_(?:ENABLED|BUILTIN)\s*\(\s*CONFIG_THUMB2_KERNEL\s*\)|\bCONFIG_THUMB2_KERNEL\b")
_ARCH_DEFINED_RE = re.compile(r"\bdefined\s*\(\s*__LINUX_ARM_ARCH__\s*\)|\bdefined\s+__LINUX_ARM_ARCH__\b")


class BuildContext:
    """Tables, enums and macros as the compiler sees them in one kind of kernel."""

    def __init__(self, src: S.Sources, config, arm_arch: int | None, thumb2: bool):
        self.src = src
        self.config = config
        self.arm_arch = arm_arch
        self.thumb2 = thumb2
        self.name = "Thumb-2 kernel" if thumb2 else "ARM kernel"
        self._cond_cache: dict[tuple[str, ...], tuple[bool | None, str]] = {}
        self._macro_cache: dict[str, Macro | None] = {}
        self._eval_cache: dict[str, int] = {}
        self._fn_cache: dict[str, tuple] = {}
        self.tables: dict[tuple[str, str], Table] = {}
        self.cinterp = None
        self.cinterp_error = ""
        self.arrays: dict[tuple[str, str], DesignatedArray] = {}
        self.enum: dict[str, int | None] = {}
        self.enum_where: dict[str, S.Enumerator] = {}
        self._eval_enums()
        self.type_names = self._names("DECODE_TYPE_")
        self.reg_names = self._names("REG_TYPE_")
        self.insn_values = {n: self.enum.get(n) for n in INSN_RESULTS}
        self.type_bits = self._try_eval("DECODE_TYPE_BITS")
        self.type_mask = self._try_eval("DECODE_TYPE_MASK")
        self.new_bits = self._try_eval("INSN_NEW_BITS")
        self.sameas16_bits = self._try_eval("INSN_SAMEAS16_BITS")
        self.struct_sizes, self.sizes_problem = self._struct_sizes()
        self.is_writeback = self.macro_fn("is_writeback", 1)

    # conditions and names

    def cond(self, conds: tuple[str, ...]) -> tuple[bool | None, str]:
        """(truth, undecided text) of a stack of #if conditions in this context."""
        if not conds:
            return True, ""
        hit = self._cond_cache.get(conds)
        if hit is not None:
            return hit
        truth: bool | None = True
        unknown = []
        for c in conds:
            expr = _THUMB2_RE.sub("1" if self.thumb2 else "0", c)
            if self.arm_arch is not None:
                expr = _ARCH_DEFINED_RE.sub("1", expr)
                expr = re.sub(r"\b__LINUX_ARM_ARCH__\b", str(self.arm_arch), expr)
            v = conditions.evaluate(expr, self.config, "arm")
            if v is False:
                truth = False
                break
            if v is None:
                truth = None
                unknown.append(c)
        res = (truth, " && ".join(unknown) if truth is None else "")
        self._cond_cache[conds] = res
        return res

    def macro(self, name: str) -> Macro | None:
        if name in self._macro_cache:
            return self._macro_cache[name]
        found = None
        for mac in self.src.macros.get(name, ()):
            truth, _ = self.cond(mac.conds)
            if truth is True:
                found = mac
                break
            if truth is None and found is None:
                found = mac
        self._macro_cache[name] = found
        return found

    def _eval_enums(self) -> None:
        groups: dict[str, list[S.Enumerator]] = {}
        for e in self.src.enumerators:
            groups.setdefault(e.group, []).append(e)
        for members in groups.values():
            prev: int | None = -1
            for e in members:
                truth, _ = self.cond(e.conds)
                if truth is False:
                    continue
                if e.value is not None:
                    try:
                        val = self.eval_text(e.value)
                    except (Unresolved, MacroError):
                        val = None
                else:
                    val = None if prev is None else prev + 1
                if truth is None:
                    val = None  # config-dependent: this and the implicit values after it
                self.enum[e.name] = val
                self.enum_where[e.name] = e
                prev = val

    def _names(self, prefix: str) -> dict[int, str]:
        """value -> NAME (prefix removed) for the enumerators of one family; the first
        name of a value wins (REG_TYPE_0 is an alias of REG_TYPE_NONE)."""
        out: dict[int, str] = {}
        for e in self.src.enumerators:
            if e.name.startswith(prefix) and self.enum.get(e.name) is not None:
                short = e.name[len(prefix):]
                if not short.startswith("NUM"):
                    out.setdefault(self.enum[e.name], short)
        return out

    def ident(self, name: str) -> int:
        if name in self.enum:
            v = self.enum[name]
            if v is None:
                e = self.enum_where[name]
                raise Unresolved(f"{name} (config-dependent enum value, {e.path}:{e.line})")
            return v
        raise Unresolved(name)

    def eval_text(self, text: str) -> int:
        hit = self._eval_cache.get(text)
        if hit is not None:
            return hit
        expanded = expand(text, self.macro)
        tree, node = parse_snippet(expanded)
        if node is None:
            raise Unresolved(f"expression `{one_line(text, 60)}`")
        val = eval_const(node, self.ident, self.sizeof)
        self._eval_cache[text] = val
        return val

    def _try_eval(self, text: str) -> int | None:
        try:
            return self.eval_text(text)
        except (Unresolved, MacroError):
            return None

    def macro_fn(self, name: str, nargs: int):
        """A function-like macro of the tree as a Python callable on ints (or None)."""
        if self.macro(name) is None:
            return None
        params = [f"__kp_arg{i}" for i in range(nargs)]
        try:
            expanded = expand(f"{name}({', '.join(params)})", self.macro)
        except MacroError:
            return None
        tree, node = parse_snippet(expanded)
        if node is None:
            return None

        def call(*args: int, _tree=tree, _node=node) -> int:
            env = dict(zip(params, args))
            return eval_const(_node, lambda n: env[n] if n in env else self.ident(n), self.sizeof)
        return call

    def sizeof(self, type_name: str) -> int:
        """Size in decode_item words of a struct built of decode_items."""
        if type_name == "union decode_item":
            return 1
        st = self.src.structs.get(type_name)
        if st is None:
            raise Unresolved(f"sizeof({type_name})")
        return sum(self.sizeof(ty) for ty, _ in st.fields)

    def _struct_sizes(self) -> tuple[dict[int, int], str]:
        arr = self.src.array("decode_struct_sizes")
        if arr is None:
            return {}, "decode_struct_sizes not found in arch/arm/probes/decode.c"
        sizes: dict[int, int] = {}
        for el in S.initializer_elements(arr.init):
            if el.type != "initializer_pair":
                return sizes, f"decode_struct_sizes element at {arr.file.path}:{el.start_point[0] + 1}"
            des = el.child_by_field_name("designator")
            val = el.child_by_field_name("value")
            try:
                idx = self.eval_text(tsparse.text(des)[1:-1])
                sizes[idx] = self.eval_text(tsparse.text(val))
            except (Unresolved, MacroError) as exc:
                return sizes, f"decode_struct_sizes: {exc} at {arr.file.path}:{el.start_point[0] + 1}"
        return sizes, ""

    # tables

    def table(self, name: str, prefer: str = "") -> Table | None:
        key = (name, prefer)
        if key in self.tables:
            return self.tables[key]
        decl = self.src.array(name, prefer)
        tab = self._build_table(decl) if decl is not None else None
        self.tables[key] = tab
        return tab

    def _build_table(self, decl: S.ArrayDecl) -> Table:
        sf = decl.file
        items: list[tuple] = []  # (field, value, element index)
        elements: list[dict] = []
        for el in S.initializer_elements(decl.init):
            line = el.start_point[0] + 1
            truth, undecided = self.cond(sf.conds_at(line))
            if truth is False:
                continue
            text = tsparse.text(el)
            info = {"where": evidence_at(sf, line), "text": one_line(text),
                    "comment": S.clean_comment(S.comments_before(el)), "cond": undecided}
            idx = len(elements)
            elements.append(info)
            head = re.match(r"\s*([A-Za-z_]\w*)", text)
            what = f"{head.group(1) if head else one_line(text, 30)} at {sf.path}:{line}"
            try:
                parts = S.parse_items(expand(text, self.macro))
            except MacroError as exc:
                items.append(("?", f"{what} ({exc})", "", idx))
                continue
            if parts is None:
                items.append(("?", f"{what} (not a known table-entry form)", "", idx))
                continue
            for part in parts:
                items.append(self._item(part, what) + (idx,))
        name = f"{decl.function}() {decl.name}" if decl.function else decl.name
        entries = self._group(items, elements, decl)
        return Table(name, evidence_at(sf, decl.line), entries, sf.path)

    def _item(self, part, what: str) -> tuple:
        if part.type != "initializer_list":
            return ("?", f"{what} (expands to `{one_line(tsparse.text(part), 40)}`, not {{.field = value}})", "")
        pairs = S.initializer_elements(part)
        if len(pairs) != 1 or pairs[0].type != "initializer_pair":
            return ("?", f"{what} (an item that is not one designated field)", "")
        des = pairs[0].child_by_field_name("designator")
        fname = tsparse.text(des).lstrip(".").strip()
        val = pairs[0].child_by_field_name("value")
        if fname == "table":
            node = val
            while node is not None and node.type == "parenthesized_expression":
                node = node.named_children[0] if node.named_children else None
            if node is None or node.type != "identifier":
                return ("?", f"{what} (.table is not a table name)", "")
            return ("table", tsparse.text(node), "")
        try:
            v = eval_const(val, self.ident, self.sizeof)
        except Unresolved as exc:
            return ("?", f"{what} (cannot evaluate {exc.what})", "")
        label = tsparse.text(strip_parens(val)).strip()
        return (fname, v & 0xFFFFFFFF if fname == "bits" else v, label if label.isidentifier() else "")

    def _group(self, items: list[tuple], elements: list[dict], decl: S.ArrayDecl) -> list[Entry]:
        """Cut the flat decode_item words into entries by their type, as the kernel does
        (decode_struct_sizes)."""
        out: list[Entry] = []
        i = 0
        n = len(items)

        def entry(kind, regs, mask, value, target, idx, unsupported="", label=""):
            info = elements[idx]
            return Entry(kind, regs, mask, value, target, info["where"], info["text"], info["comment"],
                         info["cond"], unsupported, label)

        def skip_element(i: int) -> int:
            idx = items[i][3]
            while i < n and items[i][3] == idx:
                i += 1
            return i

        while i < n:
            fname, val, _label, idx = items[i]
            if fname != "bits":
                why = val if fname == "?" else (f"{elements[idx]['text']} at {elements[idx]['where']} "
                                                "(entry does not start with .bits)")
                out.append(entry("", None, None, None, None, idx, why))
                i = skip_element(i)
                continue
            if self.type_mask is None or self.type_bits is None:
                out.append(entry("", None, None, None, None, idx,
                                 "DECODE_TYPE_MASK/DECODE_TYPE_BITS not found in decode.h"))
                i = skip_element(i)
                continue
            tcode = val & self.type_mask
            regs = val >> self.type_bits
            kind = self.type_names.get(tcode, "")
            if kind == "END":
                out.append(entry("END", 0, None, None, None, idx))
                i += 1
                continue
            size = self.struct_sizes.get(tcode)
            if kind not in _KINDS or size is None:
                why = (f"decode type {kind or tcode} of {elements[idx]['text']} at {elements[idx]['where']}"
                       + (f" ({self.sizes_problem})" if self.sizes_problem else ""))
                out.append(entry("", regs, None, None, None, idx, why))
                i = skip_element(i)
                continue
            body = items[i:i + size]
            fields = [b[0] for b in body]
            want = ["bits", "bits", "bits"] + ([] if size == 3 else ["table" if kind == "TABLE" else "action"])
            if len(body) < size or fields[:len(want)] != want:
                bad = next((b[1] for b in body if b[0] == "?"), "")
                why = bad or (f"{elements[idx]['text']} at {elements[idx]['where']}: words {fields} "
                              f"do not make a {kind} entry")
                mask = body[1][1] if len(body) > 2 and fields[1] == "bits" else None
                value = body[2][1] if len(body) > 2 and fields[2] == "bits" else None
                out.append(entry(kind, regs, mask, value, None, idx, why))
                i = skip_element(i)
                continue
            target = body[3][1] if size > 3 else None
            label = body[3][2] if size > 3 else ""
            out.append(entry(kind, regs, body[1][1], body[2][1], target, idx, label=label))
            i += size
        return out

    # action and checker arrays

    def designated(self, name: str, prefer: str = "") -> DesignatedArray | None:
        key = (name, prefer)
        if key in self.arrays:
            return self.arrays[key]
        decl = self.src.array(name, prefer)
        res = None
        if decl is not None:
            sf = decl.file
            slots: dict[int, Slot] = {}
            problems: list[str] = []
            pos = 0
            for el in S.initializer_elements(decl.init):
                line = el.start_point[0] + 1
                truth, undecided = self.cond(sf.conds_at(line))
                if truth is False:
                    continue
                indexes = [pos]
                value = el
                label = ""
                if el.type == "initializer_pair":
                    des = el.child_by_field_name("designator")
                    value = el.child_by_field_name("value")
                    try:
                        if des.type == "subscript_range_designator":
                            lo = self.eval_text(tsparse.text(des.child_by_field_name("start")))
                            hi = self.eval_text(tsparse.text(des.child_by_field_name("end")))
                            indexes = list(range(lo, hi + 1))
                        else:
                            label = tsparse.text(des).strip()[1:-1].strip()
                            indexes = [self.eval_text(label)]
                    except (Unresolved, MacroError) as exc:
                        problems.append(f"index {one_line(tsparse.text(des), 40)} of {name} at "
                                        f"{sf.path}:{line}: {exc}")
                        continue
                inner = S.initializer_elements(value) if value.type == "initializer_list" else []
                if len(inner) == 1 and inner[0].type == "initializer_pair":
                    fname = tsparse.text(inner[0].child_by_field_name("designator")).lstrip(".").strip()
                    fn = tsparse.text(inner[0].child_by_field_name("value")).strip().strip("&").strip()
                else:
                    problems.append(f"element of {name} at {sf.path}:{line} is not {{.field = function}}")
                    continue
                for ix in indexes:
                    slots[ix] = Slot(fname, fn, evidence_at(sf, line), undecided, label)
                pos = indexes[-1] + 1
            res = DesignatedArray(name, evidence_at(sf, decl.line), slots, problems)
        self.arrays[key] = res
        return res

    def name_list(self, name: str) -> tuple[list[str], Evidence | None]:
        """The names of a `{a, b, NULL}` array (the checker lists)."""
        decl = self.src.array(name)
        if decl is None:
            return [], None
        out = []
        for el in S.initializer_elements(decl.init):
            truth, _ = self.cond(decl.file.conds_at(el.start_point[0] + 1))
            if truth is False:
                continue
            txt = tsparse.text(el).strip()
            if txt in ("NULL", "0"):
                break
            out.append(txt)
        return out, evidence_at(decl.file, decl.line)


