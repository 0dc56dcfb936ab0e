"""scan: files -> findings -> verdicts per target x arch x kind -> severity and suppressions.

The one entry point is ``scan()``; it raises InputError for what the user must fix
(a bad option, a wrong project configuration, a PATH that does not exist) and turns
every broken scanned file into a Problem.
"""

from __future__ import annotations

import fnmatch
import os
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

from ..errors import InputError
from ..verdict import BLOCKED, MISSING, PROBEABLE, UNCERTAIN, ProbePoint, Reason, Verdict
from . import files, project, suppress
from .model import REGEX, SYSCALL, Expansion, FileScan, Finding, Problem, ScanResult
from .patterns import NameSource, syscall_symbol

_RANK = {"error": 0, "warning": 1, "note": 2, "off": 3}


def _front_end(src: files.Source, data: bytes, text: str) -> FileScan:
    if src.fmt == "c":
        from . import clang

        return clang.scan(src.path, data)
    if src.fmt == "bpftrace":
        from . import bpftrace

        return bpftrace.scan(src.path, data, text)
    if src.fmt == "bcc":
        from . import bcc

        return bcc.scan(src.path, data)
    from . import kprobe_events

    return kprobe_events.scan(src.path, data, text)


def load_project(paths: Sequence[str], project_config: str | Path | None, cwd: Path) -> project.ProjectConfig:
    if project_config is not None:
        return project.load(Path(project_config))
    start = Path(paths[0]) if paths else cwd
    if not start.is_absolute():
        start = cwd / start
    found = project.discover(start if start.exists() else cwd)
    return project.load(found) if found else project.ProjectConfig(root=_repository_root(cwd))


def _repository_root(cwd: Path) -> Path:
    """The nearest folder at or above `cwd` holding .git (what SARIF paths are relative to),
    else `cwd`."""
    for folder in (cwd, *cwd.parents):
        if (folder / ".git").exists():
            return folder
    return cwd


def resolve_targets(proj: project.ProjectConfig, kernel, config, arches) -> list[project.Target]:
    """The project's targets with what the command line gives put in each (duplicates merged)."""
    out: list[project.Target] = []
    for t in proj.targets:
        name = "command line" if (kernel or config) and len(proj.targets) == 1 else t.name
        t = project.Target(name,
                           Path(kernel) if kernel else t.kernel,
                           Path(config) if config else t.config,
                           tuple(arches) if arches else t.arches)
        if all((t.kernel, t.config, t.arches) != (o.kernel, o.config, o.arches) for o in out):
            out.append(t)
    return out


@dataclass
class _Entry:
    verdict: Verdict
    target: str
    member: bool = False  # a name a pattern matched (its level is capped by pattern-members)


