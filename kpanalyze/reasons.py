"""The reason catalog: every reason a verdict can give, with a stable id.

An id, once published, keeps its meaning (SARIF rules and user suppressions name
them). ``errno`` is what the kernel returns when this reason decides the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReasonKind:
    id: str
    category: str  # "blacklist", "missing", "front-end", "arch", "instruction", "info"
    errno: str  # "EINVAL", "ENOENT", "EADDRNOTAVAIL", "EOPNOTSUPP", "EILSEQ", "" (none)
    title: str
    help: str


_CATALOG = [
    # -- blacklisted (check_kprobe_address_safe -> -EINVAL) ---------------------------
    ReasonKind("nokprobe-symbol", "blacklist", "EINVAL", "NOKPROBE_SYMBOL",
               "The symbol is registered in the _kprobe_blacklist section by NOKPROBE_SYMBOL() "
               "or an assembler twin (_ASM_NOKPROBE, NOKPROBE, _ASM_NOKPROBE_SYMBOL)."),
    ReasonKind("kprobes-text", "blacklist", "EINVAL", "__kprobes (.kprobes.text)",
               "The function is placed in .kprobes.text (__kprobes), which every arch blacklists."),
    ReasonKind("noinstr", "blacklist", "EINVAL", "noinstr (.noinstr.text)",
               "The function is noinstr: it lives in .noinstr.text, blacklisted on every arch in 6.1."),
    ReasonKind("entry-text", "blacklist", "EINVAL", "entry text (.entry.text)",
               "The code is in .entry.text, which this arch blacklists."),
    ReasonKind("irqentry-text", "blacklist", "EINVAL", "irq entry text (.irqentry.text)",
               "The code is in .irqentry.text (__irq_entry / __exception_irq_entry), which this arch blacklists."),
    ReasonKind("idmap-text", "blacklist", "EINVAL", "identity-map text (.idmap.text)",
               "The code is in .idmap.text, which this arch blacklists."),
    ReasonKind("hyp-text", "blacklist", "EINVAL", "hypervisor text (.hyp.text)",
               "The code is nVHE KVM hypervisor text, which arm64 blacklists."),
    ReasonKind("arch-blacklist", "blacklist", "EINVAL", "arch blacklist range",
               "The arch's arch_within_kprobe_blacklist()/arch_populate_kprobe_blacklist() covers this code."),
    ReasonKind("init-text", "blacklist", "EINVAL", "__init text (freed after boot)",
               "The function is __init (or __exit/__meminit without MEMORY_HOTPLUG): its text is freed or "
               "discarded after boot, so it is not kernel text any more."),
    ReasonKind("kretprobe-blacklist", "blacklist", "EINVAL", "kretprobe blacklist",
               "The arch refuses return probes on this function (kretprobe_blacklist[])."),
    ReasonKind("clone-of-blacklisted", "blacklist", "EINVAL", "clone of a blacklisted function",
               "A compiler clone (.isra/.constprop/.part/.cold) inherits the blacklisting of its base name."),
    # -- the symbol does not exist (-ENOENT) ---------------------------------------
    ReasonKind("static-inline", "missing", "ENOENT", "static inline",
               "A static inline function is nearly always inlined into its callers and has no symbol."),
    ReasonKind("always-inline", "missing", "ENOENT", "__always_inline",
               "__always_inline (or nokprobe_inline under KPROBES) is never emitted out of line."),
    ReasonKind("maybe-inlined", "missing", "ENOENT", "may be inlined",
               "A static function the compiler may inline into its callers; then it has no symbol."),
    ReasonKind("macro", "missing", "ENOENT", "a macro, not a function",
               "The name is a preprocessor macro: no symbol is ever emitted for it."),
    ReasonKind("config-excluded", "missing", "ENOENT", "not built for this config",
               "The definition is compiled out under this config (#if or Kbuild object selection)."),
    ReasonKind("other-arch", "missing", "ENOENT", "defined only for other arches",
               "Every definition lives under another arch's directory."),
    ReasonKind("no-definition", "missing", "ENOENT", "no definition found",
               "No function, assembler label or macro-generated function of this name was found in the tree."),
    ReasonKind("exit-discarded", "missing", "ENOENT", "__exit text discarded",
               "Built-in __exit code is discarded at link time on this arch (or not listed in kallsyms)."),
    ReasonKind("renamed-entry", "missing", "ENOENT", "renamed entry point",
               "The kernel emits this entry point under another name (e.g. a syscall wrapper)."),
    # -- front end (kprobe_events, perf, BPF) --------------------------------------
    ReasonKind("notrace", "front-end", "EINVAL", "no ftrace site (notrace)",
               "tracefs/perf/BPF refuse functions without an ftrace site: notrace, inline, noinstr, "
               "__init, assembler code, or an object built without ftrace flags."),
    ReasonKind("non-unique", "front-end", "EADDRNOTAVAIL", "name is not unique",
               "tracefs/perf/BPF refuse a name that kallsyms holds more than once."),
    # -- arch ----------------------------------------------------------------------
    ReasonKind("arch-no-kprobes", "arch", "EOPNOTSUPP", "arch has no kprobes",
               "The arch does not select HAVE_KPROBES in this tree, so CONFIG_KPROBES cannot be enabled."),
    ReasonKind("kprobes-disabled", "arch", "EOPNOTSUPP", "CONFIG_KPROBES is off",
               "The given config does not enable CONFIG_KPROBES (or KRETPROBES for return probes)."),
    ReasonKind("kretprobe-not-entry", "arch", "EINVAL", "return probe not at function entry",
               "A kretprobe must sit at the function entry (offset 0, or the arch's entry window)."),
    ReasonKind("misaligned", "instruction", "EINVAL", "misaligned offset",
               "The probe address is not aligned to the arch's instruction size."),
    ReasonKind("ftrace-site", "instruction", "EINVAL", "ftrace call site",
               "The address is the function's ftrace call site and the arch has no KPROBES_ON_FTRACE "
               "(check_ftrace_location); a probe in the middle of that instruction gives EILSEQ."),
    ReasonKind("jump-label-site", "instruction", "EINVAL", "jump label site",
               "The address is inside a static-key (jump label) instruction the kernel patches at run time "
               "(jump_label_text_reserved)."),
    ReasonKind("static-call-site", "instruction", "EINVAL", "static call site",
               "The address is inside a static call site the kernel patches at run time (static_call_text_reserved)."),
    ReasonKind("bug-site", "instruction", "EINVAL", "BUG()/WARN() trap",
               "The address is a BUG()/WARN() trap instruction listed in __bug_table (find_bug)."),
    ReasonKind("extable-site", "instruction", "EINVAL", "exception-table instruction",
               "The instruction has an exception-table entry (arm64 search_exception_tables): it may fault by design."),
    ReasonKind("not-insn-boundary", "instruction", "EILSEQ", "not an instruction boundary",
               "The address falls inside an instruction (x86 can_probe, riscv/s390 boundary walk)."),
    ReasonKind("insn-rejected", "instruction", "EINVAL", "instruction refused by the arch decoder",
               "The arch's kprobe decoder refuses the instruction at this address (INSN_REJECTED, a stack "
               "use it cannot emulate, an instruction x86 cannot copy)."),
    ReasonKind("atomic-window", "instruction", "EINVAL", "inside an exclusive load/store window",
               "arm64: the address follows a load-exclusive without a store-exclusive in between "
               "(is_probed_address_atomic): stepping there would break the atomic sequence."),
    ReasonKind("insn-unsupported", "instruction", "EOPNOTSUPP", "instruction kprobes cannot emulate",
               "x86 prepare_emulation() refuses the instruction (far call/jmp, iret, int3, VMX, indirect "
               "call/jmp through memory)."),
    ReasonKind("insn-unknown", "instruction", "", "instruction not decided",
               "The decoder of the tree uses a form kpanalyze does not interpret, or the arch has no "
               "interpreter: the instruction-level answer is unknown."),
    ReasonKind("not-in-symbol-table", "missing", "ENOENT", "not in the symbol table",
               "The given System.map / kallsyms / vmlinux has no text symbol of this name (inlined, renamed "
               "into a clone, or not built)."),
    # -- informational (never decide a verdict) -----------------------------------
    ReasonKind("config-dependent", "info", "", "depends on config",
               "The definition or its annotation sits under #if/Kbuild conditions; give --config to decide."),
    ReasonKind("clone-name", "info", "", "compiler clone name",
               "A .isra/.constprop/.part/.cold name exists only in the binary; judged by its base function."),
    ReasonKind("weak-overridden", "info", "", "weak definition overridden",
               "A __weak definition is overridden by a strong one; the strong one is judged."),
    ReasonKind("offset-binary", "info", "", "offset needs the binary",
               "Whether symbol+offset is an instruction boundary, an ftrace site or a refused instruction "
               "needs the kernel image (issue: instruction-level verdicts)."),
    ReasonKind("note", "info", "", "note", "Additional information about how the verdict was reached."),
]

CATALOG: dict[str, ReasonKind] = {r.id: r for r in _CATALOG}
