"""riscv: the tree's own `riscv_probe_decode_insn` and `arch_check_kprobe`, interpreted.

From the tree: the `__RISCV_INSN_FUNCS(name, mask, value)` predicates and the
RISCV_INSN_REJECTED / RISCV_INSN_SET_SIMULATE lists (arch/riscv/kernel/probes/
simulate-insn.h, decode-insn.c), GET_INSN_LENGTH (arch/riscv/include/asm/bug.h), and the
odd-address check, the boundary walk and the errnos of arch_prepare_kprobe
(arch/riscv/kernel/probes/kprobes.c).

CONFIG_RISCV_ISA_C guards the compressed-branch rejections. With no config the block is
kept and every result it decides carries the condition in `notes` (config-dependent).
"""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property

from ..verdict import Evidence
from . import _cdecoder as cd
from .base import ACCEPTED, REJECTED, UNKNOWN, DecodeResult, DecoderError, FunctionBytes, RuleEntry
from .cinterp import CPointer, CStruct, Memory, Unsupported

DECODE_C = "arch/riscv/kernel/probes/decode-insn.c"
DECODE_H = "arch/riscv/kernel/probes/decode-insn.h"
SIMULATE_H = "arch/riscv/kernel/probes/simulate-insn.h"
BUG_H = "arch/riscv/include/asm/bug.h"
KPROBES_C = "arch/riscv/kernel/probes/kprobes.c"
OPTIONAL = ("arch/riscv/include/asm/probes.h", BUG_H)

ENTRY = "riscv_probe_decode_insn"
CHECK = "arch_check_kprobe"
PREPARE = "arch_prepare_kprobe"
_BASE = 0x10000


