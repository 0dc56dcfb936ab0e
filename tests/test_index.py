"""FactIndex: incremental builds, crash safety, bad caches, and the query API.

The extractors are replaced by a tiny line-based fake (monkeypatched `extract_file`,
`expand_macros`) so these tests pin the index's own behaviour, whatever state the real
extractors are in. One test at the end runs the real extractors when they exist.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from kpanalyze import index as index_mod
from kpanalyze.errors import InputError
from kpanalyze.facts import (AsmSymbol, CallEdge, FileFacts, FunctionDef, KbuildRule, KconfigSelect,
                             MacroDef, MacroUse, Registration, SymbolRef)
from kpanalyze.index import GENERATED, FactIndex
from kpanalyze.tree import KernelTree

from test_tree import make_tree

EXTRACTED: list[str] = []  # paths the fake extractor saw (inline builds only: workers=1)


def fake_extract(kind: str, path: str, data: bytes, read=None, deps=None) -> FileFacts:
    EXTRACTED.append(path)
    ff = FileFacts(path=path, kind=kind)
    text = data.decode("utf-8", "replace")
    current = None
    for no, line in enumerate(text.splitlines(), 1):
        if kind == "c":
            if m := re.match(r"(static )?(?:int|void) (?:(\w+) )?(\w+)\((.*)\)$", line):
                kws = tuple(k for k in (m.group(1) and "static", m.group(2)) if k)
                current = m.group(3)
                ff.functions.append(FunctionDef(current, path, no, "static" if m.group(1) else "extern", kws))
            elif m := re.match(r"NOKPROBE_SYMBOL\((\w+)\);", line):
                ff.registrations.append(Registration(m.group(1), path, no, "NOKPROBE_SYMBOL"))
            elif m := re.match(r"EXPORT_SYMBOL\((\w+)\);", line):
                ff.exports.append(m.group(1))
            elif m := re.match(r"#define (\w+)\(([^)]*)\)\s*(.*)", line):
                params = tuple(p.strip() for p in m.group(2).split(","))
                ff.macro_defs.append(MacroDef(m.group(1), path, no, params, m.group(3)))
                ff.object_macros.append(m.group(1))
            elif m := re.match(r"#define (\w+)", line):
                ff.object_macros.append(m.group(1))
            elif m := re.match(r"([A-Z_0-9]+)\((.*)\);$", line):
                args = tuple(a.strip() for a in m.group(2).split(","))
                ff.macro_uses.append(MacroUse(m.group(1), path, no, args, ("defined(CONFIG_X)",)))
            elif line.startswith("\t") and current:
                for callee in re.findall(r"(\w+)\(", line):
                    ff.calls.append(CallEdge(current, callee, path, no))
                    ff.refs.append(SymbolRef(callee, path, calls=1))
            elif line == "}":
                current = None
            if "ERROR" in line:
                ff.parse_errors += 1
                ff.warnings.append(f"{path}:{no}: fake parse error")
        elif kind == "asm":
            if (m := re.match(r"#include <(.*)>", line)) and read is not None:
                # like the real scanner: the arch's headers first, then include/
                for cand in (f"arch/x86/include/{m.group(1)}", f"include/{m.group(1)}"):
                    deps.add(cand)
                    hdr = read(cand)
                    if hdr is not None:
                        for name in re.findall(rb"ASMSYM (\w+)", hdr):
                            ff.asm_symbols.append(AsmSymbol(name.decode(), cand, 1, ".entry.text", True))
                        break
            elif m := re.match(r"SYM_FUNC_START\((\w+)\)", line):
                ff.asm_symbols.append(AsmSymbol(m.group(1), path, no, current or ".text", True))
            elif m := re.match(r"\.section (\S+)", line):
                current = m.group(1)
        elif kind == "kbuild":
            if m := re.match(r"(obj-(?:y|\$\((CONFIG_\w+)\)))\s*\+=\s*(.*)", line):
                ff.kbuild_rules.append(KbuildRule(path, no, m.group(1), m.group(2) or "", tuple(m.group(3).split())))
        elif kind == "kconfig":
            if m := re.match(r"config (\w+)", line):
                current = m.group(1)
            elif m := re.match(r"\s+select (\w+)(?: if (.*))?", line):
                ff.kconfig_selects.append(KconfigSelect(path, no, current, m.group(1), m.group(2) or ""))
    return ff


EXPANDED: list[int] = []


def fake_expand(uses, defs):
    """NOKPROBE_WRAP(fn): body registers fn and defines __wrap_fn."""
    EXPANDED.append(len(uses))
    funcs, regs = [], []
    for u in uses:
        for d in defs.get(u.name, []):
            if "NOKPROBE_SYMBOL" in d.body:
                regs.append(Registration(u.args[0], u.path, u.line, "NOKPROBE_SYMBOL", u.conditions,
                                         u.name, d.path, d.line))
            if "int __wrap_" in d.body:
                funcs.append(FunctionDef("__wrap_" + u.args[0], u.path, u.line, "extern",
                                         via_macro=u.name, macro_path=d.path, macro_line=d.line))
    return funcs, regs


@pytest.fixture(autouse=True)
def fakes(monkeypatch):
    monkeypatch.setattr(index_mod, "extract_file", fake_extract)
    monkeypatch.setattr(index_mod, "expand_macros", fake_expand)
    EXTRACTED.clear()
    EXPANDED.clear()


SOURCES = {
    "include/linux/kprobes.h": "#define NOKPROBE_SYMBOL(fname) static void *__kp_##fname\n"
                               "#define KPROBE_BLACKLIST 1\n"
                               "#define NOKPROBE_WRAP(fn) NOKPROBE_SYMBOL(fn); int __wrap_##fn(void)\n",
    "kernel/kprobes.c": "static int __kprobes helper(void)\n{\n\treturn do_thing(1);\n}\n"
                        "NOKPROBE_SYMBOL(helper);\n"
                        "int register_kprobe(void)\n{\n\treturn helper() + do_thing(2);\n}\n"
                        "EXPORT_SYMBOL(register_kprobe);\n"
                        "NOKPROBE_WRAP(wrapped);\n",
    "kernel/fork.c": "int copy_process(void)\n{\n\treturn helper();\n}\n",
    "kernel/sys.c": "SYSCALL_DEFINE3(openat, int, dfd, const char *, name);\n"
                    "SYSCALL_DEFINE1(close, int, fd);\n"
                    "COMPAT_SYSCALL_DEFINE3(openat, int, dfd, const char *, name);\n"
                    "SYSCALL_DEFINE1(openatx, int, fd);\n",
    "kernel/Makefile": "obj-y += fork.o sys.o\nobj-$(CONFIG_KPROBES) += kprobes.o\n",
    "arch/x86/Kconfig": "config X86\n\tselect HAVE_KPROBES\n\tselect HAVE_KRETPROBES if X86_64\n",
    "arch/arm64/Kconfig": "config ARM64\n\tselect HAVE_KPROBES\n",
    "arch/x86/entry/entry_64.S": ".section .entry.text\nSYM_FUNC_START(entry_SYSCALL_64)\n",
    "arch/x86/lib/memcpy.S": "SYM_FUNC_START(memcpy)\n",
    "lib/parse.c": "int broken(void)\n{\n\tERROR here(\n}\n",
}


@pytest.fixture
def tree(tmp_path) -> Path:
    return make_tree(tmp_path / "linux", SOURCES)


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "cache"


def open_index(tree, cache) -> FactIndex:
    return FactIndex(KernelTree(tree), cache_dir=cache)


def build(idx, workers=1):
    stats = idx.build(workers=workers)
    return stats


def test_cold_build_and_queries(tree, cache):
    with open_index(tree, cache) as idx:
        assert idx.path.parent == cache.resolve()
        assert idx.path.name.startswith("index-linux-6.1.176-")
        st = build(idx)
        assert st.files_seen == len(SOURCES) + 1  # + top Makefile
        assert st.extracted == st.files_seen and st.reused == 0 and st.removed == 0
        assert st.linked and st.generated == 2
        assert "lib/parse.c:3: fake parse error" in st.warnings

        (helper,) = idx.functions("helper")
        assert helper == FunctionDef("helper", "kernel/kprobes.c", 1, "static", ("static", "__kprobes"))
        assert idx.functions("nope") == []
        many = idx.functions_many(["helper", "copy_process", "nope", "helper"])
        assert set(many) == {"helper", "copy_process", "nope"}
        assert [f.path for f in many["copy_process"]] == ["kernel/fork.c"] and many["nope"] == []
        assert [f.name for f in idx.functions_with_keyword("__kprobes")] == ["helper"]
        assert idx.functions_with_keyword("__kprobe") == []  # whole keywords only

        regs = idx.registrations()
        assert [(r.name, r.via_macro) for r in regs] == [("helper", ""), ("wrapped", "NOKPROBE_WRAP")]
        assert idx.registrations("wrapped")[0].macro_path == "include/linux/kprobes.h"
        (gen,) = idx.functions("__wrap_wrapped")
        assert gen.via_macro == "NOKPROBE_WRAP" and gen.path == "kernel/kprobes.c"

        assert [a.name for a in idx.asm_symbols()] == ["entry_SYSCALL_64", "memcpy"]
        assert idx.asm_symbols("memcpy")[0].section == ".text"
        assert idx.asm_symbols_many(["memcpy", "x"])["x"] == []
        assert [a.name for a in idx.asm_in_sections([".entry.text", ".noinstr.text"])] == ["entry_SYSCALL_64"]

        assert sorted((r.path, r.calls) for r in idx.refs("helper")) == [("kernel/fork.c", 1), ("kernel/kprobes.c", 1)]
        assert len(idx.refs_many(["do_thing"])["do_thing"]) == 2
        assert {(e.caller, e.line) for e in idx.calls_into("do_thing")} == {("helper", 3), ("register_kprobe", 8)}
        assert ("copy_process", "helper") in set(idx.call_edges())
        assert set(idx.call_edges(lambda p: p.startswith("kernel/fork"))) == {("copy_process", "helper")}
        assert idx.data_symbols("x") == [] and idx.data_many(["x"]) == {"x": []}

        assert idx.is_macro("NOKPROBE_SYMBOL") == ["include/linux/kprobes.h"]
        assert idx.is_macro("KPROBE_BLACKLIST") == ["include/linux/kprobes.h"]
        assert idx.is_macro("helper") == []
        assert idx.exports("register_kprobe") == ["kernel/kprobes.c"]

        sys_uses = idx.macro_uses("SYSCALL_DEFINE%", "openat")
        assert [(u.name, u.args[0]) for u in sys_uses] == [("SYSCALL_DEFINE3", "openat")]
        assert sys_uses[0].conditions == ("defined(CONFIG_X)",)
        assert len(idx.macro_uses("SYSCALL_DEFINE*")) == 3
        assert [u.args[0] for u in idx.macro_uses("SYSCALL_DEFINE1")] == ["close", "openatx"]
        assert idx.macro_uses("SYSCALL_DEFINE1", "openat") == []

        kb = idx.kbuild_facts()
        assert set(kb) == {"Makefile", "kernel/Makefile"}
        rules = kb["kernel/Makefile"].kbuild_rules
        assert rules[1] == KbuildRule("kernel/Makefile", 2, "obj-$(CONFIG_KPROBES)", "CONFIG_KPROBES", ("kprobes.o",))
        sel = idx.kconfig_selects("arch/x86/")
        assert [(s.owner, s.symbol, s.condition) for s in sel] == [
            ("X86", "HAVE_KPROBES", ""), ("X86", "HAVE_KRETPROBES", "X86_64")]
        assert len(idx.kconfig_selects("arch/")) == 3

        assert idx.file_parse_errors() == {"lib/parse.c": 1}
        assert idx.warnings() == ["lib/parse.c:3: fake parse error"]
        assert "kernel/fork.c" in idx.sources("c") and GENERATED not in idx.sources()
        assert len(list(idx.iter_facts("functions"))) == 5


def test_noop_rebuild_and_one_changed_file(tree, cache):
    with open_index(tree, cache) as idx:
        build(idx)
        EXTRACTED.clear()
        st = build(idx)
        assert (st.extracted, st.reused, st.removed, st.linked) == (0, st.files_seen, 0, False)
        assert EXTRACTED == []

        # touch without change: rehashed, not re-extracted
        os.utime(tree / "kernel/fork.c", ns=(1, 1))
        st = build(idx)
        assert (st.extracted, st.rehashed) == (0, 1) and EXTRACTED == []

        # a real change: only that file is extracted, its old rows replaced
        (tree / "kernel/fork.c").write_text("int copy_process(void)\n{\n\treturn 0;\n}\nint dup_mm(void)\n")
        st = build(idx)
        assert EXTRACTED == ["kernel/fork.c"] and st.extracted == 1
        assert not st.linked  # no macro definition or use of a defined macro came or went
        assert [f.line for f in idx.functions("copy_process")] == [1]
        assert idx.functions("dup_mm")[0].line == 5
        assert [r.path for r in idx.refs("helper")] == ["kernel/kprobes.c"]

        # a new use of a defined macro: the link step runs again
        (tree / "kernel/fork.c").write_text("int copy_process(void)\n{\n}\nNOKPROBE_WRAP(forked);\n")
        st = build(idx)
        assert st.linked and st.generated == 4
        assert idx.registrations("forked")[0].path == "kernel/fork.c"
        assert len(idx.registrations("wrapped")) == 1  # generated rows replaced, not doubled

        # the use goes away again: so do its generated facts
        (tree / "kernel/fork.c").write_text("int copy_process(void)\n")
        st = build(idx)
        assert st.linked and idx.registrations("forked") == [] and idx.functions("__wrap_forked") == []

        # the definition changes: everything is expanded again
        hdr = tree / "include/linux/kprobes.h"
        hdr.write_text(hdr.read_text().replace("NOKPROBE_SYMBOL(fn); int", "int"))
        st = build(idx)
        assert st.linked and st.generated == 1 and idx.registrations("wrapped") == []

        # a Makefile change does not re-run the link step
        EXTRACTED.clear()
        (tree / "kernel/Makefile").write_text("obj-y += fork.o\n")
        st = build(idx)
        assert EXTRACTED == ["kernel/Makefile"] and not st.linked
        assert len(idx.kbuild_facts()["kernel/Makefile"].kbuild_rules) == 1


def test_deleted_and_new_files(tree, cache):
    with open_index(tree, cache) as idx:
        build(idx)
        (tree / "kernel/kprobes.c").unlink()
        (tree / "lib/new.c").write_text("void fresh(void)\n")
        EXTRACTED.clear()
        st = build(idx)
        assert st.removed == 1 and EXTRACTED == ["lib/new.c"]
        assert idx.functions("helper") == [] and idx.refs("do_thing") == []
        assert idx.exports("register_kprobe") == []
        assert idx.registrations() == []  # generated ones too: their use site is gone
        assert idx.functions("fresh")[0].path == "lib/new.c"
        assert "kernel/kprobes.c" not in idx.sources()


def test_reopen_uses_cache(tree, cache):
    with open_index(tree, cache) as idx:
        build(idx)
    with open_index(tree, cache) as idx:
        st = build(idx)
        assert st.extracted == 0 and idx.functions("helper")


def test_parallel_build_matches_serial(tree, cache, tmp_path, monkeypatch):
    for i in range(80):
        (tree / "drivers" / f"d{i // 10}").mkdir(parents=True, exist_ok=True)
        (tree / "drivers" / f"d{i // 10}" / f"f{i}.c").write_text(f"int drv{i}(void)\n{{\n\treturn helper();\n}}\n")
    monkeypatch.setattr(index_mod, "INLINE_BYTES", 0)
    monkeypatch.setattr(index_mod, "CHUNK_FILES", 8)
    with FactIndex(tree, cache_dir=tmp_path / "c2") as par, open_index(tree, cache) as ser:
        stp = par.build(workers=2)
        sts = ser.build(workers=1)
        assert stp.extracted == sts.extracted == stp.files_seen
        for name in ("helper", "drv42", "wrapped"):
            assert par.functions(name) == ser.functions(name)
            assert par.refs(name) == ser.refs(name)
        assert par.registrations() == ser.registrations()
        assert len(par.refs("helper")) == 82


def test_killed_build_is_completed_next_time(tree, cache, monkeypatch):
    for i in range(30):
        (tree / "mm" / f"m{i:02}.c").parent.mkdir(exist_ok=True)
        (tree / "mm" / f"m{i:02}.c").write_text(f"int mm{i}(void)\n")
    monkeypatch.setattr(index_mod, "BATCH_FILES", 4)

    def dying(kind, path, data, **kw):
        if path == "mm/m20.c":
            raise KeyboardInterrupt  # like Ctrl-C (or a kill) in the middle of the build
        return fake_extract(kind, path, data, **kw)

    monkeypatch.setattr(index_mod, "extract_file", dying)
    with open_index(tree, cache) as idx:
        with pytest.raises(KeyboardInterrupt):
            idx.build(workers=1)
        done = idx.sources()
        assert 0 < len(done) < len(SOURCES) + 31
        assert len(done) % 4 == 0  # whole transactions only
        # every stored file has its rows, and no row is without its file
        assert all(idx.functions(f"mm{i}") for i in range(30) if f"mm/m{i:02}.c" in done)
        assert not any(idx.functions(f"mm{i}") for i in range(30) if f"mm/m{i:02}.c" not in done)

    monkeypatch.setattr(index_mod, "extract_file", fake_extract)
    EXTRACTED.clear()
    with open_index(tree, cache) as idx:
        st = idx.build(workers=1)
        assert st.reused == len(done) and st.extracted == st.files_seen - len(done)
        assert sorted(EXTRACTED) == sorted(set(idx.sources()) - set(done))
        assert st.linked  # link never ran before: it runs now
        for i in range(30):
            assert len(idx.functions(f"mm{i}")) == 1
        assert len(idx.registrations("wrapped")) == 1


def test_extractor_crash_is_a_warning_and_retried(tree, cache, monkeypatch):
    def flaky(kind, path, data, **kw):
        if path == "kernel/fork.c":
            raise ValueError("boom")
        return fake_extract(kind, path, data, **kw)

    monkeypatch.setattr(index_mod, "extract_file", flaky)
    with open_index(tree, cache) as idx:
        st = idx.build(workers=1)
        assert "kernel/fork.c: c extractor failed (ValueError: boom)" in st.warnings
        assert idx.functions("copy_process") == []
        monkeypatch.setattr(index_mod, "extract_file", fake_extract)
        EXTRACTED.clear()
        st = idx.build(workers=1)
        assert EXTRACTED == ["kernel/fork.c"] and idx.functions("copy_process")


def test_missing_extractor_module_is_reported_once(tree, cache, monkeypatch):
    def no_asm(kind, path, data, **kw):
        if kind == "asm":
            raise ModuleNotFoundError("No module named 'kpanalyze.parsing.asm_extract'")
        return fake_extract(kind, path, data, **kw)

    monkeypatch.setattr(index_mod, "extract_file", no_asm)
    with open_index(tree, cache) as idx:
        st = idx.build(workers=1)
        assert [w for w in st.warnings if "asm extractor unavailable" in w] == [
            "asm extractor unavailable (No module named 'kpanalyze.parsing.asm_extract'); its files carry no facts"]
        assert idx.asm_symbols() == [] and idx.functions("helper")


def test_changed_extractor_fingerprint_reextracts_its_kind(tree, cache, monkeypatch):
    with open_index(tree, cache) as idx:
        build(idx)
        fps = index_mod._fingerprints()
        monkeypatch.setattr(index_mod, "_fingerprints", lambda: {**fps, "kbuild": "changed"})
        EXTRACTED.clear()
        st = build(idx)
        assert sorted(EXTRACTED) == ["Makefile", "kernel/Makefile"] and not st.linked
        monkeypatch.setattr(index_mod, "_fingerprints", lambda: {**fps, "kbuild": "changed", "link": "new"})
        st = build(idx)
        assert st.extracted == 0 and st.linked


def test_binary_and_non_utf8_files(tree, cache):
    (tree / "kernel/blob.c").write_bytes(b"\x00\x01\x02ELF")
    (tree / "kernel/latin.c").write_bytes("/* M\xfcller */\nint latin(void)\n".encode("latin-1"))
    (tree / "kernel/bad.S").write_bytes(b"/* \xff\xfe */\nSYM_FUNC_START(bad_sym)\n")
    with open_index(tree, cache) as idx:
        st = build(idx)
        assert "kernel/blob.c: binary file skipped" in st.warnings
        assert idx.functions("latin")[0].path == "kernel/latin.c"
        assert idx.asm_symbols("bad_sym")[0].line == 2
        st = build(idx)
        assert st.extracted == 0 and st.warnings == []  # skipped files are remembered


def test_too_large_file_skipped(tree, cache):
    (tree / "drivers/big").mkdir(parents=True)
    (tree / "drivers/big/regs.h").write_text("#define REG 1\n" * 100)
    with FactIndex(KernelTree(tree, max_size=500), cache_dir=cache) as idx:
        st = build(idx)
        assert any(w.startswith("drivers/big/regs.h: larger than") for w in st.warnings)
        assert idx.is_macro("REG") == []


def test_symlink_loop_in_tree(tree, cache):
    (tree / "kernel" / "loop").symlink_to("..")
    with open_index(tree, cache) as idx:
        st = build(idx)
        assert st.files_seen == len(SOURCES) + 1
        assert len(idx.functions("copy_process")) == 1


def test_corrupt_cache_is_input_error(tree, cache):
    with open_index(tree, cache) as idx:
        db = idx.path
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.write_bytes(b"this is not an sqlite database" * 100)
    with pytest.raises(InputError) as ei:
        open_index(tree, cache).build(workers=1)
    msg = str(ei.value)
    assert msg.startswith(f"{db}: unreadable cache (") and msg.endswith("; delete it or set KPANALYZE_CACHE_DIR")


def test_outdated_schema_is_rebuilt(tree, cache):
    with open_index(tree, cache) as idx:
        build(idx)
        idx.conn.execute("UPDATE meta SET value='old' WHERE key='schema'")
    EXTRACTED.clear()
    with open_index(tree, cache) as idx:
        assert idx.sources() == []
        st = build(idx)
        assert st.extracted == st.files_seen and idx.functions("helper")


def test_cache_dir_env_and_errors(tree, tmp_path, monkeypatch):
    monkeypatch.setenv("KPANALYZE_CACHE_DIR", str(tmp_path / "envcache"))
    with FactIndex(tree) as idx:
        assert idx.path.parent == (tmp_path / "envcache").resolve()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="cannot create the cache directory"):
        FactIndex(tree, cache_dir=blocker / "sub")
    with pytest.raises(InputError, match="must not be inside the kernel tree"):
        FactIndex(tree, cache_dir=tree / ".cache")
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        with pytest.raises(InputError, match="not writable"):
            FactIndex(tree, cache_dir=ro)


def test_not_a_kernel_tree(tmp_path, cache):
    with pytest.raises(InputError, match="not a Linux kernel tree"):
        FactIndex(tmp_path, cache_dir=cache)


def test_batch_queries_many_names(tree, cache):
    with open_index(tree, cache) as idx:
        build(idx)
        names = [f"sym{i}" for i in range(3000)] + ["helper"]
        got = idx.functions_many(names)
        assert len(got) == 3001 and len(got["helper"]) == 1


def test_real_extractors_small_tree(tmp_path, monkeypatch):
    """The real extractors (when written) on a small tree: the index stores what they give."""
    pytest.importorskip("kpanalyze.parsing.c_extract")
    monkeypatch.undo()
    root = make_tree(tmp_path / "linux", {
        "kernel/kprobes.c": "#include <linux/kprobes.h>\n"
                            "static int __kprobes kp_helper(int x)\n{\n\treturn x + 1;\n}\n"
                            "NOKPROBE_SYMBOL(kp_helper);\n",
    })
    with FactIndex(root, cache_dir=tmp_path / "cache") as idx:
        st = idx.build(workers=1)
        assert st.extracted == st.files_seen
        assert [f.path for f in idx.functions("kp_helper")] == ["kernel/kprobes.c"]
        assert [r.name for r in idx.registrations("kp_helper")] == ["kp_helper"]


def test_sigkilled_build_leaves_consistent_db(tree, cache):
    """A real SIGKILL in the middle of a build: committed files are whole, the rest is redone."""
    import signal
    import subprocess
    import sys
    for i in range(30):
        (tree / "mm").mkdir(exist_ok=True)
        (tree / "mm" / f"m{i:02}.c").write_text(f"int mm{i}(void)\n")
    here = Path(__file__).resolve().parent
    script = f"""
