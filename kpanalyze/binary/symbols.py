"""Kernel symbol tables: System.map, /proc/kallsyms, or the .symtab of an ELF vmlinux.

Lines are `ADDRESS TYPE NAME` (System.map, `nm -n` output) or `ADDRESS TYPE NAME\t[MODULE]`
(/proc/kallsyms). Symbols are kept as parallel lists and turned into `Symbol` objects only
when asked for: a kallsyms of 94k lines loads in about 0.1 s.

Sizes follow kallsyms (`get_symbol_pos` in kernel/kallsyms.c): a symbol extends to the next
symbol of higher address. Only text symbols count here (t/T/w/W), which is what the kernel
sees for code: the text sections hold no data symbols, and the section end markers
(`_etext`, `_einittext`, ...) are text symbols themselves in System.map and kallsyms.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import InputError

TEXT_TYPES = frozenset("tTwW")

# Suffixes GCC and clang give to the copies they make of a function: foo.isra.0,
# foo.constprop.1, foo.part.0, foo.cold, foo.lto_priv.0, foo.llvm.123 and their
# combinations (foo.constprop.0.isra.0, foo.part.0.cold).
_CLONE = re.compile(
    r"(?P<base>[^.].*?)"
    r"(?P<suffix>(?:\.(?:isra|constprop|part|cold|lto_priv|localalias|llvm|specialized)(?:\.\d+)?)+)")

# Debian's image packages ship this one-line file in place of System.map.
_PLACEHOLDER = "The real System.map is in"


@dataclass(frozen=True)
class Symbol:
    name: str
    address: int
    type: str  # nm letter: t/T text, w/W weak, d/D data, r/R rodata, b/B bss, a/A absolute
    size: int | None = None  # known only from an ELF symtab; see SymbolTable.size_of
    module: str = ""  # kallsyms [module] column; "" for the kernel itself

    @property
    def is_text(self) -> bool:
        return self.type in TEXT_TYPES


def clone_base(name: str) -> str | None:
    """`foo` for `foo.isra.0`, `foo.cold`, ...; None when `name` is not a compiler clone."""
    m = _CLONE.fullmatch(name)
    return m.group("base") if m else None


class SymbolTable:
    """The symbols of one kernel (and, from kallsyms, its loaded modules)."""

    def __init__(self, entries: list[tuple[int, str, str, str]], *, path: str = "",
                 kind: str = "system.map", sizes: dict[int, int] | None = None):
        """`entries`: (address, type, name, module) in any order. `sizes`: index -> st_size."""
        self.path = path
        self.kind = kind  # "system.map", "kallsyms" or "elf"
        self._addr = [e[0] for e in entries]
        self._type = [e[1] for e in entries]
        self._name = [e[2] for e in entries]
        self._mod = [e[3] for e in entries]
        self._sizes = sizes or {}
        by_name: dict[str, list[int]] = {}
        for i, n in enumerate(self._name):
            lst = by_name.get(n)
            if lst is None:
                by_name[n] = [i]
            else:
                lst.append(i)
        self._by_name = by_name
        # Text symbols sorted by (module, address): one sorted run per module, so sizes and
        # `containing` never cross from the kernel into a module or between modules.
        text = [i for i, t in enumerate(self._type) if t in TEXT_TYPES and self._addr[i]]
        text.sort(key=lambda i: (self._mod[i], self._addr[i]))
        self._text = text
        self._text_key = [(self._mod[i], self._addr[i]) for i in text]
        self._clones: dict[str, list[int]] | None = None

    def __len__(self) -> int:
        return len(self._name)

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, path: str | Path) -> "SymbolTable":
        """System.map or /proc/kallsyms, told apart by the `[module]` column (or the name)."""
        p = Path(path)
        try:
            raw = p.read_bytes()
        except OSError as e:
            raise InputError(f"{p}: cannot read the symbol table ({e.strerror or e})") from None
        if raw[:4] == b"\x7fELF":
            raise InputError(f"{p}: an ELF file, not a symbol table: give it as --vmlinux")
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            raise InputError(f"{p}: not a symbol table (System.map or kallsyms): binary data") from None
        return cls.parse(text, path=str(p))

    @classmethod
    def parse(cls, text: str, *, path: str = "<symbols>") -> "SymbolTable":
        entries: list[tuple[int, str, str, str]] = []
        append = entries.append
        has_module = False
        for lineno, line in enumerate(text.splitlines(), 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) == 3:
                mod = ""
            elif len(parts) == 4 and parts[3][:1] == "[" and parts[3][-1:] == "]":
                mod = parts[3][1:-1]
                has_module = True
            else:
                if _PLACEHOLDER in line:
                    raise InputError(f"{path}: this is Debian's placeholder System.map; the real one is in the "
                                     "linux-image-<version>-dbg package (or use /proc/kallsyms of the booted kernel)")
                raise InputError(f"{path}:{lineno}: malformed symbol line {line.strip()[:80]!r} "
                                 "(expected 'ADDRESS TYPE NAME' or 'ADDRESS TYPE NAME [MODULE]')")
            a, t, n = parts[0], parts[1], parts[2]
            try:
                addr = int(a, 16)
            except ValueError:
                addr = -1
            if addr < 0 or len(t) != 1 or not t.isalpha() or len(a) > 16:
                raise InputError(f"{path}:{lineno}: malformed symbol line {line.strip()[:80]!r} "
                                 "(expected 'ADDRESS TYPE NAME' with a hex address and a one-letter type)")
            append((addr, t, n, mod))
        if not entries:
            raise InputError(f"{path}: empty symbol table")
        kind = "kallsyms" if has_module or "kallsyms" in Path(path).name else "system.map"
        table = cls(entries, path=path, kind=kind)
        if not table._text:
            if all(e[0] == 0 for e in entries):
                raise InputError(f"{path}: every address is 0 (kallsyms read without root, or kptr_restrict): "
                                 "read /proc/kallsyms as root")
            raise InputError(f"{path}: no text symbols (types t/T/w/W) in the symbol table")
        return table

    @classmethod
    def from_elf(cls, elf, *, path: str = "") -> "SymbolTable | None":
        """The .symtab of an ELF vmlinux (pyelftools ELFFile), with nm's type letters; None
        when the file has no symbol table (a stripped vmlinux, the ELF inside a bzImage)."""
        from .elfsyms import elf_symbols
        got = elf_symbols(elf)
        if got is None:
            return None
        entries, sizes = got
        if not entries:
            return None
        return cls(entries, path=path, kind="elf", sizes=sizes)

    # ------------------------------------------------------------------ queries

    def _sym(self, i: int) -> Symbol:
        return Symbol(self._name[i], self._addr[i], self._type[i], self._sizes.get(i), self._mod[i])

    def lookup(self, name: str) -> list[Symbol]:
        """Text symbols (t/T/w/W) with exactly this name, by address."""
        idx = [i for i in self._by_name.get(name, ()) if self._type[i] in TEXT_TYPES]
        return sorted((self._sym(i) for i in idx), key=lambda s: (s.module, s.address))

    def symbols(self, name: str) -> list[Symbol]:
        """Every symbol of this name, any type."""
        return [self._sym(i) for i in self._by_name.get(name, ())]

    def address(self, name: str) -> int | None:
        """The address of a kernel (not module) symbol of any type; None if absent."""
        for i in self._by_name.get(name, ()):
            if not self._mod[i]:
                return self._addr[i]
        return None

    def clones(self, base: str) -> list[Symbol]:
        """The compiler copies of `base`: base.isra.0, base.constprop.1, base.part.0, base.cold..."""
        if self._clones is None:
            clones: dict[str, list[int]] = {}
            for i in self._text:
                n = self._name[i]
                if "." in n:
                    b = clone_base(n)
                    if b is not None:
                        clones.setdefault(b, []).append(i)
            self._clones = clones
        return [self._sym(i) for i in self._clones.get(base, ())]

    def _pos(self, addr: int, module: str = "") -> int:
        """Index into _text of the last text symbol at or below addr (same module), or -1."""
        k = bisect.bisect_right(self._text_key, (module, addr)) - 1
        if k >= 0 and self._text_key[k][0] == module:
            return k
        return -1

    def _end(self, k: int) -> int | None:
        """Address of the next text symbol of higher address in the same module (kallsyms' end)."""
        mod, addr = self._text_key[k]
        j = bisect.bisect_right(self._text_key, (mod, addr))
        if j < len(self._text_key) and self._text_key[j][0] == mod:
            return self._text_key[j][1]
        return None

    def containing(self, addr: int, module: str = "") -> Symbol | None:
        """The text symbol whose [address, address + size) holds addr (the first name of
        aliases at the same address: the kernel reports that one too)."""
        k = self._pos(addr, module)
        if k < 0:
            return None
        end = self._end(k)
        if end is None or addr >= end:
            return None
        start = self._text_key[k][1]
        k0 = bisect.bisect_left(self._text_key, (module, start))
        return self._sym(self._text[k0])

    def size_of(self, sym: Symbol) -> int:
        """Distance from sym to the next text symbol of higher address (0 for the last one)."""
        k = self._pos(sym.address, sym.module)
        if k < 0 or self._text_key[k][1] != sym.address:
            return sym.size or 0
        end = self._end(k)
        return end - sym.address if end is not None else 0

    def kallsyms_without_all(self) -> "SymbolTable":
        """What /proc/kallsyms holds of this System.map/vmlinux table on a kernel without
        CONFIG_KALLSYMS_ALL: scripts/kallsyms.c (symbol_valid) keeps only the symbols inside
        [_stext, _etext] and [_sinittext, _einittext] (so no data, and no text placed after
        _etext such as arm64's .entry.tramp.text)."""
        ranges = [(self.address(a), self.address(b)) for a, b in (("_stext", "_etext"), ("_sinittext", "_einittext"))]
        ranges = [(lo, hi) for lo, hi in ranges if lo is not None and hi is not None]
        if not ranges:
            return self
        keep = [(self._addr[i], self._type[i], self._name[i], self._mod[i]) for i in range(len(self._name))
                if self._mod[i] or any(lo <= self._addr[i] <= hi for lo, hi in ranges)]
        return SymbolTable(keep, path=self.path, kind=self.kind)

    def text_symbols(self) -> Iterator[Symbol]:
        """Every text symbol, by (module, address)."""
        for i in self._text:
            yield self._sym(i)

    def text_range(self) -> tuple[int, int] | None:
        """(lowest, highest) address of the kernel's own text symbols (modules excluded)."""
        n = bisect.bisect_right(self._text_key, ("", 1 << 64))
        if n == 0:
            return None
        return self._text_key[0][1], self._text_key[n - 1][1]
