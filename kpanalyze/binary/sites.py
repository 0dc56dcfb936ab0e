"""Addresses the kernel treats specially, read from the image's own tables.

Each table is found by its `__start_X` / `__stop_X` symbols (an ELF image's section headers
are the fallback for the tables that are output sections of their own: __bug_table,
__ex_table). Entry layouts, from the 6.1 sources:

- __jump_table, `struct jump_entry` (include/linux/jump_label.h): with
  CONFIG_HAVE_ARCH_JUMP_LABEL_RELATIVE (x86, arm64, riscv: arch/{x86,arm64}/include/asm/
  jump_label.h emit `.long 1b - ., %l[l_yes] - .` then a long `key - .`) it is
  {s32 code; s32 target; long key}, code = &entry->code + code. arm
  (arch/arm/include/asm/jump_label.h, `.word 1b, %l[l_yes], %c0`) stores three absolute u32.
- .static_call_sites, `struct static_call_site` (include/linux/static_call_types.h):
  {s32 addr; s32 key}, both relative to their field; the low 2 bits of key are flags
  (STATIC_CALL_SITE_TAIL, STATIC_CALL_SITE_INIT). x86 only (HAVE_STATIC_CALL_INLINE).
- __bug_table, `struct bug_entry` (include/asm-generic/bug.h): bug_addr is a relative s32
  with CONFIG_GENERIC_BUG_RELATIVE_POINTERS (x86_64, arm64, riscv64, ...), else an absolute
  unsigned long (arm). CONFIG_DEBUG_BUGVERBOSE adds file and line: the entry is 12 or 8
  bytes on x86_64/arm64/arm. The image does not say which, so both sizes are tried and the
  one whose addresses all fall inside text symbols wins (verbose first).
- __ex_table, `struct exception_table_entry`: x86 {int insn, fixup, data}
  (arch/x86/include/asm/extable.h), arm64 {int insn, fixup; short type, data}
  (arch/arm64/include/asm/extable.h), both relative (ARCH_HAS_RELATIVE_EXTABLE); arm uses
  include/asm-generic/extable.h {unsigned long insn, fixup}, absolute.
- __mcount_loc: absolute unsigned longs (scripts/recordmcount, objtool --mcount or
  -mrecord-mcount), relocated at boot on arm64 (KernelImage.pointers applies the RELA
  addends). ftrace turns each into its call site with ftrace_call_adjust()
  (arch/*/include/asm/ftrace.h): x86 returns the address unchanged (the `call __fentry__`,
  at func+0, or +4 after endbr64); arm clears bit 0 (Thumb-2 addresses); arm64 with
  CONFIG_DYNAMIC_FTRACE_WITH_REGS returns addr + AARCH64_INSN_SIZE: the recorded address
  is the first of the two NOPs of -fpatchable-function-entry=2 (func+0, or func+4 after
  `bti c`) and the site is the second NOP, which becomes the `bl` (func+4 or func+8).
  Without WITH_REGS the recorded address already is the `bl _mcount`. Which one an image
  uses is read from it: NOPs at the recorded addresses mean patchable entries.
- _kprobe_blacklist: unsigned long function addresses (include/asm-generic/kprobes.h,
  NOKPROBE_SYMBOL); kernel/kprobes.c:kprobe_add_ksym_blacklist makes each
  [addr, addr + kallsyms size) and skips addresses kallsyms does not know.
"""

from __future__ import annotations

import bisect
import struct
from functools import cached_property

from .image import KernelImage
from .symbols import SymbolTable

AARCH64_NOP = 0xD503201F
AARCH64_INSN_SIZE = 4

# Tables: attribute -> (start symbol, stop symbol, ELF section fallback).
TABLES = {
    "jump_labels": ("__start___jump_table", "__stop___jump_table", ""),
    "static_calls": ("__start_static_call_sites", "__stop_static_call_sites", ""),
    "bugs": ("__start___bug_table", "__stop___bug_table", "__bug_table"),
    "extable": ("__start___ex_table", "__stop___ex_table", "__ex_table"),
    "ftrace": ("__start_mcount_loc", "__stop_mcount_loc", ""),
    "kprobe_blacklist": ("__start_kprobe_blacklist", "__stop_kprobe_blacklist", ""),
    # x86 code rewritten at boot according to the CPU and hypervisor
    "alternatives": ("__alt_instructions", "__alt_instructions_end", ".altinstructions"),
    "paravirt": ("__parainstructions", "__parainstructions_end", ".parainstructions"),
}

