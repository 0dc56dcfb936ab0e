"""The command line: options, points from files and stdin, exit codes, one-line errors.

Most tests stand the api in with hand-built verdicts (the CLI holds no analysis); the
`sample` tests run the real api on the embedded sample kernel, and one test runs the
installed console script in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kpanalyze import api, cli
from kpanalyze.errors import InputError
from kpanalyze.verdict import CheckResult, Evidence, ProbePoint, Reason, Verdict

ROOT = Path(__file__).resolve().parent.parent


def runner() -> CliRunner:
    try:  # click < 8.2 mixes stderr into stdout unless told not to
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


def run(args, input=None, env=None):
    return runner().invoke(cli.cli, args, input=input, env=env, prog_name="kpanalyze")


def assert_one_line_error(res, *needles):
    """Exit 2, nothing on stdout, exactly one line on stderr, no traceback."""
    assert res.exit_code == 2, (res.exit_code, res.stdout, res.stderr, res.exception)
    assert res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("kpanalyze: error: "), lines[0]
    assert "Traceback" not in res.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


# -- a stand-in api ------------------------------------------------------------------

class FakeApi:
    """api.check judging by name: bad* blocked, gone* missing, anything else probeable."""

    def __init__(self):
        self.calls = []

    def check(self, points, *, arches=None, kernel=None, config=None, via="tracefs",
              kinds=("kprobe", "kretprobe"), progress=False, vmlinux=None, image=None, system_map=None,
              kallsyms=None):
        points = list(points)
        self.calls.append(dict(points=points, arches=arches, kernel=kernel, config=config, via=via,
                               kinds=tuple(kinds), progress=progress))
        res = CheckResult(kernel=str(kernel or "/sample"), kernel_version="6.1.0",
                          config=str(config or ""))
        for text in points:
            p = ProbePoint.parse(text)
            for arch in arches or ["x86", "arm"]:
                for kind in kinds:
                    if p.symbol.startswith("bad"):
                        v = Verdict(p, arch, kind, via, "blocked",
                                    (Reason("noinstr", f"{p.symbol} is noinstr.", (Evidence("kernel/x.c", 7),)),),
                                    expected_errno="EINVAL")
                    elif p.symbol.startswith("gone"):
                        v = Verdict(p, arch, kind, via, "missing",
                                    (Reason("no-definition", "Nothing of that name.", ()),),
                                    expected_errno="ENOENT")
                    else:
                        v = Verdict(p, arch, kind, via, "probeable")
                    res.verdicts.append(v)
        return res


@pytest.fixture
def fake(monkeypatch):
    f = FakeApi()
    monkeypatch.setattr(api, "check", f.check)
    return f


def test_exit_0_when_everything_is_probeable(fake):
    res = run(["check", "tcp_retransmit_skb", "--arch", "arm"])
    assert res.exit_code == 0, res.stderr
    assert res.stdout.splitlines()[0].split() == ["tcp_retransmit_skb", "arm", "kprobe", "tracefs", "probeable"]
    assert fake.calls[0]["arches"] == ["arm"] and fake.calls[0]["kinds"] == ("kprobe", "kretprobe")
    assert fake.calls[0]["progress"] is False  # stderr is not a terminal


def test_exit_1_when_something_is_not(fake):
    res = run(["check", "ok_fn", "bad_fn", "--kind", "kprobe"])
    assert res.exit_code == 1
    assert fake.calls[0]["arches"] is None  # the api picks the arches
    assert "noinstr: bad_fn is noinstr. [kernel/x.c:7]" in res.stdout
    assert res.stdout.splitlines()[-1] == "4 verdicts: 2 probeable, 2 blocked"


def test_options_reach_the_api(fake, tmp_path):
    cfg = tmp_path / "config"
    res = run(["check", "do_sys_open+0x10", "--via", "module", "--kind", "kretprobe", "--arch", "x86,arm64",
               "--arch", "riscv", "--kernel", str(tmp_path), "--config", str(cfg), "--no-progress"])
    assert res.exit_code == 0, res.stderr
    call = fake.calls[0]
    assert call == dict(points=["do_sys_open+0x10"], arches=["x86", "arm64", "riscv"], kernel=tmp_path,
                        config=cfg, via="module", kinds=("kretprobe",), progress=False)


def test_kernel_from_the_environment(fake, tmp_path):
    res = run(["check", "f"], env={"KPANALYZE_KERNEL": str(tmp_path)})
    assert res.exit_code == 0 and fake.calls[0]["kernel"] == tmp_path


def test_json_output(fake):
    res = run(["check", "ok_fn", "gone_fn", "--arch", "x86", "--format", "json"])
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert doc["schema"] == "kpanalyze.check/1"
    assert doc["summary"] == {"probeable": 2, "blocked": 0, "missing": 2, "uncertain": 0}
    assert {v["point"] for v in doc["verdicts"]} == {"ok_fn", "gone_fn"}
    assert doc["kernel_version"] == "6.1.0"


def test_points_from_stdin(fake):
    names = "# probes for my tool\nvfs_read\n\n  bad_one   # trailing comment\nvfs_read\n"
    res = run(["check", "-", "--arch", "x86", "--kind", "kprobe", "--format", "json"], input=names)
    assert res.exit_code == 1, res.stderr
    assert fake.calls[0]["points"] == ["vfs_read", "bad_one"]  # comments, blanks and duplicates dropped
    assert json.loads(res.stdout)["summary"]["blocked"] == 1


def test_points_from_file_and_arguments(fake, tmp_path):
    f = tmp_path / "names.txt"
    f.write_text("\n".join(f"fn_{i}" for i in range(3000)) + "\n")
    res = run(["check", "first", "--points-from", str(f), "--arch", "x86", "--kind", "kprobe"])
    assert res.exit_code == 0, res.stderr
    assert len(fake.calls) == 1 and len(fake.calls[0]["points"]) == 3001
    assert fake.calls[0]["points"][:2] == ["first", "fn_0"]


def test_empty_points_file_is_not_an_error(fake, tmp_path):
    f = tmp_path / "names.txt"
    f.write_text("# nothing yet\n\n")
    res = run(["check", "--points-from", str(f)])
    assert res.exit_code == 0 and fake.calls == []
    assert "0 verdicts" in res.stdout and "warning" in res.stderr


def test_quiet_prints_only_problems(fake):
    res = run(["check", "ok_fn", "bad_fn", "--arch", "x86", "--kind", "kprobe", "--quiet"])
    assert res.exit_code == 1
    rows = [line for line in res.stdout.splitlines() if not line.startswith(" ")]
    assert rows == [rows[0]] and rows[0].startswith("bad_fn")


def test_warnings_go_to_stderr(monkeypatch):
    monkeypatch.setattr(api, "check", lambda *a, **k: CheckResult(
        [Verdict(ProbePoint("f"), "x86", "kprobe", "tracefs", "probeable")], warnings=["lib/x.c: not UTF-8"]))
    res = run(["check", "f"])
    assert res.exit_code == 0
    assert res.stderr == "kpanalyze: warning: lib/x.c: not UTF-8\n" and "warning" not in res.stdout


# -- usage and input errors -> exit 2 ------------------------------------------------

def test_usage_errors_exit_2(fake):
    assert run(["check"]).exit_code == 2  # no point
    assert run(["check", "f", "--via", "ftrace"]).exit_code == 2
    assert run(["check", "f", "--kind", "uprobe"]).exit_code == 2
    assert run(["blacklist"]).exit_code == 2  # --arch is required
    assert run(["index", "--workers", "0"]).exit_code == 2
    assert run(["frobnicate"]).exit_code == 2
    assert fake.calls == []


@pytest.mark.parametrize("point", ["foo+bar", "+0x10", "9lives", "foo bar", "foo+-1"])
def test_malformed_point(fake, point):
    assert_one_line_error(run(["check", point]), "malformed probe point")
    assert fake.calls == []


def test_malformed_point_in_a_file_names_file_and_line(fake, tmp_path):
    f = tmp_path / "names.txt"
    f.write_text("vfs_read\n# ok\nfoo+bar\n")
    assert_one_line_error(run(["check", "--points-from", str(f)]), f"{f}:3:", "foo+bar")
    assert_one_line_error(run(["check", "-"], input="a\nb c\n"), "<stdin>:2:")


def test_unreadable_points_files(fake, tmp_path):
    assert_one_line_error(run(["check", "--points-from", str(tmp_path / "nope.txt")]), "nope.txt",
                          "No such file")
    assert_one_line_error(run(["check", "--points-from", str(tmp_path)]), str(tmp_path))
    binary = tmp_path / "names.bin"
    binary.write_bytes(b"\x7fELF\x02\x01\x00\x00\xff\xfe")
    assert_one_line_error(run(["check", "--points-from", str(binary)]), "names.bin", "binary")
    latin = tmp_path / "names.latin1"
    latin.write_bytes("caf\xe9\n".encode("latin-1"))
    assert_one_line_error(run(["check", "-"], input=latin.read_bytes()), "<stdin>", "UTF-8")


@pytest.mark.parametrize("exc", [
    InputError("/tmp/x: not a kernel tree (no Makefile, no arch/)"),
    InputError("unknown arch 'vax':\nuse one of x86, arm"),  # a newline in a message still gives one line
    FileNotFoundError(2, "No such file or directory", "/tmp/config-missing"),
    PermissionError(13, "Permission denied", "/root/.cache/kpanalyze"),
    NotADirectoryError(20, "Not a directory", "/tmp/cachefile/kpanalyze.sqlite"),
    UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
])
def test_expected_errors_from_the_api_give_one_line(monkeypatch, exc):
    def boom(*a, **k):
        raise exc

    monkeypatch.setattr(api, "check", boom)
    res = run(["check", "f"])
    assert_one_line_error(res)
    if isinstance(exc, OSError):
        assert exc.filename in res.stderr


def test_sqlite_errors_give_one_line(monkeypatch):
    import sqlite3

    def boom(*a, **k):
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(api, "blacklist", boom)
    assert_one_line_error(run(["blacklist", "--arch", "x86"]), "unable to open database file")


def test_internal_errors_give_one_line_and_exit_3(monkeypatch):
    def boom(*a, **k):
        raise KeyError("oops")

    monkeypatch.setattr(api, "check", boom)
    res = run(["check", "f"])
    assert res.exit_code == 3 and "Traceback" not in res.stderr
    assert res.stderr.splitlines() == ["kpanalyze: internal error: KeyError: 'oops' "
                                       "(set KPANALYZE_DEBUG=1 for the traceback)"]
    res = run(["check", "f"], env={"KPANALYZE_DEBUG": "1"})
    assert isinstance(res.exception, KeyError)


# -- the other commands ---------------------------------------------------------------

def test_blacklist_command(monkeypatch):
    from kpanalyze.verdict import BlacklistEntry

    seen = {}

    def fake_blacklist(arch, *, kernel=None, config=None, progress=False):
        seen.update(arch=arch, kernel=kernel, config=config)
        return [BlacklistEntry("do_int3", "nokprobe-symbol", Evidence("arch/x86/kernel/traps.c", 800))]

    monkeypatch.setattr(api, "blacklist", fake_blacklist)
    res = run(["blacklist", "--arch", "x86", "--kernel", "/src/linux"])
    assert res.exit_code == 0 and res.stdout.split() == ["do_int3", "nokprobe-symbol",
                                                         "arch/x86/kernel/traps.c:800"]
    res = run(["blacklist", "--arch", "x86", "--kernel", "/src/linux", "--format", "json"])
    doc = json.loads(res.stdout)
    assert (doc["schema"], doc["arch"], doc["kernel"]) == ("kpanalyze.blacklist/1", "x86", "/src/linux")
    assert doc["entries"][0]["name"] == "do_int3"
    assert seen == dict(arch="x86", kernel=Path("/src/linux"), config=None)


def test_arches_command(monkeypatch):
    monkeypatch.setattr(api, "all_arches", lambda kernel=None: ["arm", "loongarch", "x86"])
    monkeypatch.setattr(api, "supported_arches", lambda kernel=None: ["arm", "x86"])
    res = run(["arches", "--kernel", "/src/linux"])
    assert res.exit_code == 0
    assert [line.split() for line in res.stdout.splitlines()] == [["arm", "kprobes"], ["loongarch", "no-kprobes"],
                                                                  ["x86", "kprobes"]]
    doc = json.loads(run(["arches", "--kernel", "/k", "--format", "json"]).stdout)
    assert doc["arches"][1] == {"arch": "loongarch", "kprobes": False}


def test_reasons_command():
    from kpanalyze.reasons import CATALOG

    doc = json.loads(run(["reasons", "--format", "json"]).stdout)
    assert [r["id"] for r in doc["reasons"]] == list(CATALOG)
    assert set(doc["reasons"][0]) == {"id", "category", "errno", "title", "help"}
    assert "nokprobe-symbol" in run(["reasons"]).stdout


def test_index_command(monkeypatch):
    seen = {}

    def fake_build(kernel=None, workers=None, progress=False):
        seen.update(kernel=kernel, workers=workers, progress=progress)
        return {"files": 12, "extracted": 3, "reused": 9, "warnings": ["lib/x.bin: binary file skipped"]}

    monkeypatch.setattr(api, "build_index", fake_build)
    res = run(["index", "--kernel", "/k", "--workers", "2"])
    assert res.exit_code == 0, res.stderr
    assert res.stdout.splitlines() == ["files: 12", "extracted: 3", "reused: 9", "warnings: 1"]
    assert res.stderr == "kpanalyze: warning: lib/x.bin: binary file skipped\n"
    assert seen == dict(kernel=Path("/k"), workers=2, progress=False)


def test_help_teaches():
    out = run(["--help"]).stdout
    assert "kpanalyze check tcp_retransmit_skb --arch arm" in out and "Exit codes" in out
    out = run(["check", "--help"]).stdout
    for needle in ("kpanalyze check 'do_sys_open+0x10' --via module", "kpanalyze check - < names.txt --format json",
                   "probeable", "blocked", "missing", "uncertain", "Exit codes", "KPANALYZE_KERNEL"):
        assert needle in out, needle


def test_help_does_not_import_heavy_modules():
    code = ("import sys, kpanalyze.cli as c\n"
            "try:\n    c.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('kpanalyze.api', 'tree_sitter', 'rich', 'networkx', 'sqlite3') "
            "if m in sys.modules]\n"
            "print('HEAVY', heavy, file=sys.stderr)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stderr


def test_every_subpackage_ships():
    """pyproject.toml lists packages by hand (two are mapped from other folders)."""
    tomllib = pytest.importorskip("tomllib")
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(conf["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "kpanalyze").rglob("*.py")}
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"
    assert conf["package-dir"] == {"kpanalyze._sample_kernel": "sample_kernel", "kpanalyze.queries": "queries"}


# -- the real api on the embedded sample kernel ---------------------------------------

@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("kpcache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KPANALYZE_CACHE_DIR", str(d))
        yield d


@pytest.fixture(scope="module")
def sample(cache_dir):
    """Skips (only) while the lead's api or the sample tree is not there yet."""
    from kpanalyze.resources import sample_kernel_path

    try:
        tree = sample_kernel_path()
    except FileNotFoundError:
        pytest.skip("no sample kernel yet")
    if not (tree / "net" / "ipv4" / "tcp_output.c").is_file():
        pytest.skip("sample kernel not written yet")
    try:
        api.check(["tcp_retransmit_skb"], arches=["arm"])
    except (NotImplementedError, ModuleNotFoundError) as e:
        pytest.skip(f"api not implemented yet: {e}")
    return tree


