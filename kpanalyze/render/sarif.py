"""SARIF 2.1.0 (code scanning): one run, rules from the reason catalog, one result per
verdict that is not probeable.

- A result's ``ruleId`` is the verdict's decisive reason id; its ``level`` comes from
  ``levels.verdict_level`` (error for blocked/missing, warning for uncertain, overridable
  per reason id; results at level ``none`` are left out).
- Its location is where the user wrote the probe point (``Verdict.origin``, uriBaseId
  ``%SRCROOT%``, relative to ``root``) when there is one, else the kernel evidence
  (uriBaseId ``KERNEL``); ``relatedLocations`` list every kernel file:line behind it.
- ``partialFingerprints`` hash the rule, point, arch, kind, front end and origin path,
  never line numbers, so an alert survives edits that move it.
- A scan result's problems (unreadable file, malformed spec) are results of ``scan-CODE``
  rules; its suppressed verdicts are results with ``suppressions``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path, PurePosixPath
from typing import Mapping
from urllib.parse import quote

from ..reasons import CATALOG, ReasonKind
from ..verdict import CheckResult, Evidence, Origin, Verdict
from . import levels as lv
from .text import insn_text, status_counts

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "kpanalyze/v1"
SRCROOT, KERNEL = "%SRCROOT%", "KERNEL"


def tool_version() -> str:
    try:
        from importlib.metadata import version

        return version("kpanalyze")
    except Exception:  # noqa: BLE001 - running from a source tree that is not installed
        return "0.0.0"


def information_uri() -> str:
    """The project's home page from the installed metadata (``[project.urls]``), or ""."""
    try:
        from importlib.metadata import metadata

        md = metadata("kpanalyze")
    except Exception:  # noqa: BLE001
        return ""
    for entry in md.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("homepage", "home", "documentation", "repository", "source"):
            return url.strip()
    return (md.get("Home-page") or "").strip()


# -- rules ---------------------------------------------------------------------------

def _rule_name(reason_id: str) -> str:
    """``nokprobe-symbol`` -> ``NokprobeSymbol`` (SARIF rule names are identifiers)."""
    return "".join(part[:1].upper() + part[1:] for part in reason_id.replace("_", "-").split("-"))


def rule(kind: ReasonKind, levels: Mapping[str, str] | None = None) -> dict:
    return {
        "id": kind.id,
        "name": _rule_name(kind.id),
        "shortDescription": {"text": kind.title},
        "fullDescription": {"text": kind.help},
        "help": {"text": kind.help},
        "defaultConfiguration": {"level": lv.rule_default_level(kind.id, levels)},
        "properties": {"category": kind.category, "errno": kind.errno, "tags": ["kprobe", kind.category]},
    }


# -- paths ---------------------------------------------------------------------------

def _uri(path: str) -> str:
    return quote(path, safe="/:@!$&'()*+,;=-._~")


def _dir_uri(path: str) -> str:
    uri = Path(os.path.abspath(path)).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def repo_relative(path: str, root: str | os.PathLike | None) -> str | None:
    """``path`` relative to ``root``, with '/', when it lies inside it; else None. A
    relative ``path`` is taken from the working directory, like the paths a user types."""
    if root is None:
        return None
    absolute = os.path.abspath(path)
    base = os.path.abspath(root)
    if absolute != base and not absolute.startswith(base.rstrip(os.sep) + os.sep):
        return None
    return PurePosixPath(*Path(os.path.relpath(absolute, base)).parts).as_posix()


def origin_artifact(path: str, root: str | os.PathLike | None) -> dict:
    """An artifactLocation for a user's file: relative to ``root`` under %SRCROOT% when it
    lies inside it; an absolute file URI when it does not. Without ``root``, a relative
    path is kept as it is, under %SRCROOT%."""
    rel = repo_relative(path, root)
    if rel is not None:
        return {"uri": _uri(rel), "uriBaseId": SRCROOT}
    if root is not None or os.path.isabs(path):
        return {"uri": Path(os.path.abspath(path)).as_uri()}
    return {"uri": _uri(path.replace(os.sep, "/")), "uriBaseId": SRCROOT}