def scan(paths: Sequence[str] = (), *, arches: Sequence[str] | None = None, kernel: str | Path | None = None,
         config: str | Path | None = None, via: str | None = None, project_config: str | Path | None = None,
         staged: bool = False, progress: bool = False, cwd: Path | None = None) -> ScanResult:
    """Find the probe points written in `paths` and judge each on every target and arch."""
    from .. import api
    from ..analysis.verdicts import judge_many

    cwd = Path(cwd) if cwd else Path.cwd()
    proj = load_project(paths, project_config, cwd)
    if via is not None and via not in project.VIA_CHOICES:
        raise InputError(f"unknown front end {via!r}: use one of {', '.join(project.VIA_CHOICES)}")
    via_override = via if via not in (None, "auto") else (proj.via if proj.via != "auto" else None)
    targets = resolve_targets(proj, kernel, config, arches)

    include, exclude = files.Globs(proj.include), files.Globs(proj.exclude)
    if staged:
        sources, problems = files.gather_staged(list(paths), root=proj.root, include=include, exclude=exclude, cwd=cwd)
    else:
        sources, problems = files.gather(list(paths) or ["."], root=proj.root, include=include, exclude=exclude,
                                         cwd=cwd)
    result = ScanResult(problems=problems, root=str(proj.root))
    ignored_paths = files.Globs(proj.ignore_paths)

    def ignored(name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, g) for g in proj.ignore_symbols)

    # -- read every file ------------------------------------------------------------------
    sups: dict[str, list[suppress.Suppression]] = {}
    finding_lines: dict[str, set[int]] = {}
    for src in sources:
        data, text, prob = files.read(src)
        if prob is not None:
            result.problems.append(prob)
            result.files_skipped += 1
            continue
        try:
            fs = _front_end(src, data, text)
        except Exception as e:  # noqa: BLE001 - one odd file must not stop the scan
            if os.environ.get("KPANALYZE_DEBUG"):
                raise
            result.problems.append(Problem(src.path, 0, 0, "warning", "internal",
                                           f"could not read this file ({type(e).__name__}: {e}): skipped"))
            result.files_skipped += 1
            continue
        result.files_scanned += 1
        result.problems.extend(fs.problems)
        if ignored_paths and ignored_paths.match(src.rel):
            result.ignored.extend(fs.findings)
            continue
        lines = {f.origin.line for f in fs.findings}
        file_sups, sup_problems = suppress.parse(src.path, fs.comments, lines)
        result.problems.extend(sup_problems)
        sups[src.path] = file_sups
        finding_lines[src.path] = lines
        for f in fs.findings:
            (result.ignored if ignored(f.target) else result.findings).append(f)

    # -- judge ----------------------------------------------------------------------------
    entries: dict[int, list[_Entry]] = {i: [] for i in range(len(result.findings))}
    kernels: dict[object, object] = {}
    judged = list(range(len(result.findings)))
    for t in targets:
        kpath = t.kernel or (Path(os.environ["KPANALYZE_KERNEL"]) if os.environ.get("KPANALYZE_KERNEL") else None)
        cfg = api.load_config(t.config)
        if not judged:
            if not result.kernel:
                result.kernel = str(Path(kpath or api.default_kernel()).resolve())
                result.config = str(t.config or "")
            result.targets.append(t.name)
            continue
        k = kernels.get(kpath)
        if k is None:
            k = kernels[kpath] = api.open_kernel(kpath, progress=progress)
        if not result.kernel:
            result.kernel, result.kernel_version = str(k.tree.root), k.tree.version
            result.config = str(t.config or "")
        result.targets.append(t.name)
        target_note = (Reason("note", f"target {t.name}: {k.tree.root}" + (f" with {t.config}" if t.config else ""),
                              decisive=False),) if len(targets) > 1 else ()
        names = NameSource(k.index)
        for arch in api.resolve_arches(k, t.arches or None, cfg):
            model = k.model(arch, cfg)
            wanted: dict[tuple[str, str], dict[ProbePoint, None]] = {}
            members: dict[int, list[str]] = {}
            for i in judged:
                f = result.findings[i]
                fvia = via_override or f.via
                if f.is_pattern:
                    members[i] = [n for n in names.expand(f, arch) if not ignored(n)]
                    pts = [ProbePoint(n) for n in members[i]]
                else:
                    pts = [_point(f, arch)]
                wanted.setdefault((fvia, f.kind), {}).update(dict.fromkeys(pts))
            got: dict[tuple, Verdict] = {}
            for (fvia, kind), pts in wanted.items():
                for v in judge_many(model, list(pts), (kind,), fvia):
                    got[(v.point, kind, fvia)] = v
            for i in judged:
                f = result.findings[i]
                fvia = via_override or f.via
                if f.is_pattern:
                    entries[i].extend(_pattern_entries(f, arch, fvia, members[i], got, target_note, t.name,
                                                       result))
                else:
                    v = got[(_point(f, arch), f.kind, fvia)]
                    extra = target_note
                    if f.match == SYSCALL:
                        extra = (Reason("note", f"the syscall {f.target} enters the kernel through {v.point.symbol} "
                                                f"on {arch}", decisive=False),) + extra
                    entries[i].append(_Entry(replace(v, origin=f.origin, reasons=v.reasons + extra), t.name))

    # -- severity, suppressions -----------------------------------------------------------
    for i, f in enumerate(result.findings):
        file_sups = [s for s in sups.get(f.origin.path, ()) if s.covers == f.origin.line]
        for e in entries[i]:
            v = e.verdict
            if len(targets) > 1:
                result.target_of[v] = e.target
            if v.ok:
                result.verdicts.append(v)
                continue
            if suppress.apply(v, file_sups):
                result.suppressed.append((v, "inline"))
                continue
            level = _level(v, proj.severity)
            if e.member and _RANK[level] < _RANK[proj.pattern_members]:
                level = proj.pattern_members
            if level == "off":
                result.suppressed.append((v, "config"))
                continue
            result.verdicts.append(v)
            result.levels[v] = level
            if e.member:
                result.pattern_of[v] = f.target
    for path, file_sups in sups.items():
        result.problems.extend(suppress.unused(file_sups, finding_lines.get(path, set())))
    result.problems.sort(key=lambda p: (p.path, p.line, p.col))
    result.warnings = [f"{p.where()}: {p.severity}: {p.message}" for p in result.problems]
    return result


