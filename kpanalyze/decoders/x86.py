"""x86 kprobe instruction checks, decided by the tree's arch/x86/kernel/kprobes/core.c.

What the kernel does (6.1): ``arch_prepare_kprobe`` refuses an address that is not an
instruction boundary (``can_probe`` decodes from the symbol start: -EILSEQ), then
``arch_copy_kprobe`` copies the instruction (``__copy_instruction`` returns 0 for a decode
failure, the Xen/KVM "force emulation" prefix, an INT3 already there, and the exception
masking MOV SS / POP SS: -EINVAL), ``prepare_emulation`` refuses a few opcodes
(-EOPNOTSUPP) and picks an emulate_op for the ones it emulates, ``prepare_singlestep``
needs room for an int3 after the copy (-ENOSPC).

How kpanalyze decides:
* ``__copy_instruction`` and ``prepare_emulation`` are *interpreted* from the tree with
  cinterp (core.c + asm/insn.h + insn.c + errno headers), on a ``struct insn`` filled the
  way the kernel's ``insn_decode()`` fills it. The runtime pieces (reading text, the kprobe
  recovery buffer, logging) are builtins. ``prepare_singlestep`` writes the slot buffer
  (a local array cinterp does not model), so its ``return -E...`` guards are evaluated
  instead (the -ENOSPC test on the instruction length).
* The glue (``arch_prepare_kprobe`` -> ``can_probe`` / ``arch_copy_kprobe``) is read from
  the tree's return paths: which errno each step returns, with its line. A check in that
  glue that kpanalyze does not know makes the answer UNKNOWN, naming it.
* ``can_probe`` is walked in Python (it is a loop over the function: interpreting it per
  offset would be quadratic); its evidence lines come from its return paths.

Instruction lengths and the ``struct insn`` fields: from the tree's own
arch/x86/lib/x86-opcode-map.txt (x86_map.py rebuilds the attribute tables the kernel
generates from it and decodes as insn_decode() does), cross-checked on every instruction
against capstone, which also gives the disassembly text. Why not capstone alone:
``can_probe`` walks with the kernel's decoder, and where the two disagree the kernel's
answer is the one that counts. On Debian's 6.1.176 vmlinux (6.55 M instructions) they agree
except on: UD1 ``0f b9 /r`` (the kernel's map gives it a ModRM, 3 bytes; capstone 5.0.7
decodes 2 bytes; 685 static-call trampolines), SERIALIZE ``0f 01 e8`` (sync_core, e.g.
machine_check_poll+0x1b1: capstone cannot decode it, so every later offset of the function
would be lost), RMPADJUST/PVALIDATE, TILERELEASE, a 32-bit ``ljmp`` in pvh_start_xen, and
the Xen/KVM emulate prefix (``ud2; .ascii "xen"`` + instruction is ONE instruction to the
kernel). Why not the map alone: capstone is a well-kept independent decoder; disagreements
are reported as notes, and trees without the map (the sample tree) still get lengths.
Without the map, an encoding capstone cannot decode is UNKNOWN (the kernel's decoder accepts
opcodes absent from its map, decoding them with no ModRM).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import replace
from typing import Sequence

import capstone

from ..verdict import Evidence
from . import x86_map
from ._cdecoder import case_steps, errno_of, unsupported_text
from .base import (ACCEPTED, EMULATED, REJECTED, SLOT, UNKNOWN, DecodeResult, DecoderError,
                   FunctionBytes, RuleEntry)
from .cinterp import CPointer, CProgram, CStruct, FuncRef, Memory, Outcome, TraceStep, Unsupported

CORE = "arch/x86/kernel/kprobes/core.c"
# Headers and sources the interpreted functions need (types, macros, inline predicates,
# errno values, the emulate-prefix arrays). Loaded when present; what is missing shows up
# as Unsupported when it is actually needed.
SUPPORT = (
    "arch/x86/include/asm/inat_types.h",
    "arch/x86/include/asm/kprobes.h",
    "arch/x86/include/asm/insn.h",
    "arch/x86/include/asm/text-patching.h",
    "arch/x86/include/asm/emulate_prefix.h",
    "arch/x86/lib/insn.c",
    "include/uapi/asm-generic/errno-base.h",
    "include/uapi/asm-generic/errno.h",
    "include/linux/errno.h",
)
MAX_INSN = 15
STEPS = ("__copy_instruction", "prepare_emulation", "prepare_singlestep")  # arch_copy_kprobe
TEXT_BASE = {64: 0xFFFFFFFF81000000, 32: 0xC1000000}  # an address for context-free decode()

# Runtime-only calls met in the interpreted functions, and what they do here.
_LOG_CALLS = ("pr_err", "pr_warn", "pr_info", "pr_debug", "printk", "pr_err_once", "pr_warn_once")


class X86Decoder:
    arch = "x86"

    def __init__(self, tree, config=None, bits: int = 64):
        self.tree = tree
        self.config = config
        if config is not None and config.value("X86_64") == "y":
            bits = 64
        elif config is not None and config.value("X86_32") == "y":
            bits = 32
        if bits not in (32, 64):
            raise ValueError(f"x86 bits must be 32 or 64, not {bits}")
        self.bits = bits
        self.mode = "x86_64" if bits == 64 else "x86_32"
        if tree.read(CORE) is None:
            raise DecoderError(f"x86 kprobe decoder: {CORE} not found in the tree")
        paths = [CORE] + [p for p in SUPPORT if tree.read(p) is not None]
        assume = ("CONFIG_KPROBES", "CONFIG_X86_64") if bits == 64 else ("CONFIG_KPROBES",)
        try:
            self.prog = CProgram.load(tree, paths, config=config, arch="x86", assume=assume)
        except Unsupported as e:
            raise DecoderError(f"x86 kprobe decoder: cannot read the sources: {unsupported_text(e)}") from None
        self.prog.word = bits  # sizeof(unsigned long) follows the kernel's word size
        self.notes: list[str] = []
        self.map = self._load_map()
        self._cs = capstone.Cs(capstone.CS_ARCH_X86,
                               capstone.CS_MODE_64 if bits == 64 else capstone.CS_MODE_32)
        self._cs.syntax = capstone.CS_OPT_SYNTAX_ATT
        self._cs.detail = True  # ModRM / immediate offsets, when the tree has no opcode map
        self._lines: dict[str, list[str]] = {}
        self._fn_texts: dict[str, str] = {}
        self._errnos = self._errno_names()
        self.emulate_prefixes = self._emulate_prefixes()
        self._glue_cache: dict[str, object] = {}
        self._judged: dict[tuple, DecodeResult] = {}
        self._walks: dict[tuple, tuple] = {}

    # ------------------------------------------------------------------ public API

    def decode(self, encoding: int | bytes, *, mode: str = "") -> DecodeResult:
        """One instruction with no context. An int is read as the bytes written in hex
        order (``0xff5008`` = ff 50 08; leading zero bytes need ``bytes``)."""
        if isinstance(encoding, int):
            if encoding < 0:
                raise ValueError("negative encoding")
            data = encoding.to_bytes(max(1, (encoding.bit_length() + 7) // 8), "big")
        else:
            data = bytes(encoding)
        if mode and mode != self.mode:
            return self._other_mode(mode).decode(data)
        return self.decode_bytes(data)

    def decode_bytes(self, data: bytes, address: int | None = None) -> DecodeResult:
        """The instruction at data[0] (the rest is what follows it in memory)."""
        address = TEXT_BASE[self.bits] if address is None else address
        k, failure, notes, mnem = self._decode_one(data, 0)
        return self._decide(data, k, failure, notes, mnem, address)

    def decode_at(self, fn: FunctionBytes, offset: int) -> DecodeResult:
        data = fn.data
        if offset < 0 or offset >= len(data):
            return DecodeResult(
                self.arch, 0, 0, self.mode, UNKNOWN,
                decided_by=f"offset {offset:#x} is outside the {len(data)} known bytes of {fn.name}",
                unsupported=(f"bytes of {fn.name}+{offset:#x} (not in the image data given)",))
        if offset:
            starts, stop, walk_notes = self._walk(fn)
            i = bisect_left(starts, offset)
            if i == len(starts) or starts[i] != offset:
                return self._not_boundary(fn, offset, starts, stop, walk_notes)
        k, failure, notes, mnem = self._decode_one(data, offset)
        res = self._decide(data[offset:], k, failure, notes, mnem, fn.address + offset)
        extra = []
        if offset == 0 and data[:4] == b"\xf3\x0f\x1e\xfa":
            extra.append("ENDBR at +0: with CONFIG_X86_KERNEL_IBT, arch_adjust_kprobe_addr moves a "
                         "+0 probe to +4")
        if len(data) - offset < MAX_INSN and (k is None or k.length > len(data) - offset):
            extra.append("the instruction runs past the bytes given for the function")
        return replace(res, notes=res.notes + tuple(extra)) if extra else res

    def boundaries(self, fn: FunctionBytes) -> list[int]:
        return list(self._walk(fn)[0])

    def rules(self) -> list[RuleEntry]:
        from .x86_rules import rules
        return rules(self)

    # ------------------------------------------------------------------ decoding

    def _load_map(self) -> x86_map.OpcodeMap | None:
        data = self.tree.read(x86_map.MAP_PATH)
        if data is None:
            self.notes.append(f"{x86_map.MAP_PATH} not in the tree: lengths from capstone only")
            return None
        try:
            return x86_map.OpcodeMap.parse(data.decode("latin-1"))
        except x86_map.MapError as e:
            self.notes.append(f"{e}: lengths from capstone only")
            return None

    def _decode_one(self, data: bytes, off: int):
        """(KInsn or None, failure text or "", notes, mnemonic) for the instruction at off,
        as the kernel's insn_decode() sees it (15 bytes of window)."""
        window = data[off:off + MAX_INSN]
        notes: list[str] = []
        emu = 0
        for pfx, _ev in self.emulate_prefixes:
            if window[:len(pfx)] == pfx:
                emu = len(pfx)
                break
        cs = next(self._cs.disasm(window[emu:], 0, 1), None)
        mnem = ""
        if cs is not None:
            mnem = f"{cs.mnemonic} {cs.op_str}".strip()
            if emu:
                mnem = f"(emulate prefix) {mnem}"
        if self.map is not None:
            try:
                k = x86_map.decode(self.map, window, self.bits == 64,
                                   [p for p, _ in self.emulate_prefixes])
            except x86_map.DecodeFailure as e:
                if cs is not None:
                    notes.append(f"capstone decodes {mnem!r} ({emu + cs.size} bytes)")
                return None, f"the kernel's decoder fails: {e}", notes, mnem
            if cs is None:
                notes.append("capstone cannot decode this encoding; length from the tree's "
                             "x86-opcode-map.txt")
            elif emu + cs.size != k.length:
                notes.append(f"capstone decodes {emu + cs.size} bytes ({mnem}); the kernel's "
                             f"decoder (x86-opcode-map.txt) {k.length}: the kernel's length is used")
            return k, "", notes, mnem
        if cs is None:
            return None, "", ["capstone cannot decode this encoding and the tree has no "
                              "x86-opcode-map.txt to say what the kernel's decoder does"], mnem
        return _from_capstone(cs, window, emu, self.bits == 64), "", notes, mnem

    def _walk(self, fn: FunctionBytes):
        """can_probe's loop: instruction starts from the symbol start. Returns (starts,
        stop, notes); stop = (offset, reason, known) when decoding stopped early (known:
        the kernel's decoder fails there too). The offset where decoding stops is still an
        instruction start; every later offset is refused (or unknown)."""
        key = (fn.name, fn.address, len(fn.data), hash(fn.data))
        hit = self._walks.get(key)
        if hit is not None:
            return hit
        data = fn.data
        starts: list[int] = []
        notes: list[str] = []
        stop = None
        pos = 0
        n = len(data)
        m = self.map
        prefixes = [p for p, _ in self.emulate_prefixes]
        x64 = self.bits == 64
        # capstone runs ahead over the whole buffer; restarted where it disagrees
        cs_iter = self._cs.disasm_lite(data, 0)
        cs_next = next(cs_iter, None)
        while pos < n:
            while cs_next is not None and cs_next[0] < pos:
                cs_next = next(cs_iter, None)
            cs_len = cs_next[1] if cs_next is not None and cs_next[0] == pos else None
            if m is not None:
                try:
                    length = x86_map.decode(m, data[pos:pos + MAX_INSN], x64, prefixes).length
                except x86_map.DecodeFailure as e:
                    stop = (pos, f"the kernel's decoder fails at +{pos:#x}: {e}", True)
                    break
                if cs_len != length:
                    what = "cannot decode" if cs_len is None else f"decodes {cs_len} bytes at"
                    notes.append(f"capstone {what} +{pos:#x}; the kernel's decoder: {length} bytes")
                    cs_iter = self._cs.disasm_lite(data[pos + length:], pos + length)
                    cs_next = next(cs_iter, None)
            else:
                if cs_len is None:
                    cs_iter = self._cs.disasm_lite(data[pos:], pos)
                    cs_next = next(cs_iter, None)
                    cs_len = cs_next[1] if cs_next is not None and cs_next[0] == pos else None
                if cs_len is None:
                    stop = (pos, f"capstone cannot decode +{pos:#x} and the tree has no "
                                 "x86-opcode-map.txt", False)
                    break
                length = cs_len
                for p in prefixes:
                    if data[pos:pos + len(p)] == p:
                        nxt = next(self._cs.disasm_lite(data[pos + len(p):pos + MAX_INSN], 0, 1), None)
                        length = len(p) + (nxt[1] if nxt else 0)
                        cs_iter = self._cs.disasm_lite(data[pos + length:], pos + length)
                        cs_next = next(cs_iter, None)
                        break
            starts.append(pos)
            pos += length
        if stop is not None:
            starts.append(stop[0])  # can_probe reaches it; decoding it is the copy's business
        out = (tuple(starts), stop, tuple(notes))
        if len(self._walks) > 256:
            self._walks.clear()
        self._walks[key] = out
        return out

    def _not_boundary(self, fn, offset, starts, stop, walk_notes) -> DecodeResult:
        glue = self._glue()
        evidence = list(glue.eilseq_ev)
        trace = [f"can_probe: decoded {fn.name} from +0"]
        if not glue.eilseq_ev or not glue.boundary_ev:
            return DecodeResult(self.arch, 0, 0, self.mode, UNKNOWN, cause="boundary",
                                decided_by="not an instruction start, but the tree's boundary "
                                           "check (can_probe in arch_prepare_kprobe) was not found",
                                unsupported=glue.unsupported, trace=tuple(trace))
        if stop is not None and stop[0] < offset:
            where, reason, known = stop
            trace.append(reason)
            if not known:
                return DecodeResult(self.arch, 0, 0, self.mode, UNKNOWN,
                                    decided_by="the instructions before the offset could not be decoded",
                                    evidence=tuple(evidence), trace=tuple(trace), notes=walk_notes,
                                    unsupported=(reason,), cause="boundary")
            return DecodeResult(self.arch, 0, 0, self.mode, REJECTED, errno=glue.eilseq,
                                decided_by=f"can_probe: decoding fails at +{where:#x}, before the offset",
                                evidence=tuple(glue.decode_fail_ev + evidence), trace=tuple(trace),
                                notes=walk_notes, unsupported=glue.unsupported, cause="boundary")
        i = bisect_left(starts, offset)
        before = starts[i - 1] if i else 0
        k, _f, _n, mnem = self._decode_one(fn.data, before)
        length = k.length if k is not None else 0
        trace.append(f"+{offset:#x} is inside the instruction at +{before:#x} ({length} bytes: {mnem})")
        return DecodeResult(self.arch, 0, 0, self.mode, REJECTED, errno=glue.eilseq,
                            decided_by="not an instruction boundary",
                            evidence=tuple(glue.boundary_ev + evidence), trace=tuple(trace),
                            notes=walk_notes, unsupported=glue.unsupported, cause="boundary",
                            mnemonic=mnem)

    # ------------------------------------------------------------------ deciding

    def _decide(self, data: bytes, k, failure: str, notes: list, mnem: str,
                address: int) -> DecodeResult:
        length = k.length if k is not None else 0
        raw = data[:length] if length else data[:MAX_INSN]
        encoding = int.from_bytes(raw, "big") if raw else 0
        if k is None and not failure:
            return DecodeResult(self.arch, encoding, 0, self.mode, UNKNOWN,
                                decided_by="instruction not decoded", notes=tuple(notes),
                                unsupported=tuple(notes), mnemonic=mnem)
        if k is not None:
            # The interpreted functions decide on prefixes, opcode and ModRM/SIB; displacement
            # and immediate values only feed assignments (rel32), so they are not in the key.
            head = k.length - k.disp_nbytes - k.imm_nbytes
            key = (bytes(raw[:head]), k.disp_nbytes, k.imm_nbytes, length, k.emulate_prefix_size)
        else:
            key = (b"\xff" * 16 + bytes(raw),)
        hit = self._judged.get(key)
        if hit is None:
            hit = self._judge(k, failure, raw, address)
            self._judged[key] = hit
        res = replace(hit, encoding=encoding, length=length, mnemonic=mnem or hit.mnemonic)
        if notes:
            res = replace(res, notes=tuple(notes) + res.notes)
        return res

    def _judge(self, k, failure: str, raw: bytes, address: int) -> DecodeResult:
        """arch_copy_kprobe on one decoded instruction: the tree's functions, in the order
        and with the errnos arch_copy_kprobe gives them."""
        glue = self._glue()
        base = DecodeResult(self.arch, 0, 0, self.mode, UNKNOWN)
        if glue.unsupported:
            return replace(base, decided_by="arch_copy_kprobe / arch_prepare_kprobe have checks "
                                            "kpanalyze does not model", unsupported=glue.unsupported,
                           evidence=glue.copy_ev)
        trace: list[str] = []
        notes: list[str] = []
        insn = CStruct()
        p = CStruct()
        p["addr"] = address
        p.sub("ainsn")["insn"] = address  # the slot: see the RIP-relative note below
        mem = Memory(bytes(raw) + bytes(2 * MAX_INSN), address)
        dest = CPointer(bytes(2 * MAX_INSN + 1), elem_size=1)

        def insn_decode(ins, kaddr, buf_len, mode):
            if k is None:
                return -self._errno_value("EINVAL", 22)
            _fill(ins, k)
            return 0

        def recover(buf, addr):
            return CPointer(mem, elem_size=1, addr=addr)

        def copy(dst, src, n):
            if isinstance(dst, CPointer) and isinstance(src, CPointer):
                for i in range(n):
                    dst.mem.write(dst.addr + i, 1, src.mem.read(src.addr + i, 1))
            return 0

        builtins = {"recover_probed_instruction": recover, "copy_from_kernel_nofault": copy,
                    "insn_decode": insn_decode, "can_boost": lambda *a: 0,
                    "synthesize_reljump": lambda *a: 0, "IS_ENABLED": lambda v: 1 if v else 0}
        for name in _LOG_CALLS:
            builtins[name] = lambda *a: 0
        for sym in glue.config_syms:
            builtins[sym] = self._config_value(sym)
        args = {"__copy_instruction": (dest, address, address, insn),
                "prepare_emulation": (p, insn), "prepare_singlestep": (dest, p, insn)}
        outcomes: dict[str, Outcome] = {}
        for step in glue.steps:
            name = step[0]
            try:
                if name == "prepare_singlestep":
                    out = self._singlestep(insn)
                else:
                    out = self.prog.call(name, *args[name], builtins=builtins, memory=[mem])
                verdict = glue.failed(self, step)(out.value)
            except Unsupported as e:
                return replace(base, decided_by=f"{name} could not be interpreted",
                               unsupported=(unsupported_text(e),), trace=tuple(trace),
                               evidence=self._evs([self._where(name)]))
            outcomes[name] = out
            trace.extend(str(s) for s in out.trace)
            conds = tuple(out.conditions)
            if conds:
                notes.append(f"{name} went through config-dependent code: {', '.join(conds)}")
            errno, fail_ev = verdict or ("", [])
            if errno:
                decided, evs = self._why(name, out)
                if k is None and name == "__copy_instruction":
                    decided = f"{failure} ({decided})"
                if k is not None and k.emulate_prefix_size and name == "__copy_instruction":
                    evs += [ev for pfx, ev in self.emulate_prefixes if raw.startswith(pfx)]
                return DecodeResult(self.arch, 0, 0, self.mode, REJECTED, errno=errno,
                                    decided_by=decided, evidence=self._evs(evs + fail_ev),
                                    trace=tuple(trace), notes=tuple(notes))
        if insn["modrm"]["nbytes"] and self.bits == 64 and (k.modrm & 0xC7) == 0x05:
            notes.append("RIP-relative: __copy_instruction re-bases the displacement to the slot; "
                         "x86_64 slots are within +-2 GiB of kernel text, so it fits")
        op = p["ainsn"]["emulate_op"] if isinstance(p["ainsn"], CStruct) else 0
        emul = outcomes.get("prepare_emulation")
        if isinstance(op, FuncRef):
            ev = self._assignment_line("prepare_emulation", op.name)
            return DecodeResult(self.arch, 0, 0, self.mode, ACCEPTED, how=EMULATED,
                                decided_by=f"prepare_emulation: emulate_op = {op.name}",
                                evidence=self._evs(([ev] if ev else []) + (case_steps(emul) if emul else [])),
                                trace=tuple(trace), notes=tuple(notes))
        return DecodeResult(self.arch, 0, 0, self.mode, ACCEPTED, how=SLOT,
                            decided_by="copied to a slot and single-stepped (no emulate_op)",
                            evidence=self._evs([emul.decisive] if emul and emul.decisive else []),
                            trace=tuple(trace), notes=tuple(notes))

    def _why(self, name: str, out: Outcome) -> tuple[str, list[Evidence]]:
        """The guards of the return statement that decided (from the function's return
        paths: the conditions as written, switch cases as label lists), with their lines."""
        dec = out.decisive
        if dec is None:
            return name, []
        text = " ".join((dec.text or self._line(dec.path, dec.line)).split())
        for rp in self._return_paths(name):
            if rp.ev.path == dec.path and rp.ev.line == dec.line:
                taken = [g for g in rp.guards if g.holds]
                # the guards that are not mere "earlier checks failed" negations
                parts = [f"{g.expr} = {g.case}" if g.case else g.expr for g in taken]
                label = " && ".join(parts[-3:])
                return (f"{name}: {label} -> {text}",
                        [g.ev for g in taken[-3:]] + [dec] + self._defs_in(taken[-1].expr if taken else ""))
        return f"{name}: {text}", [dec]

    def _defs_in(self, expr: str) -> list[Evidence]:
        """Where the predicates and constants a guard uses are defined (insn.h's inline
        predicates, INT3_INSN_OPCODE...)."""
        out = []
        for ident in dict.fromkeys(re.findall(r"[A-Za-z_]\w*", expr)):
            m = self.prog.macro(ident)
            if self.prog.has_function(ident) or (m is not None and m.params is None):
                out.append(self._where(ident))
        return out

    def _return_paths(self, name: str):
        key = "rp:" + name
        hit = self._glue_cache.get(key)
        if hit is None:
            try:
                hit = _returns(self.prog, name)
            except Unsupported:
                hit = []
            self._glue_cache[key] = hit
        return hit

    def _singlestep(self, insn: CStruct) -> Outcome:
        """prepare_singlestep writes the int3 (or a jump) into the slot buffer; only its
        refusals matter here. Each `return -E...` is taken when its last guard holds for this
        instruction (`len` is the instruction length); the boost branch before it needs
        can_boost() and room for a 5-byte jump, so it never hides a refusal."""
        length = insn["length"]
        if not self.prog.has_function("prepare_singlestep"):
            raise Unsupported("function prepare_singlestep (not found in the tree)")
        for rp in self._return_paths("prepare_singlestep"):
            errno = errno_of(rp.value)
            taken = [g for g in rp.guards if g.holds]
            if not errno or not taken:
                continue
            g = taken[-1]
            v = self.prog.eval_expr(g.expr, g.ev.path, g.ev.line, len=length, insn=insn)
            if v:
                val = -self._errno_value(errno, 0)
                step = TraceStep("if", "", g.ev.path, g.ev.line, True)
                return Outcome(val, (step,), rp.ev)
        ev = self._where("prepare_singlestep")
        return Outcome(length, (), Evidence(ev.path, ev.line, ev.text))

    # ------------------------------------------------------------------ the glue

    def _glue(self):
        g = self._glue_cache.get("glue")
        if g is None:
            g = _Glue(self)
            self._glue_cache["glue"] = g
        return g

    def _errno_names(self) -> dict[int, str]:
        names = {}
        for name in list(self.prog.macros):
            if re.fullmatch(r"E[A-Z0-9]+", name):
                try:
                    v = self.prog.constant(name)
                except Exception:
                    continue
                if isinstance(v, int) and v > 0:
                    names.setdefault(v, name)
        return names

    def _errno_value(self, name: str, default: int) -> int:
        try:
            return self.prog.constant(name)
        except Exception:
            return default

    def _errno_name(self, value) -> str:
        if not isinstance(value, int):
            return "?"
        return self._errnos.get(-value, f"errno {-value}")

    def _config_value(self, sym: str) -> int:
        if self.config is None:
            return 1 if sym == "CONFIG_X86_64" and self.bits == 64 else 0
        return 1 if self.config.builtin(sym[len("CONFIG_"):]) else 0

    def _emulate_prefixes(self) -> list[tuple[bytes, Evidence]]:
        """The byte strings insn.c treats as force-emulation prefixes: the const arrays the
        emulate-prefix functions of the tree compare against."""
        out = []
        fnames = [f for f in self.prog.function_names() if "emulate_prefix" in f]
        arrays = set()
        for f in fnames:
            body = self._function_text(f)
            for ident in re.findall(r"[A-Za-z_]\w*", body):
                if ident in self.prog.arrays:
                    arrays.add(ident)
        for name in sorted(arrays):
            try:
                # `{ __XEN_EMULATE_PREFIX }` (a macro expanding to a comma list) counts as its items
                values = [v & 0xFF for v in self.prog.array(name)]
            except Unsupported as e:
                self.notes.append(f"emulate prefix {name}: {unsupported_text(e)}")
                continue
            if values:
                out.append((bytes(values), self.prog.where(name)))
        return out

    # ------------------------------------------------------------------ source helpers

    def _line(self, path: str, line: int) -> str:
        lines = self._lines.get(path)
        if lines is None:
            data = self.tree.read(path)
            lines = data.decode("latin-1").split("\n") if data is not None else []
            self._lines[path] = lines
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def _where(self, name: str) -> Evidence:
        try:
            ev = self.prog.where(name)
        except KeyError:
            return Evidence(CORE, 0, name)
        return ev if ev.text else Evidence(ev.path, ev.line, self._line(ev.path, ev.line).strip())

    def _function_text(self, name: str) -> str:
        """The source of a function definition (from its first line to the closing brace)."""
        cached = self._fn_texts.get(name)
        if cached is None:
            cached = self._fn_texts[name] = self._read_function_text(name)
        return cached

    def _read_function_text(self, name: str) -> str:
        ev = self._where(name)
        if not ev.line:
            return ""
        out, depth, seen = [], 0, False
        i = ev.line
        while True:
            text = self._line(ev.path, i)
            if not text and i > ev.line + 2000:
                break
            out.append(text)
            depth += text.count("{") - text.count("}")
            seen = seen or "{" in text
            if seen and depth <= 0:
                break
            i += 1
            if i > len(self._lines.get(ev.path, ())):
                break
        return "\n".join(out)

    def _assignment_line(self, fn: str, target: str) -> Evidence | None:
        ev = self._where(fn)
        for i, text in enumerate(self._function_text(fn).split("\n")):
            if re.search(rf"=\s*{re.escape(target)}\s*;", text):
                return Evidence(ev.path, ev.line + i, text.strip())
        return None

    def _evs(self, evs) -> tuple[Evidence, ...]:
        seen: dict[tuple[str, int], Evidence] = {}
        for e in evs:
            if e is None or not e.line:
                continue
            if not e.text:
                e = Evidence(e.path, e.line, self._line(e.path, e.line).strip())
            seen.setdefault((e.path, e.line), e)
        return tuple(seen.values())

    def _other_mode(self, mode: str) -> "X86Decoder":
        bits = {"x86_64": 64, "x86_32": 32}.get(mode)
        if bits is None:
            raise ValueError(f"unknown x86 mode {mode!r} (x86_64 or x86_32)")
        other = self._glue_cache.get(mode)
        if other is None:
            other = X86Decoder(self.tree, None, bits)
            self._glue_cache[mode] = other
        return other


