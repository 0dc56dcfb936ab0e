"""kpanalyze.binary on tiny synthetic inputs: symbol tables, image forms, special sites.

Every input is generated here (a few KiB each): System.map / kallsyms text, raw arm64
Images, an ELF vmlinux built by hand, bzImage and zImage wrappers with xz/gzip payloads,
and the tables (__jump_table, __bug_table, __mcount_loc, ...) laid out as 6.1 lays them.
"""

from __future__ import annotations

import gzip
import lzma
import struct

import pytest

from kpanalyze.binary import Artifacts, open_artifacts
from kpanalyze.binary.image import KernelImage
from kpanalyze.binary.symbols import SymbolTable, clone_base
from kpanalyze.errors import InputError


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KPANALYZE_CACHE_DIR", str(tmp_path / "cache"))


# ---------------------------------------------------------------- builders

def system_map(syms: dict[str, tuple[int, str]], width: int = 16) -> str:
    rows = sorted((a, t, n) for n, (a, t) in syms.items())
    return "".join(f"{a:0{width}x} {t} {n}\n" for a, t, n in rows)


class Blob:
    """The bytes of a kernel from _text on, with its symbols."""

    def __init__(self, base: int, size: int):
        self.base = base
        self.data = bytearray(size)
        self.syms: dict[str, tuple[int, str]] = {"_text": (base, "T")}

    def put(self, off: int, raw: bytes) -> None:
        self.data[off:off + len(raw)] = raw

    def sym(self, name: str, off: int, typ: str = "T", raw: bytes = b"") -> int:
        self.syms[name] = (self.base + off, typ)
        if raw:
            self.put(off, raw)
        return self.base + off

    def table(self, name: str, off: int, raw: bytes) -> int:
        """__start_NAME/__stop_NAME around raw at off."""
        self.sym(f"__start_{name}", off, "D", raw)
        self.sym(f"__stop_{name}", off + len(raw), "D")
        return self.base + off

    def banner(self, off: int, text: bytes = b"Linux version 6.1.0-test (me@here) (gcc) #1 SMP\n") -> None:
        self.sym("linux_banner", off, "D", text)

    def map_text(self) -> str:
        return system_map(self.syms, 16 if self.base >= 1 << 32 else 8)


AARCH64_NOP = struct.pack("<I", 0xD503201F)
PACIASP = struct.pack("<I", 0xD503233F)
BRK = struct.pack("<I", 0xD4210000)


def arm64_kernel() -> Blob:
    """A raw arm64 Image: header, three functions, a banner, every table, RELA relocations."""
    b = Blob(0xFFFF800008000000, 0x3000)
    b.put(0x38, b"ARM\x64")
    foo = b.sym("foo", 0x100, raw=AARCH64_NOP * 2 + PACIASP + BRK + b"\xc0\x03\x5f\xd6")
    b.sym("foo.isra.0", 0x200, "t", AARCH64_NOP * 2 + b"\xc0\x03\x5f\xd6")
    b.sym("foo.constprop.0.isra.0", 0x240, "t")
    b.sym("foobar", 0x280, "t")
    bar = b.sym("bar", 0x300, raw=AARCH64_NOP * 2 + b"\xc0\x03\x5f\xd6")
    b.sym("_etext", 0x1000, "T")
    b.banner(0x1100)
    # struct jump_entry {s32 code; s32 target; long key}, each relative to its own field
    jt = 0x2000
    b.table("__jump_table", jt, struct.pack("<iiq", (foo + 8) - (b.base + jt), 0, 0x40))
    # struct bug_entry {s32 bug_addr_disp; s32 file_disp; u16 line; u16 flags}: 12 bytes
    bt = 0x2100
    b.table("__bug_table", bt, struct.pack("<iiHH", (foo + 12) - (b.base + bt), 0, 7, 0)
            + struct.pack("<iiHH", (bar + 4) - (b.base + bt + 12), 0, 9, 0))
    et = 0x2200
    b.table("__ex_table", et, struct.pack("<iihh", (bar + 8) - (b.base + et), 0, 1, 0))
    # __mcount_loc and _kprobe_blacklist hold 0: the addends are in __rela (as in Debian's Image)
    mc, kb = 0x2300, 0x2400
    b.table("mcount_loc", mc, bytes(16))
    b.table("kprobe_blacklist", kb, bytes(8))
    rela = b"".join(struct.pack("<QQQ", b.base + off, 1027, val)
                    for off, val in ((mc, foo), (mc + 8, bar), (kb, bar)))
    b.sym("__rela_start", 0x2500, "R", rela)
    b.sym("__rela_end", 0x2500 + len(rela), "R")
    b.sym("_edata", 0x3000, "D")
    return b


