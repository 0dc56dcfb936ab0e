"""How serious a verdict is in a report: the SARIF level, also used by JUnit and Markdown.

By default ``blocked`` and ``missing`` are errors and ``uncertain`` is a warning; a
probeable verdict has no level. A ``levels`` mapping (from the scan configuration)
overrides this, keyed by reason id (the verdict's decisive reason) or by status; a
reason id wins over a status. Level ``none`` means "do not report it as a problem".
"""

from __future__ import annotations

from typing import Callable, Mapping

from ..errors import InputError
from ..reasons import CATALOG
from ..verdict import BLOCKED, MISSING, STATUSES, UNCERTAIN, Reason, Verdict

LEVELS = ("error", "warning", "note", "none")
# Spellings a configuration file may use for the SARIF names.
_ALIASES = {"info": "note", "off": "none", "ignore": "none", "warn": "warning"}
DEFAULT_LEVEL = {BLOCKED: "error", MISSING: "error", UNCERTAIN: "warning"}


def normalize_levels(levels: Mapping[str, str] | None) -> dict[str, str]:
    """Check a ``{reason id or status: level}`` mapping; unknown keys or levels are input errors."""
    out: dict[str, str] = {}
    for key, value in (levels or {}).items():
        if key not in CATALOG and key not in STATUSES:
            raise InputError(f"severity for unknown reason id {key!r} (see `kpanalyze reasons`)")
        level = _ALIASES.get(str(value).lower(), str(value).lower())
        if level not in LEVELS:
            raise InputError(f"severity {value!r} for {key!r}: use one of {', '.join(LEVELS)}")
        out[key] = level
    return out


def decisive_reason(v: Verdict) -> Reason | None:
    """The reason that decides the verdict: the first decisive one, else the first one."""
    for r in v.reasons:
        if r.decisive:
            return r
    return v.reasons[0] if v.reasons else None


def rule_id(v: Verdict) -> str:
    """The reason id a report files this verdict under (``note`` when it gives none)."""
    r = decisive_reason(v)
    return r.id if r is not None else "note"


def verdict_level(v: Verdict, levels: Mapping[str, str] | None = None,
                  fallback: Callable[[Verdict], str] | None = None) -> str:
    """``error``, ``warning``, ``note`` or ``none`` (always ``none`` for a probeable verdict).
    ``levels`` must already be normalized; ``fallback`` (a scan result's own ``level``)
    decides what ``levels`` does not name."""
    if v.ok:
        return "none"
    levels = levels or {}
    rid = rule_id(v)
    if rid in levels:
        return levels[rid]
    if v.status in levels:
        return levels[v.status]
    if fallback is not None:
        return fallback(v)
    return DEFAULT_LEVEL.get(v.status, "warning")


def level_function(result, levels: Mapping[str, str] | None = None) -> Callable[[Verdict], str]:
    """The level of each verdict of ``result``: ``levels`` first, then the result's own
    ``level(verdict)`` when it has one (a scan result, which applies the project's
    severities), then the defaults."""
    mapping = normalize_levels(levels)
    own = getattr(result, "level", None)
    own = own if callable(own) else None
    return lambda v: verdict_level(v, mapping, own)


# -- what only a scan result carries (read by duck typing: render does not import scan) --

def problems(result) -> list:
    """Problems met while scanning (objects with path, line, col, severity, code, message)."""
    return list(getattr(result, "problems", None) or [])


def suppressed(result) -> list[tuple[Verdict, str]]:
    """(verdict, "inline" | "config") for the verdicts a suppression silenced."""
    return list(getattr(result, "suppressed", None) or [])


def rule_default_level(reason_id: str, levels: Mapping[str, str] | None = None) -> str:
    """A rule's default level: informational reasons are notes, the others errors."""
    if levels and reason_id in levels:
        return levels[reason_id]
    kind = CATALOG.get(reason_id)
    return "note" if kind is None or kind.category == "info" else "error"
