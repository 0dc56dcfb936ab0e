"""Globs and regexes expanded against the names a kernel tree defines.

A pattern matches the names of C functions and assembler code labels of the tree
(outside arch/ or in the arch judged) and the syscall entry points SYSCALL_DEFINE
generates for that arch (``__x64_sys_*``...). Tools expand the pattern against the
running kernel, so a matched name the arch would not have (inlined, compiled out) just
drops out; names the kernel refuses are skipped by the tools, or make the attach fail.
The literal start of a pattern (``tcp_`` of ``tcp_*``) narrows the names read from the
index to a range, so a pattern costs what it matches, not what the tree holds.
"""

from __future__ import annotations

import fnmatch
import re

from ..arches import arch_spec
from .model import GLOB, Finding

_WORD = re.compile(r"[A-Za-z0-9_.$]*")


def compile_pattern(f: Finding) -> re.Pattern:
    if f.match == GLOB:
        return re.compile(fnmatch.translate(f.target))
    return re.compile(f.target)  # bcc matches event_re whole: re.fullmatch


def literal_prefix(f: Finding) -> str:
    """What every name the pattern matches starts with ("" when unknown)."""
    text = f.target
    if f.match == GLOB:
        return _WORD.match(text).group()
    if "|" in text:
        return ""
    text = text[1:] if text.startswith("^") else text
    lit = re.match(r"[A-Za-z0-9_]*", text).group()
    if lit and text[len(lit):len(lit) + 1] in ("*", "?", "{"):
        lit = lit[:-1]  # "ab*": the b is optional
    return lit


def syscall_symbol(arch: str, name: str) -> str:
    """The entry symbol libbpf's ksyscall and bcc's get_syscall_fnname() attach to on `arch`."""
    return arch_spec(arch).syscall_prefixes[0] + name


class NameSource:
    """Names a pattern may match, per arch and literal prefix; read from the index once per
    tree and process."""

    def __init__(self, index):
        self.index = index
        self._names: dict[tuple[str, str], list[str]] = {}
        self._syscalls: dict[str, list[str]] = {}

    def syscalls(self, arch: str) -> list[str]:
        if arch not in self._syscalls:
            prefixes = arch_spec(arch).syscall_prefixes
            out = set()
            for use in self.index.macro_uses("SYSCALL_DEFINE%"):
                if use.name[len("SYSCALL_DEFINE"):].isdigit() and use.args and \
                        (not use.path.startswith("arch/") or use.path.startswith(f"arch/{arch}/")):
                    out.update(p + use.args[0].strip() for p in prefixes)
            self._syscalls[arch] = sorted(out)
        return self._syscalls[arch]

    def names(self, arch: str, prefix: str = "") -> list[str]:
        key = (arch, prefix)
        if key not in self._names:
            names = set(self.index.function_names(arch, prefix))
            names.update(n for n in self.syscalls(arch) if n.startswith(prefix))
            self._names[key] = sorted(names)
        return self._names[key]

    def expand(self, f: Finding, arch: str) -> list[str]:
        rx = compile_pattern(f)
        return [n for n in self.names(arch, literal_prefix(f)) if rx.fullmatch(n)]
