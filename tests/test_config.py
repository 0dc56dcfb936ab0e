"""KernelConfig: reading a .config."""

from __future__ import annotations

import pytest

from kpanalyze.config import KernelConfig
from kpanalyze.errors import InputError

SAMPLE = b"""\
#
# Automatically generated file; DO NOT EDIT.
#
CONFIG_X86=y
CONFIG_64BIT=y
CONFIG_KVM=m
CONFIG_NR_CPUS=64
CONFIG_PHYSICAL_START=0x1000000
CONFIG_DEFAULT_HOSTNAME="(none)"
CONFIG_CMDLINE="quiet \\"a b\\" c\\\\d"
# CONFIG_KPROBES is not set
CONFIG_EMPTY=
"""


def cfg(data: bytes = SAMPLE) -> KernelConfig:
    return KernelConfig.parse(data, "test.config")


def test_values():
    c = cfg()
    assert c.value("X86") == "y"
    assert c.value("CONFIG_X86") == "y"  # with or without the prefix
    assert c.value("KVM") == "m"
    assert c.value("NR_CPUS") == "64"
    assert c.value("DEFAULT_HOSTNAME") == "(none)"
    assert c.value("CMDLINE") == 'quiet "a b" c\\d'
    assert c.value("KPROBES") is None
    assert c.value("EMPTY") is None
    assert c.value("NEVER_MENTIONED") is None


def test_predicates():
    c = cfg()
    assert c.enabled("KVM") and not c.builtin("KVM") and c.module("CONFIG_KVM")
    assert c.enabled("X86") and c.builtin("CONFIG_X86") and not c.module("X86")
    assert not c.enabled("KPROBES") and not c.builtin("KPROBES")
    assert not c.enabled("NR_CPUS")  # a number is not y/m
    assert "NR_CPUS" in c and "KPROBES" not in c


def test_int_value():
    c = cfg()
    assert c.int_value("NR_CPUS") == 64
    assert c.int_value("PHYSICAL_START") == 0x1000000
    assert c.int_value("X86") == 1
    assert c.int_value("KVM") is None  # =m: CONFIG_KVM is not defined for the compiler
    assert c.int_value("DEFAULT_HOSTNAME") is None


@pytest.mark.parametrize("sym,arch", [
    ("X86", "x86"), ("ARM64", "arm64"), ("ARM", "arm"), ("RISCV", "riscv"),
    ("PPC", "powerpc"), ("S390", "s390"), ("LOONGARCH", "loongarch"), ("MIPS", "mips"),
])
def test_arch_hint(sym, arch):
    assert KernelConfig.parse(f"CONFIG_{sym}=y\nCONFIG_FOO=y\n".encode()).arch_hint() == arch


def test_arch_hint_arm64_is_not_arm():
    c = KernelConfig.parse(b"CONFIG_ARM64=y\n# CONFIG_ARM is not set\n")
    assert c.arch_hint() == "arm64"
    assert KernelConfig.parse(b"CONFIG_FOO=y\n").arch_hint() is None


def test_independent_objects():
    a = KernelConfig.parse(b"CONFIG_A=y\n")
    b = KernelConfig.parse(b"CONFIG_A=m\n")
    assert a.value("A") == "y" and b.value("A") == "m"
    assert hash(a) != hash(b) or a is not b  # hashable: usable as a cache key
    with pytest.raises(TypeError):
        a.symbols()["A"] = "n"  # read-only
    with pytest.raises(AttributeError):
        a.path = "other"


def test_later_lines_win():
    c = KernelConfig.parse(b"CONFIG_A=y\n# CONFIG_A is not set\nCONFIG_B=m\nCONFIG_B=y\n")
    assert c.value("A") is None and c.value("B") == "y"


def test_odd_line_after_config_lines_is_a_warning():
    c = KernelConfig.parse(b"CONFIG_A=y\nthis is junk\n", "x.config")
    assert c.value("A") == "y"
    assert c.warnings == ("x.config:2: not a kernel .config line: 'this is junk'",)


def test_binary_file_is_an_input_error(tmp_path):
    p = tmp_path / "vmlinux"
    p.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(100))
    with pytest.raises(InputError, match=rf"{p}:1: .*binary"):
        KernelConfig.load(p)


def test_no_config_line_is_an_input_error(tmp_path):
    p = tmp_path / "empty.config"
    p.write_text("# just a comment\n\n")
    with pytest.raises(InputError, match=rf"{p}:1: .*no CONFIG_ line"):
        KernelConfig.load(p)


def test_text_file_is_an_input_error(tmp_path):
    p = tmp_path / "main.c"
    p.write_text("#include <stdio.h>\nint main(void) { return 0; }\n")
    with pytest.raises(InputError, match=rf"{p}:2: not a kernel .config line"):
        KernelConfig.load(p)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot read config"):
        KernelConfig.load(tmp_path / "nope")


@pytest.mark.kernel
@pytest.mark.parametrize("name,arch,sym", [
    ("x86_64", "x86", "X86_64"), ("arm64", "arm64", "ARM64"), ("armhf", "arm", "ARM"),
])
def test_groundtruth_configs(debian_config, name, arch, sym):
    c = KernelConfig.load(debian_config(arch))
    assert c.arch_hint() == arch
    assert c.builtin(sym)
    assert c.builtin("KPROBES") and c.builtin("FUNCTION_TRACER")
    assert len(c) > 5000 and not c.warnings