class RiscvDecoder:
    """Also the base of the csky decoder (same layout: a list of predicate macros in one
    decode function); subclasses change the class attributes."""

    arch = "riscv"
    modes = ("rvc", "rv")  # (16-bit, 32-bit)
    files = (DECODE_H, SIMULATE_H, DECODE_C)
    optional = OPTIONAL
    kprobes_c = KPROBES_C
    entry = ENTRY
    length_macro = "GET_INSN_LENGTH"
    length_expr = "GET_INSN_LENGTH(x)"
    length_file = BUG_H
    pred_prefix = "riscv_insn_is_"
    checks_boundary = True  # arch_prepare_kprobe walks from the symbol start (arch_check_kprobe)

    def __init__(self, tree, config=None):
        self.tree = tree
        self.config = config
        optional = list(self.optional) + ([self.kprobes_c] if tree.read(self.kprobes_c) is not None else [])
        self.prog = cd.load_program(tree, self.arch, list(self.files), optional,
                                    config=config, types={"probe_opcode_t": "u32", "kprobe_opcode_t": "u32"})
        prog = self.prog
        if not prog.has_function(self.entry):
            raise DecoderError(f"{self.arch} kprobe decoder: {self.entry} not found",
                               (Evidence(self.files[-1], 1),))
        self._values = cd.probe_insn_values(prog, self.arch, Evidence(self.files[0], 1))
        self._length = None
        if self.length_macro in prog.macros:
            self._length = prog.predicate(self.length_expr, ["x"])
        self._checks = cd.prepare_checks(prog, PREPARE)
        self._cache: dict[int, DecodeResult] = {}
        self._rules: list[RuleEntry] | None = None

    # -- lengths and boundaries --------------------------------------------------------

    def length(self, halfword: int) -> int:
        """GET_INSN_LENGTH of the tree (4 when the low two bits are 11, else 2)."""
        if self._length is None:
            raise Unsupported(f"{self.length_macro} (not defined in {self.length_file})")
        return int(self._length(halfword & 0xFFFF))

    def boundaries(self, fn: FunctionBytes) -> list[int]:
        out = []
        off = 0
        n = len(fn.data)
        try:
            while off + 2 <= n:
                out.append(off)
                off += self.length(int.from_bytes(fn.data[off:off + 2], "little"))
        except Unsupported:
            return out
        return out

    def _on_boundary(self, fn: FunctionBytes, offset: int) -> bool:
        """`offset in self.boundaries(fn)`, walking only as far as `offset`."""
        off = 0
        try:
            while off < offset and off + 2 <= len(fn.data):
                off += self.length(int.from_bytes(fn.data[off:off + 2], "little"))
        except Unsupported:
            return False
        return off == offset and off + 2 <= len(fn.data)

    # -- decode ------------------------------------------------------------------------

    def decode(self, encoding: int, *, mode: str = "") -> DecodeResult:
        encoding &= 0xFFFFFFFF
        hit = self._cache.get(encoding)
        if hit is None:
            try:
                length = self.length(encoding)
            except Unsupported as e:
                return self._unknown(encoding, 4, e)
            if length == 2:
                encoding &= 0xFFFF
            hit = self._decode(encoding, length, CPointer([encoding], 0, 4, base=_BASE))
            if length == 2:
                hit = _with_note(hit, "a 16-bit instruction: the kernel reads 32 bits, the upper half "
                                      "(the next instruction) is outside every compressed mask")
            cd.remember(self._cache, encoding, hit)
        return hit

    def decode_at(self, fn: FunctionBytes, offset: int) -> DecodeResult:
        addr = fn.address + offset
        if addr & 1:
            err, ev = self._check("& 0x1", "EILSEQ")
            return DecodeResult(self.arch, 0, 2, self.modes[1], REJECTED, errno=err,
                                decided_by=f"{PREPARE}: odd address", evidence=ev,
                                notes=(f"address {addr:#x} is odd",))
        if offset < 0 or offset + 2 > len(fn.data):
            return cd.no_bytes(self.arch, self.modes[1], 2, fn, offset)
        data = bytes(fn.data) + b"\0\0"  # the kernel reads 32 bits even at the last 16-bit insn
        mem = Memory(data, fn.address)
        if self.checks_boundary and self.prog.has_function(CHECK):
            def kallsyms(a, sizep, offp):
                if hasattr(sizep, "value"):
                    sizep.value = len(fn.data)
                if hasattr(offp, "value"):
                    offp.value = a - fn.address
                return 1
            try:
                out = self.prog.call(CHECK, addr, builtins={"kallsyms_lookup_size_offset": kallsyms},
                                     memory=[mem])
            except Unsupported as e:
                return self._unknown(0, 2, e)
            if not out.value:
                err, ev = self._check(CHECK, "EILSEQ")
                return DecodeResult(self.arch, 0, 2, self.modes[1], REJECTED, errno=err,
                                    decided_by=f"{CHECK}: {fn.name}+{offset:#x} is not an instruction boundary "
                                               "(GET_INSN_LENGTH walk from the symbol start)",
                                    evidence=ev + ((cd.with_text(self.prog, self.prog.where("GET_INSN_LENGTH")),)
                                                   if "GET_INSN_LENGTH" in self.prog.macros else ()),
                                    notes=(f"the walk from {fn.name}+0 steps over {fn.name}+{offset:#x}",))
        elif self.checks_boundary and not self._on_boundary(fn, offset):
            return DecodeResult(self.arch, 0, 2, self.modes[1], REJECTED, errno="EILSEQ",
                                decided_by=f"not an instruction boundary ({self.length_macro} walk)")
        half = int.from_bytes(data[offset:offset + 2], "little")
        try:
            length = self.length(half)
        except Unsupported as e:
            return self._unknown(half, 2, e)
        encoding = int.from_bytes(data[offset:offset + length], "little")
        res = self._decode(encoding, length, CPointer(mem, ctype=None, addr=addr))
        if not self.checks_boundary and not self._on_boundary(fn, offset):
            res = _with_note(res, f"{fn.name}+{offset:#x} is not an instruction boundary by the "
                                  f"{self.length_macro} walk from {fn.name}+0, but {PREPARE} does not check that")
        return res

    def _check(self, needle: str, default: str) -> tuple[str, tuple[Evidence, ...]]:
        for cond, err, ev in self._checks:
            if needle.replace(" ", "") in cond.replace(" ", ""):
                return err, (ev,)
        return default, ()

    @cached_property
    def _rejected_errno(self) -> str:
        """The errno arch_prepare_kprobe returns for INSN_REJECTED (read once from its switch)."""
        return cd.switch_errno(self.prog, PREPARE, "INSN_REJECTED")[0] or "EINVAL"

    def _unknown(self, encoding, length, e) -> DecodeResult:
        return DecodeResult(self.arch, encoding, length, self.modes[0] if length == 2 else self.modes[1], UNKNOWN,
                            decided_by=f"{self.entry}: not interpreted", unsupported=(cd.unsupported_text(e),))

    def _decode(self, encoding: int, length: int, ptr: CPointer) -> DecodeResult:
        prog = self.prog
        mode = self.modes[0] if length == 2 else self.modes[1]
        try:
            out = prog.call(self.entry, ptr, CStruct())
        except Unsupported as e:
            return self._unknown(encoding, length, e)
        name = self._values.get(out.value, "")
        verdict = cd.probe_insn_verdict(name)
        if verdict is None:
            return DecodeResult(self.arch, encoding, length, mode, UNKNOWN,
                                decided_by=f"{self.entry} returned {out.value!r}",
                                unsupported=(f"{self.entry} result {out.value!r}",))
        status, how = verdict
        errno = self._rejected_errno if status == REJECTED else ""
        preds = cd.true_predicates(prog, out)
        parts = [cd.predicate_desc(prog, p) for p in preds]
        evidence = [cd.with_text(prog, prog.where(p)) for p in preds]
        if out.decisive is not None:
            dec = cd.with_text(prog, out.decisive)
            parts.append(f"{self.entry} returns {name} ({dec}: {dec.text})")
            evidence.append(dec)
        notes = []
        if out.conditions:
            conds = " && ".join(out.conditions)
            notes.append(f"config-dependent: decided under #if {conds}" +
                         ("" if self.config is not None else " (no config given; the block was kept)"))
        return DecodeResult(self.arch, encoding, length, mode, status, how, errno,
                            decided_by="; ".join(parts), evidence=cd.dedup(evidence),
                            trace=tuple(str(s) for s in out.trace if s.kind != "if"), notes=tuple(notes))

    # -- rules -------------------------------------------------------------------------

    def rules(self) -> list[RuleEntry]:
        if self._rules is not None:
            return list(self._rules)
        prog = self.prog
        out: list[RuleEntry] = []
        for cond, err, ev in self._checks:
            if "0x1" in cond.replace(" ", "") or "&1" in cond.replace(" ", ""):
                out.append(RuleEntry(self.arch, self.modes[1], "rejected", "address & 0x1",
                                     f"odd probe address ({err})", PREPARE, (ev,)))
            elif CHECK in cond and self.checks_boundary:
                extra = (cd.with_text(prog, prog.where(self.length_macro)),) if self.length_macro in prog.macros else ()
                out.append(RuleEntry(self.arch, self.modes[1], "rejected", "not an instruction boundary",
                                     f"the GET_INSN_LENGTH walk from the symbol start does not land on the address ({err})",
                                     CHECK, (ev,) + extra))
        try:
            paths = prog.decision_paths(self.entry)
        except Unsupported as e:
            return out + [RuleEntry(self.arch, self.modes[1], "unknown", "",
                                    f"not interpreted: {cd.unsupported_text(e)}", self.entry)]
        for p in paths:
            if p.value not in ("INSN_REJECTED", "INSN_GOOD_NO_SLOT"):
                continue
            pos = [lit for lit in p.literals if lit.holds and lit.func]
            if not pos:
                continue
            pattern, names = cd.path_pattern(prog, pos, strip=self.pred_prefix, digits=4)
            ret = cd.with_text(prog, p.ev[-1])
            cond = " && ".join(prog.conditions_at(ret.path, ret.line))
            witness = cd.find_witness(prog, p.literals)
            action = "rejected" if p.value == "INSN_REJECTED" else "simulated"
            desc = ", ".join(names)
            if witness is None or self.decode(witness).status != (REJECTED if action == "rejected" else ACCEPTED):
                desc += ": never reached (every encoding it matches is decided by an earlier entry)"
                action = "shadowed"
            else:
                desc += (": rejected (INSN_REJECTED)" if action == "rejected" else ": simulated (INSN_GOOD_NO_SLOT)")
                desc += f"; e.g. {witness:#x}"
            if cond:
                desc += f"; only with {cond}"
            ev = [cd.with_text(prog, prog.where(lit.func)) for lit in pos] + [ret]
            mode = self.modes[1]
            if witness is not None:
                try:
                    mode = self.modes[0] if self.length(witness) == 2 else self.modes[1]
                except Unsupported:
                    pass
            out.append(RuleEntry(self.arch, mode, action, pattern, desc,
                                 f"{self.entry} -> {p.value} ({', '.join(lit.func for lit in pos)})",
                                 cd.dedup(ev), cond))
        self._rules = out
        return list(out)


def _with_note(r: DecodeResult, note: str) -> DecodeResult:
    return replace(r, notes=r.notes + (note,))
