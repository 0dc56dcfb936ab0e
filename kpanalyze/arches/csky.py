from .base import ArchSpec

SPEC = ArchSpec(
    name="csky",
    insn_align=2,
    kprobe_dirs=("arch/csky/kernel/probes",),
    decoder="csky:CskyDecoder",
    config_symbol="CSKY",
    word_bits=32,
)
