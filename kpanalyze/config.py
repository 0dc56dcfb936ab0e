"""A kernel `.config`: which Kconfig symbols are set, and to what.

One object per file, no global state, so configs of several arches can be used side
by side. Names are accepted with or without the ``CONFIG_`` prefix.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from .errors import InputError

_SET = re.compile(r"CONFIG_([A-Za-z0-9_]+)=(.*)")
_UNSET = re.compile(r"# CONFIG_([A-Za-z0-9_]+) is not set")

# The symbol every arch's Kconfig defines for itself, checked in this order (ARM64
# before ARM, X86 before UML...). Value: the arch directory name.
_ARCH_SYMBOLS = (
    ("UML", "um"),
    ("X86", "x86"),
    ("ARM64", "arm64"),
    ("ARM", "arm"),
    ("RISCV", "riscv"),
    ("PPC", "powerpc"),
    ("S390", "s390"),
    ("LOONGARCH", "loongarch"),
    ("MIPS", "mips"),
    ("SPARC", "sparc"),
    ("IA64", "ia64"),
    ("PARISC", "parisc"),
    ("ALPHA", "alpha"),
    ("ARC", "arc"),
    ("CSKY", "csky"),
    ("HEXAGON", "hexagon"),
    ("M68K", "m68k"),
    ("MICROBLAZE", "microblaze"),
    ("NIOS2", "nios2"),
    ("OPENRISC", "openrisc"),
    ("SUPERH", "sh"),
    ("XTENSA", "xtensa"),
)


def _strip(sym: str) -> str:
    return sym[7:] if sym.startswith("CONFIG_") else sym


def _unquote(raw: str) -> str:
    """A Kconfig string value: drop the quotes and undo the \\" and \\\\ escapes."""
    body = raw[1:-1] if len(raw) >= 2 and raw[-1] == '"' else raw[1:]
    return re.sub(r"\\(.)", r"\1", body)


class KernelConfig:
    """The symbols of one `.config`. Values are 'y', 'm', or the string/number as text
    (quotes removed); unset symbols are absent. Hashable by identity (used as a cache key)."""

    __slots__ = ("path", "_values", "warnings")

    def __init__(self, values: Mapping[str, str], path: str = "", warnings: tuple[str, ...] = ()):
        set_ = object.__setattr__
        set_(self, "path", path)
        set_(self, "_values", MappingProxyType({_strip(k): v for k, v in values.items()}))
        set_(self, "warnings", tuple(warnings))  # "path:line: message" for skipped lines

    def __setattr__(self, name, value):
        raise AttributeError("KernelConfig is read-only")

    @classmethod
    def load(cls, path: str | Path) -> "KernelConfig":
        """Parse a `.config` file; InputError (path:line) if it is not one."""
        p = Path(path)
        try:
            data = p.read_bytes()
        except OSError as e:
            raise InputError(f"{p}: cannot read config: {e.strerror or e}") from None
        return cls.parse(data, str(p))

    @classmethod
    def parse(cls, data: bytes | str, path: str = "<config>") -> "KernelConfig":
        if isinstance(data, bytes):
            if b"\0" in data[:4096]:
                raise InputError(f"{path}:1: not a kernel .config (binary data)")
            text = data.decode("utf-8", errors="replace")
        else:
            text = data
        values: dict[str, str] = {}
        warnings: list[str] = []
        seen_config_line = False
        for lineno, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line:
                continue
            m = _SET.fullmatch(line)
            if m:
                seen_config_line = True
                name, raw = m.group(1), m.group(2).strip()
                if raw.startswith('"'):
                    values[name] = _unquote(raw)
                elif raw in ("", "n"):
                    values.pop(name, None)  # `CONFIG_X=` / `=n`: not set
                else:
                    values[name] = raw
                continue
            m = _UNSET.fullmatch(line)
            if m:
                seen_config_line = True
                values.pop(m.group(1), None)
                continue
            if line.startswith("#"):
                continue
            msg = f"{path}:{lineno}: not a kernel .config line: {line[:60]!r}"
            if not seen_config_line:  # junk before any CONFIG_ line: not a .config at all
                raise InputError(msg)
            warnings.append(msg)  # like Kconfig: skip odd lines in an otherwise good file
        if not seen_config_line:
            raise InputError(f"{path}:1: not a kernel .config (no CONFIG_ line)")
        return cls(values, path, tuple(warnings))

    # -- queries -------------------------------------------------------------------

    def value(self, sym: str) -> str | None:
        """'y', 'm', the string/number as text, or None when the symbol is not set."""
        return self._values.get(_strip(sym))

    def enabled(self, sym: str) -> bool:
        """Set to y or m."""
        return self._values.get(_strip(sym)) in ("y", "m")

    def builtin(self, sym: str) -> bool:
        return self._values.get(_strip(sym)) == "y"

    def module(self, sym: str) -> bool:
        return self._values.get(_strip(sym)) == "m"

    def int_value(self, sym: str) -> int | None:
        """The value as a C preprocessor sees it: y -> 1, int/hex -> int, unset/m -> None."""
        v = self._values.get(_strip(sym))
        if v is None or v == "m":
            return None
        if v == "y":
            return 1
        try:
            return int(v, 0)
        except ValueError:
            return None

    def symbols(self) -> Mapping[str, str]:
        """All set symbols (without the CONFIG_ prefix), read-only."""
        return self._values

    def arch_hint(self) -> str | None:
        """The arch directory this config was made for, guessed from CONFIG_X86, ..."""
        for sym, arch in _ARCH_SYMBOLS:
            if self._values.get(sym) == "y":
                return arch
        return None

    def __contains__(self, sym: str) -> bool:
        return _strip(sym) in self._values

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"KernelConfig({self.path!r}, {len(self._values)} symbols)"
