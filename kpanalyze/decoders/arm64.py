"""arm64: the tree's own `arm_kprobe_decode_insn`, interpreted.

Everything that decides comes from the tree: the `__AARCH64_INSN_FUNCS(name, mask, value)`
predicates (arch/arm64/include/asm/insn.h), the encoding-class table and the steppable-hint
switch (arch/arm64/lib/insn.c), the decision functions and the atomic-sequence scan
(arch/arm64/kernel/probes/decode-insn.c), MAX_ATOMIC_CONTEXT_SIZE (decode-insn.h), and the
alignment check and errnos of arch_prepare_kprobe (arch/arm64/kernel/probes/kprobes.c).

Not decided here (they need a binary; see analysis/offsets.py): the exception-table check
(`search_exception_tables`) and the ftrace call site.
"""

from __future__ import annotations

import re
from functools import cached_property

from ..verdict import Evidence
from . import _cdecoder as cd
from .base import ACCEPTED, REJECTED, UNKNOWN, DecodeResult, DecoderError, FunctionBytes, RuleEntry
from .cinterp import CPointer, CStruct, Literal, Unsupported

INSN_H = "arch/arm64/include/asm/insn.h"
INSN_C = "arch/arm64/lib/insn.c"
DECODE_H = "arch/arm64/kernel/probes/decode-insn.h"
DECODE_C = "arch/arm64/kernel/probes/decode-insn.c"
KPROBES_C = "arch/arm64/kernel/probes/kprobes.c"
OPTIONAL = ("arch/arm64/include/asm/probes.h", "arch/arm64/kernel/probes/simulate-insn.h")

ENTRY = "arm_kprobe_decode_insn"  # what arch_prepare_kprobe calls
CLASSIFY = "arm_probe_decode_insn"  # the context-free part ENTRY delegates to
SCAN = "is_probed_address_atomic"
_BASE = 0x10000  # where a lone instruction is placed for decode()


