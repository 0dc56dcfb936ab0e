"""Warm `check` timings on a tree whose index is already built.

    .venv/bin/python bench/bench_check.py [--tree PATH] [--config FILE] [--names FILE]

Prints: index refresh (no change), one-name check in-process (budget 0.2 s), the CLI
start-up (`kpanalyze --help`) and one CLI check, and a check of every dev-set name
(budget 10 s for ~49,000 names).
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kpanalyze import api  # noqa: E402

GT = ROOT.parent / "shared" / "groundtruth" / "linux-6.1.176" / "x86_64"


def timed(fn, *a, **kw):
    t = time.perf_counter()
    r = fn(*a, **kw)
    return r, time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", default=str(ROOT / ".kernel-cache" / "linux-source-6.1"))
    ap.add_argument("--config", default=str(GT / "config"))
    ap.add_argument("--names", default=str(GT / "probe_results.tsv"))
    args = ap.parse_args()
    tree = Path(args.tree)

    k, t_open = timed(api.open_kernel, tree, progress=True)
    _, t_refresh = timed(api.open_kernel, tree)
    api.check(["tcp_retransmit_skb"], arches=["x86"], config=args.config, opened=k)  # first-use costs
    _, t_one = timed(api.check, ["vfs_read"], arches=["x86"], config=args.config, opened=k)
    names = [r["name"] for r in csv.DictReader(open(args.names), delimiter="\t")]
    res, t_all = timed(api.check, names, arches=["x86"], config=args.config, opened=k)

    exe = Path(sys.executable).parent / "kpanalyze"
    env = dict(os.environ)
    _, t_help = timed(subprocess.run, [str(exe), "--help"], capture_output=True, env=env)
    _, t_cli = timed(subprocess.run, [str(exe), "check", "tcp_retransmit_skb", "--arch", "x86", "--kernel",
                                      str(tree), "--config", args.config], capture_output=True, env=env)

    rows = [
        ("open + refresh index (first in process)", t_open, ""),
        ("refresh index, nothing changed", t_refresh, ""),
        ("check 1 name, in-process (warm)", t_one, "budget 0.2 s"),
        (f"check {len(names)} names x 2 kinds, in-process", t_all, "budget 10 s"),
        ("CLI start-up: kpanalyze --help", t_help, ""),
        ("CLI: kpanalyze check tcp_retransmit_skb (warm index)", t_cli, ""),
    ]
    for what, secs, note in rows:
        print(f"{what:55s} {secs:8.3f} s  {note}")
    print(f"verdicts: {len(res.verdicts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