def _region(line: int, col: int = 0, snippet: str = "") -> dict | None:
    if line < 1:
        return None
    region: dict = {"startLine": line}
    if col >= 1:
        region["startColumn"] = col
    if snippet:
        region["snippet"] = {"text": snippet}
    return region


def _physical(artifact: dict, region: dict | None) -> dict:
    loc: dict = {"artifactLocation": artifact}
    if region:
        loc["region"] = region
    return {"physicalLocation": loc}


def _kernel_location(e: Evidence) -> dict:
    return _physical({"uri": _uri(e.path), "uriBaseId": KERNEL}, _region(e.line, snippet=e.text))


def _origin_location(o: Origin, root) -> dict:
    return _physical(origin_artifact(o.path, root), _region(o.line, o.col, o.text))


def _kernel_evidence(v: Verdict) -> list[tuple[str, Evidence]]:
    """(label, evidence) for every kernel file:line behind the verdict, decisive reasons
    first, without repeats; the judged definition last."""
    decisive = lv.decisive_reason(v)
    ordered = ([decisive] if decisive else []) + [r for r in v.reasons if r is not decisive]
    seen: set = set()
    out = []
    for r in ordered:
        for e in r.evidence:
            if (e.path, e.line) not in seen:
                seen.add((e.path, e.line))
                out.append((r.id, e))
    if v.definition is not None and (v.definition.path, v.definition.line) not in seen:
        out.append(("definition", v.definition))
    return out


# -- results -------------------------------------------------------------------------

def message(v: Verdict) -> str:
    """One paragraph: point, kind, front end, arch, status, then why."""
    head = f"{v.point} ({v.kind} via {v.via}) on {v.arch}: {v.status}"
    if v.expected_errno:
        head += f" ({v.expected_errno})"
    parts = [head + "."]
    for r in v.reasons:
        parts.append(f"{r.id}: {r.message}" if r.decisive else f"note ({r.id}): {r.message}")
    if v.if_present:
        parts.append(f"If the symbol is present: {v.if_present}.")
    if v.suggestions:
        parts.append("Try instead: " + ", ".join(v.suggestions) + ".")
    if v.instruction is not None:
        parts.append(f"Instruction: {insn_text(v.instruction)}.")
    if v.confidence != "high":
        parts.append(f"Confidence: {v.confidence}.")
    return " ".join(parts)


def fingerprint(v: Verdict, origin_uri: str = "") -> str:
    """A hash of what the finding is, not where its line is."""
    key = "\0".join([lv.rule_id(v), str(v.point), v.arch, v.kind, v.via, origin_uri])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def result_object(v: Verdict, level: str, *, root=None) -> dict:
    evidence = _kernel_evidence(v)
    related = [dict(_kernel_location(e), id=i, message={"text": label})
               for i, (label, e) in enumerate(evidence, 1)]
    if v.origin is not None:
        primary = _origin_location(v.origin, root)
    elif evidence:
        primary = _kernel_location(evidence[0][1])
    else:
        primary = None
    origin_uri = primary["physicalLocation"]["artifactLocation"]["uri"] if v.origin is not None else ""
    fp = fingerprint(v, origin_uri)
    props = {
        "point": str(v.point), "symbol": v.point.symbol, "offset": v.point.offset,
        "arch": v.arch, "kind": v.kind, "via": v.via, "status": v.status,
        "expected_errno": v.expected_errno, "confidence": v.confidence,
        "config_dependent": v.config_dependent, "reasons": [r.id for r in v.reasons],
    }
    if v.if_present:
        props["if_present"] = v.if_present
    if v.suggestions:
        props["suggestions"] = list(v.suggestions)
    if v.origin is not None and v.origin.front_end:
        props["front_end"] = v.origin.front_end
    if v.instruction is not None:
        props["instruction"] = asdict(v.instruction)
    out: dict = {
        "ruleId": lv.rule_id(v),
        "level": level,
        "message": {"text": message(v)},
    }
    if primary is not None:
        out["locations"] = [primary]
    if related:
        out["relatedLocations"] = related
    out["partialFingerprints"] = {FINGERPRINT_KEY: fp}
    out["properties"] = props
    return out


