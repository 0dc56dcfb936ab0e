"""Project configuration: ``[tool.kpanalyze]`` in pyproject.toml, or a ``.kpanalyze.toml``.

    [tool.kpanalyze]                 # in .kpanalyze.toml: the same keys at the top level
    kernel = "../linux-6.1"          # the default target: tree, .config, arches
    config = "configs/config-x86_64"
    arches = ["x86", "arm64"]
    via = "auto"                     # auto (each format's own way in) | tracefs | module
    include = ["bpf/**", "*.bt"]     # scan only these paths (default: every known format)
    exclude = ["third_party/**"]     # never read these
    pattern-members = "warning"      # most severe level for refused names a pattern matches

    [tool.kpanalyze.severity]        # per reason id: error | warning | note | off
    maybe-inlined = "warning"

    [tool.kpanalyze.ignore]
    paths = ["tests/fixtures/**"]    # read, but report nothing found there
    symbols = ["bpf_fentry_test*"]   # report nothing about these names (globs)

    [[tool.kpanalyze.targets]]       # instead of kernel/config/arches: several targets
    name = "debian-6.1-amd64"
    kernel = "/src/linux-6.1"
    config = "/boot/config-6.1.0-13-amd64"
    arches = ["x86"]

Paths are relative to the file's directory. Unknown keys and bad values are input
errors that name the file and line (tomllib gives no positions: the line is found
in the text).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..reasons import CATALOG
from .model import SEVERITIES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

VIA_CHOICES = ("auto", "tracefs", "module")
FILE_NAMES = (".kpanalyze.toml", "pyproject.toml")

_TOP_KEYS = ("kernel", "config", "arches", "via", "include", "exclude", "pattern-members", "severity",
             "ignore", "targets")
_TARGET_KEYS = ("name", "kernel", "config", "arches")
_IGNORE_KEYS = ("paths", "symbols")


@dataclass(frozen=True)
class Target:
    """A kernel tree (None: --kernel, $KPANALYZE_KERNEL or the sample), a .config and arches."""

    name: str
    kernel: Path | None = None
    config: Path | None = None
    arches: tuple[str, ...] = ()


@dataclass
class ProjectConfig:
    path: Path | None = None  # the file read (None: no project configuration)
    root: Path = field(default_factory=Path.cwd)  # what relative paths and globs are relative to
    targets: list[Target] = field(default_factory=lambda: [Target("default")])
    via: str = "auto"
    severity: dict[str, str] = field(default_factory=dict)
    pattern_members: str = "warning"
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    ignore_paths: tuple[str, ...] = ()
    ignore_symbols: tuple[str, ...] = ()


# -- finding and reading the file -------------------------------------------------------

def _has_tool_table(p: Path) -> bool:
    try:
        return re.search(r"^\s*\[\s*tool\s*\.\s*kpanalyze\s*[\].]", p.read_text("utf-8", "replace"), re.M) is not None
    except OSError:
        return False


def discover(start: Path) -> Path | None:
    """The nearest .kpanalyze.toml, or pyproject.toml with [tool.kpanalyze], from `start` up to
    the repository root (the first directory holding .git) or the filesystem root."""
    d = start if start.is_dir() else start.parent
    d = d.resolve()
    for folder in (d, *d.parents):
        own = folder / ".kpanalyze.toml"
        if own.is_file():
            return own
        py = folder / "pyproject.toml"
        if py.is_file() and _has_tool_table(py):
            return py
        if (folder / ".git").exists():
            return None
    return None


def load(path: Path) -> ProjectConfig:
    """Read and check a project configuration file; InputError with file:line on any problem."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read the project configuration ({e.strerror or e})") from None
    try:
        text = raw.decode("utf-8")
        doc = tomllib.loads(text)
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text (byte {e.start})") from None
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{path}: not valid TOML: {e}") from None
    if path.name == "pyproject.toml":
        prefix: tuple = ("tool", "kpanalyze")
        table = doc.get("tool", {}).get("kpanalyze")
        if table is None:
            raise InputError(f"{path}: no [tool.kpanalyze] table")
    else:
        prefix, table = (), doc
    return _Reader(path, text, prefix).config(table)


