"""`kpanalyze scan` end to end on the sample kernel: pipeline, project configuration,
suppressions, patterns, broken inputs, git's staged files and the command line."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from kpanalyze import cli
from kpanalyze.errors import InputError
from kpanalyze.scan import files, project, scan

ROOT = Path(__file__).resolve().parent.parent


def run(args, cwd: Path):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        try:
            r = CliRunner(mix_stderr=False)
        except TypeError:
            r = CliRunner()
        return r.invoke(cli.cli, args, prog_name="kpanalyze")
    finally:
        os.chdir(old)


def write(p: Path, text: str | bytes) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    (p.write_bytes if isinstance(text, bytes) else p.write_text)(text)
    return p


@pytest.fixture
def proj(tmp_path, monkeypatch):
    """An empty project folder (a git repository root, so config discovery stops here)."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


GOOD = "kprobe:tcp_retransmit_skb { @n = count(); }\n"
BAD = "kprobe:exc_int3 { @n = count(); }\n"  # x86: noinstr + notrace


# -- basics ----------------------------------------------------------------------------

def test_all_probeable_exits_0(proj):
    write(proj / "a.bt", GOOD)
    r = scan(["."], arches=["x86"])
    assert r.exit_code == 0 and len(r.findings) == 1 and [v.status for v in r.verdicts] == ["probeable"]
    assert r.verdicts[0].origin.path == "a.bt" and r.verdicts[0].origin.line == 1


def test_refused_point_exits_1_with_origin(proj):
    write(proj / "sub" / "b.bt", GOOD + BAD)
    r = scan(["."], arches=["x86"])
    assert r.exit_code == 1
    (bad,) = [v for v in r.verdicts if not v.ok]
    assert (bad.origin.path, bad.origin.line, bad.origin.col, bad.origin.text) == ("sub/b.bt", 2, 1, "kprobe:exc_int3")
    assert {x.id for x in bad.reasons if x.decisive} == {"notrace", "noinstr"}
    assert r.level(bad) == "error"


def test_ksyscall_names_the_entry_symbol_per_arch(proj):
    write(proj / "s.bpf.c", 'SEC("ksyscall/openat") int f(void *c) { return 0; }\n')
    r = scan(["."], arches=["x86", "arm64", "arm"])
    assert {v.arch: str(v.point) for v in r.verdicts} == {
        "x86": "__x64_sys_openat", "arm64": "__arm64_sys_openat", "arm": "sys_openat"}
    assert all(v.ok for v in r.verdicts)


def test_via_override(proj):
    write(proj / "a.bt", "kprobe:vsnprintf { }\n")  # lib/ has no ftrace site: tracefs refuses
    assert scan(["."], arches=["x86"]).exit_code == 1
    r = scan(["."], arches=["x86"], via="module")
    assert r.exit_code == 0 and r.verdicts[0].via == "module"


def test_no_findings_opens_no_kernel(proj, monkeypatch):
    write(proj / "x.c", "int main(void) { return 0; }\n")
    from kpanalyze import api

    monkeypatch.setattr(api, "open_kernel", lambda *a, **k: pytest.fail("opened a kernel"))
    r = scan(["."])
    assert r.exit_code == 0 and r.files_scanned == 1 and r.findings == []


def test_missing_path_is_an_input_error(proj):
    with pytest.raises(InputError, match="nope.bt"):
        scan(["nope.bt"])


# -- patterns -------------------------------------------------------------------------

def test_glob_expansion_counts_and_refused_members(proj):
    write(proj / "m.bpf.c", 'SEC("kprobe.multi/exc_*") int f(void *c) { return 0; }\n')
    r = scan(["."], arches=["x86"])
    (exp,) = r.expansions
    assert exp.names >= 4 and dict(exp.counts).get("blocked", 0) >= 3
    members = [v for v in r.verdicts if v in r.pattern_of]
    assert {"exc_int3", "exc_debug", "exc_page_fault"} <= {v.point.symbol for v in members}
    assert all(r.level(v) == "warning" for v in members)  # tools skip refused names
    assert all(v.origin.line == 1 for v in members)