import os, signal, sys
sys.path[:0] = [{str(here)!r}, {str(here.parent)!r}]
from kpanalyze import index as I
import test_index as T
def dying(kind, path, data, **kw):
    if path == "mm/m20.c":
        os.kill(os.getpid(), signal.SIGKILL)
    return T.fake_extract(kind, path, data, **kw)
I.extract_file, I.expand_macros, I.BATCH_FILES = dying, T.fake_expand, 4
I.FactIndex({str(tree)!r}, cache_dir={str(cache)!r}).build(workers=1)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    with open_index(tree, cache) as idx:
        done = idx.sources()
        assert done and len(done) % 4 == 0
        assert all(idx.functions(f"mm{i}") for i in range(30) if f"mm/m{i:02}.c" in done)
        st = idx.build(workers=1)
        assert st.reused == len(done) and st.extracted == st.files_seen - len(done)
        assert all(len(idx.functions(f"mm{i}")) == 1 for i in range(30))


def test_dead_worker_is_input_error(tree, cache, monkeypatch):
    """A worker killed by the system (OOM killer): a clear error, not a hang; kept work survives."""
    import signal
    for i in range(40):
        (tree / "mm").mkdir(exist_ok=True)
        (tree / "mm" / f"m{i:02}.c").write_text(f"int mm{i}(void)\n")

    def oom(kind, path, data, **kw):
        if path == "mm/m30.c":
            os.kill(os.getpid(), signal.SIGKILL)
        return fake_extract(kind, path, data, **kw)

    monkeypatch.setattr(index_mod, "extract_file", oom)
    monkeypatch.setattr(index_mod, "INLINE_BYTES", 0)
    monkeypatch.setattr(index_mod, "CHUNK_FILES", 4)
    with open_index(tree, cache) as idx:
        with pytest.raises(InputError, match="an extraction worker died"):
            idx.build(workers=2)
    monkeypatch.setattr(index_mod, "extract_file", fake_extract)
    with open_index(tree, cache) as idx:
        idx.build(workers=2)
        assert all(len(idx.functions(f"mm{i}")) == 1 for i in range(40))


