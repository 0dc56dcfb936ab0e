"""`offsets` on Debian's arm64 and armhf 6.1.176 images, cross-checked without a booted kernel.

    .venv/bin/python bench/offsets_crosscheck.py [--arch arm64,arm] [--functions 300] [--ftrace 500]
                                                 [--seed N] [--all] [--tree PATH]

For each arch (images and the -dbg System.map from .kernel-cache, as tests/conftest.py fetches
them; config from the ground-truth directory):
1. ftrace sites of N random traced functions: found from the bytes with capstone, compared with
   SpecialSites, and `check` there (must be ftrace-site) and at +0 (no instruction refusal).
2. `offsets` over N random functions, every instruction compared with the capstone oracle of
   tests/test_offsets_arm_real.py (prose rules of KPROBE_RULES.md §3.2/§3.3, not the tree's
   tables): agreement, disagreement classes, decoder outcomes and reason counts.
3. --all (armhf only): every word of the image through the context-free decoder and the oracle.
Prints figures; asserts nothing (tests/test_offsets_arm_real.py asserts).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import test_offsets_arm_real as xc  # noqa: E402  (the oracle lives with its test)

from kpanalyze import api  # noqa: E402

CACHE = ROOT / ".kernel-cache"
GT = ROOT.parent / "shared" / "groundtruth" / "linux-6.1.176"
INPUTS = {  # arch -> (image, System.map, config)
    "arm64": (CACHE / "images/boot/vmlinuz-6.1.0-50-arm64", CACHE / "dbg/usr/lib/debug/boot/System.map-6.1.0-50-arm64",
              GT / "arm64" / "config"),
    "arm": (CACHE / "images/boot/vmlinuz-6.1.0-50-armmp", CACHE / "dbg/usr/lib/debug/boot/System.map-6.1.0-50-armmp",
            GT / "armhf" / "config"),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", default=str(CACHE / "linux-source-6.1"))
    ap.add_argument("--arch", default="arm64,arm")
    ap.add_argument("--functions", type=int, default=xc.N_FUNCTIONS)
    ap.add_argument("--ftrace", type=int, default=xc.N_FTRACE)
    ap.add_argument("--seed", type=int, default=xc.SEED)
    ap.add_argument("--all", action="store_true", help="armhf: every word of the image, context-free")
    args = ap.parse_args()
    t = time.perf_counter()
    k = api.open_kernel(Path(args.tree))
    print(f"open tree: {time.perf_counter() - t:.1f} s")
    for arch in args.arch.split(","):
        image, smap, config = INPUTS[arch]
        t = time.perf_counter()
        model = k.model(arch, api.load_config(config if config.is_file() else None))
        ctx = api.open_binary(model, image=image, system_map=smap)
        print(f"\n{arch}: open image + System.map {time.perf_counter() - t:.1f} s; sites {ctx.artifacts.sites.counts()}")
        if args.ftrace:
            fig = xc.ftrace_check(model, ctx, xc.traced_functions(ctx, args.ftrace, args.seed))
            print("\n".join(fig.lines()))
            for what, rows in (("differ", fig.differ), ("site not refused", fig.site_not_refused),
                               ("+0 refused", fig.entry_refused)):
                for row in rows[:10]:
                    print(f"  {what}: {row}")
        if args.functions:
            fig = xc.crosscheck(model, ctx, xc.sample_functions(ctx, args.functions, args.seed))
            print("\n".join(fig.lines()))
        if args.all and arch == "arm":
            counts, examples, unique, dt = xc.arm_whole_image(ctx)
            total = sum(counts.values())
            code = total - counts["not disassembled"]
            print(f"arm whole image: {total} words ({unique} distinct) in {dt:.1f} s; agree {counts['agree']}/{code} "
                  f"= {counts['agree'] / code:.4%}; unknown {counts['unknown']}; "
                  f"not disassembled {counts['not disassembled']}")
            for cls, n in counts.most_common():
                if cls not in ("agree", "unknown", "not disassembled"):
                    tag = "accounted" if cls in xc.ORACLE_SIMPLIFICATIONS else "UNEXPLAINED"
                    print(f"  {cls}: {n} ({tag}) e.g. {examples.get(cls, '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
