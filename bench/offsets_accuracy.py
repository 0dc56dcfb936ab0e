"""symbol+offset verdicts vs what a booted x86_64 6.1.176 kernel accepted (offset_results.tsv).

    .venv/bin/python bench/offsets_accuracy.py [--tree PATH] [--image VMLINUZ] [--groundtruth DIR]

Runs `check` via tracefs with Debian's amd64 image, the booted kernel's kallsyms.txt and the
x86_64 config for every row of offset_results.tsv, and prints agreement on the errno (OK,
EILSEQ, EINVAL, EOPNOTSUPP) by recorded cause. Misses go to bench/out/offsets_misses.tsv.
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

GT = ROOT.parent / "shared" / "groundtruth" / "linux-6.1.176" / "x86_64"
IMAGE = ROOT / ".kernel-cache" / "images" / "boot" / "vmlinuz-6.1.0-50-amd64"


def predicted(v) -> str:
    """The errno registration would return, "OK" when it succeeds (uncertain: the best guess)."""
    if v.status == "probeable" or (v.status == "uncertain" and not v.expected_errno):
        return "OK"
    return v.expected_errno or "OK"


def compare(tree: Path, image: Path, gt: Path, limit: int = 0):
    """(rows, verdicts) for every offset row of the ground truth."""
    rows = list(csv.DictReader(open(gt / "offset_results.tsv"), delimiter="\t"))
    if limit:
        rows = rows[:limit]
    res = api.check([r["target"] for r in rows], arches=["x86"], kernel=tree, config=gt / "config",
                    via="tracefs", kinds=("kprobe",), image=image, kallsyms=gt / "kallsyms.txt")
    by_point = {str(v.point): v for v in res.verdicts}
    out = []
    for r in rows:
        fn, off = r["function"], int(r["offset"])
        key = fn if not off else f"{fn}+{off:#x}"
        out.append((r, by_point[key]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", default=str(ROOT / ".kernel-cache" / "linux-source-6.1"))
    ap.add_argument("--image", default=str(IMAGE))
    ap.add_argument("--groundtruth", default=str(GT))
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    pairs = compare(Path(args.tree), Path(args.image), Path(args.groundtruth), args.limit)
    dt = time.perf_counter() - t0
    by_cause = collections.defaultdict(lambda: [0, 0])
    misses = []
    for r, v in pairs:
        want, got = r["kprobe_result"], predicted(v)
        cell = by_cause[r["cause"]]
        cell[1] += 1
        if want == got:
            cell[0] += 1
        else:
            reason = next((x for x in v.reasons if x.decisive), None)
            misses.append((r["target"], r["cause"], want, got, v.status, reason.id if reason else "",
                           reason.message if reason else "", r["instruction"],
                           v.instruction.bytes if v.instruction else ""))
    good = sum(c[0] for c in by_cause.values())
    statuses = collections.Counter(v.status for _, v in pairs)
    unsure = sum(1 for r, v in pairs if v.status == "uncertain" and r["kprobe_result"] == predicted(v))
    print(f"offset rows: {len(pairs)}  agreement: {good}/{len(pairs)} = {100 * good / max(len(pairs), 1):.2f}%"
          f"  ({dt:.1f} s)")
    print(f"statuses: {dict(statuses)}; right only as an uncertain best guess: {unsure}")
    for cause, (ok, n) in sorted(by_cause.items(), key=lambda kv: -kv[1][1]):
        print(f"  {cause:28} {ok:6}/{n:<6} {100 * ok / n:6.2f}%")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "offsets_misses.tsv", "w") as f:
        f.write("target\tcause\twant\tgot\tstatus\treason\tmessage\tinstruction\tbytes\n")
        for m in misses:
            f.write("\t".join(str(x) for x in m) + "\n")
    print(f"misses: {len(misses)} (bench/out/offsets_misses.tsv)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