_REL_JUMP_LABEL = {"x86", "arm64", "riscv", "s390", "powerpc", "loongarch"}
_REL_BUG = {"x86", "arm64", "riscv", "s390", "powerpc", "loongarch"}  # 64-bit only
# __ex_table: (struct format, insn first; relative to the entry or absolute)
_EXTABLE = {"x86": ("iii", True), "arm64": ("iihh", True), "riscv": ("iihh", True),
            "arm": ("II", False)}


class SpecialSites:
    """The special addresses of one image, each table read on first use."""

    def __init__(self, image: KernelImage, symbols: SymbolTable | None = None):
        self.image = image
        self.symbols = symbols if symbols is not None else image.symbols
        self.missing: dict[str, str] = {}  # table -> why it could not be read (then it is empty)
        self.notes: dict[str, str] = {}  # table -> how it was read (layout chosen, adjustment)

    def _bounds(self, what: str) -> tuple[int, int] | None:
        lo_name, hi_name, section = TABLES[what]
        syms = self.symbols
        lo = syms.address(lo_name) if syms else None
        hi = syms.address(hi_name) if syms else None
        if (lo is None or hi is None) and section:
            got = self.image.section(section)
            if got:
                lo, hi = got
        if lo is None or hi is None:
            self.missing[what] = f"no {lo_name}/{hi_name} in the symbol table"
            return None
        if hi < lo:
            self.missing[what] = f"{hi_name} < {lo_name}"
            return None
        if hi > lo and not self.image.contains(lo, hi - lo):
            self.missing[what] = f"{lo_name}..{hi_name} ({lo:#x}..{hi:#x}) is not in the image"
            return None
        return lo, hi

    def _records(self, what: str, fmt: str, size: int) -> tuple[int, list[tuple]] | None:
        b = self._bounds(what)
        if b is None:
            return None
        lo, hi = b
        if (hi - lo) % size:
            self.missing[what] = f"table size {hi - lo:#x} is not a multiple of the entry size {size}"
            return None
        return lo, self.image.unpack(fmt, lo, (hi - lo) // size)

    @property
    def _long(self) -> str:
        return "q" if self.image.bits == 64 else "i"

    # ------------------------------------------------------------------ tables

    @cached_property
    def jump_labels(self) -> set[int]:
        arch = self.image.arch
        if arch == "arm" or (arch not in _REL_JUMP_LABEL and self.image.bits == 32):
            got = self._records("jump_labels", "III", 12)
            return {r[0] for r in got[1]} if got else set()
        if arch not in _REL_JUMP_LABEL:
            self.missing["jump_labels"] = f"jump_entry layout of {arch} not known"
            return set()
        step = 8 + self.image.word_size
        got = self._records("jump_labels", "ii" + self._long, step)
        return _relative(*got, step) if got else set()

    @cached_property
    def static_calls(self) -> set[int]:
        if self.image.arch != "x86":
            return set()  # inline static calls (patched call sites) are x86 only in 6.1
        got = self._records("static_calls", "ii", 8)
        return _relative(*got, 8) if got else set()

    @cached_property
    def bugs(self) -> set[int]:
        b = self._bounds("bugs")
        if b is None:
            return set()
        lo, hi = b
        relative = self.image.arch in _REL_BUG and self.image.bits == 64
        w = self.image.word_size
        if relative:
            layouts = [("verbose", "i", 12), ("terse", "i", 8)]
        else:
            # {ulong bug_addr; const char *file; u16 line; u16 flags} / {ulong bug_addr; u16 flags}
            layouts = [("verbose", "", 12 if w == 4 else 24), ("terse", "", 8 if w == 4 else 16)]
        best: tuple[float, str, set[int]] | None = None
        for label, fmt, size in layouts:
            if (hi - lo) % size:
                continue
            n = (hi - lo) // size
            if relative:
                addrs = _relative(lo, self.image.unpack(fmt + f"{size - 4}x", lo, n), size)
            else:
                addrs = set(self.image.pointers(lo, hi)[:: size // w])
            score = self._in_text(addrs)
            if best is None or score > best[0]:
                best = (score, f"{label} struct bug_entry, {size} bytes", addrs)
        if best is None:
            self.missing["bugs"] = f"table size {hi - lo:#x} fits no struct bug_entry layout"
            return set()
        self.notes["bugs"] = f"{best[1]}; {best[0]:.1%} of the addresses in text symbols"
        return best[2]

    @cached_property
    def extable(self) -> set[int]:
        arch = self.image.arch
        if arch not in _EXTABLE:
            self.missing["extable"] = f"exception_table_entry layout of {arch} not known"
            return set()
        fmt, relative = _EXTABLE[arch]
        size = struct.calcsize("<" + fmt)
        got = self._records("extable", fmt, size)
        if not got:
            return set()
        lo, recs = got
        return _relative(lo, recs, size) if relative else {r[0] for r in recs}

    @cached_property
    def mcount_loc(self) -> list[int]:
        """The __mcount_loc entries as recorded (before ftrace_call_adjust)."""
        b = self._bounds("ftrace")
        if b is None:
            return []
        return [a for a in self.image.pointers(*b) if a]

    @cached_property
    def ftrace(self) -> set[int]:
        """ftrace call sites: ftrace_call_adjust(entry) for every __mcount_loc entry."""
        locs = self.mcount_loc
        arch = self.image.arch
        if arch == "arm":
            self.notes["ftrace"] = "ftrace_call_adjust: addr & ~1 (arch/arm/include/asm/ftrace.h)"
            return {a & ~1 for a in locs}
        if arch == "arm64" and locs:
            sample = [a for a in locs[:: max(1, len(locs) // 64)] if self.image.contains(a, 4)]
            nops = sum(int.from_bytes(self.image.read(a, 4), "little") == AARCH64_NOP for a in sample)
            if sample and nops * 2 > len(sample):
                self.notes["ftrace"] = ("ftrace_call_adjust: addr + AARCH64_INSN_SIZE (patchable-function-entry "
                                        "NOPs: CONFIG_DYNAMIC_FTRACE_WITH_REGS, arch/arm64/include/asm/ftrace.h)")
                return {a + AARCH64_INSN_SIZE for a in locs}
            self.notes["ftrace"] = "ftrace_call_adjust: addr (bl _mcount sites)"
        return set(locs)

    @cached_property
    def kprobe_blacklist(self) -> list[tuple[int, int]]:
        if self.symbols is None:
            self.missing["kprobe_blacklist"] = "no symbol table for the sizes"
            return []
        b = self._bounds("kprobe_blacklist")
        if b is None:
            return []
        out = []
        for a in self.image.pointers(*b):
            sym = self.symbols.containing(a)
            if sym is None:
                continue  # kprobe_add_ksym_blacklist: kallsyms does not know it -> skipped
            out.append((a, a + self.symbols.size_of(sym)))  # entry + size, as the kernel does
        return out

    @cached_property
    def alternatives(self) -> list[tuple[int, int]]:
        """[start, end) of every x86 alternatives site: struct alt_instr {s32 instr_offset;
        s32 repl_offset; u16 cpuid; u8 instrlen; u8 replacementlen} __packed
        (arch/x86/include/asm/alternative.h, 6.1). apply_alternatives() rewrites them at boot."""
        if self.image.arch != "x86":
            return []
        got = self._records("alternatives", "iiHBB", 12)
        if not got:
            return []
        lo, recs = got
        return [(lo + i * 12 + r[0], lo + i * 12 + r[0] + r[3]) for i, r in enumerate(recs) if r[3]]

    @cached_property
    def paravirt(self) -> list[tuple[int, int]]:
        """[start, end) of every x86_64 paravirt call site: struct paravirt_patch_site {u8 *instr;
        u8 type; u8 len;} (arch/x86/include/asm/paravirt_types.h, 6.1); apply_paravirt() turns the
        indirect `call *pv_ops+X(%rip)` into a direct call or native code at boot."""
        if self.image.arch != "x86" or self.image.bits != 64:
            return []
        got = self._records("paravirt", "QBB6x", 16)
        if not got:
            return []
        return [(r[0] + self.image.slide, r[0] + self.image.slide + r[2]) for r in got[1] if r[2]]

    # ------------------------------------------------------------------ helpers

    def _in_text(self, addrs: set[int]) -> float:
        if not addrs:
            return 0.0
        syms = self.symbols
        if syms is None:
            return sum(self.image.contains(a) for a in addrs) / len(addrs)
        return sum(syms.containing(a) is not None for a in addrs) / len(addrs)

    def ftrace_in(self, start: int, end: int, *, booted: bool = False) -> list[int]:
        """ftrace sites in [start, end), sorted (ftrace_location_range). booted=True: as a
        running kernel sees them, without the sites in init text, whose records
        ftrace_free_init_mem() drops after boot (on Debian's x86_64 6.1.176 this is why
        2,243 init functions have a site in the image but are notrace under tracefs)."""
        srt = self._sorted_ftrace
        got = srt[bisect.bisect_left(srt, start):bisect.bisect_left(srt, end)]
        init = self.init_text
        if booted and init and got:
            got = [a for a in got if not init[0] <= a < init[1]]
        return got

    @cached_property
    def init_text(self) -> tuple[int, int] | None:
        """[_sinittext, _einittext): code freed after boot."""
        syms = self.symbols
        lo = syms.address("_sinittext") if syms else None
        hi = syms.address("_einittext") if syms else None
        return (lo, hi) if lo is not None and hi is not None and lo < hi else None

    @cached_property
    def _sorted_ftrace(self) -> list[int]:
        return sorted(self.ftrace)

    def jump_label_size(self, code: int) -> int:
        """Bytes patched at a jump label: x86 arch_jump_entry_size() decodes the instruction,
        2 (`66 90` nop, `eb` jmp8) or 5 (`0f 1f 44 00 00` nop, `e9` jmp32); other arches
        JUMP_LABEL_NOP_SIZE (4 on arm and arm64)."""
        if self.image.arch != "x86":
            return 4
        head = self.image.read(code, 2) if self.image.contains(code, 2) else b""
        return 2 if head[:1] == b"\xeb" or head == b"\x66\x90" else 5

    @cached_property
    def _reserved(self) -> list[tuple[int, int, str]]:
        sites = [(c, c + self.jump_label_size(c), "jump_label") for c in self.jump_labels]
        sites += [(c, c + 5, "static_call") for c in self.static_calls]  # CALL_INSN_SIZE
        return sorted(sites)

    def reserved(self, addr: int, *, booted: bool = True) -> str | None:
        """"jump_label" or "static_call" when addr falls inside a patched site, as
        check_kprobe_address_safe() asks jump_label_text_reserved(addr, addr) and
        static_call_text_reserved(addr, addr) (addr_conflict: code <= addr < code + size).
        booted=True: sites in init text are ignored, as the kernel marks them init at boot
        and skips them once it is running."""
        srt = self._reserved
        k = bisect.bisect_right(srt, (addr, 1 << 64, "")) - 1
        init = self.init_text if booted else None
        while k >= 0 and srt[k][0] > addr - 8:  # sites are at most 5 bytes long
            lo, hi, kind = srt[k]
            if lo <= addr < hi and not (init and init[0] <= lo < init[1]):
                return kind
            k -= 1
        return None

    def blacklisted(self, addr: int) -> tuple[int, int] | None:
        """The _kprobe_blacklist range holding addr, if any."""
        for lo, hi in self.kprobe_blacklist:
            if lo <= addr < hi:
                return lo, hi
        return None

    def counts(self) -> dict[str, int]:
        return {"jump_labels": len(self.jump_labels), "static_calls": len(self.static_calls),
                "bugs": len(self.bugs), "extable": len(self.extable), "ftrace": len(self.ftrace),
                "kprobe_blacklist": len(self.kprobe_blacklist)}


def _relative(lo: int, recs: list[tuple], size: int) -> set[int]:
    """The addresses of a table of `size`-byte entries starting at lo whose first field is
    an s32 relative to the entry itself (`.long 1b - .`)."""
    return {lo + i * size + r[0] for i, r in enumerate(recs)}
