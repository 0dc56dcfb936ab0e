"""`select` lines of a Kconfig file (meant for arch/*/Kconfig).

This is how the analyzer learns what an arch provides: ``config X86`` selects
``HAVE_KPROBES``, ``HAVE_KRETPROBES``, ``HAVE_RETHOOK``...; loongarch 6.1 selects none of
them. Only the structure needed for that is read: ``config``/``menuconfig`` entries, the
``select SYM [if EXPR]`` lines inside them, and help texts (skipped, they are prose).
Enclosing ``if`` blocks and the entry's ``depends on`` are not folded into the condition:
they gate the owner, and a select only acts when its owner is set.
"""

from __future__ import annotations

import re

from ..facts import FileFacts, KconfigSelect

_ENTRY = re.compile(r"(?:config|menuconfig)\s+([A-Za-z0-9_]+)\s*$")
_SELECT = re.compile(r"select\s+([A-Za-z0-9_]+)\s*(?:if\s+(.+?))?\s*$")
# keywords that end the current entry (a select after them would be a syntax error)
_ENDERS = ("choice", "endchoice", "comment", "menu", "endmenu", "if", "endif", "source",
           "rsource", "osource", "orsource", "mainmenu")
_ATTRS = ("bool", "tristate", "string", "hex", "int", "def_bool", "def_tristate", "prompt",
          "default", "depends", "select", "imply", "range", "option", "modules", "visible",
          "transitional", "optional")


def _strip_comment(line: str) -> str:
    """Drop a `#` comment outside quotes."""
    quote = ""
    for k, ch in enumerate(line):
        if quote:
            if ch == "\\":
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:k]
    return line


def _indent(line: str) -> int:
    return len(line.expandtabs(8)) - len(line.expandtabs(8).lstrip())


def extract_kconfig(path: str, data: bytes) -> FileFacts:
    """KconfigSelect facts of one Kconfig file."""
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
    facts = FileFacts(path=path, kind="kconfig")
    owner = ""
    help_indent: int | None = None  # inside a help text: its first line's indent
    in_help = False
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        lineno = i + 1
        raw = lines[i]
        i += 1
        while raw.endswith("\\") and i < len(lines):  # continuation lines
            raw = raw[:-1] + " " + lines[i].strip()
            i += 1
        if in_help:
            if not raw.strip():
                continue
            ind = _indent(raw)
            if help_indent is None:
                help_indent = ind
                continue
            if ind >= help_indent:
                continue
            in_help = False  # a line indented less than the text ends it
        line = _strip_comment(raw).strip()
        if not line:
            continue
        m = _ENTRY.match(line)
        if m:
            owner = m.group(1)
            continue
        word = line.split(None, 1)[0]
        if word in ("help", "---help---"):
            in_help, help_indent = True, None
            continue
        if word in _ENDERS:
            owner = ""
            continue
        if word == "select":
            m = _SELECT.match(line)
            if not m:
                facts.parse_errors += 1
                facts.warnings.append(f"{path}:{lineno}: unreadable select: {line[:60]!r}")
                continue
            if not owner:
                facts.parse_errors += 1
                facts.warnings.append(f"{path}:{lineno}: select outside a config entry")
                continue
            cond = " ".join((m.group(2) or "").split())
            facts.kconfig_selects.append(KconfigSelect(path, lineno, owner, m.group(1), cond))
            continue
        if word not in _ATTRS:
            facts.parse_errors += 1
            facts.warnings.append(f"{path}:{lineno}: unrecognised line: {line[:60]!r}")
    return facts
