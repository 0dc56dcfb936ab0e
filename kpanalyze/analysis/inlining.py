"""Will the compiler emit a symbol for this function definition?

A source-only tool cannot know GCC's decisions; this gives a probability that the
definition leaves NO symbol, from signals measured on Debian's x86_64 6.1 build
(groundtruth inline_truth.tsv, 26k plain static functions):
  static, 1 call site, address not taken ........ 94% absent
  static, 2+ call sites: <=5 lines 95%, 6-12 72%, 13-20 42%, 21-40 13%, >40 2.5%
  static, address taken .......................... 1-16% absent
  static, no visible reference ................... 4% (names built by token pasting)
  static inline 96%, __always_inline 99%, noinline/noinstr 0%, extern 0.1%
"""

from __future__ import annotations

from dataclasses import dataclass

from ..annotations import ANNOTATIONS, annotation
from ..facts import FunctionDef


@dataclass(frozen=True)
class InlineEstimate:
    p_absent: float  # probability the definition leaves no symbol
    reason_id: str  # "always-inline", "static-inline", "maybe-inlined", or "" (kept)
    why: str  # one sentence


def _inline_class(fn: FunctionDef) -> str:
    cls = ""
    for kw in fn.keywords:
        ann = ANNOTATIONS.get(kw) or annotation(kw)
        if ann is None or not ann.inline:
            continue
        if ann.inline == "never":
            return "never"
        if ann.inline == "always" or cls == "":
            cls = ann.inline
    return cls


def _size_bucket(lines: int) -> float:
    if lines <= 5:
        return 0.95
    if lines <= 12:
        return 0.72
    if lines <= 20:
        return 0.42
    if lines <= 40:
        return 0.13
    return 0.025


def estimate(fn: FunctionDef, calls: int, address_taken: int, registered: bool = False) -> InlineEstimate:
    """P(no symbol) for one definition, given its uses in its own file.

    ``registered``: NOKPROBE_SYMBOL or EXPORT_SYMBOL names it, which takes its address.
    """
    cls = _inline_class(fn)
    taken = address_taken > 0 or registered
    if cls == "never":
        return InlineEstimate(0.0, "", "marked noinline")
    if cls == "always":
        if taken:
            return InlineEstimate(0.3, "always-inline",
                                  "__always_inline, but its address is taken, which forces an out-of-line copy")
        return InlineEstimate(0.99, "always-inline", "__always_inline: never emitted out of line")
    if fn.storage != "static":
        if cls == "hint":
            return InlineEstimate(0.05, "", "extern inline definition")
        return InlineEstimate(0.001, "", "external linkage: always emitted")
    if cls == "hint":
        if taken:
            return InlineEstimate(0.3, "static-inline",
                                  "static inline with its address taken: an out-of-line copy is likely")
        return InlineEstimate(0.96, "static-inline", "static inline: nearly always inlined into its callers")
    # plain static
    if taken:
        p = 0.16 if calls >= 3 else 0.06 if calls == 2 else 0.1 if calls == 1 else 0.013
        return InlineEstimate(p, "maybe-inlined", "static, address taken: an out-of-line copy is kept")
    if calls == 0:
        return InlineEstimate(0.04, "maybe-inlined",
                              "static with no visible caller: usually a name built by a macro, emitted")
    if calls == 1:
        p = 0.88 if fn.body_lines > 40 else 0.95
        return InlineEstimate(p, "maybe-inlined", "static with a single call site: GCC inlines it at -O2")
    p = _size_bucket(fn.body_lines)
    return InlineEstimate(p, "maybe-inlined",
                          f"static with {calls} call sites and {fn.body_lines} lines: GCC may inline it")