def _problem_rule(code: str) -> dict:
    return {
        "id": f"scan-{code}",
        "name": _rule_name(f"scan-{code}"),
        "shortDescription": {"text": f"scan: {code.replace('-', ' ')}"},
        "fullDescription": {"text": "A problem met while reading a scanned file (not a verdict about a probe point)."},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"category": "scan", "tags": ["kprobe", "scan"]},
    }


def problem_object(p, *, root=None) -> dict:
    """A scan problem (unreadable file, malformed probe spec, bad suppression) as a result."""
    region = _region(p.line, p.col) if p.line else None
    artifact = origin_artifact(p.path, root)
    key = "\0".join([f"scan-{p.code}", artifact["uri"], p.message])
    return {
        "ruleId": f"scan-{p.code}",
        "level": p.severity if p.severity in ("error", "warning", "note") else "warning",
        "message": {"text": p.message},
        "locations": [_physical(artifact, region)],
        "partialFingerprints": {FINGERPRINT_KEY: hashlib.sha256(key.encode()).hexdigest()[:32]},
    }


def sarif_document(result: CheckResult, *, levels: Mapping[str, str] | None = None,
                   root: str | os.PathLike | None = None) -> dict:
    """``levels``: {reason id or status: error|warning|note|none}; ``root``: the directory
    origin paths are made relative to (the repository or scan root). A scan result's
    problems become results of ``scan-CODE`` rules, and its suppressed verdicts results
    with a ``suppressions`` entry (inSource for an inline comment, external for config)."""
    mapping = lv.normalize_levels(levels)
    level_of = lv.level_function(result, levels)
    results = []
    seen: dict[str, int] = {}

    def add(obj: dict) -> None:
        fp = obj["partialFingerprints"][FINGERPRINT_KEY]
        n = seen.get(fp, 0)  # the same finding twice in one file must not collide
        seen[fp] = n + 1
        if n:
            obj["partialFingerprints"][FINGERPRINT_KEY] = f"{fp}:{n}"
        results.append(obj)

    for v in result.verdicts:
        level = level_of(v)
        if v.ok or level == "none":
            continue
        add(result_object(v, level, root=root))
    for v, how in lv.suppressed(result):
        if v.ok:
            continue
        level = lv.verdict_level(v, mapping)
        obj = result_object(v, level if level != "none" else "note", root=root)
        obj["suppressions"] = [{"kind": "inSource" if how == "inline" else "external"}]
        add(obj)
    problems = lv.problems(result)
    for p in problems:
        add(problem_object(p, root=root))

    driver: dict = {"name": "kpanalyze", "version": tool_version(), "semanticVersion": tool_version()}
    uri = information_uri()
    if uri:
        driver["informationUri"] = uri
    driver["rules"] = [rule(k, mapping) for k in CATALOG.values()]
    driver["rules"] += [_problem_rule(code) for code in dict.fromkeys(p.code for p in problems)]

    bases: dict = {}
    if root is not None:
        bases[SRCROOT] = {"uri": _dir_uri(os.fspath(root)), "description": {"text": "the scanned repository"}}
    if result.kernel and os.path.isabs(result.kernel):
        bases[KERNEL] = {"uri": _dir_uri(result.kernel), "description": {"text": "the kernel source tree"}}

    run: dict = {"tool": {"driver": driver}}
    if bases:
        run["originalUriBaseIds"] = bases
    run["invocations"] = [{
        "executionSuccessful": True,
        # A scan's warnings repeat its problems, which are results already.
        "toolExecutionNotifications": [{"level": "warning", "message": {"text": w}}
                                       for w in ([] if getattr(result, "problems", None) else result.warnings)],
    }]
    run["results"] = results
    run["properties"] = {
        "kernel": result.kernel, "kernel_version": result.kernel_version, "config": result.config,
        "summary": status_counts(result.verdicts),
    }
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def render_check(result: CheckResult, *, levels: Mapping[str, str] | None = None,
                 root: str | os.PathLike | None = None) -> str:
    return json.dumps(sarif_document(result, levels=levels, root=root), indent=2, ensure_ascii=False) + "\n"