class Arm64Decoder:
    arch = "arm64"

    def __init__(self, tree, config=None):
        self.tree = tree
        self.config = config
        self.prog = cd.load_program(tree, "arm64", [INSN_H, INSN_C, DECODE_H, DECODE_C], OPTIONAL,
                                    config=config, types={"probe_opcode_t": "u32", "kprobe_opcode_t": "u32"})
        if not self.prog.has_function(ENTRY):
            raise DecoderError(f"arm64 kprobe decoder: {ENTRY} not found", (Evidence(DECODE_C, 1),))
        self.kprobes = None
        if tree.read(KPROBES_C) is not None:
            self.kprobes = cd.load_program(tree, "arm64", [KPROBES_C], config=config)
        self._values = cd.probe_insn_values(self.prog, self.arch, Evidence(DECODE_H, 1))
        self._cache: dict[int, DecodeResult] = {}
        self._decision_files = (DECODE_C, INSN_C)
        self._rules: list[RuleEntry] | None = None

    # -- decode ------------------------------------------------------------------------

    def decode(self, encoding: int, *, mode: str = "") -> DecodeResult:
        encoding &= 0xFFFFFFFF
        hit = self._cache.get(encoding)
        if hit is None:
            ptr = CPointer([encoding], 0, 4, base=_BASE)
            hit = cd.remember(self._cache, encoding, self._run(encoding, ptr, size=4, offset=0))
        return hit

    def decode_at(self, fn: FunctionBytes, offset: int) -> DecodeResult:
        addr = fn.address + offset
        if addr & 3:
            return self._misaligned(addr)
        if offset < 0 or offset + 4 > len(fn.data):
            return cd.no_bytes(self.arch, "a64", 4, fn, offset)
        n = len(fn.data) // 4 * 4
        ptr = CPointer(fn.data[:n], offset // 4, 4, base=fn.address)
        encoding = int.from_bytes(fn.data[offset:offset + 4], "little")
        return self._run(encoding, ptr, size=len(fn.data), offset=offset)

    def boundaries(self, fn: FunctionBytes) -> list[int]:
        start = (-fn.address) & 3
        return list(range(start, len(fn.data) - 3, 4))

    def _misaligned(self, addr: int) -> DecodeResult:
        ev: tuple[Evidence, ...] = ()
        errno = "EINVAL"
        decided = "arch_prepare_kprobe: address not 4-byte aligned"
        if self.kprobes is not None:
            hit = cd.alignment_check(self.kprobes, "arch_prepare_kprobe", ("0x3", "3"))
            if hit is not None:
                errno, e = hit
                ev = (e,)
                decided = f"arch_prepare_kprobe: {e.text.strip() or 'alignment check'}"
        return DecodeResult(self.arch, 0, 4, "a64", REJECTED, errno=errno, decided_by=decided,
                            evidence=ev, notes=(f"address {addr:#x} is not a multiple of 4",), cause="misaligned")

    def _run(self, encoding: int, ptr: CPointer, *, size: int, offset: int) -> DecodeResult:
        def kallsyms(addr, sizep, offp):
            if hasattr(sizep, "value"):
                sizep.value = size
            if hasattr(offp, "value"):
                offp.value = offset
            return 1
        try:
            out = self.prog.call(ENTRY, ptr, CStruct(), builtins={"kallsyms_lookup_size_offset": kallsyms})
        except Unsupported as e:
            return DecodeResult(self.arch, encoding, 4, "a64", UNKNOWN,
                                decided_by=f"{ENTRY}: not interpreted", unsupported=(cd.unsupported_text(e),))
        return self._result(encoding, out)

    def _result(self, encoding: int, out) -> DecodeResult:
        prog = self.prog
        verdict = cd.probe_insn_verdict(self._values.get(out.value, ""))
        if verdict is None:
            return DecodeResult(self.arch, encoding, 4, "a64", UNKNOWN,
                                decided_by=f"{ENTRY} returned {out.value!r}, not a probe_insn value",
                                unsupported=(f"{ENTRY} result {out.value!r}",))
        status, how = verdict
        errno = self._rejected_errno if status == REJECTED else ""
        preds = cd.true_predicates(prog, out)
        parts = [cd.predicate_desc(prog, p) for p in preds]
        evidence = [cd.with_text(prog, prog.where(p)) for p in preds]
        evidence += [cd.with_text(prog, e) for e in cd.case_steps(out)]
        rets = cd.returns_in(out, self._decision_files)
        final_ev = out.decisive
        for fn, ev, v, passed_on in rets:
            if prog.macro_use(fn) is not None:
                continue
            if ev.path != DECODE_C and not v and not passed_on:
                continue  # a helper that said no and was not the answer itself
            is_enum = prog.return_type(fn).name == "enum probe_insn"
            if fn == ENTRY and final_ev is not None and any(
                    f2 != ENTRY and v2 == v and prog.return_type(f2).name == "enum probe_insn"
                    for f2, _e, v2, _p in rets) and not self._scan_rejected(out):
                evidence.append(cd.with_text(prog, ev))
                continue  # `return decoded;`: the inner return decided
            if is_enum or "_is_" in fn or "uses_" in fn or ev.path == DECODE_C:
                shown = self._values.get(v, v) if is_enum else v
                parts.append(f"{fn} returns {shown} ({ev})")
                evidence.append(cd.with_text(prog, ev))
        notes = []
        cause = ""
        if out.conditions:
            notes.append("config-dependent: " + " && ".join(out.conditions))
        if self._scan_rejected(out):
            cause = "atomic"
            hit = self._scan_hit(out)
            if hit is not None:
                notes.append(f"exclusive load {hit:#010x} before the probe, no exclusive store in between "
                             f"(atomic sequence: probing would break it)")
        return DecodeResult(self.arch, encoding, 4, "a64", status, how, errno,
                            decided_by="; ".join(parts), evidence=cd.dedup(evidence),
                            trace=tuple(str(s) for s in out.trace if s.kind != "if"),
                            notes=tuple(notes), cause=cause)

    def _scan_rejected(self, out) -> bool:
        return any(s.kind == "return" and s.name == SCAN and s.value for s in out.trace)

    def _scan_hit(self, out):
        last = None
        for s in out.trace:
            if s.kind == "call" and s.value:
                last = s
            if s.kind == "return" and s.value and s.name.endswith("load_ex") and last is not None:
                return last.value[0]
        return None

    @cached_property
    def _rejected_errno(self) -> str:
        if self.kprobes is not None:
            err, _ev = cd.switch_errno(self.kprobes, "arch_prepare_kprobe", "INSN_REJECTED")
            if err:
                return err
        return "EINVAL"

    # -- rules -------------------------------------------------------------------------

    def rules(self) -> list[RuleEntry]:
        """Rejected and simulated classes, from the decision functions' AST: every path of
        ENTRY / CLASSIFY to INSN_REJECTED or INSN_GOOD_NO_SLOT, with the leaf predicates on
        it. A path is listed only when an encoding satisfying it exists and the interpreter
        agrees on that encoding (the example shown)."""
        if self._rules is not None:
            return list(self._rules)
        prog = self.prog
        out: list[RuleEntry] = []
        if self.kprobes is not None:
            hit = cd.alignment_check(self.kprobes, "arch_prepare_kprobe", ("0x3", "3"))
            if hit is not None:
                out.append(RuleEntry(self.arch, "a64", "rejected", "address & 0x3",
                                     "probe address not 4-byte aligned", "arch_prepare_kprobe",
                                     (hit[1],)))
        try:
            top = prog.decision_paths(ENTRY, assignments=True)
            inner = prog.decision_paths(CLASSIFY) if prog.has_function(CLASSIFY) else []
        except Unsupported as e:
            return out + [RuleEntry(self.arch, "a64", "unknown", "", f"not interpreted: {cd.unsupported_text(e)}",
                                    ENTRY)]
        candidates = []  # (literals, INSN value, evidence, function)
        outer: list[tuple[Literal, ...]] = []
        for p in top:
            _target, _, value = p.value.partition(" = ")
            if value in ("INSN_GOOD_NO_SLOT", "INSN_REJECTED"):
                candidates.append((p.literals, value, p.ev, ENTRY))
            elif CLASSIFY in value:
                outer.append(p.literals)
        for lits0 in outer or [()]:
            for p in inner:
                if p.value in ("INSN_REJECTED", "INSN_GOOD_NO_SLOT"):
                    lits = _merge(lits0, p.literals)
                    if lits is not None:
                        candidates.append((lits, p.value, p.ev, CLASSIFY))
        best: dict[tuple, tuple] = {}
        for lits, value, evs, fn in candidates:
            key = (value, frozenset(lit.func for lit in lits if lit.holds and lit.func))
            if not key[1] and not any(not lit.func for lit in lits):
                continue
            prev = best.get(key)
            if prev is not None and len(prev[0]) <= len(lits):
                continue
            witness = cd.find_witness(prog, lits)
            if witness is None:
                continue
            got = self.decode(witness)
            expect = REJECTED if value == "INSN_REJECTED" else ACCEPTED
            if got.status != expect:
                continue
            best[key] = (lits, value, evs, fn, witness)
        for lits, value, evs, fn, witness in best.values():
            out.append(self._rule(lits, value, evs, fn, witness))
        out.sort(key=lambda r: (r.action != "rejected", r.pattern))
        out.extend(self._scan_rules())
        self._rules = out
        return list(out)

    def _rule(self, lits, value, evs, fn, witness) -> RuleEntry:
        prog = self.prog
        pattern, names = cd.path_pattern(prog, lits, strip="aarch64_insn_is_")
        pos = [lit.func for lit in lits if lit.holds and lit.func]
        conds = [lit for lit in lits if not lit.func]
        consts = _constants_in(prog, conds)
        action = "rejected" if value == "INSN_REJECTED" else "simulated"
        desc = ", ".join(names) if names else "instructions"
        if consts:
            desc += " (" + ", ".join(f"{k} = {v:#x}" for k, v in consts) + ")"
        desc += ": not steppable out of line and not simulated" if action == "rejected" else \
            ": simulated (INSN_GOOD_NO_SLOT)"
        desc += f"; e.g. {witness:#010x}"
        ev = [cd.with_text(prog, prog.where(f)) for f in pos]
        ev += [cd.with_text(prog, c.ev) for c in conds] + [cd.with_text(prog, e) for e in evs]
        cond = tuple(dict.fromkeys(c for f in pos for c in prog.condition_of(f)))
        return RuleEntry(self.arch, "a64", action, pattern, desc,
                         f"{fn} -> {value}" + (f" ({', '.join(pos)})" if pos else ""),
                         cd.dedup(ev), " && ".join(cond))

    def _scan_rules(self) -> list[RuleEntry]:
        prog = self.prog
        if not prog.has_function(SCAN):
            return []
        res = []
        try:
            paths = prog.decision_paths(SCAN)
        except Unsupported:
            return []
        try:
            window = prog.constant("MAX_ATOMIC_CONTEXT_SIZE")
        except Exception:
            window = None
        for p in paths:
            if p.value not in ("true", "1"):
                continue
            load = [lit for lit in p.literals if lit.holds and lit.func]
            store = [lit for lit in p.literals if not lit.holds and lit.func]
            if not load:
                continue
            pattern = cd.path_pattern(prog, load, strip="aarch64_insn_is_")[0] + " earlier in the function"
            if store:
                flipped = [Literal(lit.text, True, lit.ev, lit.func) for lit in store]
                pattern += ", with no " + cd.path_pattern(prog, flipped, strip="aarch64_insn_is_")[0] \
                    + " in between"
            desc = (f"probe inside an exclusive-load/store sequence (scan of up to {window} instructions back, "
                    f"not before the symbol start; +0 is never rejected)") if window else \
                "probe inside an exclusive-load/store sequence"
            ev = [cd.with_text(prog, prog.where(lit.func)) for lit in load + store]
            ev += [cd.with_text(prog, e) for e in p.ev]
            if window is not None and "MAX_ATOMIC_CONTEXT_SIZE" in prog.macros:
                ev.append(cd.with_text(prog, prog.where("MAX_ATOMIC_CONTEXT_SIZE")))
            res.append(RuleEntry(self.arch, "a64", "rejected", pattern, desc, f"{SCAN} -> true ({ENTRY})",
                                 cd.dedup(ev)))
        return res


def _merge(a, b):
    seen = {}
    out = []
    for lit in tuple(a) + tuple(b):
        if seen.get(lit.text, lit.holds) != lit.holds:
            return None
        if lit.text not in seen:
            out.append(lit)
        seen[lit.text] = lit.holds
    return tuple(out)


_CONST_RE = re.compile(r"\b[A-Z][A-Z0-9_]{3,}\b")


def _constants_in(prog, lits) -> list[tuple[str, int]]:
    out = {}
    for lit in lits:
        for name in _CONST_RE.findall(lit.text):
            try:
                out[name] = prog.constant(name)
            except Exception:
                continue
    return list(out.items())
