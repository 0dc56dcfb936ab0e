"""kpanalyze.binary on Debian's real 6.1.176 images (x86_64 bzImage, arm64 Image, armhf zImage).

Symbols: the x86_64 ground-truth kallsyms (a booted kernel's /proc/kallsyms, KASLR off),
the -dbg System.map for arm64 and armhf. The ground truth of x86_64 (what tracefs accepted
on the booted kernel) checks the special sites: BUG sites, patched jump-label/static-call
sites, and which functions have an ftrace site. capstone is used here only, to look at the
bytes.
"""

from __future__ import annotations

import collections
import csv
import time

import capstone
import pytest

from kpanalyze.binary import open_artifacts
from kpanalyze.binary.symbols import SymbolTable

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def artifacts(debian_image, debian_symbols):
    cache: dict = {}

    def get(arch):
        if arch not in cache:
            opt, path = debian_symbols(arch)
            cache[arch] = open_artifacts(image=debian_image(arch), **{opt: path})
        return cache[arch]
    return get


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _addresses(symbols, target: str) -> list[int]:
    name, _, off = target.partition("+")
    return [s.address + int(off or "0", 0) for s in symbols.lookup(name)]


# ---------------------------------------------------------------- x86_64

def test_x86_kallsyms_and_image_load(debian_image, groundtruth, tmp_path, monkeypatch):
    t = time.perf_counter()
    syms = SymbolTable.load(groundtruth / "x86_64" / "kallsyms.txt")
    print(f"\nkallsyms load: {time.perf_counter() - t:.2f} s")
    assert len(syms) == 94101
    monkeypatch.setenv("KPANALYZE_CACHE_DIR", str(tmp_path))
    from kpanalyze.binary.image import KernelImage
    t = time.perf_counter()
    first = KernelImage.open(debian_image("x86"), syms)
    cold = time.perf_counter() - t
    t = time.perf_counter()
    again = KernelImage.open(debian_image("x86"), syms)
    warm = time.perf_counter() - t
    assert (first.kind, first.compression, first.arch) == ("bzImage", "xz", "x86")
    print(f"image open: cold {cold:.2f} s, warm {warm:.2f} s")
    assert again.version.startswith("Linux version 6.1.0-50-amd64")


def test_x86_bytes_are_code(artifacts):
    a = artifacts("x86")
    (sym,) = a.symbols.lookup("tcp_retransmit_skb")
    fb = a.image.function_bytes(sym, a.symbols.size_of(sym))
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    insns = list(md.disasm(fb.data, fb.address))
    assert sum(i.size for i in insns) == len(fb.data) == 240
    first = insns[0]
    assert first.mnemonic == "call" and int(first.op_str, 16) == a.symbols.address("__fentry__")
    assert {"ret", "jmp"} & {i.mnemonic for i in insns}  # (the tail is alignment padding)


def test_x86_site_counts(artifacts):
    s = artifacts("x86").sites
    assert s.counts() == {"jump_labels": 6279, "static_calls": 4086, "bugs": 7727, "extable": 600,
                          "ftrace": 40432, "kprobe_blacklist": 178}
    assert s.missing == {}


def test_x86_sites_agree_with_groundtruth(artifacts, groundtruth):
    a = artifacts("x86")
    syms, s = a.symbols, a.sites
    rows = _rows(groundtruth / "x86_64" / "offset_results.tsv")
    bug_rows = [r for r in rows if r["cause"] == "bug_table(ud2)"]
    assert bug_rows and all(set(_addresses(syms, r["target"])) & s.bugs for r in bug_rows)
    patched = s.jump_labels | s.static_calls
    insn_rows = [r for r in rows if r["cause"] == "einval_insn_level"
                 and r["instruction"].split()[0] in ("nopl", "xchg", "call", "jmp")]
    assert len(insn_rows) == 13 and all(set(_addresses(syms, r["target"])) & patched for r in insn_rows)
    ok_rows = [r for r in rows if r["cause"] == "ok"]
    assert not any(set(_addresses(syms, r["target"])) & (patched | s.bugs) for r in ok_rows)
    # reserved(): exactly the 13 rows, though 9 ok rows sit 2 bytes after a 2-byte jump label
    hits = [r for r in rows for a in _addresses(syms, r["target"]) if s.reserved(a)]
    assert sorted(map(id, hits)) == sorted(map(id, insn_rows))


def test_x86_kprobe_blacklist_agrees_with_debugfs(artifacts, groundtruth):
    """Every _kprobe_blacklist range is a line of /sys/kernel/debug/kprobes/blacklist (the
    other lines there come from the blacklisted areas: entry text, noinstr, .kprobes.text)."""
    booted = set()
    for line in (groundtruth / "x86_64" / "blacklist.txt").read_text().splitlines():
        lo, hi = line.split()[0].split("-")
        booted.add((int(lo, 16), int(hi, 16)))
    mine = set(artifacts("x86").sites.kprobe_blacklist)
    assert len(mine) == 178 and mine <= booted


