"""Human-readable output: a rich table on a terminal, plain aligned lines otherwise.

Every function returns a string; the CLI decides ``tty`` (stdout is a terminal and
NO_COLOR is unset) and prints. Plain output is made for grep and diff: one row per
line, details indented by four spaces under their row, no box drawing, no colour.
Big results are printed plain (with a coloured status) even on a terminal, because
laying out a rich table of thousands of rows takes seconds.
"""

from __future__ import annotations

import io
from typing import Iterable, Sequence

from ..reasons import ReasonKind
from ..verdict import STATUSES, BlacklistEntry, CheckResult, Verdict

# Above this many rows a terminal gets the plain layout with a coloured status.
RICH_MAX_ROWS = 300

STATUS_STYLE = {"probeable": "green", "blocked": "bold red", "missing": "yellow", "uncertain": "magenta"}
_ANSI = {"green": "\x1b[32m", "bold red": "\x1b[1;31m", "yellow": "\x1b[33m", "magenta": "\x1b[35m"}
_RESET = "\x1b[0m"


# -- pieces shared by both layouts ---------------------------------------------------

def status_label(v: Verdict) -> str:
    """``blocked (EINVAL)``: the status and the errno registration would return."""
    return f"{v.status} ({v.expected_errno})" if v.expected_errno else v.status


def _reason_head(r) -> str:
    """``noinstr`` for a decisive reason, ``note (config-dependent)`` for an informational one."""
    if r.decisive:
        return r.id
    return "note" if r.id == "note" else f"note ({r.id})"


def detail_lines(v: Verdict) -> list[str]:
    """The lines printed under a verdict: reasons with evidence, then hints."""
    lines = []
    for r in v.reasons:
        line = f"{_reason_head(r)}: {r.message}"
        if r.evidence:
            line += " [" + ", ".join(str(e) for e in r.evidence) + "]"
        lines.append(line)
    if v.if_present:
        lines.append(f"if present: {v.if_present}")
    if v.suggestions:
        lines.append("try instead: " + ", ".join(v.suggestions))
    if v.confidence != "high":
        lines.append(f"confidence: {v.confidence}")
    if _config_flag(v):
        lines.append("depends on config: give --config to decide")
    if v.definition is not None:
        lines.append(f"defined at {v.definition}")
    if v.instruction is not None:
        lines.append(f"instruction: {insn_text(v.instruction)}")
    return lines


def insn_text(i) -> str:
    """``0xffff800008123450 (+0x10) a9bf7bfd stp x29, x30, [sp, #-16]! [a64]: accepted (slot)``"""
    mnem = f" {i.mnemonic}" if i.mnemonic else ""
    mode = f" [{i.mode}]" if i.mode else ""
    return f"{i.address:#x} (+{i.offset:#x}) {i.bytes}{mnem}{mode}: {i.decoder}"


def _config_flag(v: Verdict) -> bool:
    """Flag "depends on config" unless a config-dependent reason already says it."""
    return v.config_dependent and not any(r.id == "config-dependent" for r in v.reasons)