def test_fast_rows_match_fact_to_row():
    """The writer's own row builder agrees with facts.fact_to_row (and round-trips)."""
    from kpanalyze.facts import FACT_TYPES, fact_from_row, fact_to_row
    samples = {
        "functions": FunctionDef("f", "a.c", 3, "static", ("static", "inline"), ("defined(X)",), 4),
        "registrations": Registration("f", "a.c", 9, "NOKPROBE_SYMBOL"),
        "asm_symbols": AsmSymbol("g", "b.S", 1, ".text", True, False, ()),
        "macro_defs": MacroDef("M", "a.h", 1, ("a", "b"), "a ## b"),
        "macro_uses": MacroUse("M", "a.c", 2, ("x", ""), ()),
        "refs": SymbolRef("f", "a.c", 2, 1),
        "calls": CallEdge("f", "g", "a.c", 5),
        "kbuild_rules": KbuildRule("Makefile", 1, "obj-y", "", ("a.o", "b/")),
        "kconfig_selects": KconfigSelect("arch/x/Kconfig", 2, "X", "HAVE_KPROBES"),
    }
    for table, fact in samples.items():
        row = index_mod._ROW_MAKERS[table]("elsewhere.c", 7)(fact)
        assert row[0] == 7 and row[1:] == fact_to_row(fact)
        assert fact_from_row(FACT_TYPES[table], row[1:]) == fact
        own = index_mod._ROW_MAKERS[table](fact.path, 7)(fact)
        assert None in own  # the path of the file itself is elided