def test_x86_ftrace_sites_agree_with_notrace(artifacts, groundtruth):
    """tracefs refuses a function without an ftrace site in [start, start+size)
    (within_notrace_func); clones (foo.cold) are judged by their base name."""
    a = artifacts("x86")
    syms, s = a.symbols, a.sites
    counts = collections.Counter()
    for r in _rows(groundtruth / "x86_64" / "probe_results.tsv"):
        if r["origin"] not in ("kallsyms", "kallsyms_weak") or "," in r["addr"]:
            continue
        addr = int(r["addr"], 16)
        (sym,) = [x for x in syms.lookup(r["name"]) if x.address == addr]
        sites = s.ftrace_in(addr, addr + syms.size_of(sym), booted=True)
        cause = r["kprobe_cause"]
        if cause == "notrace(no_ftrace_site)":
            counts["notrace"] += 1
            counts["notrace with site"] += bool(sites)
            counts["notrace with site in image (init)"] += bool(s.ftrace_in(addr, addr + syms.size_of(sym)))
        elif cause == "ok":
            counts["ok"] += 1
            if addr in s.ftrace:
                counts["ok at +0"] += 1
            elif not sites:
                base = r["name"].split(".")[0]
                assert any(s.ftrace_in(b.address, b.address + syms.size_of(b))
                           for b in syms.lookup(base)), r["name"]
                counts["ok clone, base has site"] += 1
    assert counts["notrace with site"] == 0
    assert counts["notrace"] == 8918 and counts["notrace with site in image (init)"] == 2243
    assert counts["ok at +0"] + counts["ok clone, base has site"] == counts["ok"] == 39621


def test_x86_kaslr_kallsyms(debian_image, groundtruth, tmp_path):
    """A kallsyms of a KASLR boot: addresses shifted by a multiple of 2 MiB."""
    slide = 0x1A00000
    lines = []
    for line in (groundtruth / "x86_64" / "kallsyms.txt").read_text().splitlines():
        a, t, n = line.split()[:3]
        v = int(a, 16)
        lines.append(f"{v + slide if t not in 'aA' else v:016x} {t} {n}")
    p = tmp_path / "kallsyms"
    p.write_text("\n".join(lines) + "\n")
    a = open_artifacts(image=debian_image("x86"), kallsyms=p)
    assert a.image.slide == slide
    (sym,) = a.symbols.lookup("tcp_retransmit_skb")
    assert a.image.read(sym.address, 1) == b"\xe8"
    assert sym.address in a.sites.ftrace


# ---------------------------------------------------------------- arm64

def test_arm64_image(artifacts):
    a = artifacts("arm64")
    assert (a.image.arch, a.image.kind) == ("arm64", "Image")
    assert a.image.version.startswith("Linux version 6.1.0-50-arm64")
    s = a.sites
    assert s.counts() == {"jump_labels": 7512, "static_calls": 0, "bugs": 7262, "extable": 789,
                          "ftrace": 44174, "kprobe_blacklist": 93}
    md = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
    (sym,) = a.symbols.lookup("tcp_retransmit_skb")
    fb = a.image.function_bytes(sym, a.symbols.size_of(sym))
    insns = [i.mnemonic for i in md.disasm(fb.data, fb.address)]
    assert insns[:3] == ["nop", "nop", "paciasp"] and len(insns) * 4 == len(fb.data)
    # patchable-function-entry=2: the site is the second NOP (ftrace_call_adjust: +4)
    assert s.ftrace_in(sym.address, sym.address + len(fb.data)) == [sym.address + 4]
    offsets = collections.Counter()
    for site in s.ftrace:
        f = a.symbols.containing(site)
        offsets[site - f.address] += 1
    assert offsets[4] / len(s.ftrace) > 0.99
    # mcount_loc is all zeros in the Image: the values come from the RELA addends
    assert all(a.symbols.containing(x) for x in s.mcount_loc)
    assert all(a.symbols.containing(lo).address == lo for lo, _hi in s.kprobe_blacklist)
    bugs = collections.Counter(i.mnemonic + " " + i.op_str for x in list(s.bugs)[:500]
                               for i in md.disasm(a.image.read(x, 4), x))
    assert set(bugs) == {"brk #0x800"}
    jl = collections.Counter(i.mnemonic for x in s.jump_labels for i in md.disasm(a.image.read(x, 4), x))
    assert set(jl) <= {"nop", "b"}


def test_arm64_vmlinux_elf_matches_the_image(artifacts, debian_system_map):
    """The unstripped vmlinux of the -dbg package, when present (the fixture does not
    extract it: 300 MB): its symtab equals System.map and its sites equal the Image's."""
    vmlinux = debian_system_map("arm64").parent / "vmlinux-6.1.0-50-arm64"
    if not vmlinux.is_file():
        pytest.skip(f"{vmlinux} not extracted")
    elf = open_artifacts(vmlinux=vmlinux)
    img = artifacts("arm64")
    assert elf.symbols.kind == "elf"
    assert {(x.name, x.address) for x in elf.symbols.text_symbols()} == \
        {(x.name, x.address) for x in img.symbols.text_symbols()}
    assert elf.sites.ftrace == img.sites.ftrace and elf.sites.bugs == img.sites.bugs
    assert elf.sites.kprobe_blacklist == img.sites.kprobe_blacklist


# ---------------------------------------------------------------- armhf

def test_armhf_zimage(artifacts):
    a = artifacts("arm")
    assert (a.image.arch, a.image.kind, a.image.compression) == ("arm", "zImage", "xz")
    assert a.image.version.startswith("Linux version 6.1.0-50-armmp")
    s = a.sites
    assert s.counts() == {"jump_labels": 5003, "static_calls": 0, "bugs": 1591, "extable": 215,
                          "ftrace": 39757, "kprobe_blacklist": 45}
    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_ARM)
    mcount = a.symbols.address("__gnu_mcount_nc")
    decoded = collections.Counter()
    for x in s.ftrace:
        (i,) = md.disasm(a.image.read(x, 4), x)
        decoded[(i.mnemonic, i.op_str == f"#{mcount:#x}")] += 1
    assert decoded == {("bl", True): len(s.ftrace)}
    (sym,) = a.symbols.lookup("tcp_retransmit_skb")
    fb = a.image.function_bytes(sym, a.symbols.size_of(sym))
    assert not fb.thumb and len(fb.data) == 308
    assert s.ftrace_in(sym.address, sym.address + 308) == [sym.address + 8]