class _Glue:
    """arch_prepare_kprobe, can_probe and arch_copy_kprobe, read from their return paths:
    which errno each step gives and where, and any check kpanalyze does not model."""

    # arch_prepare_kprobe checks that depend on the running system, not the instruction
    RUNTIME = ("alternatives_text_reserved", "ainsn.insn", "get_insn_slot")

    def __init__(self, dec: X86Decoder):
        prog = dec.prog
        unsupported: list[str] = []
        self.eilseq = "EILSEQ"
        self.eilseq_ev: list[Evidence] = []
        self.boundary_ev: list[Evidence] = []
        self.decode_fail_ev: list[Evidence] = []
        # arch_copy_kprobe's steps in order: (function, variable, result test, its return path)
        self.steps: list[tuple[str, str, str, object]] = []
        self.config_syms: set[str] = set()
        for f in STEPS:
            if prog.has_function(f):
                self.config_syms.update(re.findall(r"\bCONFIG_\w+", dec._function_text(f)))
        # arch_prepare_kprobe: !can_probe -> -EILSEQ; runtime checks; then arch_copy_kprobe
        for rp in _returns_or(prog, "arch_prepare_kprobe", unsupported):
            taken = [g for g in rp.guards if g.holds]
            text = " ".join(g.expr for g in taken)
            if "can_probe" in text:
                self.eilseq = errno_of(rp.value) or "EILSEQ"
                self.eilseq_ev = [rp.ev] + [g.ev for g in taken]
            elif taken and not any(r in text for r in self.RUNTIME):
                unsupported.append(f"check `{text}` in arch_prepare_kprobe at {rp.ev}")
        if prog.has_function("arch_prepare_kprobe"):
            body = dec._function_text("arch_prepare_kprobe")
            if not self.eilseq_ev:
                unsupported.append("arch_prepare_kprobe: no can_probe check found")
            if "arch_copy_kprobe" not in body:
                unsupported.append("arch_prepare_kprobe does not call arch_copy_kprobe")
        # can_probe: the decode-failure return and the final boundary comparison
        for rp in _returns_or(prog, "can_probe", unsupported):
            taken = [g for g in rp.guards if g.holds]
            text = " ".join(g.expr for g in taken)
            if "ret < 0" in text or "insn_decode" in text:
                self.decode_fail_ev = [rp.ev]
            elif not taken and "addr" in rp.value:
                self.boundary_ev = [rp.ev]
        if prog.has_function("can_probe") and not self.boundary_ev:
            unsupported.append("can_probe: the instruction-boundary comparison was not found")
        # arch_copy_kprobe: `var = step(...)` then `if (test on var) return ...;`
        cpaths = _returns_or(prog, "arch_copy_kprobe", unsupported)
        fev = dec._where("arch_copy_kprobe")
        assigned: list[tuple[int, str, str]] = []
        for i, text in enumerate(dec._function_text("arch_copy_kprobe").split("\n")):
            for var, fn in re.findall(r"\b(\w+)\s*=\s*(\w+)\s*\(", text):
                assigned.append((fev.line + i, var, fn))
        for rp in cpaths:
            taken = [g for g in rp.guards if g.holds]
            if not taken:
                continue
            g = taken[-1]
            step = var = None
            for line, v, fn in assigned:
                if line <= g.ev.line and re.search(rf"\b{re.escape(v)}\b", g.expr):
                    step, var = fn, v
            if step not in STEPS or any(step == s[0] for s in self.steps):
                unsupported.append(f"check `{g.expr}` in arch_copy_kprobe at {rp.ev}")
                continue
            self.steps.append((step, var, g.expr, rp))
        if cpaths and not any(s[0] == "__copy_instruction" for s in self.steps):
            unsupported.append("arch_copy_kprobe: no check of __copy_instruction's result")
        self.copy_ev = tuple(s[3].ev for s in self.steps)
        self.unsupported = tuple(unsupported)

    def failed(self, dec: X86Decoder, step) -> tuple[str, list[Evidence]] | None:
        """Whether a step's result fails arch_copy_kprobe's test on it: (errno, evidence)."""
        fn, var, test, rp = step

        def check(value):
            if not isinstance(value, int):
                raise Unsupported(f"{fn} returned {value!r}, not an integer")
            if not dec.prog.eval_expr(test, rp.ev.path, rp.ev.line, **{var: value}):
                return None
            return errno_of(rp.value) or dec._errno_name(value), [rp.ev]
        return check


