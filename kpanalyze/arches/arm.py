from .base import ArchSpec

SPEC = ArchSpec(
    name="arm",
    aliases=("armhf", "armel", "arm32", "armv7l", "armv7"),
    insn_align=4,  # ARM mode; a Thumb-2 kernel accepts 2-byte alignment
    ftrace_site_offset=4,  # bl __gnu_mcount_nc after push {lr} [binary]
    keyword_sections={"__exception_irq_entry": ".irqentry.text", "__idmap": ".idmap.text"},
    kprobe_dirs=("arch/arm/probes/kprobes",),
    decoder="arm:ArmDecoder",
    config_symbol="ARM",
    word_bits=32,
    notes=("-fno-ipa-sra: no .isra clones on arm",),
)
