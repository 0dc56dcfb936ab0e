from .base import ArchSpec

SPEC = ArchSpec(
    name="x86",
    aliases=("x86_64", "amd64", "i386", "i686", "x86-64"),
    insn_align=1,
    syscall_prefixes=("__x64_sys_", "__ia32_sys_"),
    compat_syscall_prefixes=("__ia32_compat_sys_", "__x64_compat_sys_"),
    exit_text_kept=True,  # arch/x86/kernel/vmlinux.lds.S keeps .exit.text in the init area
    keyword_sections={"__irq_entry": ""},
    invalid_keywords=("__irq_entry",),  # arch/x86/include/asm/irq.h: __invalid_section
    kprobe_dirs=("arch/x86/kernel/kprobes",),
    decoder="x86:X86Decoder",
    config_symbol="X86",
)
