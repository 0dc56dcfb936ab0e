"""Dev-set accuracy: predicted verdicts vs what a booted x86_64 6.1.176 kernel accepted.

    .venv/bin/python bench/accuracy.py [--tree PATH] [--groundtruth DIR] [--limit N]

Reads groundtruth/linux-6.1.176/x86_64/probe_results.tsv (tracefs results per name) and
blacklist.txt, runs `check` (via tracefs, x86_64 config) for every name, and prints
agreement, a confusion table by recorded cause, and blacklist precision/recall.
Writes the disagreements to bench/out/accuracy_misses.tsv.
"""

from __future__ import annotations

import argparse
import collections
import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kpanalyze import api  # noqa: E402


def predicted_ok(v) -> bool:
    """A verdict's best guess at 'registration succeeds'."""
    return v.status == "probeable" or (v.status == "uncertain" and not v.expected_errno)


def ok_if_present(v) -> bool:
    """The verdict's answer assuming the symbol exists (every kallsyms name does): for an
    existence-only doubt (maybe inlined, static inline), the `if_present` outcome."""
    if v.if_present and v.status in ("missing", "uncertain") and v.expected_errno in ("ENOENT", ""):
        return v.if_present == "probeable"
    return predicted_ok(v)


def first_reason(v) -> str:
    dec = [r.id for r in v.reasons if r.decisive]
    if v.status == "uncertain":
        return "uncertain:" + (v.expected_errno or "ok")
    return dec[0] if dec else "ok"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", default=str(ROOT / ".kernel-cache" / "linux-source-6.1"))
    ap.add_argument("--groundtruth", default=str(ROOT.parent / "shared" / "groundtruth" / "linux-6.1.176" / "x86_64"))
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    gt = Path(args.groundtruth)
    rows = list(csv.DictReader(open(gt / "probe_results.tsv"), delimiter="\t"))
    if args.limit:
        rows = rows[: args.limit]
    names = [r["name"] for r in rows]

    t0 = time.perf_counter()
    k = api.open_kernel(Path(args.tree), progress=True)
    t1 = time.perf_counter()
    res = api.check(names, arches=["x86"], config=gt / "config", via="tracefs", opened=k)
    t2 = time.perf_counter()
    by = {(v.point.symbol, v.kind): v for v in res.verdicts}

    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    agree = {"kprobe": 0, "kretprobe": 0}
    agree_present = 0
    n_present = 0
    both = 0
    confusion = collections.Counter()
    per_cause = collections.Counter()
    misses = []
    for r in rows:
        ok_all = True
        for kind, col, cause_col in (("kprobe", "kprobe_result", "kprobe_cause"),
                                     ("kretprobe", "kretprobe_result", "kretprobe_cause")):
            v = by[(r["name"], kind)]
            truth_ok = r[col] == "OK"
            hit = predicted_ok(v) == truth_ok
            agree[kind] += hit
            ok_all &= hit
            if kind == "kprobe" and r["origin"] != "source_inline":
                n_present += 1
                agree_present += ok_if_present(v) == truth_ok
            if kind == "kprobe":
                cause = r[cause_col] if r[cause_col] != "-" else "ok"
                confusion[(cause, first_reason(v))] += 1
                per_cause[(cause, hit)] += 1
                if not hit:
                    misses.append((r["name"], r["origin"], cause, v.status, first_reason(v),
                                   str(v.definition or ""), "; ".join(f"{x.id}: {x.message}" for x in v.reasons)[:300]))
        both += ok_all
    n = len(rows)
    print(f"names: {n}   open+index: {t1 - t0:.1f}s   check: {t2 - t1:.1f}s")
    print(f"agreement kprobe {agree['kprobe'] / n:.2%}  kretprobe {agree['kretprobe'] / n:.2%}  "
          f"both {both / n:.2%}")
    print(f"names present in kallsyms ({n_present}), judged as if the symbol exists (the 'if_present' "
          f"answer for existence doubts): {agree_present / max(1, n_present):.2%}")
    print("\nper recorded cause (kprobe): agree / total")
    causes = sorted({c for c, _ in per_cause})
    for c in causes:
        tot = per_cause[(c, True)] + per_cause[(c, False)]
        print(f"  {c:32s} {per_cause[(c, True)]:6d} / {tot:6d}  ({per_cause[(c, True)] / tot:.1%})")
    print("\nconfusion (recorded cause -> predicted first reason), top 40:")
    for (c, p), cnt in confusion.most_common(40):
        print(f"  {c:32s} -> {p:28s} {cnt:6d}")
    with open(out_dir / "accuracy_misses.tsv", "w") as f:
        f.write("name\torigin\tcause\tstatus\tpredicted\tdefinition\treasons\n")
        for m in misses:
            f.write("\t".join(m) + "\n")

    # blacklist precision / recall
    truth = {line.split()[1] for line in open(gt / "blacklist.txt") if line.strip()}
    pred_entries = api.blacklist("x86", config=gt / "config", opened=k)
    pred = {e.name for e in pred_entries if e.in_debugfs}
    tp = len(truth & pred)
    print(f"\nblacklist: predicted {len(pred)}, truth {len(truth)}, precision {tp / max(1, len(pred)):.2%}, "
          f"recall {tp / max(1, len(truth)):.2%}")
    with open(out_dir / "blacklist_diff.txt", "w") as f:
        f.write("# missed (in debugfs, not predicted)\n" + "\n".join(sorted(truth - pred)) + "\n")
        f.write("# extra (predicted, not in debugfs)\n" + "\n".join(sorted(pred - truth)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
