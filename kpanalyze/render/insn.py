"""Output of `decode`, `rules` and `offsets` (text and JSON), from the decoder result model."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Sequence

from ..decoders.base import DecodeResult, RuleEntry
from ..verdict import CheckResult
from .text import status_label

DECODE_SCHEMA = "kpanalyze.decode/1"
RULES_SCHEMA = "kpanalyze.rules/1"
OFFSETS_SCHEMA = "kpanalyze.offsets/1"


def _dump(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _evidence(evs) -> str:
    return ", ".join(str(e) for e in evs)


def decode_text(results: Sequence[DecodeResult], *, verbose: bool = False) -> str:
    out = []
    for r in results:
        width = r.length * 2 if r.mode.startswith("x86") else (4 if r.mode in ("t16", "rvc") else 8)
        head = f"{r.encoding:0{width}x} [{r.mode}]"
        if r.mnemonic:
            head += f" {r.mnemonic}"
        outcome = r.status + (f" ({r.how})" if r.how else "") + (f" {r.errno}" if r.errno else "")
        out.append(f"{head}: {outcome}")
        if r.decided_by:
            out.append(f"    by: {r.decided_by}")
        if r.evidence:
            out.append(f"    at: {_evidence(r.evidence)}")
        for u in r.unsupported:
            out.append(f"    not interpreted: {u}")
        for n in r.notes:
            out.append(f"    note: {n}")
        if verbose:
            for t in r.trace:
                out.append(f"    trace: {t}")
    return "\n".join(out) + "\n"


def decode_json(results: Sequence[DecodeResult], *, arch: str, kernel: str) -> str:
    return _dump({"schema": DECODE_SCHEMA, "arch": arch, "kernel": kernel,
                  "results": [_decode_dict(r) for r in results]})


def _decode_dict(r: DecodeResult) -> dict:
    d = asdict(r)
    d["encoding_hex"] = f"{r.encoding:x}"
    return d


def rules_text(entries: Sequence[RuleEntry], arch: str) -> str:
    if not entries:
        return (f"no instruction rules for {arch}: kpanalyze does not interpret this arch's kprobe decoder; "
                "only alignment is checked and every other instruction answer is 'unknown'\n")
    out = []
    for e in entries:
        cond = f" (if {e.condition})" if e.condition else ""
        out.append(f"[{e.mode}] {e.action}: {e.pattern} — {e.description}{cond}")
        if e.decided_by:
            out.append(f"    by: {e.decided_by}")
        if e.evidence:
            out.append(f"    at: {_evidence(e.evidence)}")
    return "\n".join(out) + "\n"


def rules_json(entries: Sequence[RuleEntry], *, arch: str, kernel: str) -> str:
    return _dump({"schema": RULES_SCHEMA, "arch": arch, "kernel": kernel, "rules": [asdict(e) for e in entries]})


def offsets_text(result: CheckResult) -> str:
    out = []
    for v in result.verdicts:
        i = v.instruction
        reason = next((r for r in v.reasons if r.decisive), None)
        why = f"  {reason.id}: {reason.message}" if reason else ""
        if i is None:
            out.append(f"{v.point}: {v.status}{why}")
            continue
        out.append(f"+{i.offset:<6x} {i.bytes:<20} {i.mnemonic:<36} {status_label(v)}{why}")
    return "\n".join(out) + "\n"


def offsets_json(result: CheckResult, *, arch: str, symbol: str) -> str:
    from .json import check_document

    doc = check_document(result)
    doc.update(schema=OFFSETS_SCHEMA, arch=arch, symbol=symbol)
    return _dump(doc)
