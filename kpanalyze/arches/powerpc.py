from .base import ArchSpec

SPEC = ArchSpec(
    name="powerpc",
    aliases=("ppc64", "ppc64le", "ppc", "ppc64el"),
    insn_align=4,
    kprobe_dirs=("arch/powerpc/kernel",),
    config_symbol="PPC",
)
