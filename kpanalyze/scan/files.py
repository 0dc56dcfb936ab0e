"""Which files a scan reads, and how each is read.

PATH arguments are files or directories. A directory in a git work tree lists what git
tracks or would track (.gitignore applies); elsewhere it is walked without following
symlinked directories. .git and other tool folders (.venv, node_modules...) are skipped.
Each file is dispatched by name, or for a file without an extension by its ``#!`` line:

    .c .h (.bpf.c)                 C: BPF sections, libbpf calls, struct kprobe
    .bt                            bpftrace
    .py                            bcc
    kprobe_events, *.events        kprobe_events definitions

Broken inputs never stop a scan: an unreadable file, a symlink loop, a binary file,
a file that is not UTF-8 or is larger than MAX_BYTES is a Problem (a warning with its
path) and is skipped.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .model import Problem

MAX_BYTES = 8 * 1024 * 1024
SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".tox", ".nox", ".venv", "__pycache__", "node_modules",
                       ".mypy_cache", ".pytest_cache", ".ruff_cache"})
FORMATS = ("c", "bpftrace", "bcc", "events")


@dataclass
class Source:
    path: str  # shown in reports: relative to the working directory when under it, '/'-separated
    rel: str  # relative to the project root (what include/exclude/ignore globs see)
    fmt: str  # one of FORMATS
    data: bytes | None = None  # None: read from `file`
    file: Path | None = None


def format_of(name: str, head: bytes | None = None) -> str | None:
    low = name.lower()
    if low.endswith((".c", ".h")):
        return "c"
    if low.endswith(".bt"):
        return "bpftrace"
    if low.endswith(".py"):
        return "bcc"
    if low == "kprobe_events" or low.endswith(".events"):
        return "events"
    if head and head.startswith(b"#!"):
        first = head.split(b"\n", 1)[0]
        if b"bpftrace" in first:
            return "bpftrace"
        if b"python" in first:
            return "bcc"
    return None


# -- globs -----------------------------------------------------------------------------------

def glob_regex(pattern: str) -> re.Pattern:
    """gitignore-like: '**' spans folders, '*' and '?' stay within one, a pattern without '/'
    matches a name at any depth, a trailing '/' matches everything under a folder."""
    p = pattern.strip()
    if p.endswith("/"):
        p += "**"
    anchored = "/" in p.rstrip("/")
    p = p.lstrip("/")
    out, i = [], 0
    while i < len(p):
        c = p[i]
        if p.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif p.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            j = p.find("]", i + 1)
            if j < 0:
                out.append(re.escape(c))
                i += 1
            else:
                body = p[i + 1:j]
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                i = j + 1
        else:
            out.append(re.escape(c))
            i += 1
    body = "".join(out)
    return re.compile(("" if anchored else "(?:.*/)?") + body + "(?:/.*)?$")


class Globs:
    def __init__(self, patterns: tuple[str, ...]):
        self.patterns = patterns
        self._res = [glob_regex(p) for p in patterns]

    def __bool__(self) -> bool:
        return bool(self._res)

    def match(self, rel: str) -> bool:
        return any(r.match(rel) for r in self._res)


# -- paths ------------------------------------------------------------------------------------

def shown_path(p: Path, base: Path) -> str:
    """`p` relative to `base` ('/'-separated), or as given when it is not under `base`."""
    try:
        return p.relative_to(base).as_posix()
    except ValueError:
        return p.as_posix()


def _absolute(p: Path) -> Path:
    # Not resolve(): a symlink loop must stay a path we can report, not an exception.
    return Path(os.path.abspath(p))


def gather(paths: list[str], *, root: Path, include: Globs, exclude: Globs, cwd: Path | None = None
           ) -> tuple[list[Source], list[Problem]]:
    """The files to scan under `paths`, with their formats; problems for what cannot be used."""
    cwd = cwd or Path.cwd()
    out: list[Source] = []
    problems: list[Problem] = []
    seen: set[str] = set()

    def consider(p: Path, explicit: bool) -> None:
        ap = _absolute(p)
        key = str(ap)
        if key in seen:
            return
        seen.add(key)
        shown, rel = shown_path(ap, cwd), shown_path(ap, root)
        if exclude and exclude.match(rel):
            return
        fmt = format_of(p.name)
        if fmt is None and "." not in p.name:
            fmt = format_of(p.name, _head(p))
        if fmt is None:
            return
        if include and not include.match(rel) and not explicit:
            return
        out.append(Source(shown, rel, fmt, file=ap))

    for arg in paths:
        p = Path(arg)
        if p.is_symlink() and not p.exists():
            problems.append(Problem(shown_path(_absolute(p), cwd), 0, 0, "warning", "unreadable",
                                    "dangling symlink or symlink loop: skipped"))
            continue
        if not p.exists():
            raise InputError(f"{arg}: no such file or directory")
        if p.is_dir():
            listed = _git_listing(p)
            if listed is not None:
                for rel in listed:
                    f = p / rel
                    if not SKIP_DIRS.intersection(Path(rel).parts[:-1]) and (f.is_symlink() or f.is_file()):
                        consider(f, False)
                continue
            for folder, dirs, files in os.walk(p, onerror=lambda e: problems.append(Problem(
                    shown_path(_absolute(Path(e.filename or arg)), cwd), 0, 0, "warning", "unreadable",
                    f"cannot list the folder ({e.strerror or e}): skipped"))):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
                for name in sorted(files):
                    consider(Path(folder) / name, False)
        else:
            consider(p, True)
    return out, problems


def _git_listing(folder: Path) -> list[str] | None:
    """The files under `folder` that git tracks or would track (.gitignore applied), relative
    to it and sorted; None when `folder` is not in a git work tree (then it is walked)."""
    try:
        r = subprocess.run(["git", "-C", str(folder), "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard", "--", "."], capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if r.returncode != 0:
        return None
    return sorted(set(n for n in r.stdout.decode("utf-8", "surrogateescape").split("\0") if n))


def _head(p: Path) -> bytes:
    try:
        with open(p, "rb") as f:
            return f.read(256)
    except OSError:
        return b""


def read(src: Source) -> tuple[bytes | None, str | None, Problem | None]:
    """(bytes, text) of a source, or a Problem saying why it is skipped."""
    def skip(code: str, message: str, line: int = 0) -> tuple[None, None, Problem]:
        return None, None, Problem(src.path, line, 1 if line else 0, "warning", code, message + ": skipped")

    data = src.data
    if data is None:
        try:
            size = os.stat(src.file).st_size
            if size > MAX_BYTES:
                return skip("too-large", f"{size / 1e6:.1f} MB, more than the {MAX_BYTES // (1024 * 1024)} MiB "
                                         "a scanned file may have")
            with open(src.file, "rb") as f:
                data = f.read(MAX_BYTES + 1)
        except OSError as e:
            what = "symlink loop" if e.errno == errno.ELOOP else (e.strerror or str(e))
            return skip("unreadable", f"cannot read ({what})")
    if len(data) > MAX_BYTES:
        return skip("too-large", f"more than the {MAX_BYTES // (1024 * 1024)} MiB a scanned file may have")
    if b"\0" in data:
        return skip("binary", "binary file (NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return skip("not-utf8", f"not UTF-8 text (byte {e.start})", data.count(b"\n", 0, e.start) + 1)
    return data, text, None


# -- git's staged files ---------------------------------------------------------------------

def _git(args: list[str], cwd: Path, data: bytes | None = None) -> bytes:
    try:
        r = subprocess.run(["git", *args], cwd=cwd, input=data, capture_output=True)
    except OSError as e:
        raise InputError(f"--staged needs git ({e.strerror or e})") from None
    if r.returncode != 0:
        msg = r.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"--staged: git {args[0]} failed: {msg[0] if msg else r.returncode}")
    return r.stdout


def gather_staged(paths: list[str], *, root: Path, include: Globs, exclude: Globs, cwd: Path | None = None
                  ) -> tuple[list[Source], list[Problem]]:
    """The files staged in the git index under `paths` (default: the whole repository), with
    their staged content: what `git commit` would record."""
    cwd = cwd or Path.cwd()
    top = Path(_git(["rev-parse", "--show-toplevel"], cwd).decode().strip())
    names = [n for n in _git(["diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR"], top)
             .decode("utf-8", "surrogateescape").split("\0") if n]
    wanted = [_absolute(Path(a)) for a in paths] if paths else []
    out: list[Source] = []
    problems: list[Problem] = []
    modes = _staged_modes(top)
    for name in names:
        ap = _absolute(top / name)
        if wanted and not any(ap == w or w in ap.parents for w in wanted):
            continue
        rel, shown = shown_path(ap, root), shown_path(ap, cwd)
        if exclude and exclude.match(rel):
            continue
        if modes.get(name, "100644") == "120000":
            continue  # a symlink: its target is another path
        blob = _git(["cat-file", "blob", f":{name}"], top)
        fmt = format_of(ap.name, blob[:256] if "." not in ap.name else None)
        if fmt is None or (include and not include.match(rel)):
            continue
        out.append(Source(shown, rel, fmt, data=blob))
    return out, problems


def _staged_modes(top: Path) -> dict[str, str]:
    out = {}
    for entry in _git(["ls-files", "-s", "-z"], top).decode("utf-8", "surrogateescape").split("\0"):
        if entry:
            meta, _, name = entry.partition("\t")
            out[name] = meta.split(" ")[0]
    return out
