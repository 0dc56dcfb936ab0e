"""32-bit arm kprobe decoder: the tree's decode tables walked the way probes_decode_insn does.

Everything that decides comes from the tree being analysed (arch/arm/probes/):
the `union decode_item` tables and the DECODE_* / REGS macros that build them
(decode.h), the enum values (decode_type, decode_reg_type, the action enums), the
entry sizes (decode_struct_sizes), the action and checker arrays of the kprobe code, the
stack-checker tables and the small checker functions (run with cinterp), the alignment
test, MAX_STACK_SIZE and the stack test of arch_prepare_kprobe (kprobes/core.c).
The Python here only knows the *semantics* of the walker (decode.c) and of each
REG_TYPE_* name (decode_regs).

Two build contexts: an ARM kernel (mode "arm", CONFIG_THUMB2_KERNEL unset) and a
Thumb-2 kernel (modes "t16" and "t32", CONFIG_THUMB2_KERNEL set); `#if` conditions are
evaluated per context, `__LINUX_ARM_ARCH__` comes from arch/arm/Makefile and the config.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import tsparse
from ..errors import InputError
from ..verdict import Evidence
from . import arm_source as S
from . import cinterp
from .arm_tables import BuildContext, Entry, Table, evidence_at, linux_arm_arch, one_line, strip_parens
from .base import (ACCEPTED, EMULATED, REJECTED, SIMULATED, SLOT, UNKNOWN, DecodeResult,
                   DecoderError, FunctionBytes, RuleEntry)
from .cconst import Unresolved, parse_int
from .cpreproc import MacroError

PROBES_DIR = "arch/arm/probes"
KPROBES_DIR = "arch/arm/probes/kprobes"
# headers read for macros only (MAX_STACK_SIZE, is_wide_instruction)
ASM_HEADERS = ("arch/arm/include/asm/probes.h", "arch/arm/include/asm/ptrace.h")

MODES = ("arm", "t16", "t32")
_GOOD = "INSN_GOOD"
_NO_SLOT = "INSN_GOOD_NO_SLOT"
_REJ = "INSN_REJECTED"


@dataclass
class _Res:
    """What a (nested) probes_decode_insn returned, with why."""

    ret: str | None  # INSN_* name; None: unknown
    how: str = ""
    decided_by: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Prepare:
    """What arch_prepare_kprobe does in one context, read from kprobes/core.c."""

    decode_fn: str = ""
    actions: str = ""
    checkers: str = ""
    emulate: bool = True
    where: Evidence | None = None
    table: str = ""  # root decode table (from the decode function)
    thumb: bool = False
    rejected_errno: str = "EINVAL"
    rejected_where: Evidence | None = None
    align_mask: int = 0
    align_errno: str = "EINVAL"
    align_where: Evidence | None = None
    stack_lo: int | None = None
    stack_hi: int | None = None
    stack_errno: str = "EINVAL"
    stack_where: tuple[Evidence, ...] = ()
    bit0_where: Evidence | None = None  # Thumb: `addr &= ~1` (bit 0 marks Thumb code)
    problems: list[str] = field(default_factory=list)


_UNSET = object()


def _same(x: int) -> int:
    return x


# Helpers the checker and custom-decoder functions call that live outside arch/arm/probes.
# The byte-order conversions only move the slot's bytes; no verdict depends on them.
_BUILTINS = {
    "hweight32": lambda x: bin(x & 0xFFFFFFFF).count("1"),
    "__opcode_to_mem_arm": _same, "__mem_to_opcode_arm": _same,
    "__opcode_to_mem_thumb16": _same, "__mem_to_opcode_thumb16": _same,
    "__opcode_to_mem_thumb32": _same, "__mem_to_opcode_thumb32": _same,
}


# -- function analysis (what a C function of the tree can return) -----------------------

@dataclass
class _FnInfo:
    fdef: S.FunctionDef | None
    returns: frozenset  # INSN_* names a function can return; "?" when not known
    writes_stack: bool
    nested: tuple | None  # (local table, thumb, emulate, actions name, checkers) for a nested decode
    why_unknown: str = ""


def _descendants(node, types: set):
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type in types:
            yield n
        stack.extend(reversed(n.children))


# -- the decoder ------------------------------------------------------------------------

class ArmDecoder:
    """Decoder protocol (base.py) for 32-bit arm kprobes, ARM and Thumb-2."""

    arch = "arm"

    def __init__(self, tree, config=None):
        if isinstance(tree, (str, Path)):
            from ..tree import KernelTree

            tree = KernelTree(tree)
        self.tree = tree
        self.config = config
        self.src = S.Sources()
        self._load()
        self.arm_arch, self.arm_arch_where = linux_arm_arch(tree, config)
        self._ctx: dict[bool, BuildContext] = {}
        self._prep: dict[str, _Prepare] = {}
        self._fninfo: dict[str, _FnInfo] = {}
        self._cache: dict[tuple[str, int], DecodeResult] = {}
        self._rw = _UNSET

    # loading

    def _load(self) -> None:
        root = Path(self.tree.root)
        if not (root / PROBES_DIR / "decode.h").is_file():
            raise DecoderError(f"no {PROBES_DIR}/decode.h in this tree: the arm kprobe decoder cannot be read")
        for rel in (PROBES_DIR, KPROBES_DIR):
            try:
                names = sorted(os.listdir(root / rel))
            except OSError:
                continue
            for name in names:
                if not name.endswith((".c", ".h")) or name.startswith("test-"):
                    continue
                path = f"{rel}/{name}"
                data = self.tree.read(path)
                if data is not None:
                    self.src.add(path, data)
        for path in ASM_HEADERS:
            data = self.tree.read(path) if (root / path).is_file() else None
            if data is not None:
                self.src.add(path, data, parse=False)
            else:
                self.src.missing.append(path)

    def context(self, thumb2: bool) -> BuildContext:
        ctx = self._ctx.get(thumb2)
        if ctx is None:
            ctx = self._ctx[thumb2] = BuildContext(self.src, self.config, self.arm_arch, thumb2)
        return ctx

    # arch_prepare_kprobe

    def prepare(self, mode: str) -> _Prepare:
        if mode in self._prep:
            return self._prep[mode]
        ctx = self.context(mode != "arm")
        prep = _Prepare()
        self._prep[mode] = prep
        fdef = None
        for f in self.src.functions.get("arch_prepare_kprobe", ()):
            if f.file.path.startswith(KPROBES_DIR + "/"):
                fdef = f
                break
        if fdef is None:
            prep.problems.append(f"arch_prepare_kprobe not found in {KPROBES_DIR}")
            return prep
        sf = fdef.file
        body = fdef.node.child_by_field_name("body")
        # the call (*decode_insn)(insn, &p->ainsn, true, actions, checkers)
        call = None
        for c in _descendants(body, {"call_expression"}):
            fn = strip_parens(c.child_by_field_name("function"))
            args = [a for a in c.child_by_field_name("arguments").named_children if a.type != "comment"]
            if fn is not None and fn.type == "pointer_expression" and len(args) == 5:
                call = (tsparse.text(strip_parens(fn.child_by_field_name("argument"))),
                        [tsparse.text(a) for a in args], c.start_point[0] + 1)
                break
        if call is None:
            prep.problems.append(f"the decode call of arch_prepare_kprobe at {sf.path}:{fdef.line} "
                                 "is not (*fn)(insn, asi, emulate, actions, checkers)")
            return prep
        fnvar, args, call_line = call
        prep.where = evidence_at(sf, call_line)
        prep.emulate = args[2].strip() not in ("false", "0")
        want = {fnvar: "decode_fn", args[3].strip(): "actions", args[4].strip(): "checkers"}
        for asg in _descendants(body, {"assignment_expression"}):
            left = tsparse.text(asg.child_by_field_name("left")).strip()
            if left not in want or tsparse.text(asg.child_by_field_name("operator")) != "=":
                continue
            line = asg.start_point[0] + 1
            truth, undecided = ctx.cond(sf.conds_at(line))
            if truth is False or not self._branch_fits(asg, mode):
                continue
            if truth is None:
                prep.problems.append(f"{left} assignment at {sf.path}:{line} is config-dependent ({undecided})")
            setattr(prep, want[left], tsparse.text(asg.child_by_field_name("right")).strip())
        text = sf.data.decode("latin-1")  # one char per byte: offsets stay byte offsets
        # INSN_REJECTED -> errno
        start, end = fdef.node.start_byte, fdef.node.end_byte
        m = re.compile(r"case\s+INSN_REJECTED\s*:(?:[^;{}]|/\*.*?\*/)*?return\s+-\s*(E\w+)\s*;", re.S).search(
            text, start, end)
        if m:
            prep.rejected_errno = m.group(1)
            prep.rejected_where = evidence_at(sf, text.count("\n", 0, m.end()) + 1)
        else:
            prep.problems.append(f"no `case INSN_REJECTED: return -E...` in arch_prepare_kprobe at {sf.path}")
        for ifs in _descendants(body, {"if_statement"}):
            cond = tsparse.text(ifs.child_by_field_name("condition"))
            line = ifs.start_point[0] + 1
            cons = tsparse.text(ifs.child_by_field_name("consequence"))
            em = re.search(r"return\s+-\s*(E\w+)", cons)
            truth, _ = ctx.cond(sf.conds_at(line))
            if truth is False or not em:
                continue
            am = re.search(r"\baddr\s*&\s*(0[xX][0-9a-fA-F]+|\d+)", cond)
            if am and mode == "arm":
                prep.align_mask = parse_int(am.group(1))[0]
                prep.align_errno = em.group(1)
                prep.align_where = evidence_at(sf, line)
            if "stack_space" in cond:
                lo = re.search(r"stack_space\s*\)?\s*<\s*([\w]+)", cond)
                hi = re.search(r"stack_space\s*\)?\s*>\s*([\w]+)", cond)
                wheres = [evidence_at(sf, line)]
                try:
                    prep.stack_lo = ctx.eval_text(lo.group(1)) if lo else None
                    prep.stack_hi = ctx.eval_text(hi.group(1)) if hi else None
                except (Unresolved, MacroError) as exc:
                    prep.problems.append(f"stack limit `{one_line(cond, 60)}` at {sf.path}:{line}: {exc}")
                for name in {hi.group(1) if hi else "", lo.group(1) if lo else ""} - {""}:
                    mac = ctx.macro(name)
                    if mac is not None:
                        wheres.append(self.src.files[mac.path].evidence(mac.line))
                prep.stack_errno = em.group(1)
                prep.stack_where = tuple(wheres)
        for m in re.finditer(r"\baddr\s*&=\s*~\s*(?:1|0x1)\b", text[start:end]):
            line = text.count("\n", 0, start + m.start()) + 1
            if mode != "arm" and ctx.cond(sf.conds_at(line))[0] is not False:
                prep.bit0_where = evidence_at(sf, line)
        # the decode function -> its root table
        if prep.decode_fn:
            dfn = self._function(ctx, prep.decode_fn)
            found = False
            if dfn is not None:
                for c in _descendants(dfn.node, {"call_expression"}):
                    if tsparse.text(c.child_by_field_name("function")).strip() == "probes_decode_insn":
                        a = [x for x in c.child_by_field_name("arguments").named_children if x.type != "comment"]
                        if len(a) >= 4:
                            prep.table = tsparse.text(a[2]).strip()
                            prep.thumb = tsparse.text(a[3]).strip() not in ("false", "0")
                            found = True
                            break
            if not found:
                prep.problems.append(f"{prep.decode_fn}: no probes_decode_insn(insn, asi, table, thumb, ...) "
                                     "call found")
        else:
            prep.problems.append(f"no decode function assigned for {mode} in arch_prepare_kprobe ({sf.path})")
        return prep

    @staticmethod
    def _branch_fits(node, mode: str) -> bool:
        """Whether an assignment in arch_prepare_kprobe belongs to `mode`: the T32 set sits
        in the `if (is_wide_instruction(...))` branch, the T16 set in its else."""
        child = node
        parent = node.parent
        while parent is not None:
            if parent.type == "if_statement" and "is_wide_instruction" in tsparse.text(
                    parent.child_by_field_name("condition")):
                in_then = child == parent.child_by_field_name("consequence")
                if mode == "arm":
                    return False
                return in_then == (mode == "t32")
            if parent.type == "function_definition":
                break
            child = parent
            parent = parent.parent
        return True

    # C functions (checkers, custom decoders)

    def _function(self, ctx: BuildContext, name: str, prefer: str = "") -> S.FunctionDef | None:
        """The definition of `name` that this context compiles (one under a false #if is skipped)."""
        live = [f for f in self.src.functions.get(name, ()) if ctx.cond(f.conds)[0] is not False]
        for f in live:
            if f.file.path == prefer:
                return f
        return live[0] if live else None

    def _fn(self, ctx: BuildContext, name: str, prefer: str = "") -> _FnInfo:
        key = f"{int(ctx.thumb2)}:{prefer}:{name}"
        if key in self._fninfo:
            return self._fninfo[key]
        self._fninfo[key] = _FnInfo(None, frozenset({"?"}), True, None, f"{name} (recursive)")
        fdef = self._function(ctx, name, prefer)
        if fdef is None:
            info = _FnInfo(None, frozenset({"?"}), True, None, f"function {name} not found under {PROBES_DIR}")
            self._fninfo[key] = info
            return info
        body = fdef.node.child_by_field_name("body")
        rets: set[str] = set()
        nested = None
        why = ""
        locals_init: dict[str, list] = {}
        for d in _descendants(body, {"init_declarator"}):
            nm = tsparse.text(d.child_by_field_name("declarator")).strip()
            locals_init.setdefault(nm, []).append(d.child_by_field_name("value"))
        for a in _descendants(body, {"assignment_expression"}):
            nm = tsparse.text(a.child_by_field_name("left")).strip()
            if nm in locals_init:
                locals_init[nm].append(a.child_by_field_name("right"))

        def classify(expr, depth=0) -> set[str]:
            nonlocal nested, why
            expr = strip_parens(expr)
            if expr is None:
                return {"?"}
            txt = tsparse.text(expr).strip()
            if expr.type == "identifier" and txt.startswith("INSN_"):
                return {txt}
            if expr.type == "identifier" and txt in locals_init and depth < 4:
                out: set[str] = set()
                for v in locals_init[txt]:
                    out |= classify(v, depth + 1)
                return out
            if expr.type == "call_expression":
                callee = tsparse.text(expr.child_by_field_name("function")).strip()
                args = [x for x in expr.child_by_field_name("arguments").named_children if x.type != "comment"]
                if callee == "probes_decode_insn" and len(args) == 7:
                    tname = tsparse.text(args[2]).strip()
                    local = self.src.array(f"{name}:{tname}", fdef.file.path)
                    nested = (f"{name}:{tname}", tsparse.text(args[3]).strip() not in ("false", "0"),
                              tsparse.text(args[4]).strip() not in ("false", "0"),
                              tsparse.text(args[5]).strip(), tsparse.text(args[6]).strip(),
                              local is not None)
                    return {"NESTED"}
                if callee in self.src.functions and depth < 4:
                    return set(self._fn(ctx, callee, fdef.file.path).returns)
            why = why or f"return `{one_line(txt, 40)}` at {fdef.file.path}:{expr.start_point[0] + 1}"
            return {"?"}

        for r in _descendants(body, {"return_statement"}):
            kids = [k for k in r.named_children if k.type != "comment"]
            if kids:
                rets |= classify(kids[0])
        writes = "stack_space" in tsparse.text(body)
        info = _FnInfo(fdef, frozenset(rets), writes, nested, why)
        self._fninfo[key] = info
        return info

    def cinterp(self, ctx: "BuildContext"):
        """The cinterp program over the probes sources for one context, or None (reason in
        ctx.cinterp_error). The context's CONFIG_THUMB2_KERNEL is imposed on the config."""
        if ctx.cinterp is None and not ctx.cinterp_error:
            config, assume = self.config, ()
            if config is not None:
                from ..config import KernelConfig

                values = dict(config.symbols())
                if ctx.thumb2:
                    values["THUMB2_KERNEL"] = "y"
                else:
                    values.pop("THUMB2_KERNEL", None)
                config = KernelConfig(values, config.path)
            elif ctx.thumb2:
                assume = ("CONFIG_THUMB2_KERNEL",)
            try:
                prog = cinterp.CProgram.load(self.tree, list(self.src.files), config=config, arch="arm",
                                             assume=assume)
            except Exception as exc:  # noqa: BLE001 - any failure of the helper is reported, not raised
                ctx.cinterp_error = f"cinterp could not load {PROBES_DIR}: {exc}"
                return None
            ctx.cinterp = (cinterp, prog)
        return ctx.cinterp

    def _call_c(self, ctx: BuildContext, fname: str, insn: int, asi: dict, entry: Entry,
                prefer: str = "") -> _Res:
        """Run one small C function of the tree (checker or stack action) with cinterp."""
        ci = self.cinterp(ctx)
        fdef = self._function(ctx, fname, prefer)
        where = f"{fname} at {fdef.file.path}:{fdef.line}" if fdef else fname
        if ci is None:
            return _Res(None, unsupported=[f"{where} not evaluated: {ctx.cinterp_error}"])
        mod, prog = ci
        s = mod.CStruct()
        for k, v in asi.items():
            if not k.startswith("_"):
                s[k] = v
        s["insn"] = mod.CPointer([0] * 4, 0, 4)  # the instruction slot (MAX_INSN_SIZE words)
        h = mod.CStruct()
        tr = mod.CStruct()
        tr["bits"] = ((entry.regs or 0) << (ctx.type_bits or 4)) | self._type_code(ctx, entry.kind)
        h["type_regs"] = tr
        for fld in ("mask", "value"):
            sub = mod.CStruct()
            sub["bits"] = getattr(entry, fld) or 0
            h[fld] = sub
        try:
            out = prog.call(fname, insn, s, h, builtins=_BUILTINS)
        except mod.Unsupported as exc:
            return _Res(None, unsupported=[f"{where}: {exc.construct} at {exc.path}:{exc.line} (cinterp)"])
        except Exception as exc:  # noqa: BLE001
            return _Res(None, unsupported=[f"{where}: cinterp failed ({exc})"])
        for k in ("stack_space", "register_usage_flags"):
            try:
                asi[k] = s[k]
            except (KeyError, TypeError):
                pass
        names = {v: k for k, v in ctx.insn_values.items() if v is not None}
        ret = names.get(out.value)
        other = [c for c in out.conditions if "THUMB2_KERNEL" not in c]
        notes = [f"{fname}: config-dependent path ({' && '.join(other)})"] if other else []
        ev = []
        dec = getattr(out, "decisive", None)
        if dec is not None:
            ev.append(dec)
        elif fdef is not None:
            ev.append(evidence_at(fdef.file, fdef.line))
        if ret is None:
            return _Res(None, unsupported=[f"{where} returned {out.value}, not an enum probes_insn value"])
        return _Res(ret, decided_by=fname, evidence=ev, notes=notes)

    @staticmethod
    def _type_code(ctx: BuildContext, kind: str) -> int:
        for code, name in ctx.type_names.items():
            if name == kind:
                return code
        return 0

    # the walker

    def _walk(self, ctx: BuildContext, table: Table, insn: int, *, emulate: bool, thumb: bool,
              actions: str, checkers: list[str] | None, asi: dict, trace: list[str],
              rewrite: bool, depth: int = 0) -> _Res:
        origin = insn
        asi["stack_space"] = 0
        asi["register_usage_flags"] = 0xFFFFFFFF
        if emulate and not thumb and rewrite:
            insn = self._rewrite(insn, trace)
        cur = table
        idx = 0
        matched = False
        while True:
            if idx >= len(cur.entries):
                return _Res(None, unsupported=[f"table {cur.name} ({cur.where}) has no DECODE_END: "
                                               "the kernel would read past its end"])
            e = cur.entries[idx]
            if e.unsupported:
                if e.mask is not None and e.value is not None and not matched and (insn & e.mask) != e.value:
                    idx += 1
                    continue
                return _Res(None, decided_by=f"unreadable entry in {cur.name}", evidence=[e.where],
                            unsupported=[e.unsupported])
            if e.kind == "END":
                trace.append(f"{e.where}: DECODE_END of {cur.name}: nothing matched")
                return _Res(_REJ, decided_by=f"DECODE_END of {cur.name}: no entry of the table matches",
                            evidence=[e.where])
            if not matched and (insn & e.mask) != e.value:
                idx += 1
                continue
            if e.cond:
                return _Res(None, decided_by=f"{e.text} in {cur.name}", evidence=[e.where],
                            unsupported=[f"{e.text} at {e.where} is under `#if {e.cond}` (config-dependent: "
                                         "give a config)"])
            trace.append(f"{e.where}: {e.text}" + (" (taken after DECODE_OR)" if matched else ""))
            ok, insn, why = self._regs(ctx, insn, e.regs, emulate)
            if ok is None:
                return _Res(None, decided_by=e.text, evidence=[e.where], unsupported=[why])
            if not ok:
                return _Res(_REJ, decided_by=f"{e.text} in {cur.name}: {why}", evidence=[e.where])
            if e.kind == "TABLE":
                sub = ctx.table(e.target, cur.path)
                if sub is None:
                    return _Res(None, unsupported=[f"table {e.target} named at {e.where} not found"])
                cur = sub
                idx = 0
                continue
            if e.kind == "OR":
                matched = True
                idx += 1
                continue
            if e.kind == "REJECT":
                return _Res(_REJ, decided_by=f"{e.text} in {cur.name}", evidence=[e.where])
            # CUSTOM / SIMULATE / EMULATE
            return self._action(ctx, cur, e, insn, origin, emulate=emulate, thumb=thumb, actions=actions,
                                checkers=checkers, asi=asi, trace=trace, depth=depth)

    def _action(self, ctx, cur: Table, e: Entry, insn: int, origin: int, *, emulate, thumb, actions,
                checkers, asi, trace, depth) -> _Res:
        action = e.target
        arr = ctx.designated(actions, cur.path) if actions not in ("", "NULL") else None
        slot = arr.slots.get(action) if arr is not None else None
        aname = e.label or str(action)
        if arr is None:
            return _Res(None, decided_by=e.text, evidence=[e.where],
                        unsupported=[f"actions array {actions} not found under {PROBES_DIR}"])
        if slot is None:
            return _Res(None, decided_by=e.text, evidence=[e.where, arr.where],
                        unsupported=[f"action {aname} used at {e.where} has no entry in {actions} ({arr.where})"]
                        + arr.problems)
        if slot.cond:
            return _Res(None, decided_by=e.text, evidence=[e.where, slot.where],
                        unsupported=[f"{actions}[{aname}] at {slot.where} is under `#if {slot.cond}`"])
        # run_checkers: every checker array of the list, in order, on the original insn
        for chk_name in checkers or ():
            carr = ctx.designated(chk_name)
            if carr is None:
                return _Res(None, unsupported=[f"checker array {chk_name} not found under {PROBES_DIR}"])
            cslot = carr.slots.get(action)
            if cslot is None and carr.problems:  # an element not understood may be this one
                return _Res(None, evidence=[carr.where], unsupported=list(carr.problems))
            if cslot is None:
                continue
            if cslot.cond:
                return _Res(None, evidence=[cslot.where],
                            unsupported=[f"{chk_name}[{aname}] at {cslot.where} is under `#if {cslot.cond}`"])
            r = self._checker(ctx, cslot.func, origin, asi, e, trace, depth, prefer=carr.where.path)
            if r.ret is None:
                r.evidence = [e.where, cslot.where] + r.evidence
                return r
            if r.ret == _REJ:
                return _Res(_REJ, decided_by=f"checker {cslot.func} ({chk_name}[{aname}]) rejects"
                            + (f": {r.decided_by}" if r.decided_by else ""),
                            evidence=[e.where, cslot.where] + r.evidence, notes=r.notes)
        where = [e.where, slot.where]
        if e.kind == "SIMULATE":
            return _Res(_NO_SLOT, SIMULATED, f"{e.text} in {cur.name} -> {actions}[{aname}] = {slot.func}", where)
        if e.kind == "EMULATE" and emulate:
            return _Res(_GOOD, EMULATED, f"{e.text} in {cur.name} -> {actions}[{aname}] = {slot.func}", where)
        # CUSTOM, or EMULATE in a non-emulating decode: actions[action].decoder(insn, asi, h)
        r = self._decoder_fn(ctx, slot.func, insn, asi, e, prefer=arr.where.path, depth=depth)
        r.evidence = where + r.evidence
        if not r.decided_by or r.ret is None:
            r.decided_by = f"{e.text} in {cur.name} -> {actions}[{aname}] = {slot.func}"
        else:
            r.decided_by = f"{e.text} in {cur.name} -> {actions}[{aname}] = {slot.func}: {r.decided_by}"
        return r

    def _decoder_fn(self, ctx, fname: str, insn: int, asi: dict, e: Entry, *, prefer: str, depth: int) -> _Res:
        info = self._fn(ctx, fname, prefer)
        if info.fdef is None:
            return _Res(None, unsupported=[info.why_unknown])
        where = evidence_at(info.fdef.file, info.fdef.line)
        rets = info.returns
        if _REJ in rets:
            return _Res(None, evidence=[where],
                        unsupported=[f"custom decoder {fname} ({where}) can return INSN_REJECTED: "
                                     "not interpreted"])
        only = rets - {"?", "NESTED"}
        how_of = {_GOOD: SLOT, _NO_SLOT: SIMULATED}
        # functions that only report a fixed result and do not touch stack_space need no evaluation
        if len(only) == 1 and rets == only and not info.writes_stack:
            ret = next(iter(only))
            return _Res(ret, how_of.get(ret, ""), f"{fname} returns {ret}", [where])
        r = self._call_c(ctx, fname, insn, asi, e, prefer)
        if r.ret is not None:
            r.how = how_of.get(r.ret, "")
            r.decided_by = f"{fname} returns {r.ret}"
            return r
        if not info.writes_stack and rets <= {_GOOD, _NO_SLOT}:
            # acceptance is certain; only the slot/simulate choice is unknown
            return _Res(_GOOD, SLOT, f"{fname} returns {' or '.join(sorted(rets))}", [where],
                        notes=[f"{fname} ({where}) returns INSN_GOOD or INSN_GOOD_NO_SLOT depending on the "
                               f"instruction; shown as slot ({'; '.join(r.unsupported)})"])
        r.evidence = [where] + r.evidence
        return r

    def _checker(self, ctx, fname: str, insn: int, asi: dict, e: Entry, trace, depth, prefer: str) -> _Res:
        info = self._fn(ctx, fname, prefer)
        if info.fdef is None:
            return _Res(None, unsupported=[info.why_unknown])
        where = evidence_at(info.fdef.file, info.fdef.line)
        if info.nested is not None:
            key, nthumb, nemulate, nactions, nchk, has_table = info.nested
            if not has_table:
                return _Res(None, unsupported=[f"{fname} ({where}): local table {key} not found"])
            tab = ctx.table(key, info.fdef.file.path)
            trace.append(f"{where}: checker {fname}: second decode over its local table")
            if depth > 2:
                return _Res(None, unsupported=[f"{fname}: nested decodes too deep"])
            nested_checkers = None if nchk in ("NULL", "0") else ctx.name_list(nchk)[0]
            r = self._walk(ctx, tab, insn, emulate=nemulate, thumb=nthumb, actions=nactions,
                           checkers=nested_checkers, asi=asi, trace=trace, rewrite=True, depth=depth + 1)
            if r.ret is not None and asi.get("stack_space", 0) != 0:
                asi["_stack_from"] = list(r.evidence)
                asi["_stack_by"] = r.decided_by
            return r
        if _REJ not in info.returns and "?" not in info.returns and not info.writes_stack:
            trace.append(f"{where}: checker {fname} cannot reject and leaves stack_space alone (not run)")
            return _Res(_GOOD)
        r = self._call_c(ctx, fname, insn, asi, e, prefer)
        if r.ret is not None:
            trace.append(f"{where}: checker {fname} -> {r.ret}, stack_space {asi.get('stack_space')}")
            if asi.get("stack_space", 0) != 0:
                asi["_stack_from"] = [where] + list(r.evidence)
                asi["_stack_by"] = fname
        return r

    def _rewrite(self, insn: int, trace: list[str]) -> int:
        rule = self._rewrite_rule()
        if rule is None:
            return insn
        limit, orbits, clear, where = rule
        if insn < limit:
            new = (insn | orbits) & ~clear & 0xFFFFFFFF
            trace.append(f"{where}: condition rewritten for emulation: {insn:#010x} -> {new:#010x}")
            return new
        return insn

    def _rewrite_rule(self):
        """(limit, or-bits, cleared bits, evidence) of prepare_emulated_insn's condition rewrite."""
        if self._rw is not _UNSET:
            return self._rw
        self._rw = None
        f = self._function(self.context(False), "prepare_emulated_insn")
        if f is not None:
            text = tsparse.text(f.node)
            m = re.search(r"if\s*\(\s*insn\s*<\s*(0x[0-9a-fA-F]+)\s*\)\s*insn\s*=\s*\(\s*insn\s*\|\s*"
                          r"(0x[0-9a-fA-F]+)\s*\)\s*&\s*~\s*(0x[0-9a-fA-F]+)\s*;", text)
            if m:
                line = f.line + text.count("\n", 0, m.start())
                self._rw = (int(m.group(1), 16), int(m.group(2), 16), int(m.group(3), 16), evidence_at(f.file, line))
        return self._rw

    def _regs(self, ctx: BuildContext, insn: int, regs: int, modify: bool) -> tuple[bool | None, int, str]:
        """decode_regs (decode.c): check (and rewrite) each register nibble."""
        new_insn = insn
        mask = 0xF
        shift = 0
        while regs:
            code = regs & 0xF
            name = ctx.reg_names.get(code)
            nibble = (insn >> shift) & 0xF
            field = f"bits {shift + 3}-{shift}"
            new_bits = ctx.new_bits
            bad = False
            if name is None:
                return None, insn, f"register type {code} (not in enum decode_reg_type)"
            if name == "NONE":
                regs >>= 4
                mask <<= 4
                shift += 4
                continue
            if name == "ANY":
                pass
            elif name == "SAMEAS16":
                new_bits = ctx.sameas16_bits
            elif name == "SP":
                bad = nibble != 13
            elif name == "PC":
                bad = nibble != 15
            elif name == "NOSP":
                bad = nibble == 13
            elif name in ("NOSPPC", "NOSPPCX"):
                bad = nibble in (13, 15)
            elif name in ("NOPC", "NOPCX", "NOPCWB"):
                if name == "NOPCWB":
                    if ctx.is_writeback is None:
                        return None, insn, "is_writeback() macro not found in decode.h"
                    if not ctx.is_writeback(insn):
                        bad = False
                    else:
                        bad = nibble == 15
                else:
                    bad = nibble == 15
            else:
                return None, insn, f"register type REG_TYPE_{name} (semantics not known to kpanalyze)"
            if bad:
                return False, insn, f"REGS: REG_TYPE_{name} forbids r{nibble} in {field}"
            if new_bits is not None:
                new_insn = (new_insn & ~mask) | (new_bits & mask)
            regs >>= 4
            mask <<= 4
            shift += 4
        return True, (new_insn if modify else insn), ""

    # the public interface

    def decode(self, encoding: int, *, mode: str = "") -> DecodeResult:
        mode = self._mode(encoding, mode)
        key = (mode, encoding)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        res = self._decode(encoding, mode)
        if len(self._cache) > 200_000:
            self._cache.clear()
        self._cache[key] = res
        return res

    def _mode(self, encoding: int, mode: str) -> str:
        if encoding < 0 or encoding > 0xFFFFFFFF:
            raise InputError(f"arm instruction {encoding:#x} does not fit in 32 bits")
        if not mode:
            thumb2 = self.config is not None and self.config.builtin("THUMB2_KERNEL")
            mode = "thumb" if thumb2 else "arm"
        if mode in ("thumb", "t16", "t32"):
            wide = self._is_wide()
            if encoding <= 0xFFFF:
                if mode == "t32" or wide(encoding):
                    raise InputError(f"Thumb {encoding:#06x}: a 32-bit Thumb instruction needs both "
                                     "halfwords (hw1 << 16 | hw2)")
                return "t16"
            if mode == "t16":
                raise InputError(f"T16 instruction {encoding:#x} is wider than 16 bits")
            if not wide(encoding >> 16):
                raise InputError(f"Thumb {encoding:#010x}: first halfword {encoding >> 16:#06x} does not start "
                                 "a 32-bit instruction (is_wide_instruction)")
            return "t32"
        if mode != "arm":
            raise InputError(f"unknown arm decode mode {mode!r} (use arm, thumb, t16 or t32)")
        return mode

    def _is_wide(self):
        fn = self.context(True).macro_fn("is_wide_instruction", 1)
        if fn is None:
            return lambda hw: hw >= 0xE800  # asm/ptrace.h missing: the architectural rule
        return fn

    def _decode(self, encoding: int, mode: str) -> DecodeResult:
        length = 2 if mode == "t16" else 4
        ctx = self.context(mode != "arm")
        prep = self.prepare(mode)
        trace: list[str] = []
        base = dict(arch="arm", encoding=encoding, length=length, mode=mode)
        notes: list[str] = []
        if self.config is not None and self.config.builtin("THUMB2_KERNEL") == (mode == "arm"):
            notes.append(f"this config builds a{' Thumb-2' if mode == 'arm' else 'n ARM'} kernel: "
                         f"kprobes never decode {mode} instructions there")
        if mode != "arm":
            notes.append("no instruction-boundary check in Thumb mode: a probe on the second halfword "
                         "of a 32-bit instruction is decoded as an instruction")
        if prep.problems and (not prep.table or not prep.actions):
            return DecodeResult(**base, status=UNKNOWN, decided_by="arch_prepare_kprobe not understood",
                                unsupported=tuple(prep.problems), notes=tuple(notes))
        notes += prep.problems
        table = ctx.table(prep.table)
        if table is None:
            return DecodeResult(**base, status=UNKNOWN, decided_by=f"table {prep.table} not found",
                                unsupported=(f"decode table {prep.table} not found under {PROBES_DIR}",))
        checkers, chk_where = ctx.name_list(prep.checkers) if prep.checkers else ([], None)
        asi: dict = {}
        r = self._walk(ctx, table, encoding, emulate=prep.emulate, thumb=prep.thumb, actions=prep.actions,
                       checkers=checkers, asi=asi, trace=trace, rewrite=True)
        if self._rewrite_rule() is None and mode == "arm" and encoding < 0xE0000000:
            r.unsupported.append("prepare_emulated_insn (decode.c): condition rewrite not found; "
                                 "conditional instruction matched as written")
        notes += r.notes
        if self.arm_arch is None and any("__LINUX_ARM_ARCH__" in u for u in r.unsupported):
            notes.append("__LINUX_ARM_ARCH__ is set by arch/arm/Makefile from CONFIG_CPU_32v*: give a config")
        if r.ret is None or r.unsupported:
            return DecodeResult(**base, status=UNKNOWN, decided_by=r.decided_by, evidence=tuple(r.evidence),
                                trace=tuple(trace), notes=tuple(notes), unsupported=tuple(r.unsupported))
        if r.ret == _REJ:
            ev = list(r.evidence) + ([prep.rejected_where] if prep.rejected_where else [])
            return DecodeResult(**base, status=REJECTED, errno=prep.rejected_errno, decided_by=r.decided_by,
                                evidence=tuple(ev), trace=tuple(trace), notes=tuple(notes))
        space = asi.get("stack_space", 0)
        if space:
            notes.append(f"stack_space {space}")
        if prep.stack_where and ((prep.stack_lo is not None and space < prep.stack_lo)
                                 or (prep.stack_hi is not None and space > prep.stack_hi)):
            why = (f"stack_space {space} < {prep.stack_lo}" if prep.stack_lo is not None and space < prep.stack_lo
                   else f"stack_space {space} > MAX_STACK_SIZE {prep.stack_hi}")
            by = asi.get("_stack_by", "")
            ev = list(prep.stack_where) + list(asi.get("_stack_from", []))
            return DecodeResult(**base, status=REJECTED, errno=prep.stack_errno,
                                decided_by=f"{why} (set by {by})" if by else why,
                                evidence=tuple(ev), trace=tuple(trace), notes=tuple(notes))
        if not prep.stack_where:
            notes.append("the stack_space test of arch_prepare_kprobe was not found")
        return DecodeResult(**base, status=ACCEPTED, how=r.how, decided_by=r.decided_by,
                            evidence=tuple(r.evidence), trace=tuple(trace), notes=tuple(notes))

    def decode_at(self, fn: FunctionBytes, offset: int) -> DecodeResult:
        if fn.thumb:
            return self._decode_thumb_at(fn, offset)
        prep = self.prepare("arm")
        mask = prep.align_mask or 3
        if (fn.address + offset) & mask:
            if prep.align_where is None:
                return DecodeResult("arm", 0, 0, "arm", UNKNOWN, decided_by="misaligned ARM address",
                                    unsupported=("no `addr & mask` test found in arch_prepare_kprobe",))
            return DecodeResult("arm", 0, 0, "arm", REJECTED, errno=prep.align_errno,
                                decided_by=f"address & {mask:#x} != 0: not a word-aligned ARM instruction",
                                evidence=(prep.align_where,), cause="misaligned")
        if offset + 4 > len(fn.data):
            return DecodeResult("arm", 0, 4, "arm", UNKNOWN, decided_by="offset beyond the function bytes")
        return self.decode(int.from_bytes(fn.data[offset:offset + 4], "little"), mode="arm")

    def _decode_thumb_at(self, fn: FunctionBytes, offset: int) -> DecodeResult:
        prep = self.prepare("t16")
        start = fn.address & ~1
        addr = fn.address + offset
        extra: list[str] = []
        if addr & 1:
            if prep.bit0_where is None:
                return DecodeResult("arm", 0, 0, "t16", UNKNOWN, decided_by="odd address in Thumb code",
                                    unsupported=("no `addr &= ~1` found in arch_prepare_kprobe for Thumb",))
            extra.append(f"bit 0 of the address is cleared ({prep.bit0_where}): decoded at {addr & ~1:#x}")
            addr &= ~1
        rel = addr - start
        if rel < 0 or rel + 2 > len(fn.data):
            return DecodeResult("arm", 0, 0, "t16", UNKNOWN, decided_by="offset beyond the function bytes")
        hw = int.from_bytes(fn.data[rel:rel + 2], "little")
        if self._is_wide()(hw):
            if rel + 4 > len(fn.data):
                return DecodeResult("arm", hw, 4, "t32", UNKNOWN,
                                    decided_by="second halfword beyond the function bytes")
            hw2 = int.from_bytes(fn.data[rel + 2:rel + 4], "little")
            res = self.decode(hw << 16 | hw2, mode="t32")
        else:
            res = self.decode(hw, mode="t16")
        if extra:
            from dataclasses import replace

            res = replace(res, notes=tuple(extra) + res.notes)
        return res

    def boundaries(self, fn: FunctionBytes) -> list[int]:
        if not fn.thumb:
            return list(range(0, len(fn.data) - 3, 4))
        wide = self._is_wide()
        out = []
        off = 0
        while off + 2 <= len(fn.data):
            out.append(off)
            hw = int.from_bytes(fn.data[off:off + 2], "little")
            off += 4 if wide(hw) else 2
        return out

    # rules

    def rules(self) -> list[RuleEntry]:
        out: list[RuleEntry] = []
        for mode in MODES:
            ctx = self.context(mode != "arm")
            prep = self.prepare(mode)
            if not prep.table:
                continue
            seen: set[str] = set()
            self._table_rules(ctx, mode, prep.table, "", "", seen, out)
            if prep.stack_where:
                out.append(RuleEntry("arm", mode, "rejected",
                                     f"stack_space < {prep.stack_lo} or > {prep.stack_hi}",
                                     "stores below SP by more than MAX_STACK_SIZE bytes, or with a register "
                                     "offset from SP (stack use unknown), computed by the stack checkers",
                                     f"arch_prepare_kprobe: -{prep.stack_errno}", prep.stack_where))
            checkers, _ = ctx.name_list(prep.checkers) if prep.checkers else ([], None)
            for chk in checkers:
                carr = ctx.designated(chk)
                if carr is None:
                    continue
                for action, slot in sorted(carr.slots.items()):
                    info = self._fn(ctx, slot.func, carr.where.path)
                    if info.fdef is not None and info.nested is None and info.writes_stack \
                            and slot.func not in seen:
                        seen.add(slot.func)
                        out.append(RuleEntry("arm", mode, "stack-check", f"action {slot.label or action}",
                                             f"{slot.func} sets stack_space",
                                             f"{chk}[{slot.label or action}] = {slot.func}",
                                             (slot.where, evidence_at(info.fdef.file, info.fdef.line)),
                                             slot.cond))
                    if info.nested is None or not info.nested[5]:
                        continue
                    tab = ctx.table(info.nested[0], info.fdef.file.path)
                    if slot.func in seen:
                        continue
                    seen.add(slot.func)
                    ors: list[Entry] = []
                    for e in tab.entries:
                        if e.kind == "OR" and not e.unsupported:
                            ors.append(e)
                            continue
                        if e.kind in ("CUSTOM", "SIMULATE", "EMULATE") and not e.unsupported:
                            pat, desc, ev = _or_chain(ors + [e])
                            out.append(RuleEntry("arm", mode, "stack-check", pat, desc,
                                                 f"{slot.func}: {e.label or e.target}", ev, e.cond))
                        ors = []
            if mode == "arm" and prep.align_where:
                out.append(RuleEntry("arm", mode, "rejected", f"address & {prep.align_mask:#x}",
                                     "misaligned ARM instruction address", f"arch_prepare_kprobe: -{prep.align_errno}",
                                     (prep.align_where,)))
        return out

    def _table_rules(self, ctx, mode, name, parent_pat, prefer, seen, out) -> None:
        tab = ctx.table(name, prefer)
        if tab is None or name in seen:
            return
        seen.add(name)
        ors: list[Entry] = []
        for e in tab.entries:
            if e.unsupported:
                out.append(RuleEntry("arm", mode, "unknown", e.text, e.unsupported, f"entry of {name}",
                                     (e.where,), e.cond))
            elif e.kind == "OR":
                ors.append(e)
                continue
            elif e.kind == "REJECT":
                pat, desc, ev = _or_chain(ors + [e])
                out.append(RuleEntry("arm", mode, "rejected", pat, desc, f"DECODE_REJECT in {name}", ev, e.cond))
            elif e.kind == "END":
                pat = f"{parent_pat} and no entry of {name} matches" if parent_pat else f"no entry of {name} matches"
                out.append(RuleEntry("arm", mode, "rejected", pat, e.comment or "instructions the table does not list",
                                     f"DECODE_END of {name}", (e.where,), e.cond))
            elif e.kind == "TABLE":
                own = f"mask {e.mask:#010x} value {e.value:#010x}"
                self._table_rules(ctx, mode, e.target, f"{parent_pat} and {own}" if parent_pat else own,
                                  tab.path, seen, out)
            ors = []


def _or_chain(entries: list[Entry]) -> tuple[str, str, tuple[Evidence, ...]]:
    """Pattern, description and evidence of an entry with the DECODE_ORs before it."""
    pat = " or ".join(f"mask {x.mask:#010x} value {x.value:#010x}" for x in entries)
    desc = "; ".join(x.comment for x in entries if x.comment) or entries[-1].text
    return pat, desc, tuple(x.where for x in entries)