def test_empty_expansion_is_its_own_finding(proj):
    write(proj / "e.bt", "kprobe:no_such_prefix_* { }\n")
    r = scan(["."], arches=["x86"])
    (v,) = r.verdicts
    assert (str(v.point), v.status, v.reasons[0].id) == ("no_such_prefix_*", "missing", "no-definition")
    assert "matches no function" in v.reasons[0].message
    assert r.exit_code == 1


def test_bcc_event_re_is_matched_whole(proj):
    write(proj / "t.py", 'from bcc import BPF\nb = BPF(text="")\nb.attach_kprobe(event_re="tcp_sample_.*")\n')
    r = scan(["."], arches=["x86"])
    (exp,) = r.expansions
    assert exp.names == 4  # tcp_sample_{feature_probe,fragment_len,trim_head,tsq_handler}


# -- suppressions ---------------------------------------------------------------------

def test_suppression_on_the_line_above(proj):
    write(proj / "a.bt", "// kpanalyze: ignore[notrace, noinstr]\n" + BAD)
    r = scan(["."], arches=["x86"])
    assert r.exit_code == 0 and len(r.suppressed) == 1 and r.problems == []


def test_suppression_must_name_every_failing_reason(proj):
    write(proj / "a.bt", "kprobe:exc_int3 { } // kpanalyze: ignore[noinstr]\n")
    r = scan(["."], arches=["x86"])
    assert r.exit_code == 1 and not r.suppressed
    assert r.problems == []  # noinstr did apply: not "unused"


@pytest.mark.parametrize("comment, needle", [
    ("// kpanalyze: ignore", "must name the reason ids"),
    ("// kpanalyze: ignore[]", "must name the reason ids"),
    ("// kpanalyze: ignore[no-such-reason]", "unknown reason id 'no-such-reason'"),
    ("// kpanalyze: ignore[notrace", "unterminated"),
])
def test_bad_suppression_is_an_error_finding(proj, comment, needle):
    write(proj / "a.bt", f"{GOOD.strip()} {comment}\n")
    r = scan(["."], arches=["x86"])
    (p,) = [p for p in r.problems if p.severity == "error"]
    assert (p.path, p.line, p.code) == ("a.bt", 1, "bad-suppression") and needle in p.message
    assert r.exit_code == 1


def test_unused_suppression_is_a_warning(proj):
    write(proj / "a.bt", GOOD.strip() + " // kpanalyze: ignore[notrace]\n\n// kpanalyze: ignore[noinstr]\n")
    r = scan(["."], arches=["x86"])
    assert r.exit_code == 0
    assert [(p.line, p.severity, p.code) for p in r.problems] == [(1, "warning", "unused-suppression"),
                                                                 (3, "warning", "unused-suppression")]
    assert "no probe point on line 4" in r.problems[1].message


def test_suppression_in_each_comment_syntax(proj):
    write(proj / "a.bpf.c", 'SEC("kprobe/exc_int3") /* kpanalyze: ignore[notrace, noinstr] */\nint f(void *c);\n')
    write(proj / "kprobe_events", "p:g/e exc_int3  # kpanalyze: ignore[notrace, noinstr]\n")
    write(proj / "t.py", 'b.attach_kprobe(event="exc_int3")  # kpanalyze: ignore[notrace, noinstr]\n')
    r = scan(["."], arches=["x86"])
    assert r.exit_code == 0 and len(r.suppressed) == 3 and r.problems == []


# -- project configuration ----------------------------------------------------------------

def test_project_config_severity_ignore_and_arches(proj):
    write(proj / ".kpanalyze.toml", 'arches = ["x86"]\n[severity]\nnotrace = "warning"\nnoinstr = "off"\n'
                                    '[ignore]\npaths = ["vendor/**"]\nsymbols = ["init_*"]\n')
    write(proj / "a.bt", "kprobe:vsnprintf { }\nkprobe:exc_int3 { }\nkprobe:init_once { }\n")
    write(proj / "vendor" / "v.bt", BAD)
    r = scan(["."])
    assert r.exit_code == 0  # notrace: warning; exc_int3 is notrace (warning) + noinstr (off)
    assert {v.point.symbol: r.level(v) for v in r.verdicts} == {"vsnprintf": "warning", "exc_int3": "warning"}
    assert r.files_scanned == 2 and len(r.findings) == 2  # vendor/ read but ignored; init_once ignored
    assert sorted(f.target for f in r.ignored) == ["exc_int3", "init_once"]


