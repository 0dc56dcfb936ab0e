"""Names that kernel macro families generate through machinery the macro expander does
not follow (multi-pass #include tricks, per-arch wrapper headers):

* SYSCALL_DEFINEn(x) / COMPAT_SYSCALL_DEFINEn(x) / COND_SYSCALL(x): the entry symbol is
  `sys_x` on generic arches and `__<abi>_sys_x` where the arch has syscall wrappers
  (KPROBE_RULES.md §4.1); `__do_sys_x` is static inline, `__se_sys_x` a static helper.
* TRACE_EVENT family (include/trace/trace_events.h, perf.h, bpf_probe.h, tracepoint.h):
  for an event class C: `trace_event_raw_event_C`, `perf_trace_C`, `__bpf_trace_C`,
  `trace_raw_output_C`, `trace_event_get_offsets_C` — all `static notrace`; for a
  tracepoint T: `__traceiter_T`, an ordinary traced function.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .facts import MacroUse


@dataclass(frozen=True)
class Generated:
    """How a macro family produces (or fails to produce) a name."""

    family: str  # "syscall" | "tracepoint"
    use: MacroUse  # the invocation that generates it
    role: str  # "entry", "wrapper-missing", "static-inline-helper", "static-helper",
    #            "class-function" (static notrace), "traceiter", "weak-stub"
    expected: tuple[str, ...] = ()  # the names the arch really emits (for suggestions)


SYSCALL_HELPERS = {"__do_sys_": "static-inline-helper", "__se_sys_": "static-helper",
                   "__do_compat_sys_": "static-inline-helper", "__se_compat_sys_": "static-helper"}

TRACE_CLASS_PREFIXES = ("trace_event_raw_event_", "perf_trace_", "__bpf_trace_", "trace_raw_output_",
                        "trace_event_get_offsets_")
# Macros whose first argument is an event class (TRACE_EVENT is its own class).
CLASS_MACROS = ("DECLARE_EVENT_CLASS", "TRACE_EVENT", "TRACE_EVENT_FN", "TRACE_EVENT_FN_COND",
                "TRACE_EVENT_CONDITION")
# Macros whose first (or second, for DEFINE_EVENT*) argument is a tracepoint.
TRACEPOINT_MACROS = ("TRACE_EVENT", "TRACE_EVENT_FN", "TRACE_EVENT_FN_COND", "TRACE_EVENT_CONDITION",
                     "DECLARE_TRACE", "DECLARE_TRACE_CONDITION")
DEFINE_EVENT_MACROS = ("DEFINE_EVENT", "DEFINE_EVENT_FN", "DEFINE_EVENT_CONDITION", "DEFINE_EVENT_PRINT")


@lru_cache(maxsize=None)
def _syscall_prefixes(prefixes: tuple[str, ...], compat_prefixes: tuple[str, ...]) -> tuple[str, ...]:
    """Every prefix a syscall-made name may have, longest first (sorted once per arch)."""
    return tuple(sorted(set(prefixes) | set(compat_prefixes) | set(SYSCALL_HELPERS) | {"sys_", "compat_sys_"},
                        key=len, reverse=True))


def _split_syscall(name: str, prefixes: tuple[str, ...], compat_prefixes: tuple[str, ...]):
    for pre in _syscall_prefixes(tuple(prefixes), tuple(compat_prefixes)):
        if name.startswith(pre) and len(name) > len(pre):
            return pre, name[len(pre):]
    return None, None


def syscall_origin(index, name: str, prefixes: tuple[str, ...], compat_prefixes: tuple[str, ...],
                   on_arch) -> Generated | None:
    """The SYSCALL_DEFINE-family use that generates `name` (or the name the user meant)."""
    pre, call = _split_syscall(name, prefixes, compat_prefixes)
    if pre is None:
        return None
    compat = "compat" in pre
    macro = "COMPAT_SYSCALL_DEFINE" if compat else "SYSCALL_DEFINE"
    uses = [u for u in index.macro_uses(macro + "%", call) if on_arch(u.path) and u.name[len(macro):].isdigit()]
    expected = tuple(p + call for p in (compat_prefixes if compat else prefixes))
    if not uses:
        stub = [u for u in index.macro_uses("COND_SYSCALL_COMPAT" if compat else "COND_SYSCALL", call)
                if on_arch(u.path)]
        if stub and name in expected:
            return Generated("syscall", stub[0], "weak-stub", expected)
        return None
    use = uses[0]
    if name in expected:
        return Generated("syscall", use, "entry", expected)
    if pre in SYSCALL_HELPERS:
        if pre.startswith("__se_") and expected in (("sys_" + call,), ("compat_sys_" + call,)):
            # Without wrappers, __se_sys_x is the global function and sys_x its alias.
            return Generated("syscall", use, "entry", expected)
        return Generated("syscall", use, SYSCALL_HELPERS[pre], expected)
    return Generated("syscall", use, "wrapper-missing", expected)


@dataclass
class TraceEvents:
    """Event classes and tracepoints declared by the TRACE_EVENT family in the tree."""

    classes: dict[str, MacroUse]
    tracepoints: dict[str, MacroUse]
    outputs: dict[str, MacroUse]  # DEFINE_EVENT_PRINT events with their own output function

    @classmethod
    def from_uses(cls, uses) -> "TraceEvents":
        classes, tps, outputs = {}, {}, {}
        for u in uses:
            if not u.args:
                continue
            first = u.args[0].strip()
            if u.name in CLASS_MACROS:
                classes.setdefault(first, u)
            if u.name in TRACEPOINT_MACROS:
                tps.setdefault(first, u)
            if u.name in DEFINE_EVENT_MACROS and len(u.args) > 1:
                tps.setdefault(u.args[1].strip(), u)
                if u.name == "DEFINE_EVENT_PRINT":
                    outputs.setdefault(u.args[1].strip(), u)
        return cls(classes, tps, outputs)


def trace_macro_uses(index):
    """All uses of the TRACE_EVENT family (one query per macro name)."""
    out = []
    for macro in set(CLASS_MACROS) | set(TRACEPOINT_MACROS) | set(DEFINE_EVENT_MACROS):
        out.extend(u for u in index.macro_uses(macro) if u.name == macro)
    return out


def tracepoint_origin(events: TraceEvents, name: str, on_arch) -> Generated | None:
    """The TRACE_EVENT-family use that generates `name`."""
    if name.startswith("__traceiter_"):
        u = events.tracepoints.get(name[len("__traceiter_"):])
        return Generated("tracepoint", u, "traceiter") if u is not None and on_arch(u.path) else None
    for pre in TRACE_CLASS_PREFIXES:
        if name.startswith(pre):
            cls = name[len(pre):]
            u = events.classes.get(cls) or (events.outputs.get(cls) if pre == "trace_raw_output_" else None)
            if u is not None and on_arch(u.path):
                return Generated("tracepoint", u, "class-function")
    return None
