"""Where the files of a Linux kernel source tree are.

KernelTree validates the layout, names the arch directories, and walks the source
files the extractors understand. It only reads bytes; it never runs anything from
the tree, follows no directory symlink twice (loops), and leaves special files alone.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .errors import InputError

# Files larger than this are not read (the largest real source, an AMD register
# header, is 24 MB of #defines with no function in it).
MAX_FILE_SIZE = 20 * 1024 * 1024

# Top-level directories holding host tools, docs and build scripts, not kernel code.
SKIP_TOP_DIRS = frozenset({"tools", "Documentation", "scripts", "LICENSES"})

KINDS = ("c", "asm", "kbuild", "kconfig")

_VERSION_RE = re.compile(rb"^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)[ \t]*=[ \t]*(\S*)[ \t]*$", re.M)


@dataclass(frozen=True)
class SourceFile:
    """One source file found by the walk, with the stat figures the cache keys on."""

    path: str  # relative to the tree root, '/' separators
    kind: str  # "c", "asm", "kbuild", "kconfig"
    size: int
    mtime_ns: int


def source_kind(relpath: str) -> str | None:
    """The extractor kind of a tree-relative path, or None if no extractor reads it."""
    name = relpath.rsplit("/", 1)[-1]
    if name.endswith((".c", ".h")):
        # *.mod.c are modpost outputs of an in-tree build, not sources.
        return None if name.endswith(".mod.c") else "c"
    if name.endswith(".S"):
        return "asm"
    if name in ("Makefile", "Kbuild"):
        return "kbuild"
    if name.startswith("Kconfig"):
        parts = relpath.split("/")
        if len(parts) == 3 and parts[0] == "arch":  # arch/<arch>/Kconfig*
            return "kconfig"
    return None


def read_source(root: str, relpath: str, max_size: int = MAX_FILE_SIZE) -> tuple[bytes | None, str | None]:
    """(bytes, None), or (None, warning) for a file that must be skipped.

    A module-level function so worker processes can read without a KernelTree."""
    full = os.path.join(root, relpath)
    try:
        with open(full, "rb") as f:
            data = f.read(max_size + 1)
    except OSError as e:
        return None, f"{relpath}: unreadable ({e.strerror or e})"
    if len(data) > max_size:
        return None, f"{relpath}: larger than {max_size // (1024 * 1024)} MB, skipped"
    if b"\0" in data:
        return None, f"{relpath}: binary file skipped"
    return data, None


class KernelTree:
    """A Linux kernel source tree on disk (read-only use)."""

    def __init__(self, root: Path | str, *, max_size: int = MAX_FILE_SIZE):
        root = Path(root)
        self.root = root.resolve()
        self.max_size = max_size
        self.warnings: list[str] = []  # "path: message", from the walk and from read()
        self._version = _read_version(self.root)
        if self._version is None or not (self.root / "kernel").is_dir() or not (self.root / "arch").is_dir():
            raise InputError(f"{root}: not a Linux kernel tree "
                             "(no Makefile with VERSION/PATCHLEVEL, no kernel/ or arch/)")

    def __repr__(self) -> str:
        return f"KernelTree({str(self.root)!r}, version={self.version!r})"

    @property
    def version(self) -> str:
        """The kernel version from the top Makefile, e.g. "6.1.176"."""
        return self._version

    def identity(self) -> str:
        """A stable id of this tree (resolved root + version), safe in a file name."""
        digest = hashlib.sha1(f"{self.root}\0{self.version}".encode("utf-8", "surrogateescape")).hexdigest()
        safe_version = re.sub(r"[^A-Za-z0-9._-]", "_", self.version)
        return f"linux-{safe_version}-{digest[:16]}"

    def arches(self) -> list[str]:
        """Names of the arch/*/ directories holding a Kconfig, sorted."""
        out = []
        with os.scandir(self.root / "arch") as it:
            for e in it:
                if e.is_dir() and os.path.isfile(os.path.join(e.path, "Kconfig")):
                    out.append(e.name)
        return sorted(out)

    def iter_sources(self) -> Iterator[tuple[str, str]]:
        """(relpath, kind) of every source file an extractor reads, in path order."""
        for sf in self.scan():
            yield sf.path, sf.kind

    def scan(self) -> Iterator[SourceFile]:
        """Walk the tree; like iter_sources() but with size and mtime of each file.

        Directory symlinks are followed once per real directory (loops and repeats are
        cut); symlinks leading outside the tree, special files and unreadable
        directories are skipped. Warnings go to self.warnings."""
        root = str(self.root)
        seen_dirs = {_dir_key(os.stat(root))}
        stack = [("", root)]  # (relative dir, absolute dir); popped in reverse -> sorted order
        while stack:
            rel, absdir = stack.pop()
            try:
                with os.scandir(absdir) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as e:
                self.warnings.append(f"{rel or '.'}: unreadable directory ({e.strerror or e})")
                continue
            subdirs = []
            for e in entries:
                relpath = f"{rel}/{e.name}" if rel else e.name
                try:
                    is_link = e.is_symlink()
                    # d_type answers for plain entries; only symlinks need a stat to know
                    is_dir = e.is_dir(follow_symlinks=is_link)
                except OSError:
                    continue
                kind = None if is_dir else source_kind(relpath)
                if not is_dir and kind is None:
                    continue  # not a source (or a dangling symlink): no stat needed
                if is_dir and (e.name.startswith(".") or (not rel and e.name in SKIP_TOP_DIRS)):
                    continue
                try:
                    st = e.stat(follow_symlinks=True)
                except OSError:
                    if not is_link:
                        self.warnings.append(f"{relpath}: cannot stat, skipped")
                    continue
                if is_link and not _inside(os.path.realpath(e.path), root):
                    self.warnings.append(f"{relpath}: symlink leads outside the tree, skipped")
                    continue
                if is_dir:
                    key = _dir_key(st)
                    if key in seen_dirs:
                        continue  # a symlink loop or a second way to the same directory
                    seen_dirs.add(key)
                    subdirs.append((relpath, e.path))
                elif stat.S_ISREG(st.st_mode):  # fifos, sockets, devices: ignored
                    yield SourceFile(relpath, kind, st.st_size, st.st_mtime_ns)
            stack.extend(reversed(subdirs))

    def read(self, relpath: str) -> bytes | None:
        """The bytes of a tree-relative file, or None (with a warning recorded) when it is
        binary, larger than the size cap, or unreadable."""
        parts = relpath.split("/")
        if relpath.startswith("/") or ".." in parts:
            raise InputError(f"{relpath}: not a path inside the tree {self.root}")
        data, warning = read_source(str(self.root), relpath, self.max_size)
        if warning:
            self.warnings.append(warning)
        return data


def _dir_key(st: os.stat_result) -> tuple[int, int]:
    return (st.st_dev, st.st_ino)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _read_version(root: Path) -> str | None:
    try:
        with open(root / "Makefile", "rb") as f:
            head = f.read(64 * 1024)
    except OSError:
        return None
    vals = {m.group(1).decode(): m.group(2).decode("utf-8", "replace") for m in _VERSION_RE.finditer(head)}
    if not vals.get("VERSION") or not vals.get("PATCHLEVEL"):
        return None
    version = f"{vals['VERSION']}.{vals['PATCHLEVEL']}"
    if vals.get("SUBLEVEL"):
        version += f".{vals['SUBLEVEL']}"
    return version + vals.get("EXTRAVERSION", "")
