"""Benchmark the FactIndex build against a bare tree-sitter parse of the same files.

    .venv/bin/python bench/bench_index.py [--tree PATH] [--workers 2] [--subset DIR ...]

Phases, each in its own process so wall time and peak RSS are its own:
  (a) parse   tree-sitter parse (kpanalyze.tsparse.parse_c) of every .c/.h the index reads
  (a2)        every extractor on every source, 2 processes, no database (splits the cost)
  (b) cold    index build into a fresh cache dir
  (c) warm    re-build with nothing changed
  (d) touch   re-build after touching one file (mtime only: rehash, no extraction)
  (e) change  re-build after one file's cached hash is invalidated (re-extract + link step)
Budget: (b)/(a) <= 1.3. The tree is only read; (d) restores the file's mtime afterwards.
With --subset, the named directories are copied into a temporary tree first.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Phases run from a snapshot of the sources (KPBENCH_SRC): an extractor edited during the
# run would otherwise change the fingerprints and turn the warm phases into rebuilds.
sys.path.insert(0, os.environ.get("KPBENCH_SRC", str(ROOT)))

DEFAULT_TREE = ROOT / ".kernel-cache" / "linux-source-6.1"
TOUCH_FILE = "kernel/kprobes.c"


def _rss() -> dict:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"self_mb": round(me.ru_maxrss / 1024), "child_mb": round(kids.ru_maxrss / 1024),
            "self_cpu": round(me.ru_utime + me.ru_stime, 2), "child_cpu": round(kids.ru_utime + kids.ru_stime, 2)}


def _parse_chunk(task):
    from kpanalyze.index import extract_file
    from kpanalyze.tree import read_source
    from kpanalyze.tsparse import parse_c
    root, max_size, items, extract = task
    nbytes = 0
    for p, kind in items:
        data, _warning = read_source(root, p, max_size)
        if data is not None:
            if extract:
                try:
                    if kind == "asm":  # with its #include context, as the index does
                        extract_file(kind, p, data, read=lambda q: read_source(root, q, max_size)[0], deps=set())
                    else:
                        extract_file(kind, p, data)
                except Exception:  # noqa: BLE001 - a missing extractor: nothing to time
                    pass
            else:
                parse_c(data)  # tree dropped at once, as the extractor does
            nbytes += len(data)
    return len(items), nbytes


def phase_parse(tree_path: str, workers: int, extract: bool = False) -> dict:
    """(a): parse the C files; with extract, run every extractor on every source, no DB."""
    import multiprocessing as mp
    from kpanalyze.tree import KernelTree
    t0 = time.monotonic()
    tree = KernelTree(tree_path)
    items = [(sf.path, sf.kind) for sf in tree.scan() if extract or sf.kind == "c"]
    tasks = [(str(tree.root), tree.max_size, items[i:i + 32], extract) for i in range(0, len(items), 32)]
    files = nbytes = 0
    with mp.get_context("fork").Pool(workers) as pool:
        for n, b in pool.imap_unordered(_parse_chunk, tasks):
            files += n
            nbytes += b
    return {"wall": time.monotonic() - t0, "files": files, "mb": round(nbytes / 1e6, 1), **_rss()}


def phase_build(tree_path: str, workers: int, cache: str, mode: str) -> dict:
    from kpanalyze.index import FactIndex
    from kpanalyze.tree import KernelTree
    t0 = time.monotonic()
    tree = KernelTree(tree_path)
    idx = FactIndex(tree, cache_dir=cache)
    restore = None
    if mode == "touch":
        target = tree.root / TOUCH_FILE
        st = target.stat()
        restore = (target, st.st_atime_ns, st.st_mtime_ns)
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    elif mode == "change":
        # As if the content had changed: forget the file's hash (the tree stays untouched).
        idx.conn.execute("UPDATE files SET sha1='' WHERE path=?", (TOUCH_FILE,))
    try:
        stats = idx.build(workers=workers)
    finally:
        if restore:
            os.utime(restore[0], ns=restore[1:])
    wall = time.monotonic() - t0
    # one name lookup, warm
    t1 = time.perf_counter()
    for _ in range(100):
        idx.functions("register_kprobe")
    lookup_ms = (time.perf_counter() - t1) * 10
    counts = {t: idx.conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
              for t in ("functions", "registrations", "asm_symbols", "macro_defs", "macro_uses", "refs",
                        "calls", "data", "object_macros")}
    idx.close()
    db_mb = sum(os.path.getsize(p) for p in Path(cache).glob("index-*.sqlite*")) / 1e6
    return {"wall": wall, "timings": stats.timings, "files": stats.files_seen, "extracted": stats.extracted, "reused": stats.reused,
            "rehashed": stats.rehashed, "linked": stats.linked, "generated": stats.generated,
            "warnings": len(stats.warnings), "lookup_ms": round(lookup_ms, 3), "db_mb": round(db_mb, 1),
            "rows": counts, **_rss()}


def _run_phase(args, *extra) -> dict:
    cmd = [sys.executable, __file__, "--phase", *extra, "--tree", args.tree, "--workers", str(args.workers)]
    env = {**os.environ, "KPBENCH_SRC": args.src}
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def snapshot_sources(dest: Path) -> str:
    """Copy kpanalyze/ and queries/ (the code under test) to dest."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "kpanalyze", dest / "kpanalyze", ignore=ignore)
    if (ROOT / "queries").is_dir():
        shutil.copytree(ROOT / "queries", dest / "queries", ignore=ignore)
    return str(dest)


