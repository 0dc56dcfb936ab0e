from .base import ArchSpec

SPEC = ArchSpec(
    name="arm64",
    aliases=("aarch64", "arm64"),
    insn_align=4,
    syscall_prefixes=("__arm64_sys_",),
    compat_syscall_prefixes=("__arm64_compat_sys_",),
    exit_text_kept=True,
    ftrace_site_offset=4,  # second NOP of patchable-function-entry=2 (+8 after bti c) [binary]
    keyword_sections={"__exception_irq_entry": ".irqentry.text"},
    kprobe_dirs=("arch/arm64/kernel/probes",),
    decoder="arm64:Arm64Decoder",
    config_symbol="ARM64",
)