def test_pyproject_table_and_include_exclude(proj):
    write(proj / "pyproject.toml", '[project]\nname = "x"\n\n[tool.kpanalyze]\narches = "x86"\n'
                                   'include = ["probes/**"]\nexclude = ["probes/old/**"]\n')
    write(proj / "probes" / "a.bt", GOOD)
    write(proj / "probes" / "old" / "b.bt", BAD)
    write(proj / "elsewhere" / "c.bt", BAD)
    r = scan(["."])
    assert [f.origin.path for f in r.findings] == ["probes/a.bt"] and r.exit_code == 0


def test_config_found_from_the_scanned_path_upwards(tmp_path, monkeypatch):
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    write(tmp_path / "repo" / ".kpanalyze.toml", 'arches = ["arm64"]\n')
    write(tmp_path / "repo" / "deep" / "a.bt", GOOD)
    monkeypatch.chdir(tmp_path)
    r = scan(["repo/deep"])
    assert {v.arch for v in r.verdicts} == {"arm64"}
    assert r.verdicts[0].origin.path == "repo/deep/a.bt"


def test_targets_and_command_line_override(proj):
    write(proj / ".kpanalyze.toml", '[[targets]]\nname = "x"\narches = ["x86"]\n'
                                    '[[targets]]\nname = "a"\narches = ["arm64"]\n')
    write(proj / "a.bt", "kprobe:sched_clock { }\n")  # notrace on x86 only
    r = scan(["."])
    assert r.targets == ["x", "a"]
    assert {(r.target_of[v], v.arch, v.status) for v in r.verdicts} == {("x", "x86", "blocked"),
                                                                         ("a", "arm64", "probeable")}
    assert any(x.message.startswith("target x") for x in r.verdicts[0].reasons)
    r = scan(["."], arches=["riscv"])  # the command line replaces every target's arches: merged
    assert [v.arch for v in r.verdicts] == ["riscv"]


@pytest.mark.parametrize("text, line, needle", [
    ('arches = ["x86"]\nbogus = 1\n', 2, "unknown key 'bogus'"),
    ('[severity]\nnotrace = "warning"\nno-trace = "error"\n', 3, "unknown reason id 'no-trace'"),
    ('[severity]\nnotrace = "fatal"\n', 2, "use one of error, warning, note, off"),
    ('via = "perf"\n', 1, "use one of auto, tracefs, module"),
    ('[ignore]\npaths = ["a"]\nsymbls = ["b"]\n', 3, "did you mean 'symbols'"),
    ('[[targets]]\nname = "a"\n[[targets]]\nname = "b"\nkernal = "/x"\n', 5, "unknown key 'targets.kernal'"),
    ('ignore = { paths = ["a"], symbol = ["b"] }\n', 1, "unknown key 'ignore.symbol'"),
    ('arches = 3\n', 1, "must be a string or a list"),
])
def test_bad_project_config_names_file_and_line(proj, text, line, needle):
    write(proj / ".kpanalyze.toml", text)
    with pytest.raises(InputError) as e:
        project.load(proj / ".kpanalyze.toml")
    assert f".kpanalyze.toml:{line}: " in str(e.value) and needle in str(e.value), str(e.value)


def test_bad_pyproject_key_names_the_line(proj):
    write(proj / "pyproject.toml", '[project]\nname = "x"\n\n[tool.kpanalyze]\narches = ["x86"]\n\n'
                                   '[tool.kpanalyze.ignore]\npath = ["a"]\n')
    write(proj / "a.bt", GOOD)
    res = run(["scan", "."], proj)
    assert res.exit_code == 2 and res.stdout == ""
    assert "pyproject.toml:8: unknown key 'tool.kpanalyze.ignore.path'" in res.stderr
    assert len(res.stderr.splitlines()) == 1


