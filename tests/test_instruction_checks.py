"""analysis/instruction.py: the kernel's order of instruction-level refusals, on fake artifacts.

The decoder here is a stub with fixed 2-byte instructions whose first byte says the outcome,
so each test shows which check decides, not how an arch decodes (tests/test_decoder_*.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kpanalyze.analysis.instruction import BinaryContext, check_at
from kpanalyze.decoders.base import ACCEPTED, REJECTED, UNKNOWN, DecodeResult, FunctionBytes


@dataclass(frozen=True)
class Sym:
    name: str
    address: int
    type: str = "T"


class Symbols:
    def __init__(self, *syms: Sym, sizes: dict | None = None):
        self.syms = syms
        self.sizes = sizes or {}

    def lookup(self, name):
        return [s for s in self.syms if s.name == name]

    def size_of(self, sym):
        return self.sizes.get(sym.name, 0x20)

    def containing(self, addr):
        best = None
        for s in self.syms:
            if s.address <= addr and (best is None or s.address > best.address):
                best = s
        return best


class Image:
    path = "vmlinuz-test"

    def __init__(self, code: dict[int, bytes]):
        self.code = code

    def function_bytes(self, sym, size):
        return FunctionBytes(sym.name, sym.address, self.code[sym.address][:size])


@dataclass
class Sites:
    ftrace: set = field(default_factory=set)
    jump_labels: set = field(default_factory=set)
    static_calls: set = field(default_factory=set)
    bugs: set = field(default_factory=set)
    extable: set = field(default_factory=set)

    def reserved(self, addr):
        """Patched sites are 2 bytes long here (the stub's instruction size)."""
        for kind, sites in (("jump_label", self.jump_labels), ("static_call", self.static_calls)):
            if addr in sites or addr - 1 in sites:
                return kind
        return None

    def ftrace_in(self, start, end, booted=False):
        return sorted(a for a in self.ftrace if start <= a < end)


@dataclass
class Artifacts:
    symbols: Symbols
    image: Image
    sites: Sites


class TwoByteDecoder:
    """0x00: accepted; 0xee: rejected (EINVAL); 0xcc: EOPNOTSUPP; 0x99: unknown."""

    arch = "x86"

    def decode_at(self, fn, offset):
        if offset % 2:
            return DecodeResult("x86", 0, 0, "test", REJECTED, errno="EILSEQ", cause="boundary",
                                decided_by="not an instruction boundary")
        b = fn.data[offset]
        if b == 0xEE:
            return DecodeResult("x86", b, 2, "test", REJECTED, errno="EINVAL", decided_by="table entry 7")
        if b == 0xCC:
            return DecodeResult("x86", b, 2, "test", REJECTED, errno="EOPNOTSUPP", decided_by="case 0xcc")
        if b == 0x99:
            return DecodeResult("x86", b, 2, "test", UNKNOWN, unsupported=("FANCY_MACRO at x.c:3",))
        return DecodeResult("x86", b, 2, "test", ACCEPTED, how="slot")

    def boundaries(self, fn):
        return list(range(0, len(fn.data), 2))


F = 0x1000
CODE = bytes([0x00, 0, 0x00, 0, 0xEE, 0, 0xCC, 0, 0x99, 0, 0x00, 0, 0x00, 0, 0x00, 0])


def ctx(on_ftrace=True, **sites):
    arts = Artifacts(Symbols(Sym("f", F), Sym("g", F + 0x20), sizes={"f": len(CODE)}),
                     Image({F: CODE, F + 0x20: bytes(16)}), Sites(**sites))
    return BinaryContext(arts, TwoByteDecoder(), "x86", on_ftrace)


def ids(found):
    return [r.id for r in found.reasons]


def test_accepted_instruction_has_no_reason_and_is_described():
    found = check_at(ctx(), Sym("f", F), 2)
    assert ids(found) == [] and not found.uncertain
    assert found.instruction.offset == 2 and found.instruction.decoder == "accepted (slot)"


def test_decoder_refusals_map_to_reason_ids():
    assert ids(check_at(ctx(), Sym("f", F), 4)) == ["insn-rejected"]
    assert ids(check_at(ctx(), Sym("f", F), 6)) == ["insn-unsupported"]
    assert ids(check_at(ctx(), Sym("f", F), 3)) == ["not-insn-boundary"]


def test_unknown_instruction_is_uncertain_and_names_the_construct():
    found = check_at(ctx(), Sym("f", F), 8)
    assert ids(found) == [] and found.uncertain
    assert "FANCY_MACRO" in found.infos[0].message


def test_ftrace_site_is_ftrace_based_with_kprobes_on_ftrace_and_refused_without():
    assert ids(check_at(ctx(True, ftrace={F}), Sym("f", F), 0)) == []
    assert ids(check_at(ctx(False, ftrace={F + 2}), Sym("f", F), 2)) == ["ftrace-site"]


def test_inside_a_five_byte_ftrace_call_is_not_a_boundary():
    assert ids(check_at(ctx(True, ftrace={F}), Sym("f", F), 2))[0] == "not-insn-boundary"


def test_patched_sites_come_before_the_decoder():
    assert ids(check_at(ctx(jump_labels={F + 2}), Sym("f", F), 2)) == ["jump-label-site"]
    assert ids(check_at(ctx(static_calls={F + 1}), Sym("f", F), 2)) == ["static-call-site"]
    assert ids(check_at(ctx(bugs={F + 4}), Sym("f", F), 4)) == ["bug-site", "insn-rejected"]


def test_offset_beyond_the_function_is_judged_in_the_next_symbol():
    found = check_at(ctx(), Sym("f", F), 0x22)
    assert found.instruction.address == F + 0x22
    assert any("beyond the end of f" in r.message for r in found.infos)