class _Reader:
    """Checks one table against the schema; every error names file:line."""

    def __init__(self, path: Path, text: str, prefix: tuple):
        self.path, self.text, self.prefix = path, text, prefix
        self.root = path.parent.resolve()

    def fail(self, keys: tuple, message: str):
        line = key_line(self.text, self.prefix + keys)
        where = f"{self.path}:{line}" if line else str(self.path)
        raise InputError(f"{where}: {message}")

    def _name(self, keys: tuple) -> str:
        return ".".join(str(k) for k in (self.prefix + keys) if not isinstance(k, int))

    def table(self, value, keys: tuple, allowed: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            self.fail(keys, f"{self._name(keys)} must be a table")
        for k in value:
            if k not in allowed:
                hint = _close(k, allowed)
                self.fail(keys + (k,), f"unknown key {self._name(keys + (k,))!r}"
                                       + (f" (did you mean {hint!r}?)" if hint else "")
                                       + f"; known: {', '.join(allowed)}")
        return value

    def string(self, value, keys: tuple) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(keys, f"{self._name(keys)} must be a non-empty string")
        return value.strip()

    def strings(self, value, keys: tuple) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(keys, f"{self._name(keys)} must be a string or a list of strings")
        return tuple(v.strip() for v in value if v.strip())

    def choice(self, value, keys: tuple, choices: tuple[str, ...]) -> str:
        if value not in choices:
            self.fail(keys, f"{self._name(keys)} = {value!r}: use one of {', '.join(choices)}")
        return value

    def path_value(self, value, keys: tuple) -> Path:
        p = Path(self.string(value, keys)).expanduser()
        return p if p.is_absolute() else self.root / p

    def arches(self, value, keys: tuple) -> tuple[str, ...]:
        return tuple(a.strip() for v in self.strings(value, keys) for a in v.split(",") if a.strip())

    def target(self, t: dict, keys: tuple, default_name: str) -> Target:
        return Target(
            name=self.string(t["name"], keys + ("name",)) if "name" in t else default_name,
            kernel=self.path_value(t["kernel"], keys + ("kernel",)) if "kernel" in t else None,
            config=self.path_value(t["config"], keys + ("config",)) if "config" in t else None,
            arches=self.arches(t["arches"], keys + ("arches",)) if "arches" in t else ())

    def config(self, table) -> ProjectConfig:
        t = self.table(table, (), _TOP_KEYS)
        cfg = ProjectConfig(path=self.path, root=self.root)
        if "targets" in t:
            if any(k in t for k in ("kernel", "config", "arches")):
                self.fail(("targets",), "give either kernel/config/arches or [[targets]], not both")
            targets = t["targets"]
            if not isinstance(targets, list) or not targets:
                self.fail(("targets",), f"{self._name(('targets',))} must be a non-empty array of tables")
            cfg.targets = []
            for i, entry in enumerate(targets):
                keys = ("targets", i)
                self.table(entry, keys, _TARGET_KEYS)
                cfg.targets.append(self.target(entry, keys, f"target {i + 1}"))
            names = [x.name for x in cfg.targets]
            dup = next((n for n in names if names.count(n) > 1), None)
            if dup:
                self.fail(("targets",), f"two targets are named {dup!r}")
        else:
            cfg.targets = [self.target({k: t[k] for k in ("kernel", "config", "arches") if k in t}, (), "default")]
        if "via" in t:
            cfg.via = self.choice(t["via"], ("via",), VIA_CHOICES)
        if "pattern-members" in t:
            cfg.pattern_members = self.choice(t["pattern-members"], ("pattern-members",), SEVERITIES)
        for key in ("include", "exclude"):
            if key in t:
                setattr(cfg, key, self.strings(t[key], (key,)))
        if "severity" in t:
            sev = t["severity"]
            if not isinstance(sev, dict):
                self.fail(("severity",), f"{self._name(('severity',))} must be a table of reason id = level")
            for rid, level in sev.items():
                if rid not in CATALOG:
                    hint = _close(rid, tuple(CATALOG))
                    self.fail(("severity", rid), f"unknown reason id {rid!r} in {self._name(('severity',))}"
                                                 + (f" (did you mean {hint!r}?)" if hint else "")
                                                 + "; see `kpanalyze reasons`")
                cfg.severity[rid] = self.choice(level, ("severity", rid), SEVERITIES)
        if "ignore" in t:
            ign = self.table(t["ignore"], ("ignore",), _IGNORE_KEYS)
            if "paths" in ign:
                cfg.ignore_paths = self.strings(ign["paths"], ("ignore", "paths"))
            if "symbols" in ign:
                cfg.ignore_symbols = self.strings(ign["symbols"], ("ignore", "symbols"))
        return cfg


def _close(word: str, choices: tuple[str, ...]) -> str:
    import difflib

    m = difflib.get_close_matches(word, choices, n=1, cutoff=0.75)
    return m[0] if m else ""


# -- where a key is written ----------------------------------------------------------------

_BARE = r"[A-Za-z0-9_-]+"
_KEY = rf"(?:{_BARE}|\"(?:[^\"\\]|\\.)*\"|'[^']*')"
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED})\s*\]\]?")
_ASSIGN = re.compile(rf"^\s*({_DOTTED})\s*=")


def _split(dotted: str) -> tuple[str, ...]:
    parts = re.findall(_KEY, dotted)
    return tuple(p[1:-1] if p[:1] in "\"'" else p for p in parts)


def key_line(text: str, keys: tuple) -> int:
    """1-based line where `keys` (strings, and ints for [[array]] entries) is written; else the
    line of its deepest written ancestor; 0 if none is found."""
    current: tuple = ()
    counts: dict[tuple, int] = {}
    best, best_depth = 0, 0
    for n, line in enumerate(text.splitlines(), 1):
        h = _HEADER.match(line)
        if h:
            parts = _split(h.group(2))
            if h.group(1) == "[[":
                counts[parts] = counts.get(parts, -1) + 1
                current = parts + (counts[parts],)
            else:
                current = parts
            found = current
        else:
            a = _ASSIGN.match(line)
            if not a:
                continue
            found = current + _split(a.group(1))
        if found == keys[:len(found)] and len(found) > best_depth:
            best, best_depth = n, len(found)
            if len(found) == len(keys):
                return n
        if not h and found == keys[:len(found)] and len(found) < len(keys):
            # an inline table: the key may be written further on this line
            want = keys[len(found)]
            if isinstance(want, str) and re.search(rf"[{{,]\s*[\"']?{re.escape(want)}[\"']?\s*=", line):
                return n
    return best