def test_invalid_toml_is_an_input_error(proj):
    write(proj / ".kpanalyze.toml", "arches = [\n")
    with pytest.raises(InputError, match="not valid TOML"):
        project.load(proj / ".kpanalyze.toml")


# -- broken inputs --------------------------------------------------------------------

def test_broken_inputs_are_reported_and_skipped(proj):
    write(proj / "good.bt", GOOD)
    write(proj / "unterminated.bpf.c", 'SEC("kprobe/tcp_retransmit_skb") int a(void *c) { return 0; }\nSEC("kprobe/x\n')
    write(proj / "binary.c", b"\x7fELF\x00\x01\x02SEC(\"kprobe/x\")")
    write(proj / "latin1.bt", "kprobe:caf\xe9 { }\n".encode("latin-1"))
    big = proj / "huge.c"
    with open(big, "wb") as f:  # 50 MB of C comments
        chunk = b"/* padding padding padding padding padding padding padding */\n" * 16384
        while f.tell() < 50 * 1024 * 1024:
            f.write(chunk)
    os.symlink("loop.bt", proj / "loop.bt")
    r = scan(["."], arches=["x86"])
    codes = {(p.path, p.code) for p in r.problems}
    assert codes == {("unterminated.bpf.c", "syntax"), ("binary.c", "binary"), ("latin1.bt", "not-utf8"),
                     ("huge.c", "too-large"), ("loop.bt", "unreadable")}
    assert all(p.severity == "warning" for p in r.problems)
    assert r.files_skipped == 4 and r.files_scanned == 2
    assert r.exit_code == 0  # the findings are all probeable: warnings do not fail the run
    assert next(p for p in r.problems if p.code == "not-utf8").line == 1
    write(proj / "bad.bt", BAD)
    assert scan(["."], arches=["x86"]).exit_code == 1  # still by the findings


def test_broken_inputs_through_the_cli(proj):
    write(proj / "binary.bt", b"kprobe:a\x00\x00")
    write(proj / "good.bt", GOOD)
    os.symlink("nowhere.bt", proj / "dangling.bt")
    res = run(["scan", ".", "--arch", "x86"], proj)
    assert res.exit_code == 0, res.output
    assert "binary.bt: warning: binary file (NUL bytes): skipped" in res.stdout
    assert "dangling.bt: warning:" in res.stdout
    assert "Traceback" not in res.stdout + res.stderr
    res = run(["scan", "dangling.bt", "--arch", "x86"], proj)  # named explicitly
    assert res.exit_code == 0 and "dangling symlink or symlink loop" in res.stdout


def test_unreadable_file_is_a_problem(tmp_path):
    src = files.Source("d.bt", "d.bt", "bpftrace", file=tmp_path)  # a folder: open() fails
    data, text, problem = files.read(src)
    assert data is None and problem.code == "unreadable" and problem.path == "d.bt"


def test_a_front_end_crash_is_contained(proj, monkeypatch):
    from kpanalyze.scan import bpftrace

    monkeypatch.setattr(bpftrace, "scan", lambda *a: 1 / 0)
    write(proj / "a.bt", BAD)
    r = scan(["."], arches=["x86"])
    assert r.exit_code == 0 and [p.code for p in r.problems] == ["internal"]


# -- git's staged files ----------------------------------------------------------------

def git(cwd, *args):
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=cwd, check=True,
                   capture_output=True)


def test_staged_reads_the_index_not_the_work_tree(tmp_path, monkeypatch):
    git(tmp_path, "init", "-q")
    write(tmp_path / "a.bt", BAD)
    write(tmp_path / "notes.txt", "kprobe:exc_int3\n")
    git(tmp_path, "add", "a.bt", "notes.txt")
    write(tmp_path / "a.bt", GOOD)  # fixed in the work tree, not staged
    write(tmp_path / "b.bt", BAD)  # not staged at all
    monkeypatch.chdir(tmp_path)
    r = scan([], arches=["x86"], staged=True)
    assert [(f.origin.path, f.target) for f in r.findings] == [("a.bt", "exc_int3")] and r.exit_code == 1
    git(tmp_path, "add", "a.bt")
    assert scan([], arches=["x86"], staged=True).exit_code == 0


