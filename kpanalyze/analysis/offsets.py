"""`kpanalyze offsets`: a verdict for every instruction of one function.

The function-level answer (lookup, front end, blacklists) is computed once; each
instruction only adds its own refusals (analysis/instruction.py). Verdicts are the same
model `check` returns, so every renderer works on them.
"""

from __future__ import annotations

from dataclasses import replace

from ..reasons import CATALOG
from ..verdict import BLOCKED, MISSING, PROBEABLE, UNCERTAIN, ProbePoint, Verdict
from .instruction import BinaryContext, check_at
from .verdicts import judge_many


def offsets_verdicts(model, ctx: BinaryContext, symbol: str, via: str) -> list[Verdict]:
    """kprobe verdicts at every instruction start of `symbol` (the first symbol of that name)."""
    (entry,) = judge_many(model, [ProbePoint(symbol)], ("kprobe",), via, binary=_no_image(ctx))
    if entry.status == MISSING:
        return [entry]
    sym = ctx.symbols.lookup(symbol)[0]
    _fn, starts = ctx.function(sym)
    function_reasons = tuple(r for r in entry.reasons if r.decisive)
    infos = tuple(r for r in entry.reasons if not r.decisive and r.id != "offset-binary")
    out = []
    for off in starts:
        found = check_at(ctx, sym, off)
        decisive = function_reasons + found.reasons
        if decisive:
            status = UNCERTAIN if entry.status == UNCERTAIN and not found.reasons else BLOCKED
        elif found.uncertain or entry.status == UNCERTAIN:
            status = UNCERTAIN
        else:
            status = PROBEABLE
        errno = CATALOG[decisive[0].id].errno if decisive else (found.guess if found.uncertain else "")
        out.append(replace(entry, point=ProbePoint(symbol, off), status=status, reasons=decisive + infos + found.infos,
                           expected_errno=errno, instruction=found.instruction))
    return out


def _no_image(ctx: BinaryContext) -> BinaryContext:
    """The same symbols without the image: the function-level verdict skips instruction checks."""
    from ..binary import Artifacts

    arts = ctx.artifacts
    return BinaryContext(Artifacts(symbols=arts.symbols, image=None, sites=None), ctx.decoder, ctx.arch,
                         ctx.kprobes_on_ftrace, names=ctx.names)
