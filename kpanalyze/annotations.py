"""What the kernel's annotation macros mean for kprobes (Linux 6.1 definitions).

The definitions live in include/linux/{compiler_types,compiler_attributes,init,
interrupt,ftrace}.h and include/asm-generic/kprobes.h; arch-specific ones are in the
ArchSpec. Each keyword maps to: the section it places code in, whether it removes
the ftrace site (notrace), and how it affects inlining.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Annotation:
    section: str = ""  # the output section ("" = .text)
    notrace: bool = False  # no ftrace site: tracefs/perf/BPF refuse it
    inline: str = ""  # "always" (never out of line), "hint" (kernel `inline`), "never"
    config: str = ""  # the meaning needs this config symbol (e.g. KPROBES for __kprobes)


ANNOTATIONS: dict[str, Annotation] = {
    # include/linux/compiler_types.h: `inline` = inline __gnu_inline ... notrace
    "inline": Annotation(notrace=True, inline="hint"),
    "__inline": Annotation(notrace=True, inline="hint"),
    "__inline__": Annotation(notrace=True, inline="hint"),
    "__always_inline": Annotation(notrace=True, inline="always"),
    # include/asm-generic/kprobes.h: __always_inline under KPROBES, plain inline otherwise
    "nokprobe_inline": Annotation(notrace=True, inline="always"),
    "notrace": Annotation(notrace=True),
    "noinstr": Annotation(section=".noinstr.text", notrace=True, inline="never"),
    "noinline": Annotation(inline="never"),
    "noinline_for_stack": Annotation(inline="never"),
    "__noinline": Annotation(inline="never"),
    "__fix_address": Annotation(inline="never"),
    "__naked": Annotation(notrace=True, inline="never"),
    "__kprobes": Annotation(section=".kprobes.text", config="KPROBES"),
    "__init": Annotation(section=".init.text", notrace=True),  # ftrace records freed after boot
    "__exit": Annotation(section=".exit.text", notrace=True),
    "__meminit": Annotation(section=".meminit.text", notrace=True),
    "__idmap": Annotation(section=".idmap.text", notrace=True, inline="never"),  # arch/arm/include/asm/idmap.h
    "__ref": Annotation(section=".ref.text", inline="never"),
    "__irq_entry": Annotation(section=".irqentry.text"),
    "__softirq_entry": Annotation(section=".softirqentry.text"),
    "__cpuidle": Annotation(section=".cpuidle.text"),
    "__sched": Annotation(section=".sched.text"),
    "__lockfunc": Annotation(section=".spinlock.text"),
    "__head": Annotation(section=".head.text"),
    "__notrace_funcgraph": Annotation(notrace=True, config="FUNCTION_GRAPH_TRACER"),
    "__no_kasan_or_inline": Annotation(notrace=True, inline="hint"),
    "__no_sanitize_or_inline": Annotation(notrace=True, inline="hint"),
}

INLINE_KEYWORDS = frozenset(k for k, a in ANNOTATIONS.items() if a.inline in ("hint", "always"))

_SECTION_RE = re.compile(r"""section_*\(\s*"?([.\w]+)"?\s*\)""")


def section_of(keyword: str) -> str:
    """`__section(".entry.text")` or `__attribute__(section(".x"))` -> the section name."""
    m = _SECTION_RE.search(keyword)
    return m.group(1) if m else ""


def annotation(keyword: str) -> Annotation | None:
    if keyword in ANNOTATIONS:
        return ANNOTATIONS[keyword]
    sec = section_of(keyword)
    if sec:
        return Annotation(section=sec)
    if "no_instrument_function" in keyword:
        return Annotation(notrace=True)
    if "noinline" in keyword:
        return Annotation(inline="never")
    if "always_inline" in keyword:
        return Annotation(notrace=True, inline="always")
    return None