def _point(f: Finding, arch: str) -> ProbePoint:
    if f.match == SYSCALL:
        return ProbePoint(syscall_symbol(arch, f.target), f.offset)
    return ProbePoint(f.target, f.offset)


def _level(v: Verdict, severity: dict[str, str]) -> str:
    """The most severe level configured for the reasons that make `v` fail; by default error
    for blocked and missing, warning for uncertain (source alone cannot decide)."""
    default = "warning" if v.status == UNCERTAIN else "error"
    levels = [severity.get(rid, default) for rid in suppress.verdict_ids(v)] or [default]
    return min(levels, key=_RANK.__getitem__)


def _usable(v: Verdict) -> bool:
    """Would a tool expanding a pattern attach here? (probeable, or uncertain but fine if present)."""
    return v.status == PROBEABLE or (v.status == UNCERTAIN and v.if_present == PROBEABLE)


def _refused(v: Verdict) -> bool:
    return v.status == BLOCKED or (v.status == UNCERTAIN and v.if_present.startswith("blocked"))


def _pattern_entries(f: Finding, arch: str, via: str, names: list[str], got: dict, target_note: tuple,
                     target: str, result: ScanResult) -> list[_Entry]:
    """One verdict about the pattern (how many names it matches; missing when nothing can be
    attached), then one per matched name the kernel would refuse."""
    verdicts = [got[(ProbePoint(n), f.kind, via)] for n in names]
    counts = Counter(v.status for v in verdicts)
    nonzero = tuple((s, counts[s]) for s in (PROBEABLE, BLOCKED, UNCERTAIN, MISSING) if counts[s])
    result.expansions.append(Expansion(f.origin, f.target, arch, f.kind, len(names), nonzero))
    how = "regex" if f.match == REGEX else "pattern"
    summary = ", ".join(f"{n} {s}" for s, n in nonzero)
    usable = sum(1 for v in verdicts if _usable(v))
    refused = [v for v in verdicts if _refused(v)]
    if not names:
        status, errno = MISSING, "ENOENT"
        reasons = (Reason("no-definition", f"the {how} {f.target} matches no function of the tree on {arch}: "
                                           "the attach would find nothing"),)
    elif not usable:
        status, errno = MISSING, "ENOENT"
        reasons = (Reason("no-definition", f"the {how} {f.target} matches {len(names)} name(s) on {arch} "
                                           f"({summary}), none of which can be probed: nothing to attach"),)
    else:
        status, errno = PROBEABLE, ""
        reasons = (Reason("note", f"the {how} {f.target} matches {len(names)} name(s) on {arch}: {summary}"
                                  + (f"; the {len(refused)} refused one(s) are listed" if refused else ""),
                          decisive=False),)
    head = Verdict(ProbePoint(f.target), arch, f.kind, via, status, reasons + target_note, expected_errno=errno,
                   origin=f.origin)
    out = [_Entry(head, target)]
    note = (Reason("note", f"matched by the {how} {f.target}", decisive=False),)
    for v in refused:
        out.append(_Entry(replace(v, origin=f.origin, reasons=v.reasons + note + target_note), target, member=True))
    return out