def elf64(machine: int, vaddr: int, blob: bytes, symbols: dict[str, int] | None = None) -> bytes:
    """An ET_EXEC ELF64 with one PT_LOAD (and .text/.symtab sections when symbols are given)."""
    text_off = 0x1000
    out = bytearray(text_off) + blob
    shstr = b"\0.text\0.symtab\0.strtab\0.shstrtab\0"
    sections = [struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
                struct.pack("<IIQQQQIIQQ", 1, 1, 6, vaddr, text_off, len(blob), 0, 0, 16, 0)]
    if symbols:
        strtab = bytearray(b"\0")
        syms = [bytes(24)]
        for name, addr in symbols.items():
            syms.append(struct.pack("<IBBHQQ", len(strtab), (1 << 4) | 2, 0, 1, addr, 4))
            strtab += name.encode() + b"\0"
        symtab_off = len(out)
        out += b"".join(syms)
        strtab_off = len(out)
        out += strtab
        sections.append(struct.pack("<IIQQQQIIQQ", 7, 2, 0, 0, symtab_off, 24 * len(syms), 3, 1, 8, 24))
        sections.append(struct.pack("<IIQQQQIIQQ", 15, 3, 0, 0, strtab_off, len(strtab), 0, 0, 1, 0))
    shstr_off = len(out)
    out += shstr
    sections.append(struct.pack("<IIQQQQIIQQ", 23, 3, 0, 0, shstr_off, len(shstr), 0, 0, 1, 0))
    shoff = len(out)
    out += b"".join(sections)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, text_off, vaddr, 0x1000000, len(blob), len(blob), 0x200000)
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, vaddr, 64, shoff, 0, 64, 56, 1, 64,
                               len(sections), len(sections) - 1)
    out[0:64] = ehdr
    out[64:64 + 56] = phdr
    return bytes(out)


def x86_kernel() -> Blob:
    b = Blob(0xFFFFFFFF81000000, 0x3000)
    call_fentry = b"\xe8\x00\x00\x00\x00"
    foo = b.sym("foo", 0x100, raw=call_fentry + b"\x0f\x1f\x44\x00\x00" + b"\x0f\x0b" + b"\xc3")
    b.sym("foo.cold", 0x180, "t", b"\x0f\x0b")
    bar = b.sym("bar", 0x200, raw=b"\x55\xe8\x00\x00\x00\x00\x5d\xc3")
    b.sym("_etext", 0x1000, "T")
    b.banner(0x1100)
    jt, sc, bt, mc, kb = 0x2000, 0x2080, 0x2100, 0x2300, 0x2400
    b.table("__jump_table", jt, struct.pack("<iiq", (foo + 5) - (b.base + jt), 0, 0x40))
    # struct static_call_site {s32 addr; s32 key}; key's low bits are flags (1 = tail call)
    b.table("static_call_sites", sc, struct.pack("<ii", (bar + 1) - (b.base + sc), 0x10 | 1))
    b.table("__bug_table", bt, struct.pack("<iiHH", (foo + 10) - (b.base + bt), 0, 7, 0))
    b.table("__ex_table", 0x2200, b"")
    b.table("mcount_loc", mc, struct.pack("<Q", foo))  # absolute, no relocation on x86
    b.table("kprobe_blacklist", kb, struct.pack("<Q", bar))
    b.sym("_edata", 0x3000, "D")
    return b