def _returns_or(prog: CProgram, name: str, unsupported: list) -> list:
    try:
        return _returns(prog, name)
    except Unsupported as e:
        unsupported.append(unsupported_text(e))
        return []


def _returns(prog: CProgram, name: str):
    """The `return` statements of a function with their guards (assignments that
    return_paths also lists are dropped)."""
    if not prog.has_function(name):
        raise Unsupported(f"function {name} (not found in the tree)")
    return [rp for rp in prog.return_paths(name) if rp.ev.text.strip().startswith("return")
            or not rp.ev.text]


# ---------------------------------------------------------------------- struct insn

def _field(value: int, nbytes: int, raw: Sequence[int] | None = None) -> CStruct:
    s = CStruct()
    s["value"] = value
    s["nbytes"] = nbytes
    s["got"] = 1
    b = bytes(raw) if raw is not None else (value & 0xFFFFFFFF).to_bytes(4, "little")
    s["bytes"] = CPointer(b[:4].ljust(4, b"\0"), elem_size=1)
    return s


def _fill(ins: CStruct, k: x86_map.KInsn) -> None:
    """Fill a struct insn as insn_decode() leaves it (the fields kprobes read)."""
    pb = list(k.prefixes[:4]) + [0] * (4 - len(k.prefixes[:4]))
    lb = k.last_prefix
    if lb and lb != pb[3]:  # insn_get_prefixes keeps the last prefix in bytes[3]
        if pb[3]:
            for i in range(len(k.prefixes)):
                if pb[i] == lb:
                    pb[i] = pb[3]
        pb[3] = lb
    ins["prefixes"] = _field(int.from_bytes(bytes(pb), "little", signed=True), k.prefix_nbytes, pb)
    ins["rex_prefix"] = _field(k.rex, k.rex_nbytes)
    vex = list(k.vex[:4])
    if len(k.vex) == 2:
        vex.append(k.vex[1] & 0x7F)  # the VEX2 fake third byte
    ins["vex_prefix"] = _field(int.from_bytes(bytes(vex[:4]).ljust(4, b"\0"), "little", signed=True),
                               len(k.vex), vex)
    op = list(k.opcode)
    ins["opcode"] = _field(int.from_bytes(bytes(op[:4]).ljust(4, b"\0"), "little", signed=True),
                           len(op), op)
    ins["modrm"] = _field(k.modrm, k.modrm_nbytes)
    ins["sib"] = _field(k.sib, k.sib_nbytes)
    ins["displacement"] = _field(k.disp, k.disp_nbytes)
    imm = _field(k.imm, k.imm_nbytes)
    ins["immediate"] = ins["immediate1"] = ins["moffset1"] = imm  # a union in struct insn
    imm2 = _field(k.imm2, k.imm2_nbytes)
    ins["immediate2"] = ins["moffset2"] = imm2
    ins["emulate_prefix_size"] = k.emulate_prefix_size
    ins["attr"] = k.attr
    ins["opnd_bytes"] = k.opnd_bytes
    ins["addr_bytes"] = k.addr_bytes
    ins["length"] = k.length
    ins["x86_64"] = k.x86_64