def test_sample_main_job(sample):
    res = run(["check", "tcp_retransmit_skb", "--arch", "arm"])
    assert res.exit_code == 0, res.stdout + res.stderr
    rows = [line.split() for line in res.stdout.splitlines() if not line.startswith(" ")][:-1]
    assert rows == [["tcp_retransmit_skb", "arm", "kprobe", "tracefs", "probeable"],
                    ["tcp_retransmit_skb", "arm", "kretprobe", "tracefs", "probeable"]]


def test_sample_json_default_arches(sample):
    res = run(["check", "tcp_retransmit_skb", "--format", "json"])
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["schema"] == "kpanalyze.check/1"
    arches = {v["arch"] for v in doc["verdicts"]}
    assert {"x86", "arm", "arm64", "riscv"} <= arches and "loongarch" not in arches
    assert Path(doc["kernel"]).resolve() == sample.resolve()


def test_sample_something_not_probeable_exits_1(sample):
    res = run(["check", "tcp_retransmit_skb", "no_such_function_anywhere", "--arch", "x86", "--format", "json"])
    assert res.exit_code == 1, res.stderr
    doc = json.loads(res.stdout)
    assert doc["summary"]["probeable"] == 2 and sum(doc["summary"].values()) == 4


def test_sample_points_from_stdin(sample):
    res = run(["check", "-", "--arch", "arm", "--kind", "kprobe"], input="# names\ntcp_retransmit_skb\n\n")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.split()[:5] == ["tcp_retransmit_skb", "arm", "kprobe", "tracefs", "probeable"]


