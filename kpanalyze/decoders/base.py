"""The result model of instruction-level checks, shared by every arch decoder.

A decoder is built from the tree being analysed (its decode tables, predicate macros and
decision functions) and answers, for one instruction encoding, what the arch's
``arch_prepare_kprobe`` would do with it. Parsing knows nothing of verdicts: decoders
return DecodeResult facts; analysis/offsets.py turns them into Reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ..verdict import Evidence

ACCEPTED = "accepted"
REJECTED = "rejected"
UNKNOWN = "unknown"  # the interpreter met a construct it does not know: never a silent pass

# How an accepted instruction is handled.
SLOT = "slot"  # copied to an instruction slot and single-stepped out of line
SIMULATED = "simulated"  # INSN_GOOD_NO_SLOT: simulated in C, no slot
EMULATED = "emulated"  # emulated (arm EMULATE entries, x86 emulate_op)


@dataclass(frozen=True)
class DecodeResult:
    """What the arch kprobe code decides for one instruction (or a probe address)."""

    arch: str
    encoding: int  # the instruction word(s) as read (arm T32: hw1 << 16 | hw2)
    length: int  # bytes of the instruction (x86: decoded length; riscv: 2 or 4)
    mode: str  # "arm", "t16", "t32", "a64", "rv", "rvc", "x86_64", "csky", ...
    status: str  # ACCEPTED | REJECTED | UNKNOWN
    how: str = ""  # SLOT | SIMULATED | EMULATED when accepted
    errno: str = ""  # the errno the kernel returns when rejected ("EINVAL", "EILSEQ", "EOPNOTSUPP")
    decided_by: str = ""  # short: the table entry / predicate / statement that decided
    evidence: tuple[Evidence, ...] = ()  # file:line in the tree of what decided
    trace: tuple[str, ...] = ()  # the path through tables/predicates, for --verbose
    notes: tuple[str, ...] = ()
    unsupported: tuple[str, ...] = ()  # constructs not interpreted ("name at path:line")
    mnemonic: str = ""  # disassembly when a disassembler is available (display only)
    # Why it was refused, when not the decoder proper: "misaligned", "boundary" (mid-instruction),
    # "atomic" (arm64 exclusive window), "stack" (arm stack use), "" otherwise.
    cause: str = ""

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED


@dataclass(frozen=True)
class RuleEntry:
    """One rejected (or specially handled) instruction class, for `kpanalyze rules`."""

    arch: str
    mode: str
    action: str  # "rejected", "simulated", "emulated", "slot", "stack-check", ...
    pattern: str  # "mask 0x0ff000f0 value 0x01200070" or a predicate / opcode list
    description: str  # what the class is, in words (from the tree's comments or names)
    decided_by: str
    evidence: tuple[Evidence, ...] = ()
    condition: str = ""  # the #if condition it sits under ("" = unconditional)


@dataclass(frozen=True)
class FunctionBytes:
    """The bytes of one function from a kernel image, for context-aware decoding
    (instruction boundaries, arm64 atomic windows)."""

    name: str
    address: int
    data: bytes  # from the symbol start to its end (or as much as is known)
    thumb: bool = False


class Decoder(Protocol):
    arch: str

    def decode(self, encoding: int, *, mode: str = "") -> DecodeResult:
        """Decide one instruction given as an integer (no context)."""

    def decode_at(self, fn: FunctionBytes, offset: int) -> DecodeResult:
        """Decide a probe at fn.address + offset with the function's bytes as context
        (alignment, instruction boundary, atomic windows). Returns EILSEQ/EINVAL results
        for misaligned or mid-instruction offsets."""

    def rules(self) -> list[RuleEntry]:
        """The rejected and specially handled instruction classes, with evidence."""

    def boundaries(self, fn: FunctionBytes) -> list[int]:
        """Every instruction start offset in the function (for `kpanalyze offsets`)."""


@dataclass
class DecoderError(Exception):
    """The tree's decoder could not be read at all (missing file, unknown table form)."""

    message: str
    evidence: tuple[Evidence, ...] = field(default=())

    def __str__(self) -> str:
        where = f" ({self.evidence[0]})" if self.evidence else ""
        return f"{self.message}{where}"
