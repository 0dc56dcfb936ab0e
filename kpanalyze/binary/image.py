"""Kernel images: the bytes at a kernel virtual address.

Accepted forms, told apart by their headers:
- ELF vmlinux (ET_EXEC or ET_DYN), read with pyelftools: PT_LOAD segments map addresses.
- x86 bzImage (`HdrS` at 0x202): the setup header's payload_offset/payload_length point at
  the compressed `vmlinux.bin` (objcopy -S of vmlinux: an ELF with section headers but no
  symbols), Documentation/x86/boot.rst.
- arm zImage (magic 0x016f2818 at 0x24): the compressed payload sits somewhere inside the
  decompressor; it is found by its magic and is the raw `Image`, which starts at `_text`.
- arm64 `Image` (`ARM\\x64` at 0x38) and riscv `Image` (`RSC\\x05` at 0x38): raw, based at
  `_text`; also gzip/xz/... compressed (`Image.gz`) and EFI zboot (`zimg` at 4).
Raw images carry no addresses, so they need the symbol table for `_text`.

A symbol table that does not belong to the image is caught by `linux_banner`: its address
must hold "Linux version " (System.map always has it; kallsyms with CONFIG_KALLSYMS_ALL).
"""

from __future__ import annotations

import bisect
import io
import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

from ..decoders.base import FunctionBytes
from ..errors import InputError
from . import compress
from .symbols import Symbol, SymbolTable

ARM_ZIMAGE_MAGIC = 0x016F2818
R_AARCH64_RELATIVE = 1027
BANNER = b"Linux version "

# pyelftools e_machine -> (arch, word bits or None for "from the ELF class")
MACHINES = {
    "EM_X86_64": "x86", "EM_386": "x86", "EM_AARCH64": "arm64", "EM_ARM": "arm",
    "EM_RISCV": "riscv", "EM_CSKY": "csky", "EM_PPC64": "powerpc", "EM_PPC": "powerpc",
    "EM_S390": "s390", "EM_LOONGARCH": "loongarch", "EM_MIPS": "mips", "EM_SPARCV9": "sparc",
}


@dataclass(frozen=True)
class Segment:
    start: int  # first virtual address
    end: int  # one past the last byte present in the file
    buf: object  # bytes or mmap
    offset: int  # where `start` sits in buf