def make_subset(src: Path, dirs: list[str], dest: Path) -> Path:
    """A small kernel tree: the top Makefile, and copies of the named directories."""
    dest.mkdir(parents=True)
    shutil.copy2(src / "Makefile", dest / "Makefile")
    for d in dirs:
        shutil.copytree(src / d, dest / d, symlinks=True)
    for need in ("kernel", "arch"):
        (dest / need).mkdir(exist_ok=True)
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", default=str(DEFAULT_TREE))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--subset", action="append", default=[], metavar="DIR",
                    help="index only these tree directories (repeatable), e.g. --subset kernel --subset arch/x86")
    ap.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)  # internal: run one phase, print JSON
    args = ap.parse_args()

    if args.phase:
        if args.phase[0] in ("parse", "extract"):
            res = phase_parse(args.tree, args.workers, extract=args.phase[0] == "extract")
        else:
            res = phase_build(args.tree, args.workers, args.phase[1], args.phase[0])
        print(json.dumps(res))
        return

    with tempfile.TemporaryDirectory(prefix="kpbench-") as tmp:
        if args.subset:
            args.tree = str(make_subset(Path(args.tree), args.subset, Path(tmp) / "tree"))
        cache = str(Path(tmp) / "cache")
        args.src = snapshot_sources(Path(tmp) / "src")
        print(f"tree {args.tree}  workers {args.workers}", file=sys.stderr)
        res = {"(a) parse": _run_phase(args, "parse"), "(a2) extract, no DB": _run_phase(args, "extract")}
        for name, mode in (("(b) cold build", "cold"), ("(c) warm no-op", "warm"),
                           ("(d) touch 1 file", "touch"), ("(e) change 1 file", "change")):
            res[name] = _run_phase(args, mode, cache)

    a, b = res["(a) parse"], res["(b) cold build"]
    print(f"\n{'phase':<20} {'wall s':>8} {'files':>7} {'extracted':>9} {'main MB':>8} {'worker MB':>9} "
          f"{'main cpu':>8} {'wrk cpu':>8}  notes")
    for name, r in res.items():
        notes = []
        if "linked" in r:
            notes.append(f"linked={r['linked']} rehashed={r['rehashed']} lookup={r['lookup_ms']}ms db={r['db_mb']}MB")
            notes.append(" ".join(f"{k}={v:.1f}s" for k, v in r["timings"].items()))
        else:
            notes.append(f"{r['mb']} MB of C")
        print(f"{name:<20} {r['wall']:>8.2f} {r['files']:>7} {r.get('extracted', '-'):>9} {r['self_mb']:>8} "
              f"{r['child_mb']:>9} {r['self_cpu']:>8} {r['child_cpu']:>8}  {' '.join(notes)}")
    print(f"\nrows: {json.dumps(b['rows'])}")
    ratio = b["wall"] / a["wall"] if a["wall"] else float("inf")
    print(f"ratio (b)/(a) = {ratio:.2f}  (budget <= 1.3: {'ok' if ratio <= 1.3 else 'OVER'})")
    a2 = res["(a2) extract, no DB"]
    print(f"ratio (a2)/(a) = {a2['wall'] / a['wall']:.2f} (extractors alone);  "
          f"(b)/(a2) = {b['wall'] / a2['wall']:.2f} (index overhead: walk, hashing, IPC, SQLite)")


if __name__ == "__main__":
    main()
