from .base import ArchSpec

SPEC = ArchSpec(
    name="s390",
    aliases=("s390x",),
    insn_align=2,
    syscall_prefixes=("__s390x_sys_", "__s390_sys_"),
    compat_syscall_prefixes=("__s390_compat_sys_",),
    kprobe_dirs=("arch/s390/kernel",),
    config_symbol="S390",
)
