from .base import ArchSpec

SPEC = ArchSpec(
    name="riscv",
    aliases=("riscv64", "riscv32"),
    insn_align=2,  # RVC: 2-byte instructions
    kprobe_dirs=("arch/riscv/kernel/probes",),
    decoder="riscv:RiscvDecoder",
    config_symbol="RISCV",
)