def test_asm_files_follow_their_included_headers(tree, cache, monkeypatch):
    """A .S file is extracted again when a header it #includes changes, appears or goes."""
    (tree / "include/asm").mkdir(parents=True)
    (tree / "include/asm/ids.h").write_text("ASMSYM asm_exc_foo\n")
    (tree / "arch/x86/entry/entry_64.S").write_text("#include <asm/ids.h>\nSYM_FUNC_START(entry_SYSCALL_64)\n")
    names = lambda idx: sorted(a.name for a in idx.asm_symbols() if a.name.startswith("asm_exc"))  # noqa: E731
    with open_index(tree, cache) as idx:
        build(idx)
        assert names(idx) == ["asm_exc_foo"]
        assert idx.asm_symbols("asm_exc_foo")[0].path == "include/asm/ids.h"

        EXTRACTED.clear()
        (tree / "include/asm/ids.h").write_text("ASMSYM asm_exc_bar\n")
        st = build(idx)
        assert sorted(EXTRACTED) == ["arch/x86/entry/entry_64.S", "include/asm/ids.h"] and st.extracted == 2
        assert names(idx) == ["asm_exc_bar"]

        # a header of higher priority appears: it wins
        (tree / "arch/x86/include/asm").mkdir(parents=True)
        (tree / "arch/x86/include/asm/ids.h").write_text("ASMSYM asm_exc_arch\n")
        build(idx)
        assert names(idx) == ["asm_exc_arch"]

        # ... and goes again
        (tree / "arch/x86/include/asm/ids.h").unlink()
        st = build(idx)
        assert st.removed == 1 and names(idx) == ["asm_exc_bar"]

        EXTRACTED.clear()
        st = build(idx)
        assert EXTRACTED == [] and st.extracted == 0  # settled: a no-op again

        # killed between the header's write and the second round: the next build catches up
        (tree / "include/asm/ids.h").write_text("ASMSYM asm_exc_baz\n")
        seen = []

        def dies_in_round_two(kind, path, data, **kw):
            seen.append(path)
            if path == "arch/x86/entry/entry_64.S":
                raise KeyboardInterrupt
            return fake_extract(kind, path, data, **kw)

        monkeypatch.setattr(index_mod, "extract_file", dies_in_round_two)
        with pytest.raises(KeyboardInterrupt):
            build(idx)
        assert seen == ["include/asm/ids.h", "arch/x86/entry/entry_64.S"]
        monkeypatch.setattr(index_mod, "extract_file", fake_extract)
        EXTRACTED.clear()
        build(idx)
        assert EXTRACTED == ["arch/x86/entry/entry_64.S"] and names(idx) == ["asm_exc_baz"]


