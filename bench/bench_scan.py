"""`kpanalyze scan` of a generated repository of 1,000 files, warm (budget <= 5 s).

    .venv/bin/python bench/bench_scan.py [--files 1000] [--tree PATH] [--config FILE] [--arch x86]

Writes a repository of N files across the formats (BPF C, libbpf loaders, kernel modules,
bpftrace, bcc, kprobe_events; a few kprobe.multi globs and bcc regexes), with probe
points drawn from the tree's own function names plus some that do not exist. Runs the
scan once to build the index (cold, not timed against the budget), then times a warm
scan in-process and through the CLI. Without --tree: the sample kernel.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kpanalyze import api  # noqa: E402
from kpanalyze.scan import scan  # noqa: E402


def generate(repo: Path, n: int, names: list[str], rng: random.Random) -> int:
    """Write n files; return how many probe points they hold."""
    pick = lambda: rng.choice(names)  # noqa: E731
    points = 0
    kinds = ["bpf", "loader", "module", "bt", "bcc", "events"]
    for i in range(n):
        kind = kinds[i % len(kinds)]
        d = repo / kind / f"d{i // 100}"
        d.mkdir(parents=True, exist_ok=True)
        if kind == "bpf":
            body = ['#include "vmlinux.h"', "char LICENSE[] SEC(\"license\") = \"GPL\";"]
            for j in range(4):
                sec = rng.choice(["kprobe", "kretprobe"])
                body += [f'SEC("{sec}/{pick()}")', f"int p{j}(struct pt_regs *ctx) {{ return 0; }}"]
            points += 4
            if i % 97 == 0:
                body += [f'SEC("kprobe.multi/{pick()[:4]}*")', "int m(void *c) { return 0; }"]
                points += 1
            (d / f"prog{i}.bpf.c").write_text("\n".join(body) + "\n")
        elif kind == "loader":
            body = ["int attach(struct bpf_program *p) {",
                    f'\tbpf_program__attach_kprobe(p, false, "{pick()}");',
                    f'\tbpf_program__attach_kprobe(p, true, "{pick()}");', "\treturn 0;", "}"]
            points += 2
            (d / f"loader{i}.c").write_text("\n".join(body) + "\n")
        elif kind == "module":
            body = ["#include <linux/kprobes.h>",
                    f'static struct kprobe kp = {{ .symbol_name = "{pick()}", .offset = 0 }};',
                    f'static struct kretprobe rp = {{ .kp.symbol_name = "{pick()}" }};']
            points += 2
            (d / f"mod{i}.c").write_text("\n".join(body) + "\n")
        elif kind == "bt":
            a, b, c = pick(), pick(), pick()
            text = f"// generated\nkprobe:{a},\nkretprobe:{b}\n{{ @[probe] = count(); }}\nkprobe:{c}+0x4 {{ }}\n"
            points += 3
            (d / f"trace{i}.bt").write_text(text)
        elif kind == "bcc":
            text = (f'from bcc import BPF\nb = BPF(text="")\nb.attach_kprobe(event="{pick()}", fn_name="f")\n'
                    f'b.attach_kretprobe(event=b"{pick()}", fn_name="g")  # kpanalyze: ignore[notrace]\n')
            points += 2
            if i % 101 == 0:
                text += f'b.attach_kprobe(event_re="{pick()[:5]}.*", fn_name="h")\n'
                points += 1
            (d / f"tool{i}.py").write_text(text)
        else:
            text = "".join(f"p:g{i}/e{j} {pick()} arg=%di\n" for j in range(3)) + f"r:g{i}/r {pick()}\n"
            points += 4
            (d / f"probes{i}.events").write_text(text)
    return points


def timed(fn):
    t = time.perf_counter()
    r = fn()
    return r, time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--tree", default=None, help="a kernel tree (default: the sample kernel)")
    ap.add_argument("--config", default=None)
    ap.add_argument("--arch", default="x86")
    args = ap.parse_args()

    k = api.open_kernel(Path(args.tree) if args.tree else None, progress=sys.stderr.isatty())
    rng = random.Random(4)
    names = k.index.function_names(args.arch)
    names = rng.sample(names, min(len(names), 3000)) + ["no_such_function_a", "no_such_function_b"]
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        (repo / ".git").mkdir()
        (repo / ".kpanalyze.toml").write_text(f'arches = ["{args.arch}"]\n')
        points = generate(repo, args.files, names, rng)
        kw = dict(kernel=args.tree, config=args.config)
        _, cold = timed(lambda: scan([str(repo)], **kw))
        res, warm = timed(lambda: scan([str(repo)], **kw))
        exe = Path(sys.executable).parent / "kpanalyze"
        cmd = [str(exe), "scan", str(repo), "--no-progress"] + (["--kernel", args.tree] if args.tree else []) + \
              (["--config", args.config] if args.config else [])
        proc, cli = timed(lambda: subprocess.run(cmd, capture_output=True, text=True))
    tree = args.tree or "sample kernel"
    print(f"repository: {args.files} files, {points} probe points; tree: {tree}; arch {args.arch}")
    print(f"{'first scan (index build, first use)':45s} {cold:8.3f} s")
    print(f"{'warm scan, in-process':45s} {warm:8.3f} s  budget 5 s")
    print(f"{'warm scan, CLI (kpanalyze scan)':45s} {cli:8.3f} s  budget 5 s")
    print(f"findings {len(res.findings)}, verdicts {len(res.verdicts)}, suppressed {len(res.suppressed)}, "
          f"problems {len(res.problems)}, files {res.files_scanned} scanned / {res.files_skipped} skipped")
    print(f"CLI exit code {proc.returncode}; last line: {proc.stdout.strip().splitlines()[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