_LEGACY = frozenset((0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67, 0xF0, 0xF2, 0xF3))


def _from_capstone(cs, window: bytes, emu: int, x86_64: bool) -> x86_map.KInsn:
    """struct insn fields from capstone's decoding (only when the tree has no opcode map)."""
    k = x86_map.KInsn(x86_64=int(x86_64), addr_bytes=8 if x86_64 else 4, source="capstone",
                      emulate_prefix_size=emu)
    pos = emu
    lb = 0
    while pos < len(window) and window[pos] in _LEGACY:
        b = window[pos]
        if b not in k.prefixes and len(k.prefixes) < 4:
            k.prefixes.append(b)
            if b == 0x67:
                k.addr_bytes ^= 12 if x86_64 else 6
            elif b == 0x66:
                k.opnd_bytes ^= 6
        k.prefix_nbytes += 1
        lb = b
        pos += 1
    k.last_prefix = lb
    if x86_64 and pos < len(window) and 0x40 <= window[pos] <= 0x4F:
        k.rex, k.rex_nbytes = window[pos], 1
        if window[pos] & 8:
            k.opnd_bytes = 8
        pos += 1
    b = window[pos] if pos < len(window) else 0
    if b in (0xC4, 0xC5, 0x62) and pos + 1 < len(window) and (x86_64 or window[pos + 1] >> 6 == 3):
        size = 4 if b == 0x62 else 3 if b == 0xC4 else 2
        k.vex = bytes(window[pos:pos + size])
        pos += size
        k.opcode = bytes(window[pos:pos + 1])
    elif b == 0x0F and pos + 1 < len(window):
        n = 3 if window[pos + 1] in (0x38, 0x3A) else 2
        k.opcode = bytes(window[pos:pos + n])
    else:
        k.opcode = bytes([b])
    if cs.modrm_offset:
        k.modrm, k.modrm_nbytes = window[emu + cs.modrm_offset], 1
        mod, rm = k.modrm >> 6, k.modrm & 7
        if k.addr_bytes != 2 and mod != 3 and rm == 4:
            k.sib, k.sib_nbytes = window[emu + cs.modrm_offset + 1], 1
    if cs.disp_size:
        o = emu + cs.disp_offset
        k.disp = int.from_bytes(window[o:o + cs.disp_size], "little", signed=True)
        k.disp_nbytes = cs.disp_size
    if cs.imm_size:
        o = emu + cs.imm_offset
        size = min(cs.imm_size, 4)
        k.imm = int.from_bytes(window[o:o + size], "little", signed=True)
        k.imm_nbytes = size
    k.length = emu + cs.size
    return k
