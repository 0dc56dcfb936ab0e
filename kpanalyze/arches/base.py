"""What kpanalyze must know about one arch that the tree does not say in one place.

Everything that CAN be read from the tree is read from it (HAVE_KPROBES from the arch
Kconfig, blacklisted sections from arch_populate_kprobe_blacklist /
arch_within_kprobe_blacklist, the kretprobe blacklist array); an ArchSpec only names
where to look and the facts that live in compiler flags or linker scripts.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ArchSpec:
    name: str  # the arch/<name>/ directory
    aliases: tuple[str, ...] = ()  # uname -m / Debian names that mean this arch
    insn_align: int = 4  # a probe address must be a multiple of this
    # Syscall entry points SYSCALL_DEFINE produces: "sys_" on generic arches; wrapper
    # arches emit "__<abi>_sys_<name>" and no plain "sys_<name>".
    syscall_prefixes: tuple[str, ...] = ("sys_",)
    compat_syscall_prefixes: tuple[str, ...] = ("compat_sys_",)
    # Is built-in __exit text kept (freed with init memory) rather than discarded?
    exit_text_kept: bool = False
    # Offset of the ftrace call instruction from the symbol when the arch has no
    # KPROBES_ON_FTRACE (probing exactly there is refused). 0 = not applicable.
    ftrace_site_offset: int = 0
    # Arch-specific annotation macros -> section (generic ones live in annotations.py).
    keyword_sections: dict[str, str] = field(default_factory=dict)
    # Annotation macros that are unusable (compile error) on this arch.
    invalid_keywords: tuple[str, ...] = ()
    # Where the arch's kprobe hooks live (searched for arch_*_kprobe_blacklist, kretprobe_blacklist).
    kprobe_dirs: tuple[str, ...] = ()
    # Config symbol that identifies the arch in a .config (for sanity checks).
    config_symbol: str = ""
    word_bits: int = 64
    # "module:Class" of the instruction decoder in kpanalyze/decoders/ ("" = none: alignment only).
    decoder: str = ""
    notes: tuple[str, ...] = ()