def test_sample_unknown_arch(sample):
    assert_one_line_error(run(["check", "tcp_retransmit_skb", "--arch", "vax"]), "vax")
    assert_one_line_error(run(["blacklist", "--arch", "vax"]), "vax")


def test_sample_not_a_kernel_tree(sample, tmp_path):
    (tmp_path / "README").write_text("hello\n")
    assert_one_line_error(run(["check", "f", "--kernel", str(tmp_path)]), str(tmp_path))
    assert_one_line_error(run(["check", "f", "--kernel", "/tmp/not-a-tree"]), "/tmp/not-a-tree")
    assert_one_line_error(run(["arches", "--kernel", "/tmp/not-a-tree"]), "/tmp/not-a-tree")


def test_sample_bad_config(sample, tmp_path):
    binary = tmp_path / "config.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    assert_one_line_error(run(["check", "tcp_retransmit_skb", "--arch", "arm", "--config", str(binary)]),
                          "config.bin")
    assert_one_line_error(run(["check", "tcp_retransmit_skb", "--config", str(tmp_path / "missing")]),
                          "missing")
    assert_one_line_error(run(["check", "tcp_retransmit_skb", "--config", str(tmp_path)]), str(tmp_path))


def test_sample_unusable_cache(sample, tmp_path):
    blocker = tmp_path / "cachefile"
    blocker.write_text("not a directory\n")
    res = run(["check", "tcp_retransmit_skb", "--arch", "arm"], env={"KPANALYZE_CACHE_DIR": str(blocker)})
    assert_one_line_error(res, "cachefile")
    corrupt = tmp_path / "corrupt"
    res = run(["check", "tcp_retransmit_skb", "--arch", "arm"], env={"KPANALYZE_CACHE_DIR": str(corrupt)})
    assert res.exit_code == 0, res.stderr
    dbs = [p for p in corrupt.rglob("*") if p.is_file()]
    assert dbs
    for p in dbs:
        p.write_bytes(b"\0garbage" * 100)
    res = run(["check", "tcp_retransmit_skb", "--arch", "arm"], env={"KPANALYZE_CACHE_DIR": str(corrupt)})
    assert res.exit_code in (0, 2) and "Traceback" not in res.stderr  # rebuilt, or one clear line


