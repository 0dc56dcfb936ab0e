"""JSON documents (documented field by field in README.md, "JSON output").

Each document names its schema and version (``kpanalyze.check/1``); a field, once
published under a version, keeps its meaning: new fields may be added, none renamed.
"""

from __future__ import annotations

import json
from typing import Sequence

from ..reasons import ReasonKind
from ..verdict import BlacklistEntry, CheckResult
from .text import status_counts

CHECK_SCHEMA = "kpanalyze.check/1"
BLACKLIST_SCHEMA = "kpanalyze.blacklist/1"
ARCHES_SCHEMA = "kpanalyze.arches/1"
REASONS_SCHEMA = "kpanalyze.reasons/1"


def _dump(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def check_document(result: CheckResult, *, only_problems: bool = False) -> dict:
    """``summary`` counts every verdict of the run, also those ``only_problems`` drops."""
    return {
        "schema": CHECK_SCHEMA,
        "kernel": result.kernel,
        "kernel_version": result.kernel_version,
        "config": result.config,
        "verdicts": [v.to_dict() for v in result.verdicts if not (only_problems and v.ok)],
        "summary": status_counts(result.verdicts),
        "warnings": list(result.warnings),
    }


def render_check(result: CheckResult, *, only_problems: bool = False) -> str:
    return _dump(check_document(result, only_problems=only_problems))


def render_blacklist(entries: Sequence[BlacklistEntry], arch: str, *, kernel: str = "",
                     config: str = "") -> str:
    return _dump({
        "schema": BLACKLIST_SCHEMA,
        "arch": arch,
        "kernel": kernel,
        "config": config,
        "entries": [e.to_dict() for e in entries],
    })


def render_arches(rows: Sequence[tuple[str, bool]], *, kernel: str = "") -> str:
    return _dump({
        "schema": ARCHES_SCHEMA,
        "kernel": kernel,
        "arches": [{"arch": a, "kprobes": ok} for a, ok in rows],
    })


def render_reasons(kinds: Sequence[ReasonKind]) -> str:
    return _dump({
        "schema": REASONS_SCHEMA,
        "reasons": [{"id": k.id, "category": k.category, "errno": k.errno, "title": k.title,
                     "help": k.help} for k in kinds],
    })
