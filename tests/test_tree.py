"""KernelTree: layout checks, version, arches, the source walk and reading."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from kpanalyze.errors import InputError
from kpanalyze.tree import KernelTree, source_kind


def make_tree(root: Path, files: dict[str, str | bytes] | None = None, *, version=("6", "1", "176", "")) -> Path:
    """A minimal kernel tree: top Makefile with a version, kernel/ and arch/x86/Kconfig."""
    v, p, s, e = version
    base = {
        "Makefile": f"# SPDX\nVERSION = {v}\nPATCHLEVEL = {p}\nSUBLEVEL = {s}\nEXTRAVERSION ={e and ' ' + e}\n"
                    "NAME = Test\n",
        "kernel/Makefile": "obj-y += fork.o\n",
        "kernel/fork.c": "int copy_process(void)\n{\n\treturn 0;\n}\n",
        "arch/x86/Kconfig": "config X86\n\tselect HAVE_KPROBES\n",
    }
    base.update(files or {})
    for rel, content in base.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)
    return root


def test_version_and_identity(tmp_path):
    t = KernelTree(make_tree(tmp_path / "linux"))
    assert t.version == "6.1.176"
    ident = t.identity()
    assert ident.startswith("linux-6.1.176-") and "/" not in ident
    # stable across instances and through a symlink to the same tree
    (tmp_path / "alias").symlink_to(tmp_path / "linux")
    assert KernelTree(tmp_path / "alias").identity() == ident
    other = KernelTree(make_tree(tmp_path / "other"))
    assert other.identity() != ident


def test_extraversion(tmp_path):
    t = KernelTree(make_tree(tmp_path, version=("6", "8", "0", "-rc3")))
    assert t.version == "6.8.0-rc3"


@pytest.mark.parametrize("broken", ["no-makefile", "no-version", "no-kernel", "no-arch"])
def test_not_a_kernel_tree(tmp_path, broken):
    root = make_tree(tmp_path / "t")
    if broken == "no-makefile":
        (root / "Makefile").unlink()
    elif broken == "no-version":
        (root / "Makefile").write_text("all:\n\techo hi\n")
    elif broken == "no-kernel":
        (root / "kernel" / "fork.c").unlink()
        (root / "kernel" / "Makefile").unlink()
        (root / "kernel").rmdir()
    else:
        (root / "arch" / "x86" / "Kconfig").unlink()
        (root / "arch" / "x86").rmdir()
        (root / "arch").rmdir()
    with pytest.raises(InputError, match="not a Linux kernel tree"):
        KernelTree(root)


def test_missing_dir_is_input_error(tmp_path):
    with pytest.raises(InputError, match="not a Linux kernel tree"):
        KernelTree(tmp_path / "nope")


def test_arches(tmp_path):
    root = make_tree(tmp_path, {"arch/arm64/Kconfig": "config ARM64\n", "arch/arm64/Makefile": "",
                                "arch/none/Makefile": "", "arch/Kconfig": "config KPROBES\n"})
    assert KernelTree(root).arches() == ["arm64", "x86"]


@pytest.mark.parametrize("path,kind", [
    ("kernel/fork.c", "c"), ("include/linux/kprobes.h", "c"), ("arch/x86/entry/entry_64.S", "asm"),
    ("kernel/Makefile", "kbuild"), ("arch/x86/Kbuild", "kbuild"), ("arch/x86/Kconfig", "kconfig"),
    ("arch/x86/Kconfig.debug", "kconfig"), ("arch/Kconfig", None), ("kernel/Kconfig.preempt", None),
    ("arch/arm/mach-foo/Kconfig", None), ("drivers/foo/foo.mod.c", None), ("kernel/foo.o", None),
    ("arch/x86/kernel/vmlinux.lds.S", "asm"), ("README", None),
])
def test_source_kind(path, kind):
    assert source_kind(path) == kind


def test_iter_sources_skips_and_kinds(tmp_path):
    root = make_tree(tmp_path, {
        "tools/perf/perf.c": "int main(void) { return 0; }\n",
        "scripts/mod/modpost.c": "int main(void) { return 0; }\n",
        "Documentation/conf.c": "x\n",
        ".git/objects/x.c": "x\n",
        "kernel/.tmp_dir/y.c": "x\n",
        "arch/x86/tools/relocs.c": "int x;\n",  # only top-level tools/ is skipped
        "arch/x86/entry/entry_64.S": "SYM_FUNC_START(x)\n",
        "kernel/kprobes.c": "int register_kprobe(void) { return 0; }\n",
        "include/linux/kprobes.h": "#define NOKPROBE_SYMBOL(x)\n",
        "kernel/notes.txt": "hello\n",
    })
    t = KernelTree(root)
    got = dict(t.iter_sources())
    assert got == {
        "Makefile": "kbuild",
        "arch/x86/Kconfig": "kconfig",
        "arch/x86/entry/entry_64.S": "asm",
        "arch/x86/tools/relocs.c": "c",
        "include/linux/kprobes.h": "c",
        "kernel/Makefile": "kbuild",
        "kernel/fork.c": "c",
        "kernel/kprobes.c": "c",
    }
    assert list(got) == sorted(got)  # path order, stable
    sizes = {sf.path: sf.size for sf in t.scan()}
    assert sizes["kernel/fork.c"] == (root / "kernel/fork.c").stat().st_size


def test_symlink_loops_and_outside_links(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil.c").write_text("int evil(void) { return 1; }\n")
    root = make_tree(tmp_path / "linux", {"lib/sort.c": "void sort(void) {}\n"})
    (root / "lib" / "loop").symlink_to("..")  # lib/loop -> tree root: a loop
    (root / "lib" / "self").symlink_to(".")
    (root / "lib" / "again").symlink_to(root / "kernel")  # second way to kernel/
    (root / "lib" / "away").symlink_to(outside)
    (root / "lib" / "away.c").symlink_to(outside / "evil.c")
    (root / "lib" / "dangling.c").symlink_to(root / "lib" / "nothing.c")
    (root / "lib" / "alias.c").symlink_to("sort.c")  # file symlink inside the tree: read
    t = KernelTree(root)
    paths = [p for p, _ in t.iter_sources()]
    assert len(paths) == len(set(paths))
    assert "lib/sort.c" in paths and "lib/alias.c" in paths
    assert "kernel/fork.c" in paths or "lib/again/fork.c" in paths
    assert sum(p.endswith("fork.c") for p in paths) == 1
    assert not any("evil" in p or p.startswith("lib/away") or "dangling" in p for p in paths)
    assert any("lib/away: symlink leads outside the tree" in w for w in t.warnings)


def test_directory_symlink_is_followed_once(tmp_path):
    root = make_tree(tmp_path / "linux", {"real/dir/a.c": "int a;\n"})
    (root / "kernel" / "link").symlink_to(root / "real" / "dir")
    paths = [p for p, _ in KernelTree(root).iter_sources()]
    # whichever way the walk meets it first, a.c is listed once
    assert sum(p.endswith("/a.c") for p in paths) == 1


def test_special_files_ignored(tmp_path):
    root = make_tree(tmp_path / "linux")
    os.mkfifo(root / "kernel" / "pipe.c")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(root / "kernel" / "sock.c"))
    except OSError:
        pass  # path too long for AF_UNIX on some systems: the fifo still checks it
    finally:
        sock.close()
    t = KernelTree(root)
    paths = [p for p, _ in t.iter_sources()]  # must not block on the fifo
    assert "kernel/pipe.c" not in paths and "kernel/sock.c" not in paths
    assert "kernel/fork.c" in paths


def test_read_binary_large_and_non_utf8(tmp_path):
    root = make_tree(tmp_path / "linux", {
        "kernel/bin.c": b"\x7fELF\x00\x00\x01garbage",
        "kernel/latin1.c": "/* Gr\xfc\xdfe */\nint f(void) { return 0; }\n".encode("latin-1"),
        "kernel/big.c": b"int x;\n" * 200,
    })
    t = KernelTree(root, max_size=1000)
    assert t.read("kernel/bin.c") is None
    assert "kernel/bin.c: binary file skipped" in t.warnings
    data = t.read("kernel/latin1.c")
    assert data is not None and b"\xfc" in data
    assert t.read("kernel/big.c") is None
    assert any(w.startswith("kernel/big.c: larger than") for w in t.warnings)
    assert t.read("kernel/missing.c") is None
    with pytest.raises(InputError):
        t.read("../outside.c")