def test_sample_blacklist_and_arches(sample):
    res = run(["blacklist", "--arch", "x86", "--format", "json"])
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["schema"] == "kpanalyze.blacklist/1" and doc["entries"]
    assert all({"name", "reason_id", "evidence"} <= set(e) for e in doc["entries"])
    res = run(["arches"])
    table = dict(line.split() for line in res.stdout.splitlines())
    assert table["arm"] == "kprobes" and table["loongarch"] == "no-kprobes"


# -- the installed console script ------------------------------------------------------

def _console_script() -> Path:
    script = Path(sys.executable).parent / "kpanalyze"
    if not script.is_file():
        pytest.skip("the kpanalyze console script is not installed in this environment")
    return script


def test_console_script(cache_dir):
    exe = str(_console_script())
    env = {**os.environ, "KPANALYZE_CACHE_DIR": str(cache_dir)}
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, env=env)
    assert out.returncode == 0 and "Usage: kpanalyze" in out.stdout
    out = subprocess.run([exe, "reasons", "--format", "json"], capture_output=True, text=True, env=env)
    assert json.loads(out.stdout)["schema"] == "kpanalyze.reasons/1"
    out = subprocess.run([exe, "check", "foo+bar"], capture_output=True, text=True, env=env)
    assert out.returncode == 2 and out.stdout == "" and len(out.stderr.splitlines()) == 1
    assert "Traceback" not in out.stderr


def test_console_script_main_job(cache_dir, sample):
    """The README's set-up command, minus the install."""
    exe = str(_console_script())
    env = {**os.environ, "KPANALYZE_CACHE_DIR": str(cache_dir)}
    out = subprocess.run([exe, "check", "tcp_retransmit_skb", "--arch", "arm"], capture_output=True,
                         text=True, env=env, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "probeable" in out.stdout and "Traceback" not in out.stderr