def test_real_asm_context_on_sample_kernel(sample_tree, tmp_path, monkeypatch):
    """entry_64.S of the sample kernel gets its asm_exc_* stubs from the macros of the
    header it includes (needs the real extractors)."""
    pytest.importorskip("kpanalyze.parsing.asm_extract")
    monkeypatch.undo()
    with FactIndex(sample_tree, cache_dir=tmp_path / "cache") as idx:
        idx.build(workers=1)
        (sym,) = idx.asm_symbols("asm_exc_int3")
        assert sym.section == ".entry.text"
        assert idx.conn.execute("SELECT count(*) FROM deps").fetchone()[0] > 0


def test_new_c_extractor_rebuilds_from_empty(tree, cache, monkeypatch):
    """When most cached facts are outdated the database starts over (no row left twice)."""
    for i in range(10):
        (tree / "lib" / f"l{i}.c").write_text(f"int lib{i}(void)\n{{\n\treturn helper();\n}}\n")
    with open_index(tree, cache) as idx:
        build(idx)
        before = {t: idx.conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                  for t in ("functions", "registrations", "refs", "calls", "object_macros", "deps")}
        fps = index_mod._fingerprints()
        monkeypatch.setattr(index_mod, "_fingerprints", lambda: {**fps, "c": "new-c"})
        EXTRACTED.clear()
        st = build(idx)
        assert st.extracted == st.files_seen and st.reused == 0 and st.linked
        after = {t: idx.conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in before}
        assert after == before
        assert len(idx.functions("helper")) == 1
        assert build(idx).extracted == 0