def test_folders_in_a_git_work_tree_follow_gitignore(tmp_path, monkeypatch):
    git(tmp_path, "init", "-q")
    write(tmp_path / ".gitignore", "build/\n*.gen.bt\n")
    write(tmp_path / "a.bt", GOOD)  # untracked, not ignored: scanned
    write(tmp_path / "build" / "b.bt", BAD)
    write(tmp_path / "c.gen.bt", BAD)
    write(tmp_path / "linux" / "d.bt", GOOD)
    git(tmp_path, "add", "linux/d.bt")
    monkeypatch.chdir(tmp_path)
    r = scan(["."], arches=["x86"])
    assert sorted(f.origin.path for f in r.findings) == ["a.bt", "linux/d.bt"] and r.exit_code == 0
    assert [f.origin.path for f in scan(["build/b.bt"], arches=["x86"]).findings] == ["build/b.bt"]  # named


# -- command line -----------------------------------------------------------------------

def test_cli_text_is_compiler_style(proj):
    write(proj / "a.bt", GOOD + BAD)
    res = run(["scan", "a.bt", "--arch", "x86"], proj)
    assert res.exit_code == 1
    lines = res.stdout.splitlines()
    assert lines[0] == "a.bt:2:1: error: exc_int3: blocked (EINVAL) on x86 (kprobe via tracefs)"
    assert "    to accept it: // kpanalyze: ignore[notrace, noinstr]" in lines
    assert lines[-1].startswith("kpanalyze: 1 file scanned, 2 probe points, 2 verdicts (1 probeable, 1 blocked)")
    assert "tcp_retransmit_skb" not in res.stdout  # probeable points only with --all
    assert "a.bt:1:1: ok: tcp_retransmit_skb: probeable" in run(["scan", "a.bt", "--arch", "x86", "--all"],
                                                                 proj).stdout


def test_cli_json_carries_origins(proj):
    write(proj / "a.bt", GOOD + BAD)
    res = run(["scan", ".", "--arch", "x86", "--format", "json"], proj)
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert doc["schema"].startswith("kpanalyze.")
    origins = {(v["origin"]["path"], v["origin"]["line"], v["origin"]["front_end"]) for v in doc["verdicts"]}
    assert origins == {("a.bt", 1, "bpftrace"), ("a.bt", 2, "bpftrace")}


@pytest.mark.parametrize("fmt", ["sarif", "junit", "markdown"])
def test_cli_other_formats_run(proj, fmt):
    pytest.importorskip(f"kpanalyze.render.{fmt}")
    write(proj / "a.bt", GOOD + BAD)
    res = run(["scan", ".", "--arch", "x86", "--format", fmt], proj)
    assert res.exit_code == 1 and "exc_int3" in res.stdout


def test_cli_help_teaches(proj):
    res = run(["scan", "--help"], proj)
    assert res.exit_code == 0
    for needle in ("kpanalyze scan --staged", "kpanalyze: ignore[", "[tool.kpanalyze]", "kprobe.multi", "Exit codes"):
        assert needle in res.stdout


def test_cli_project_config_option_and_errors(proj):
    write(proj / "conf.toml", 'arches = ["x86"]\nfoo = 1\n')
    write(proj / "a.bt", GOOD)
    res = run(["scan", ".", "--project-config", "conf.toml"], proj)
    assert res.exit_code == 2 and "conf.toml:2: unknown key 'foo'" in res.stderr
    res = run(["scan", "missing.bt"], proj)
    assert res.exit_code == 2 and "missing.bt: no such file or directory" in res.stderr


# -- globs ------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern, path, hit", [
    ("vendor/**", "vendor/a/b.c", True), ("vendor/**", "src/vendor/a.c", False),
    ("*.bt", "deep/x/a.bt", True), ("build/", "build/x.c", True), ("a/*.c", "a/b/c.c", False),
    ("**/gen/*.c", "x/gen/y.c", True), ("**/gen/*.c", "gen/y.c", True), ("t?st.py", "test.py", True),
])
def test_globs(pattern, path, hit):
    assert bool(files.glob_regex(pattern).match(path)) == hit
