"""Writes summary-sample.md: `kpanalyze check` on the embedded sample kernel, with each
point placed in a file of a made-up project the way `kpanalyze scan` reports it.

    .venv/bin/python docs/examples/make_summary_sample.py
"""

from dataclasses import replace
from pathlib import Path

from kpanalyze import api
from kpanalyze.render import markdown
from kpanalyze.verdict import Origin

WRITTEN = {  # point -> (file, line, col, spec as written, front end)
    "tcp_retransmit_skb": ("bpf/tcp.bpf.c", 14, 5, 'SEC("kprobe/tcp_retransmit_skb")', "bpf-c"),
    "exc_int3": ("bpf/traps.bpf.c", 9, 5, 'SEC("kprobe/exc_int3")', "bpf-c"),
    "vsnprintf": ("scripts/fmt.bt", 3, 1, "kprobe:vsnprintf", "bpftrace"),
    "sys_openat": ("tools/opensnoop.py", 41, 22, 'b.attach_kprobe(event="sys_openat", ...)', "bcc"),
    "dump_pagetable": ("module/kp.c", 27, 17, '.symbol_name = "dump_pagetable"', "module"),
    "init_once": ("events/kprobe_events", 2, 1, "p:kp/init_once init_once", "kprobe-events"),
}

# A kernel module registers its probe with register_kprobe(): judged --via module.
module = [p for p, w in WRITTEN.items() if w[4] == "module"]
result = api.check([p for p in WRITTEN if p not in module], arches=["x86", "arm64"], kinds=("kprobe",))
result.verdicts += api.check(module, arches=["x86", "arm64"], kinds=("kprobe",), via="module").verdicts
order = list(WRITTEN)
result.verdicts.sort(key=lambda v: (v.arch != "x86", order.index(v.point.symbol)))
result.verdicts = [replace(v, origin=Origin(*WRITTEN[v.point.symbol])) for v in result.verdicts]
result.kernel = "/src/linux-6.1"  # not this machine's path
out = Path(__file__).with_name("summary-sample.md")
out.write_text(markdown.render_check(result))
print(f"wrote {out}")
