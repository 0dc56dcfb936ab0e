"""What the scan front ends produce, and the result of a scan.

A front end turns one file into a FileScan: the probe points written there
(Finding, each with its file:line:col as a verdict.Origin), the comments that may
hold suppressions, and the problems it met (a malformed SEC(, a dynamic name...).
The pipeline judges the findings and returns a ScanResult: a CheckResult (so every
renderer takes it) whose verdicts carry ``origin``, plus what only a scan knows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..verdict import CheckResult, Origin, Verdict

# How a finding names its target.
NAME = "name"  # a symbol (with an optional offset)
GLOB = "glob"  # a shell-style pattern: kprobe.multi, bpftrace wildcards
REGEX = "regex"  # a Python regex, matched whole (bcc event_re)
SYSCALL = "syscall"  # a syscall name: ksyscall/NAME, bcc get_syscall_fnname("NAME")
MATCHES = (NAME, GLOB, REGEX, SYSCALL)

LEVELS = ("error", "warning", "note")  # most severe first; "off" drops a finding
SEVERITIES = (*LEVELS, "off")


@dataclass(frozen=True)
class Finding:
    """One probe point written in a user's file."""

    origin: Origin
    target: str  # the symbol, pattern or syscall name as written (no offset)
    kind: str  # "kprobe" | "kretprobe"
    via: str  # the front end's own way in: "tracefs" (BPF, bpftrace, kprobe_events, bcc) or "module"
    offset: int = 0
    match: str = NAME  # one of MATCHES

    @property
    def is_pattern(self) -> bool:
        return self.match in (GLOB, REGEX)


@dataclass(frozen=True)
class Comment:
    """A comment of the scanned language (where suppressions live), 1-based line/col."""

    line: int
    col: int
    text: str


@dataclass(frozen=True)
class Problem:
    """Something a scan reports that is not a verdict: an input it skipped, a malformed
    probe spec, a wrong or unused suppression. ``line`` 0: the whole file."""

    path: str
    line: int
    col: int
    severity: str  # "error" | "warning" | "note"
    code: str  # "unreadable", "binary", "too-large", "not-utf8", "syntax", "bad-suppression", "unused-suppression", ...
    message: str

    def where(self) -> str:
        return f"{self.path}:{self.line}:{self.col}" if self.line else self.path

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}"


@dataclass
class FileScan:
    """What one front end read in one file."""

    findings: list[Finding] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Expansion:
    """A pattern (glob or regex) expanded against one target tree, on one arch and kind."""

    origin: Origin
    pattern: str
    arch: str
    kind: str
    names: int  # names of the tree the pattern matches
    counts: tuple[tuple[str, int], ...]  # (status, count) over those names


@dataclass
class ScanResult(CheckResult):
    """A CheckResult whose verdicts have ``origin`` set, plus what a scan adds.

    ``verdicts`` holds what is reported: every verdict of every finding except the
    suppressed ones and those whose severity is ``off``. ``level(v)`` gives the
    severity of a reported verdict (error/warning/note; "none" for probeable ones)
    and the exit code follows it: 1 when any verdict or problem is an error.
    """

    findings: list[Finding] = field(default_factory=list)  # judged (ignored ones are in `ignored`)
    ignored: list[Finding] = field(default_factory=list)  # found, but under [ignore] paths or symbols
    problems: list[Problem] = field(default_factory=list)
    suppressed: list[tuple[Verdict, str]] = field(default_factory=list)  # (verdict, "inline" | "config")
    expansions: list[Expansion] = field(default_factory=list)
    files_scanned: int = 0
    files_skipped: int = 0
    targets: list[str] = field(default_factory=list)  # target names, in order
    root: str = ""  # the project root (config file's folder, else the working directory)
    levels: dict[Verdict, str] = field(default_factory=dict, repr=False)
    target_of: dict[Verdict, str] = field(default_factory=dict, repr=False)  # with 2+ targets
    pattern_of: dict[Verdict, str] = field(default_factory=dict, repr=False)  # refused names a pattern matched

    def level(self, v: Verdict) -> str:
        return "none" if v.ok else self.levels.get(v, "error")

    def errors(self) -> int:
        return sum(1 for v in self.verdicts if self.level(v) == "error") + \
            sum(1 for p in self.problems if p.severity == "error")

    def count(self, level: str) -> int:
        return sum(1 for v in self.verdicts if not v.ok and self.level(v) == level) + \
            sum(1 for p in self.problems if p.severity == level)

    @property
    def exit_code(self) -> int:
        return 1 if self.errors() else 0