def bzimage(payload: bytes, setup_sects: int = 1) -> bytes:
    head = bytearray((setup_sects + 1) * 512)
    head[0x1F1] = setup_sects
    head[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", head, 0x206, 0x020F)
    struct.pack_into("<II", head, 0x248, 0x40, len(payload))
    return bytes(head) + bytes(0x40) + payload + bytes(16)


def zimage(payload: bytes) -> bytes:
    head = bytearray(0x200)
    struct.pack_into("<III", head, 0x24, 0x016F2818, 0, 0)
    decoy = b"\xfd7zXZ\x00\x00\x00XZ decoder text"  # the decompressor's own magic constant
    body = bytes(head) + decoy + bytes(64) + payload + struct.pack("<I", 0)
    return body


def write(tmp_path, name: str, data: bytes | str):
    p = tmp_path / name
    if isinstance(data, str):
        p.write_text(data)
    else:
        p.write_bytes(data)
    return p


# ---------------------------------------------------------------- symbol tables

MAP = """\
ffffffff81000000 T _text
ffffffff81000000 T _stext
ffffffff81001000 T foo
ffffffff81001040 t foo.isra.0
ffffffff81001080 t foo.constprop.0.isra.0
ffffffff810010c0 t foo.cold
ffffffff81001100 t foobar
ffffffff81001100 t foobar_alias
ffffffff81001180 W weak_fn
ffffffff81002000 T _etext
ffffffff82000000 D some_data
ffffffff82000010 d foo
"""


def test_system_map_lookup_sizes_and_clones(tmp_path):
    st = SymbolTable.load(write(tmp_path, "System.map", MAP))
    assert st.kind == "system.map" and len(st) == 12
    (foo,) = st.lookup("foo")  # the data symbol of the same name is not a text symbol
    assert foo.address == 0xFFFFFFFF81001000 and foo.type == "T"
    assert st.size_of(foo) == 0x40
    assert [s.name for s in st.symbols("foo")] == ["foo", "foo"]
    assert [c.name for c in st.clones("foo")] == ["foo.isra.0", "foo.constprop.0.isra.0", "foo.cold"]
    assert st.clones("foobar") == [] and st.clones("nothing") == []
    assert st.lookup("some_data") == []
    assert st.address("some_data") == 0xFFFFFFFF82000000
    assert st.address("nothing") is None
    # aliases share one address: the size runs to the next higher address, and
    # containing() names the first of them, as kallsyms does
    (alias,) = st.lookup("foobar_alias")
    assert st.size_of(alias) == 0x80
    assert st.containing(0xFFFFFFFF81001105).name == "foobar"
    assert st.containing(0xFFFFFFFF81001000).name == "foo"
    assert st.containing(0xFFFFFFFF81000FFF).name == "_text"
    assert st.containing(0xFFFFFFFF81002000) is None  # _etext is last: no end known
    assert st.containing(0x1000) is None
    assert st.lookup("weak_fn")[0].type == "W"
    names = [s.name for s in st.text_symbols()]
    assert names[:2] == ["_text", "_stext"] and names[-1] == "_etext"
    assert st.text_range() == (0xFFFFFFFF81000000, 0xFFFFFFFF81002000)


def test_clone_base():
    assert clone_base("foo.part.0") == "foo"
    assert clone_base("foo.constprop.0.isra.0") == "foo"
    assert clone_base("foo.part.0.cold") == "foo"
    assert clone_base("foo.lto_priv.3") == "foo"
    assert clone_base("foo.llvm.1234567") == "foo"
    assert clone_base("foo") is None
    assert clone_base(".E_copy") is None
    assert clone_base("__hyp_section_.hyp.text") is None


def test_kallsyms_with_modules(tmp_path):
    text = ("ffffffff81000000 T _text\n"
            "ffffffff81000100 T foo\n"
            "ffffffff81000200 T _etext\n"
            "ffffffffc0001000 t mod_fn\t[mymod]\n"
            "ffffffffc0001040 t mod_fn2\t[mymod]\n"
            "ffffffffc0002000 t other_fn\t[other]\n"
            "ffffffffc0002080 t foo\t[other]\n")
    st = SymbolTable.load(write(tmp_path, "kallsyms", text))
    assert st.kind == "kallsyms"
    assert [(s.name, s.module) for s in st.lookup("foo")] == [("foo", ""), ("foo", "other")]
    (m,) = st.lookup("mod_fn")
    assert m.module == "mymod" and st.size_of(m) == 0x40
    (last,) = st.lookup("mod_fn2")
    assert st.size_of(last) == 0  # sizes never run into another module
    assert st.containing(0xFFFFFFFFC0001010, "mymod").name == "mod_fn"
    assert st.containing(0xFFFFFFFFC0001010) is None  # kernel symbols only by default
    assert st.address("foo") == 0xFFFFFFFF81000100  # the kernel's own, not the module's


@pytest.mark.parametrize("text, line, what", [
    ("ffffffff81000000 T _text\nffffffff81000100 T\n", 2, "malformed"),
    ("ffffffff81000000 T _text\nxyz T foo\n", 2, "hex address"),
    ("ffffffff81000000 T _text\n\nffffffff81000100 TT foo\n", 3, "one-letter type"),
    ("ffffffff81000000 T _text\nffffffff81000100 T foo bar baz\n", 2, "malformed"),
    ("ffffffff81000000 T _text\nffffffff81000100 T foo mymod\n", 2, "malformed"),
])
def test_malformed_lines_name_path_and_line(tmp_path, text, line, what):
    p = write(tmp_path, "System.map", text)
    with pytest.raises(InputError, match=rf"System\.map:{line}: .*{what}"):
        SymbolTable.load(p)


def test_bad_symbol_tables(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        SymbolTable.load(tmp_path / "absent.map")
    with pytest.raises(InputError, match="empty symbol table"):
        SymbolTable.load(write(tmp_path, "empty.map", "\n"))
    with pytest.raises(InputError, match="placeholder System.map.*-dbg"):
        SymbolTable.load(write(tmp_path, "System.map-6.1.0-50-amd64",
                               "ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package\n"))
    with pytest.raises(InputError, match="every address is 0.*root"):
        SymbolTable.load(write(tmp_path, "kallsyms", "0000000000000000 T foo\n0000000000000000 t bar\n"))
    with pytest.raises(InputError, match="no text symbols"):
        SymbolTable.load(write(tmp_path, "data.map", "ffffffff82000000 D x\n"))
    with pytest.raises(InputError, match="binary data"):
        SymbolTable.load(write(tmp_path, "bin.map", b"\x00\xff\xfe garbage"))
    with pytest.raises(InputError, match="ELF file.*--vmlinux"):
        SymbolTable.load(write(tmp_path, "vmlinux", elf64(62, 0xFFFFFFFF81000000, b"\xc3")))


# ---------------------------------------------------------------- images

def test_raw_arm64_image(tmp_path):
    b = arm64_kernel()
    syms = SymbolTable.load(write(tmp_path, "System.map", b.map_text()))
    img = KernelImage.open(write(tmp_path, "Image", bytes(b.data)), syms)
    assert (img.arch, img.kind, img.bits, img.compression) == ("arm64", "Image", 64, "")
    assert img.version.startswith("Linux version 6.1.0-test")
    (foo,) = syms.lookup("foo")
    fb = img.function_bytes(foo, syms.size_of(foo))
    assert fb.address == foo.address and len(fb.data) == 0x100 and not fb.thumb
    assert fb.data[:12] == AARCH64_NOP * 2 + PACIASP
    assert img.read(foo.address + 8, 4) == PACIASP
    with pytest.raises(InputError, match=r"Image: 0x[0-9a-f]+\+0x4 is not in the image"):
        img.read(b.base + 0x3000, 4)
    with pytest.raises(InputError, match="not in the image"):
        img.read(b.base - 4, 4)


@pytest.mark.parametrize("comp", ["gzip", "xz"])
def test_compressed_image_and_cache(tmp_path, comp):
    b = arm64_kernel()
    syms = SymbolTable.load(write(tmp_path, "System.map", b.map_text()))
    packed = gzip.compress(bytes(b.data)) if comp == "gzip" else lzma.compress(bytes(b.data))
    p = write(tmp_path, f"Image.{comp}", packed)
    img = KernelImage.open(p, syms)
    assert (img.arch, img.kind, img.compression) == ("arm64", f"Image.{comp}", comp)
    cached = list((tmp_path / "cache" / "images").glob("*.img"))
    assert len(cached) == 1 and cached[0].stat().st_size == len(b.data)
    again = KernelImage.open(p, syms)  # served from the cache
    (foo,) = syms.lookup("foo")
    assert again.read(foo.address, 8) == img.read(foo.address, 8) == AARCH64_NOP * 2


def test_cache_dir_not_writable_is_not_an_error(tmp_path, monkeypatch):
    blocker = write(tmp_path, "blocker", "a file, not a directory")
    monkeypatch.setenv("KPANALYZE_CACHE_DIR", str(blocker))
    b = arm64_kernel()
    syms = SymbolTable.load(write(tmp_path, "System.map", b.map_text()))
    img = KernelImage.open(write(tmp_path, "Image.gz", gzip.compress(bytes(b.data))), syms)
    assert img.compression == "gzip"


def test_elf_vmlinux_and_bzimage(tmp_path):
    b = x86_kernel()
    syms = SymbolTable.load(write(tmp_path, "kallsyms", b.map_text()))
    elf = elf64(62, b.base, bytes(b.data))
    img = KernelImage.open(write(tmp_path, "vmlinux", elf), syms)
    assert (img.arch, img.kind, img.bits) == ("x86", "elf", 64)
    (foo,) = syms.lookup("foo")
    assert img.read(foo.address, 5) == b"\xe8\x00\x00\x00\x00"
    bz = KernelImage.open(write(tmp_path, "vmlinuz", bzimage(lzma.compress(elf, check=lzma.CHECK_CRC32))), syms)
    assert (bz.arch, bz.kind, bz.compression) == ("x86", "bzImage", "xz")
    assert bz.read(foo.address, 13) == img.read(foo.address, 13)


def test_elf_symbols_are_used_without_a_map(tmp_path):
    b = x86_kernel()
    elf = elf64(62, b.base, bytes(b.data), {n: a for n, (a, t) in b.syms.items()})
    arts = open_artifacts(vmlinux=write(tmp_path, "vmlinux", elf))
    assert arts.symbols.kind == "elf"
    (foo,) = arts.symbols.lookup("foo")
    assert foo.size == 4  # st_size from the ELF
    assert arts.image.read(foo.address, 1) == b"\xe8"
    assert arts.sites.ftrace == {foo.address}


def test_kaslr_slide_from_kallsyms(tmp_path):
    b = x86_kernel()
    slide = 0x2E00000
    shifted = {n: (a + slide, t) for n, (a, t) in b.syms.items()}
    syms = SymbolTable.load(write(tmp_path, "kallsyms", system_map(shifted)))
    img = KernelImage.open(write(tmp_path, "vmlinux", elf64(62, b.base, bytes(b.data))), syms)
    assert img.slide == slide
    (foo,) = syms.lookup("foo")
    assert img.read(foo.address, 5) == b"\xe8\x00\x00\x00\x00"
    sites = img.sites
    assert sites.ftrace == {foo.address}  # absolute entries get the slide too
    assert sites.jump_labels == {foo.address + 5}  # relative ones follow by themselves


def test_arm_zimage(tmp_path):
    b = Blob(0xC0008000, 0x2000)
    f = b.sym("f", 0x100, raw=struct.pack("<II", 0xE52DE004, 0xEB000000))  # str lr,[sp,#-4]!; bl
    b.sym("g", 0x200, raw=struct.pack("<I", 0xE12FFF1E))
    b.sym("_etext", 0x1000, "T")
    b.banner(0x1100)
    jt = b.table("__jump_table", 0x1800, struct.pack("<III", f + 4, f, 0xC0009000))
    b.table("__bug_table", 0x1840, struct.pack("<IIHH", f + 4, 0, 1, 0))
    b.table("__ex_table", 0x1860, struct.pack("<II", f, f + 8))
    b.table("mcount_loc", 0x1880, struct.pack("<I", f + 4))
    b.table("kprobe_blacklist", 0x18A0, struct.pack("<I", f))
    b.sym("_edata", 0x2000, "D")
    syms = SymbolTable.load(write(tmp_path, "System.map", b.map_text()))
    img = KernelImage.open(write(tmp_path, "zImage", zimage(lzma.compress(bytes(b.data)))), syms)
    assert (img.arch, img.kind, img.bits, img.compression) == ("arm", "zImage", 32, "xz")
    (fs,) = syms.lookup("f")
    assert img.function_bytes(fs, syms.size_of(fs)).data[:4] == struct.pack("<I", 0xE52DE004)
    s = img.sites
    assert s.jump_labels == {f + 4} and s.bugs == {f + 4} and s.extable == {f}
    assert s.ftrace == {f + 4} and s.kprobe_blacklist == [(f, f + 0x100)]
    assert jt == b.base + 0x1800


def test_image_errors(tmp_path):
    b = arm64_kernel()
    good_map = write(tmp_path, "System.map", b.map_text())
    syms = SymbolTable.load(good_map)
    raw = write(tmp_path, "Image", bytes(b.data))
    with pytest.raises(InputError, match="cannot read"):
        KernelImage.open(tmp_path / "nope", syms)
    with pytest.raises(InputError, match="empty file"):
        KernelImage.open(write(tmp_path, "empty", b""), syms)
    with pytest.raises(InputError, match="not a kernel image"):
        KernelImage.open(write(tmp_path, "junk", b"hello world" * 100), syms)
    with pytest.raises(InputError, match="raw arm64 Image has no addresses.*--system-map"):
        KernelImage.open(raw, None)
    with pytest.raises(InputError, match="truncated image, or the symbol table of another kernel"):
        KernelImage.open(write(tmp_path, "short", bytes(b.data[:0x2000])), syms)
    with pytest.raises(InputError, match="truncated xz data"):
        KernelImage.open(write(tmp_path, "cut.xz", lzma.compress(bytes(b.data))[:-40]), syms)
    with pytest.raises(InputError, match="corrupt gzip"):
        KernelImage.open(write(tmp_path, "bad.gz", gzip.compress(bytes(b.data))[:200] + b"\x00" * 50), syms)
    # a table of another build: linux_banner points elsewhere
    other = dict(b.syms)
    other["linux_banner"] = (b.base + 0x1200, "D")
    with pytest.raises(InputError, match="does not match the image.*Linux version 6.1.0-test"):
        KernelImage.open(raw, SymbolTable.load(write(tmp_path, "other.map", system_map(other))))
    with pytest.raises(InputError, match="truncated bzImage"):
        KernelImage.open(write(tmp_path, "bz", bzimage(b"\xfd7zXZ\x00" + bytes(100))[:0x460]), syms)
    with pytest.raises(InputError, match="unknown compression"):
        KernelImage.open(write(tmp_path, "bz2", bzimage(b"\x00" * 64)), syms)
    with pytest.raises(InputError, match="no compressed kernel found"):
        KernelImage.open(write(tmp_path, "zI", zimage(b"not compressed")), syms)
    with pytest.raises(InputError, match="lzo"):
        KernelImage.open(write(tmp_path, "zI2", zimage(b"\x89LZO\x00\r\n\x1a\n" + bytes(64))), syms)
    obj = bytearray(elf64(62, 0xFFFFFFFF81000000, b"\xc3"))
    obj[16] = 1  # ET_REL
    with pytest.raises(InputError, match="ET_REL: not a linked vmlinux"):
        KernelImage.open(write(tmp_path, "x.o", bytes(obj)), syms)
    with pytest.raises(InputError, match="truncated ELF|corrupt ELF"):
        KernelImage.open(write(tmp_path, "cut", elf64(62, 0xFFFFFFFF81000000, bytes(0x4000))[:0x1800]), syms)


# ---------------------------------------------------------------- special sites

def test_arm64_sites_with_rela(tmp_path):
    b = arm64_kernel()
    arts = open_artifacts(image=write(tmp_path, "Image", bytes(b.data)),
                          system_map=write(tmp_path, "System.map", b.map_text()))
    assert isinstance(arts, Artifacts)
    s = arts.sites
    foo, bar = b.syms["foo"][0], b.syms["bar"][0]
    assert s.jump_labels == {foo + 8}
    assert s.bugs == {foo + 12, bar + 4}
    assert s.extable == {bar + 8}
    assert s.mcount_loc == [foo, bar]  # the zeros in the Image, relocated with the RELA addends
    assert s.ftrace == {foo + 4, bar + 4}  # ftrace_call_adjust: + AARCH64_INSN_SIZE after NOPs
    assert s.kprobe_blacklist == [(bar, b.base + 0x1000)]
    assert s.static_calls == set()
    assert s.ftrace_in(foo, foo + 0x100) == [foo + 4]
    assert s.missing == {}
    assert "verbose" in s.notes["bugs"]
    assert arts.image.sites is s  # one SpecialSites per image


def test_x86_sites(tmp_path):
    b = x86_kernel()
    arts = open_artifacts(image=write(tmp_path, "vmlinux", elf64(62, b.base, bytes(b.data))),
                          kallsyms=write(tmp_path, "kallsyms", b.map_text()))
    s = arts.sites
    foo, bar = b.syms["foo"][0], b.syms["bar"][0]
    assert s.jump_labels == {foo + 5}
    assert s.static_calls == {bar + 1}
    assert s.bugs == {foo + 10}
    assert s.extable == set()
    assert s.ftrace == {foo}
    assert s.kprobe_blacklist == [(bar, b.base + 0x1000)]
    assert s.counts()["ftrace"] == 1
    # patched bytes: the 5-byte nop at foo+5 and the call at bar+1
    assert [s.reserved(foo + i) for i in (4, 5, 9, 10)] == [None, "jump_label", "jump_label", None]
    assert [s.reserved(bar + i) for i in (0, 1, 5, 6)] == [None, "static_call", "static_call", None]
    assert s.blacklisted(bar + 3) == (bar, b.base + 0x1000) and s.blacklisted(foo) is None


def test_sites_without_table_symbols(tmp_path):
    b = arm64_kernel()
    del b.syms["__start___jump_table"], b.syms["__stop___jump_table"]
    arts = open_artifacts(image=write(tmp_path, "Image", bytes(b.data)),
                          system_map=write(tmp_path, "System.map", b.map_text()))
    assert arts.sites.jump_labels == set()
    assert "__start___jump_table" in arts.sites.missing["jump_labels"]


def test_open_artifacts_arguments(tmp_path):
    b = arm64_kernel()
    m = write(tmp_path, "System.map", b.map_text())
    raw = write(tmp_path, "Image", bytes(b.data))
    with pytest.raises(InputError, match="--vmlinux or --image"):
        open_artifacts(vmlinux=raw, image=raw, system_map=m)
    with pytest.raises(InputError, match="--system-map or --kallsyms"):
        open_artifacts(system_map=m, kallsyms=m)
    with pytest.raises(InputError, match="no binary artifact"):
        open_artifacts()
    with pytest.raises(InputError, match="no symbol table: add --system-map"):
        open_artifacts(vmlinux=write(tmp_path, "vmlinux", elf64(62, 0xFFFFFFFF81000000, b"\xc3")))
    only = open_artifacts(system_map=m)
    assert only.image is None and only.sites is None and only.symbols.lookup("bar")
