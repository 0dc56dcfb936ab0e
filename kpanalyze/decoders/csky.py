"""csky: the tree's own `csky_probe_decode_insn`, interpreted (same layout as riscv).

From the tree: the `__CSKY_INSN_FUNCS(name, mask, value)` predicates and the
CSKY_INSN_SET_SIMULATE list (arch/csky/kernel/probes/simulate-insn.h, decode-insn.c),
`is_insn32` (decode-insn.h) for instruction lengths, and the odd-address check and errnos of
arch_prepare_kprobe (arch/csky/kernel/probes/kprobes.c). In 6.1 the list only simulates;
a reject entry added to the tree would be listed and applied the same way.

csky's arch_prepare_kprobe does not walk instruction boundaries: a probe in the middle of
a 32-bit instruction is not refused (decode_at says so in `notes`).
"""

from __future__ import annotations

from .riscv import RiscvDecoder

DECODE_C = "arch/csky/kernel/probes/decode-insn.c"
DECODE_H = "arch/csky/kernel/probes/decode-insn.h"
SIMULATE_H = "arch/csky/kernel/probes/simulate-insn.h"
KPROBES_C = "arch/csky/kernel/probes/kprobes.c"


class CskyDecoder(RiscvDecoder):
    arch = "csky"
    modes = ("csky16", "csky32")
    files = (DECODE_H, SIMULATE_H, DECODE_C)
    optional = ("arch/csky/include/asm/probes.h",)
    kprobes_c = KPROBES_C
    entry = "csky_probe_decode_insn"
    length_macro = "is_insn32"
    length_expr = "is_insn32(x) ? 4 : 2"
    length_file = DECODE_H
    pred_prefix = "csky_insn_is_"
    checks_boundary = False
