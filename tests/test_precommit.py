"""The real `pre-commit` tool runs the hook of .pre-commit-hooks.yaml in a temporary git
repository: a commit with a refused probe point is refused (and the point is shown), and
goes through once the point is fixed or suppressed with a reason id.

Marked `slow` (about 30 s: pre-commit builds a virtualenv and pip-installs kpanalyze into
it, twice: once for `try-repo`, once for the installed git hook). pip uses the machine's
own configuration (indexes, find-links, cache). Run with `pytest -m slow`; CI runs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"

pytestmark = pytest.mark.slow

BAD_BT = """kprobe:tcp_retransmit_skb { @n = count(); }
kprobe:exc_int3 { @traps = count(); }
"""
FIXED_BT = """kprobe:tcp_retransmit_skb { @n = count(); }
kprobe:do_sys_open { @opens = count(); }
"""
SUPPRESSED_BT = """kprobe:tcp_retransmit_skb { @n = count(); }
// exc_int3 is refused on x86; we only run this on a kernel built with KPROBE_EVENTS_ON_NOTRACE.
kprobe:exc_int3 { @traps = count(); }  // kpanalyze: ignore[notrace, noinstr]
"""


def sh(args, cwd, env, check=True):
    r = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"{args} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def git(cwd, env, *args, check=True):
    return sh(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd, env, check)


def snapshot(dest: Path, env) -> str:
    """This checkout as it is on disk (tracked and new files, as `git ls-files` sees them), committed
    in a fresh repository: try-repo takes uncommitted changes of tracked files only."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    git(dest, env, "init", "-q")
    git(dest, env, "add", "-A")
    git(dest, env, "commit", "-q", "-m", "snapshot")
    return git(dest, env, "rev-parse", "HEAD").stdout.strip()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    if not PRE_COMMIT.exists() or shutil.which("git") is None:
        pytest.skip("needs pre-commit (the test extra) and git")
    base = tmp_path_factory.mktemp("precommit")
    env = dict(os.environ, PRE_COMMIT_HOME=str(base / "pc-home"), KPANALYZE_CACHE_DIR=str(base / "cache"),
               PRE_COMMIT_COLOR="never", NO_COLOR="1")
    env.pop("KPANALYZE_KERNEL", None)
    hook_repo = base / "kpanalyze-repo"
    hook_repo.mkdir()
    rev = snapshot(hook_repo, env)
    user = base / "user-project"
    user.mkdir()
    git(user, env, "init", "-q")
    (user / ".kpanalyze.toml").write_text('arches = ["x86"]\n')
    return env, hook_repo, rev, user


def test_try_repo_refuses_the_bad_point(setup):
    env, hook_repo, _, user = setup
    (user / "trace.bt").write_text(BAD_BT)
    git(user, env, "add", "-A")
    r = sh([str(PRE_COMMIT), "try-repo", str(hook_repo), "kpanalyze", "--files", "trace.bt", ".kpanalyze.toml"],
           user, env, check=False)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "kpanalyze (kprobe points)" in out and "Failed" in out
    assert "trace.bt:2:1: error: exc_int3: blocked (EINVAL) on x86 (kprobe via tracefs)" in out
    assert "to accept it: // kpanalyze: ignore[notrace, noinstr]" in out


def test_commit_refused_then_allowed_when_fixed_or_suppressed(setup):
    env, hook_repo, rev, user = setup
    (user / ".pre-commit-config.yaml").write_text(
        f"repos:\n-   repo: {hook_repo}\n    rev: {rev}\n    hooks:\n    -   id: kpanalyze\n")
    sh([str(PRE_COMMIT), "install"], user, env)

    (user / "trace.bt").write_text(BAD_BT)
    git(user, env, "add", "-A")
    r = git(user, env, "commit", "-m", "add a probe", check=False)
    assert r.returncode != 0, r.stdout + r.stderr
    assert "trace.bt:2:1: error: exc_int3" in r.stdout + r.stderr
    assert git(user, env, "rev-list", "--all", "--count", check=False).stdout.strip() in ("", "0")

    (user / "trace.bt").write_text(FIXED_BT)  # fixed: another function
    git(user, env, "add", "-A")
    r = git(user, env, "commit", "-m", "add a probe")
    assert "Passed" in r.stdout + r.stderr

    (user / "trace.bt").write_text(SUPPRESSED_BT)  # or suppressed, naming the reason ids
    git(user, env, "add", "-A")
    r = git(user, env, "commit", "-m", "accept exc_int3")
    assert "Passed" in r.stdout + r.stderr
    assert git(user, env, "rev-list", "--count", "HEAD").stdout.strip() == "2"
