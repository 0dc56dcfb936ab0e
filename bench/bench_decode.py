"""Decoder throughput and `offsets` over the largest functions of a real image.

    .venv/bin/python bench/bench_decode.py [--tree PATH] [--functions 1000] [--insns 20000]

1. `decode` throughput per arch (instructions per second) on pseudo-random encodings
   (arm64, arm, thumb, riscv) and on the real instruction stream of the x86_64 image.
2. `offsets` (a verdict for every instruction) over the N largest functions of Debian's
   x86_64 6.1.176 image, with the booted kernel's kallsyms.txt.
Prints figures; asserts nothing (CI runs tests, not benchmarks).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kpanalyze import api  # noqa: E402

GT = ROOT.parent / "shared" / "groundtruth" / "linux-6.1.176" / "x86_64"
IMAGE = ROOT / ".kernel-cache" / "images" / "boot" / "vmlinuz-6.1.0-50-amd64"


def rate(n: int, dt: float) -> str:
    return f"{n / dt:,.0f} insn/s ({n} in {dt:.2f} s)"


def bench_decoders(tree: Path, n: int) -> None:
    rnd = random.Random(61)
    for arch, mode, bits in (("arm64", "", 32), ("arm", "arm", 32), ("arm", "t32", 32), ("arm", "t16", 16),
                             ("riscv", "", 32)):
        dec = api.decoder(arch, kernel=tree)
        words = [rnd.getrandbits(bits) for _ in range(n)]
        if mode == "t16":
            words = [w % 0xE800 for w in words]
        elif mode == "t32":
            words = [w | 0xE8000000 for w in words]
        t = time.perf_counter()
        for w in words:
            dec.decode(w, mode=mode) if mode else dec.decode(w)
        print(f"decode {arch:5} {mode or '-':4} {rate(n, time.perf_counter() - t)}")


def bench_offsets(tree: Path, image: Path, functions: int) -> None:
    from kpanalyze.analysis.offsets import offsets_verdicts

    k = api.open_kernel(tree, progress=True)
    model = k.model("x86", api.load_config(GT / "config"))
    t = time.perf_counter()
    ctx = api.open_binary(model, image=image, kallsyms=GT / "kallsyms.txt")
    print(f"open image + kallsyms: {time.perf_counter() - t:.2f} s")
    syms = sorted(ctx.symbols.text_symbols(), key=lambda s: -ctx.symbols.size_of(s))
    seen, chosen = set(), []
    for s in syms:
        if s.name not in seen and len(ctx.symbols.lookup(s.name)) == 1 and ctx.symbols.size_of(s) < 1 << 16:  # skip section-end markers (_etext: the gap to init text)
            seen.add(s.name)
            chosen.append(s)
        if len(chosen) == functions:
            break
    bench_x86_decode(ctx, chosen)
    t = time.perf_counter()
    n_insn = 0
    statuses: dict[str, int] = {}
    for s in chosen:
        for v in offsets_verdicts(model, ctx, s.name, "tracefs"):
            n_insn += 1
            statuses[v.status] = statuses.get(v.status, 0) + 1
    dt = time.perf_counter() - t
    print(f"offsets over the {len(chosen)} largest functions: {n_insn} instructions, {dt:.1f} s, "
          f"{n_insn / dt:,.0f} verdicts/s; statuses {statuses}")


def bench_x86_decode(ctx, functions, n: int = 20000) -> None:
    """decode_bytes on real x86 instructions (a fresh decoder: its per-shape cache starts empty)."""
    from kpanalyze.decoders.x86 import X86Decoder

    insns = []
    for s in functions:
        fn, starts = ctx.function(s)
        ends = starts[1:] + [len(fn.data)]
        insns.extend(fn.data[a:b] for a, b in zip(starts, ends))
        if len(insns) >= n:
            break
    dec = X86Decoder(ctx.decoder.tree, config=None)
    t = time.perf_counter()
    for raw in insns[:n]:
        dec.decode_bytes(raw)
    print(f"decode x86   -    {rate(len(insns[:n]), time.perf_counter() - t)} (real instructions of the image)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", default=str(ROOT / ".kernel-cache" / "linux-source-6.1"))
    ap.add_argument("--image", default=str(IMAGE))
    ap.add_argument("--functions", type=int, default=1000)
    ap.add_argument("--insns", type=int, default=20000)
    args = ap.parse_args()
    bench_decoders(Path(args.tree), args.insns)
    bench_offsets(Path(args.tree), Path(args.image), args.functions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