def status_counts(verdicts: Iterable[Verdict]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for v in verdicts:
        counts[v.status] = counts.get(v.status, 0) + 1
    return counts


def summary_line(result: CheckResult) -> str:
    counts = status_counts(result.verdicts)
    n = len(result.verdicts)
    parts = [f"{c} {s}" for s, c in counts.items() if c]
    return f"{n} verdict{'s' if n != 1 else ''}" + (": " + ", ".join(parts) if parts else "")


def _shown(result: CheckResult, only_problems: bool) -> list[Verdict]:
    return [v for v in result.verdicts if not (only_problems and v.ok)]


def _aligned(rows: Sequence[Sequence[str]]) -> list[list[str]]:
    """Pad every column but the last to its widest cell."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return [[c.ljust(widths[i]) if i < len(widths) else c for i, c in enumerate(r)] for r in rows]


def _paint(text: str, style: str, color: bool) -> str:
    return f"{_ANSI[style]}{text}{_RESET}" if color and style in _ANSI else text


def _rich_console(width: int | None):
    from rich.console import Console

    return Console(file=io.StringIO(), force_terminal=True, color_system="standard",
                   width=width or 100, highlight=False, emoji=False)


def _export(console) -> str:
    return console.file.getvalue()


# -- check ---------------------------------------------------------------------------

def render_check(result: CheckResult, *, tty: bool = False, width: int | None = None,
                 only_problems: bool = False) -> str:
    """The verdicts of one run. ``only_problems`` (--quiet) drops probeable rows and the
    summary line."""
    shown = _shown(result, only_problems)
    if tty and len(shown) <= RICH_MAX_ROWS:
        return _check_rich(result, shown, width, only_problems)
    return _check_plain(result, shown, color=tty, only_problems=only_problems)


def _check_plain(result: CheckResult, shown: list[Verdict], *, color: bool, only_problems: bool) -> str:
    rows = [[str(v.point), v.arch, v.kind, v.via, status_label(v)] for v in shown]
    out = []
    for v, cells in zip(shown, _aligned(rows)):
        cells[-1] = _paint(cells[-1], STATUS_STYLE.get(v.status, ""), color)
        out.append("  ".join(cells))
        out.extend("    " + d for d in detail_lines(v))
    if not only_problems:
        out.append(summary_line(result))
    return "".join(line + "\n" for line in out)


def _check_rich(result: CheckResult, shown: list[Verdict], width: int | None, only_problems: bool) -> str:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, show_lines=False, pad_edge=False,
                  caption=None if only_problems else summary_line(result))
    table.add_column("point", style="bold", no_wrap=True)
    table.add_column("arch", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("via", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("why / evidence", overflow="fold", ratio=1)
    for v in shown:
        table.add_row(str(v.point), v.arch, v.kind, v.via,
                      Text(status_label(v), style=STATUS_STYLE.get(v.status, "")), _details_text(v))
    console = _rich_console(width)
    console.print(table)
    return _export(console)


def _details_text(v: Verdict):
    from rich.text import Text

    t = Text()
    for i, r in enumerate(v.reasons):
        if i:
            t.append("\n")
        t.append(_reason_head(r), style="bold cyan" if r.decisive else "cyan")
        t.append(": " + r.message)
        if r.evidence:
            t.append("\n  at " + ", ".join(str(e) for e in r.evidence), style="dim")
    extra = []
    if v.if_present:
        extra.append(("if present: " + v.if_present, ""))
    if v.suggestions:
        extra.append(("try instead: " + ", ".join(v.suggestions), "green"))
    if v.confidence != "high":
        extra.append((f"confidence: {v.confidence}", "yellow"))
    if _config_flag(v):
        extra.append(("depends on config: give --config to decide", "yellow"))
    if v.definition is not None:
        extra.append((f"defined at {v.definition}", "dim"))
    if v.instruction is not None:
        extra.append((f"instruction: {insn_text(v.instruction)}", "dim"))
    for text, style in extra:
        if t.plain:
            t.append("\n")
        t.append(text, style=style)
    return t


# -- blacklist -----------------------------------------------------------------------

def _blacklist_notes(e: BlacklistEntry) -> str:
    notes = []
    if not e.in_debugfs:
        notes.append("not listed in debugfs (arch range check, or module code)")
    if e.config_dependent:
        notes.append("depends on config")
    return "; ".join(notes)


def render_blacklist(entries: Sequence[BlacklistEntry], arch: str, *, tty: bool = False,
                     width: int | None = None) -> str:
    """Plain: ``name  reason  path:line  notes``, one entry a line, no header."""
    if tty and len(entries) <= RICH_MAX_ROWS:
        from rich import box
        from rich.table import Table

        table = Table(box=box.SIMPLE_HEAD, pad_edge=False,
                      caption=f"{len(entries)} blacklisted symbol{'s' if len(entries) != 1 else ''} on {arch}")
        for name in ("symbol", "reason", "evidence", "notes"):
            table.add_column(name, overflow="fold")
        for e in entries:
            table.add_row(e.name, e.reason_id, str(e.evidence), _blacklist_notes(e))
        console = _rich_console(width)
        console.print(table)
        return _export(console)
    rows = [[e.name, e.reason_id, str(e.evidence), _blacklist_notes(e)] for e in entries]
    return "".join("  ".join(r).rstrip() + "\n" for r in _aligned(rows))


# -- arches and reasons --------------------------------------------------------------

def render_arches(rows: Sequence[tuple[str, bool]], *, tty: bool = False, width: int | None = None) -> str:
    """``rows``: (arch, supports kprobes)."""
    if tty:
        from rich import box
        from rich.table import Table
        from rich.text import Text

        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("arch")
        table.add_column("kprobes")
        for arch, ok in rows:
            table.add_row(arch, Text("yes", style="green") if ok else Text("no (arch-no-kprobes)", style="red"))
        console = _rich_console(width)
        console.print(table)
        return _export(console)
    lines = _aligned([[a, "kprobes" if ok else "no-kprobes"] for a, ok in rows])
    return "".join("  ".join(r) + "\n" for r in lines)


def render_reasons(kinds: Sequence[ReasonKind], *, tty: bool = False, width: int | None = None) -> str:
    """The reason catalog: id, category, errno, title, then the help text."""
    if tty:
        from rich import box
        from rich.table import Table

        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_lines=True)
        table.add_column("id", style="bold cyan", no_wrap=True)
        table.add_column("category", no_wrap=True)
        table.add_column("errno", no_wrap=True)
        table.add_column("title / help", overflow="fold", ratio=1)
        for k in kinds:
            table.add_row(k.id, k.category, k.errno or "-", f"{k.title}\n{k.help}")
        console = _rich_console(width)
        console.print(table)
        return _export(console)
    rows = _aligned([[k.id, k.category, k.errno or "-", k.title] for k in kinds])
    out = []
    for k, r in zip(kinds, rows):
        out.append("  ".join(r))
        out.append("    " + k.help)
    return "".join(line + "\n" for line in out)
