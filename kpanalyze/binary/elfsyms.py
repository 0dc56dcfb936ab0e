"""The .symtab of an ELF vmlinux as System.map would list it (nm's type letters).

pyelftools finds the sections; the symbol records themselves are unpacked with `struct`
(pyelftools builds an object per symbol: 10 s for a 200k-symbol vmlinux, against 0.3 s).
Filtering follows scripts/mksysmap (6.1): no a/N/U/w symbols, no `$` (ARM/AArch64 mapping
symbols $a, $d, $t, $x), `.L`, `__crc_`, `__kstrtab_`, `__kstrtabns_` or `L0` names; the
result equals the System.map of the same build (checked on Debian's arm64 6.1.176).
"""

from __future__ import annotations

import struct

SHN_UNDEF, SHN_ABS, SHN_COMMON = 0, 0xFFF1, 0xFFF2
STT_OBJECT, STT_FUNC, STT_SECTION, STT_FILE = 1, 2, 3, 4
STB_LOCAL, STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE = 0, 1, 2, 10
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 1, 2, 4
SHT_NOBITS = 8
_DROPPED = (".L", "__crc_", "__kstrtab_", "__kstrtabns_")


def _letter(bind: int, typ: int, shndx: int, sections) -> str | None:
    if shndx == SHN_UNDEF:
        return None
    if bind == STB_WEAK:
        return "V" if typ == STT_OBJECT else "W"
    if shndx == SHN_ABS:
        c = "a"
    elif shndx == SHN_COMMON:
        c = "c"
    elif shndx >= len(sections):
        return None
    else:
        flags, shtype = sections[shndx]
        if flags & SHF_EXECINSTR:
            c = "t"
        elif shtype == SHT_NOBITS and flags & SHF_ALLOC:
            c = "b"
        elif flags & SHF_ALLOC:
            c = "d" if flags & SHF_WRITE else "r"
        else:
            return None  # debug and other non-allocated sections
    if bind == STB_GLOBAL or bind == STB_GNU_UNIQUE:
        c = c.upper()
    return c


def elf_symbols(elf) -> tuple[list[tuple[int, str, str, str]], dict[int, int]] | None:
    """(entries, sizes) as SymbolTable wants them, or None without a .symtab."""
    symtab = elf.get_section_by_name(".symtab")
    if symtab is None or symtab["sh_type"] != "SHT_SYMTAB":
        return None
    strtab = elf.get_section(symtab["sh_link"]).data()
    sections = [(s["sh_flags"], 8 if s["sh_type"] == "SHT_NOBITS" else 0) for s in elf.iter_sections()]
    little = elf.little_endian
    if elf.elfclass == 64:
        fmt = ("<" if little else ">") + "IBBHQQ"  # name, info, other, shndx, value, size
    else:
        fmt = ("<" if little else ">") + "IIIBBH"  # name, value, size, info, other, shndx
    data = symtab.data()
    entries: list[tuple[int, str, str, str]] = []
    sizes: dict[int, int] = {}
    for rec in struct.iter_unpack(fmt, data):
        if elf.elfclass == 64:
            name_off, info, _other, shndx, value, size = rec
        else:
            name_off, value, size, info, _other, shndx = rec
        typ, bind = info & 0xF, info >> 4
        if typ in (STT_SECTION, STT_FILE) or not name_off:
            continue
        end = strtab.find(b"\0", name_off)
        name = strtab[name_off:end].decode("utf-8", "replace")
        if name[:1] == "$" or name == "L0" or name.startswith(_DROPPED):
            continue
        letter = _letter(bind, typ, shndx, sections)
        if letter is None or letter == "a":
            continue
        if size:
            sizes[len(entries)] = size
        entries.append((value, letter, name, ""))
    return entries, sizes
