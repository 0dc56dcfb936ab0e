"""The one result model: probe points, reasons with evidence, verdicts.

Every renderer (text, JSON, and later SARIF/JUnit/Markdown) is a function of these.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .errors import InputError

PROBEABLE = "probeable"
BLOCKED = "blocked"
MISSING = "missing"
UNCERTAIN = "uncertain"
STATUSES = (PROBEABLE, BLOCKED, MISSING, UNCERTAIN)

KINDS = ("kprobe", "kretprobe")
VIAS = ("tracefs", "module")


@dataclass(frozen=True)
class ProbePoint:
    symbol: str
    offset: int = 0

    @classmethod
    def parse(cls, text: str) -> "ProbePoint":
        """Parse ``symbol`` or ``symbol+offset`` (offset decimal or 0x-hex)."""
        raw = text.strip()
        sym, plus, off = raw.partition("+")
        if not sym or not _is_symbol(sym):
            raise InputError(f"malformed probe point {text!r}: expected SYMBOL or SYMBOL+OFFSET")
        offset = 0
        if plus:
            try:
                offset = int(off, 0)
            except ValueError:
                raise InputError(
                    f"malformed probe point {text!r}: offset {off!r} is not a number "
                    "(use decimal or 0x-hex)") from None
            if offset < 0:
                raise InputError(f"malformed probe point {text!r}: negative offset")
        return cls(sym, offset)

    def __str__(self) -> str:
        return self.symbol if not self.offset else f"{self.symbol}+{self.offset:#x}"


def _is_symbol(s: str) -> bool:
    # kallsyms names: C identifiers plus '.' for compiler clones (foo.isra.0)
    # and a leading '.' for some asm labels (.E_copy); MOD:sym is not supported here.
    return all(c.isalnum() or c in "_.$" for c in s) and not s[0].isdigit()


@dataclass(frozen=True)
class Evidence:
    path: str
    line: int
    text: str = ""  # the source line or a short quote

    def __str__(self) -> str:
        # line 0: a whole file or a binary artifact (the text then says where in it)
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class Origin:
    """Where a probe point was written in a user's file (scan): 1-based line and column."""

    path: str  # as given, or relative to the scan root / repository
    line: int
    col: int = 1
    text: str = ""  # the probe spec as written there (SEC("kprobe/foo"), kprobe:foo+0x10, ...)
    front_end: str = ""  # the format it was read from: bpf-c, libbpf, bpftrace, kprobe-events, module, bcc

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Instruction:
    """The instruction at a probe address, read from a kernel image."""

    address: int
    offset: int  # from the probed symbol
    bytes: str  # hex, as in memory
    mode: str  # decoder mode: "a64", "arm", "t32", "x86_64", "rv", ...
    mnemonic: str = ""
    decoder: str = ""  # "accepted (slot)", "accepted (simulated)", "rejected", "unknown", "not decoded"
    decided_by: str = ""


@dataclass(frozen=True)
class Reason:
    id: str  # a key of reasons.CATALOG
    message: str  # one sentence about this case
    evidence: tuple[Evidence, ...] = ()
    decisive: bool = True  # False: informational, does not change the status


@dataclass(frozen=True)
class Verdict:
    point: ProbePoint
    arch: str
    kind: str  # "kprobe" | "kretprobe"
    via: str  # "tracefs" | "module"
    status: str  # one of STATUSES
    reasons: tuple[Reason, ...] = ()
    # The errno registration would most likely return ("" when it succeeds).
    expected_errno: str = ""
    confidence: str = "high"  # "high" | "medium" | "low"
    # When status is "uncertain" because the symbol may not exist: what happens if it does.
    if_present: str = ""
    suggestions: tuple[str, ...] = ()  # names to try instead (e.g. __x64_sys_openat)
    definition: Evidence | None = None  # the definition that was judged
    config_dependent: bool = False
    origin: Origin | None = None  # set by `scan`: where the user wrote this probe point
    instruction: Instruction | None = None  # with a kernel image: what is at the probe address

    @property
    def ok(self) -> bool:
        return self.status == PROBEABLE

    def to_dict(self) -> dict:
        d = asdict(self)
        d["point"] = str(self.point)
        d["symbol"] = self.point.symbol
        d["offset"] = self.point.offset
        return d


@dataclass
class CheckResult:
    """All verdicts of one run plus the run's context (for renderers)."""

    verdicts: list[Verdict] = field(default_factory=list)
    kernel: str = ""
    kernel_version: str = ""
    config: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 0 if all(v.ok for v in self.verdicts) else 1


@dataclass(frozen=True)
class BlacklistEntry:
    """One symbol the kernel's kprobe blacklist would hold (debugfs kprobes/blacklist)."""

    name: str
    reason_id: str  # nokprobe-symbol, kprobes-text, noinstr, entry-text, irqentry-text, ...
    evidence: Evidence
    in_debugfs: bool = True  # False for arch_within_kprobe_blacklist-only ranges (arm, powerpc)
    config_dependent: bool = False

    def to_dict(self) -> dict:
        return asdict(self)