class KernelImage:
    """The loaded bytes of one kernel, addressed by kernel virtual address."""

    def __init__(self, *, path: str, arch: str, bits: int, little_endian: bool, kind: str,
                 segments: list[Segment], symbols: SymbolTable | None, compression: str = "",
                 elf=None, slide: int = 0):
        self.path = path
        self.arch = arch  # "x86", "arm64", "arm", "riscv", ...
        self.bits = bits  # 32 or 64: the size of `unsigned long`
        self.little_endian = little_endian
        self.kind = kind  # "elf", "bzImage", "zImage", "Image", "zboot"
        self.compression = compression  # "" or the compressor of the payload ("xz", "gzip", ...)
        self.symbols = symbols
        self.slide = slide  # symbol-table address minus image (link-time) address, e.g. KASLR
        self._elf = elf
        self._segments = sorted(segments, key=lambda s: s.start)
        self._starts = [s.start for s in self._segments]
        self._relocs: dict[int, int] | None = None
        self._version: str | None = None
        self._sites = None

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: str | Path, symbols: SymbolTable | None = None, *, arch: str | None = None) -> "KernelImage":
        """Open any supported image form. `arch` is only needed for a headerless raw image."""
        p = Path(path)
        try:
            with open(p, "rb") as fh:
                size = fh.seek(0, 2)
                if size == 0:
                    raise InputError(f"{p}: empty file, not a kernel image")
                data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError as e:
            raise InputError(f"{p}: cannot read the kernel image ({e.strerror or e})") from None
        img = cls._from_buffer(p, data, symbols, arch, outer=True)
        img._check_symbols()
        return img

    @classmethod
    def _from_buffer(cls, p: Path, data, symbols, arch, *, outer: bool, compression: str = "",
                     kind: str = "") -> "KernelImage":
        if data[:4] == b"\x7fELF":
            return cls._from_elf(p, data, symbols, kind or "elf", compression)
        if len(data) >= 0x210 and data[0x202:0x206] == b"HdrS":
            return cls._from_bzimage(p, data, symbols)
        if len(data) >= 0x30 and struct.unpack_from("<I", data, 0x24)[0] == ARM_ZIMAGE_MAGIC:
            name, out = _decompressed(p, data, lambda: compress.find_payload(data, start=0x30, path=str(p)))
            return cls._raw(p, out, symbols, "arm", 32, "zImage", name)
        if len(data) >= 0x40 and data[0x38:0x3C] == b"ARM\x64":
            flags = struct.unpack_from("<Q", data, 0x18)[0]
            if flags & 1:
                raise InputError(f"{p}: big-endian arm64 Image: not supported")
            return cls._raw(p, data, symbols, "arm64", 64, kind or "Image", compression)
        if len(data) >= 0x40 and data[0x38:0x3C] == b"RSC\x05":
            return cls._raw(p, data, symbols, "riscv", 64, kind or "Image", compression)
        if len(data) >= 0x38 and data[:2] == b"MZ" and data[4:8] == b"zimg":
            off, n = struct.unpack_from("<II", data, 8)
            comp = bytes(data[0x18:0x38]).split(b"\0")[0].decode("ascii", "replace")
            comp = next((c for c, _m in compress.MAGICS if comp.startswith(c)), comp)  # xzkern, zstd22
            if off + n > len(data):
                raise InputError(f"{p}: truncated EFI zboot image (payload {off:#x}+{n:#x} past the end)")
            name, out = _decompressed(p, data, lambda: (comp, compress.decompress(
                memoryview(data)[off:off + n], comp, path=str(p))))
            return cls._from_buffer(p, out, symbols, arch, outer=False, compression=name, kind="zboot")
        if outer:
            name = compress.sniff(data)
            if name is not None:
                name, out = _decompressed(p, data, lambda: (name, compress.decompress(data, name, path=str(p))))
                return cls._from_buffer(p, out, symbols, arch, outer=False, compression=name,
                                        kind=f"Image.{name}")
        if arch:
            bits = 64 if arch in ("arm64", "x86", "riscv", "powerpc", "s390", "loongarch") else 32
            return cls._raw(p, data, symbols, arch, bits, kind or "Image", compression)
        what = "decompressed data" if not outer else "file"
        raise InputError(f"{p}: not a kernel image: the {what} is not an ELF vmlinux, bzImage, zImage, "
                         "arm64/riscv Image, EFI zboot image or a gzip/xz/bzip2/lzma-compressed Image")

    @classmethod
    def _from_bzimage(cls, p: Path, data, symbols) -> "KernelImage":
        version = struct.unpack_from("<H", data, 0x206)[0]
        if version < 0x208:
            raise InputError(f"{p}: bzImage boot protocol {version >> 8}.{version & 0xff} is too old "
                             "(no payload fields); give the vmlinux instead")
        setup_sects = data[0x1F1] or 4
        po, pl = struct.unpack_from("<II", data, 0x248)
        start = (setup_sects + 1) * 512 + po
        if start + pl > len(data) or pl == 0:
            raise InputError(f"{p}: truncated bzImage: the payload ({start:#x}+{pl:#x}) runs past the end "
                             f"of the file ({len(data):#x} bytes)")
        name = compress.sniff(data, start)
        if name is None:
            raise InputError(f"{p}: bzImage payload at {start:#x} has an unknown compression "
                             f"(first bytes {bytes(data[start:start + 4]).hex()})")
        name, out = _decompressed(p, data, lambda: (name, compress.decompress(
            memoryview(data)[start:start + pl], name, path=str(p))))
        if out[:4] != b"\x7fELF":
            raise InputError(f"{p}: the bzImage payload is not an ELF vmlinux")
        return cls._from_elf(p, out, symbols, "bzImage", name)

    @classmethod
    def _from_elf(cls, p: Path, data, symbols, kind: str, compression: str) -> "KernelImage":
        from elftools.common.exceptions import ELFError
        from elftools.elf.elffile import ELFFile
        stream = data if isinstance(data, mmap.mmap) else io.BytesIO(data)
        try:
            elf = ELFFile(stream)
            etype = elf["e_type"]
            machine = elf["e_machine"]
            segs = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD" and s["p_filesz"] > 0]
            seg_info = [(s["p_vaddr"], s["p_filesz"], s["p_offset"], s["p_flags"]) for s in segs]
        except (ELFError, struct.error, ValueError) as e:
            raise InputError(f"{p}: corrupt ELF file ({e})") from None
        if etype not in ("ET_EXEC", "ET_DYN"):
            raise InputError(f"{p}: ELF type {etype}: not a linked vmlinux (an object file or module?)")
        arch = MACHINES.get(machine)
        if arch is None:
            raise InputError(f"{p}: ELF machine {machine} is not a kernel architecture kpanalyze knows")
        if not seg_info:
            raise InputError(f"{p}: ELF file without loadable segments")
        segments = []
        for vaddr, filesz, off, _flags in seg_info:
            if off + filesz > len(data):
                raise InputError(f"{p}: truncated ELF file: a segment ends at {off + filesz:#x}, "
                                 f"the file at {len(data):#x}")
            segments.append(Segment(vaddr, vaddr + filesz, data, off))
        if symbols is None:
            symbols = SymbolTable.from_elf(elf, path=str(p))
        slide = 0
        if symbols is not None:
            want = symbols.address("_text")
            have = _elf_text(elf, seg_info)
            if want is not None and have is not None and want != have and (want - have) % 0x10000 == 0:
                slide = want - have  # KASLR'd kallsyms against a link-time image (checked by the banner)
        return cls(path=str(p), arch=arch, bits=elf.elfclass, little_endian=elf.little_endian, kind=kind,
                   segments=segments, symbols=symbols, compression=compression, elf=elf, slide=slide)

    @classmethod
    def _raw(cls, p: Path, data, symbols, arch: str, bits: int, kind: str, compression: str) -> "KernelImage":
        if symbols is None:
            raise InputError(f"{p}: a raw {arch} {kind} has no addresses: give --system-map or --kallsyms")
        base = symbols.address("_text")
        if base is None:
            raise InputError(f"{symbols.path}: no _text symbol: cannot place the {kind} {p}")
        edata = symbols.address("_edata")
        if edata is not None and base < edata and len(data) < edata - base:
            raise InputError(f"{p}: the image holds {len(data):#x} bytes but {symbols.path} puts _edata at "
                             f"_text+{edata - base:#x}: truncated image, or the symbol table of another kernel")
        return cls(path=str(p), arch=arch, bits=bits, little_endian=True, kind=kind,
                   segments=[Segment(base, base + len(data), data, 0)], symbols=symbols, compression=compression)

    def _check_symbols(self) -> None:
        syms = self.symbols
        if syms is None:
            return
        banner = syms.address("linux_banner")
        if banner is not None:
            got = self._try_read(banner, len(BANNER))
            if got != BANNER:
                mine = self.version
                raise InputError(
                    f"{syms.path}: this symbol table does not match the image {self.path}: linux_banner "
                    f"({banner:#x}) does not hold 'Linux version' there"
                    + (f" (the image is {mine!r})" if mine else ""))
        text = syms.address("_text")
        if text is not None and self._try_read(text, 4) is None:
            raise InputError(f"{syms.path}: _text ({text:#x}) is not inside the image {self.path}: "
                             "the symbol table of another kernel?")

    # ------------------------------------------------------------------ reading

    def _seg(self, addr: int) -> Segment | None:
        k = bisect.bisect_right(self._starts, addr) - 1
        if k >= 0 and addr < self._segments[k].end:
            return self._segments[k]
        return None

    def _try_read(self, addr: int, n: int) -> bytes | None:
        a = addr - self.slide
        s = self._seg(a)
        if s is None or a + n > s.end:
            return None
        o = s.offset + a - s.start
        return bytes(s.buf[o:o + n])

    def contains(self, addr: int, n: int = 1) -> bool:
        return self.available(addr) >= n

    def available(self, addr: int) -> int:
        """How many bytes can be read from addr on (0 if addr is not in the image)."""
        s = self._seg(addr - self.slide)
        return 0 if s is None else s.end - (addr - self.slide)

    def read(self, addr: int, n: int) -> bytes:
        got = self._try_read(addr, n)
        if got is None:
            raise InputError(f"{self.path}: {addr:#x}+{n:#x} is not in the image")
        return got

    def function_bytes(self, sym: Symbol, size: int) -> FunctionBytes:
        """The bytes of sym, `size` long (fewer when the image ends first). Arm Thumb
        symbols are the ones with the low address bit set (ELF symtab of a Thumb-2 kernel)."""
        thumb = self.arch == "arm" and bool(sym.address & 1)
        addr = sym.address & ~1 if thumb else sym.address
        n = min(size, self.available(addr))
        if n <= 0:
            raise InputError(f"{self.path}: {sym.name} ({addr:#x}) is not in the image"
                             + (f" (module {sym.module})" if sym.module else ""))
        return FunctionBytes(sym.name, addr, self.read(addr, n), thumb)

    # ------------------------------------------------------------------ words

    @property
    def word_size(self) -> int:
        return self.bits // 8

    def unpack(self, fmt: str, addr: int, count: int) -> list[tuple]:
        """`count` records of struct format `fmt` (no byte-order prefix) from addr."""
        f = struct.Struct(("<" if self.little_endian else ">") + fmt)
        return list(f.iter_unpack(self.read(addr, f.size * count)))

    def pointers(self, start: int, stop: int) -> list[int]:
        """The `unsigned long` values in [start, stop) as the running kernel sees them:
        RELA-relocated on arm64 (the Image stores 0 there and the addend in __rela),
        plus the KASLR slide when the symbol table has one."""
        n = (stop - start) // self.word_size
        if n <= 0:
            return []
        vals = [v[0] for v in self.unpack("Q" if self.bits == 64 else "I", start, n)]
        relocs = self.relocations()
        if relocs:
            base = start - self.slide
            w = self.word_size
            vals = [relocs.get(base + i * w, v) for i, v in enumerate(vals)]
        if self.slide:
            vals = [v + self.slide if v else v for v in vals]
        return vals

    def relocations(self) -> dict[int, int]:
        """arm64 R_AARCH64_RELATIVE relocations: link-time address -> addend. The kernel applies
        them itself in __relocate_kernel (arch/arm64/kernel/head.S) from __rela_start to
        __rela_end; RELR entries need nothing here (the stored word is already the link value)."""
        if self._relocs is not None:
            return self._relocs
        self._relocs = {}
        if self.arch != "arm64":
            return self._relocs
        recs: list[tuple[int, int, int]] = []
        syms = self.symbols
        lo = syms.address("__rela_start") if syms else None
        hi = syms.address("__rela_end") if syms else None
        if lo is not None and hi is not None and hi > lo and self.contains(lo, hi - lo):
            recs = self.unpack("QQQ", lo, (hi - lo) // 24)
        elif self._elf is not None:
            sec = self._elf.get_section_by_name(".rela.dyn")
            if sec is not None and sec["sh_type"] == "SHT_RELA":
                recs = list(struct.iter_unpack("<QQQ", sec.data()))
        self._relocs = {off: add for off, info, add in recs if info & 0xFFFFFFFF == R_AARCH64_RELATIVE}
        return self._relocs

    @property
    def sites(self):
        """The SpecialSites of this image (one per image, tables read on first use)."""
        if self._sites is None:
            from .sites import SpecialSites
            self._sites = SpecialSites(self, self.symbols)
        return self._sites

    # ------------------------------------------------------------------ identity

    @property
    def version(self) -> str:
        """The image's own "Linux version ..." banner ("" if not found)."""
        if self._version is None:
            self._version = ""
            for s in self._segments:
                buf = s.buf
                i = buf.find(BANNER, s.offset, s.offset + (s.end - s.start))
                while i >= 0:
                    end = buf.find(b"\n", i, i + 400)
                    text = bytes(buf[i:end if end > 0 else i + 200])
                    if b"(" in text and b"%s" not in text:
                        self._version = text.decode("ascii", "replace").strip()
                        return self._version
                    i = buf.find(BANNER, i + 1, s.offset + (s.end - s.start))
        return self._version

    def section(self, name: str) -> tuple[int, int] | None:
        """(start, end) address of an ELF section, when the image has section headers."""
        if self._elf is None:
            return None
        sec = self._elf.get_section_by_name(name)
        if sec is None or not sec["sh_addr"]:
            return None
        return sec["sh_addr"] + self.slide, sec["sh_addr"] + sec["sh_size"] + self.slide


def _elf_text(elf, seg_info) -> int | None:
    """The link-time _text of an ELF vmlinux: where its first executable segment starts
    (x86, arm64 and arm link `_text` there)."""
    execs = [v for v, _n, _o, flags in seg_info if flags & 1 and v]
    return min(execs) if execs else None


def _decompressed(p: Path, data, produce):
    """(compression, buffer): the decompressed payload, from the cache when possible."""
    buf, name = compress.cached(p, data, produce)
    return name, buf
