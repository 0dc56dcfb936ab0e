from .base import ArchSpec

# 6.1 has no kprobes on loongarch (HAVE_KPROBES arrived in 6.3); the tree's Kconfig
# decides, this module only names the arch.
SPEC = ArchSpec(
    name="loongarch",
    aliases=("loong64", "loongarch64"),
    insn_align=4,
    config_symbol="LOONGARCH",
)
