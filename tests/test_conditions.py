"""Three-valued evaluation of #if conditions and of Kbuild conditions."""

from __future__ import annotations

import re
import time

import pytest

from kpanalyze.conditions import config_symbols, evaluate, evaluate_all, evaluate_kbuild, parse
from kpanalyze.config import KernelConfig

X86 = KernelConfig.parse(b"""\
CONFIG_X86=y
CONFIG_X86_64=y
CONFIG_64BIT=y
CONFIG_SMP=y
CONFIG_KPROBES=y
CONFIG_KVM=m
CONFIG_NR_CPUS=64
CONFIG_HZ=250
CONFIG_PGTABLE_LEVELS=5
CONFIG_PHYSICAL_ALIGN=0x200000
CONFIG_CC_IS_GCC=y
CONFIG_GCC_VERSION=120200
CONFIG_DEFAULT_HOSTNAME="(none)"
# CONFIG_X86_32 is not set
""", "x86.config")
ARM = KernelConfig.parse(b"CONFIG_ARM=y\nCONFIG_THUMB2_KERNEL=y\nCONFIG_CPU_BIG_ENDIAN=y\n")


def ev(expr, config=X86, arch="x86", **kw):
    return evaluate(expr, config, arch, **kw)


@pytest.mark.parametrize("expr,want", [
    ("defined(CONFIG_X86_32)", False),
    ("!defined(CONFIG_KPROBES)", False),
    ("defined CONFIG_SMP", True),
    ("defined(CONFIG_KPROBES) && defined(CONFIG_SMP)", True),
    # =m defines CONFIG_X_MODULE, not CONFIG_X (include/generated/autoconf.h)
    ("defined(CONFIG_KVM)", False),
    ("defined(CONFIG_KVM_MODULE)", True),
    ("defined(CONFIG_SMP_MODULE)", False),
    ("IS_ENABLED(CONFIG_KVM)", True),
    ("IS_BUILTIN(CONFIG_KVM)", False),
    ("IS_MODULE(CONFIG_KVM)", True),
    ("IS_REACHABLE(CONFIG_KVM)", False),
    ("IS_REACHABLE(CONFIG_SMP)", True),
    ("IS_ENABLED(CONFIG_NOT_SET_AT_ALL)", False),
    ("IS_ENABLED(CONFIG_KPROBES) && !(CONFIG_NR_CPUS > 1)", False),
    ("CONFIG_NR_CPUS >= 64 && CONFIG_NR_CPUS < 0x100", True),
    ("CONFIG_HZ / 50 == 5", True),
    ("CONFIG_HZ % 7 == 5", True),
    ("CONFIG_PHYSICAL_ALIGN == 2 * 1024 * 1024UL", True),
    ("CONFIG_PGTABLE_LEVELS > 4 ? 1 : 0", True),
    ("CONFIG_X86_32", False),  # unset: 0
    ("CONFIG_KVM", False),  # =m: CONFIG_KVM undefined, 0 in #if
    ("CONFIG_SMP", True),
    ("(1 << 3) == 8 && (0x10 >> 4) == 1 && (6 & 3) == 2 && (4 | 1) == 5 && (5 ^ 1) == 4", True),
    ("-1 < 0 && ~0 == -1 && +2 == 2", True),
    ("'A' == 65 && '\\n' == 10", True),
    ("010 == 8", True),
    ("0", False),
    ("1", True),
    ("__KERNEL__", True),
    ("defined(__KERNEL__)", True),
    ("defined(__ASSEMBLY__)", False),
    ("defined(MODULE)", False),
    ("__x86_64__ && !defined(__i386__)", True),
    ("defined(__aarch64__) || defined(__arm__) || defined(__riscv)", False),
    ("BITS_PER_LONG == 64 && __BITS_PER_LONG == 64 && defined(__LP64__)", True),
    ("__SIZEOF_POINTER__ == 8", True),
    ("__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__", True),
    ("defined(__LITTLE_ENDIAN) && !defined(__BIG_ENDIAN)", True),
    ("__GNUC__ >= 12 && !defined(__clang__)", True),
    ("HZ == 250 && NR_CPUS == 64", True),
    ("defined(CONFIG_DEFAULT_HOSTNAME)", True),
])
def test_with_config(expr, want):
    assert ev(expr) is want


@pytest.mark.parametrize("expr", [
    "defined(SOME_HEADER_MACRO)",  # could come from any header
    "SOME_HEADER_MACRO > 3",
    "__has_attribute(__fallthrough__)",
    "LINUX_VERSION_CODE >= KERNEL_VERSION(5, 0, 0)",
    "!(defined(A)) && (B)",
    "CONFIG_DEFAULT_HOSTNAME == 1",  # a string has no numeric value
    "1 / 0",
    "defined(",  # does not parse
    "1 +",
    "",
])
def test_unknown(expr):
    assert ev(expr) is None


def test_three_valued_logic():
    assert ev("0 && UNKNOWN") is False
    assert ev("UNKNOWN && 0") is False
    assert ev("defined(CONFIG_X86_32) && UNKNOWN(x)") is False
    assert ev("1 || UNKNOWN") is True
    assert ev("UNKNOWN || defined(CONFIG_SMP)") is True
    assert ev("UNKNOWN && 1") is None
    assert ev("UNKNOWN || 0") is None
    assert ev("!UNKNOWN") is None
    assert ev("UNKNOWN ? 1 : 1") is True  # both branches agree
    assert ev("UNKNOWN ? 1 : 0") is None
    assert ev("0 * UNKNOWN == 0") is True


def test_without_config():
    assert evaluate("defined(CONFIG_SMP)", None, "x86") is None
    assert evaluate("IS_ENABLED(CONFIG_SMP)", None, "x86") is None
    assert evaluate("CONFIG_NR_CPUS > 1", None, "x86") is None
    assert evaluate("defined(CONFIG_SMP) || 1", None, "x86") is True  # forced by logic
    assert evaluate("defined(CONFIG_SMP) && 0", None, "x86") is False
    # the arch's own Kconfig symbol, and the other arches' ones, are known
    assert evaluate("defined(CONFIG_X86)", None, "x86") is True
    assert evaluate("IS_ENABLED(CONFIG_ARM64)", None, "x86") is False
    assert evaluate("defined(CONFIG_ARM64)", None, "arm64") is True
    # word size: fixed on arm64 / arm, a config choice on x86
    assert evaluate("defined(CONFIG_64BIT)", None, "arm64") is True
    assert evaluate("BITS_PER_LONG == 64", None, "arm64") is True
    assert evaluate("BITS_PER_LONG == 32", None, "arm") is True
    assert evaluate("defined(CONFIG_64BIT)", None, "x86") is None
    assert evaluate("defined(__x86_64__)", None, "x86") is None
    assert evaluate("defined(__aarch64__)", None, "x86") is False
    assert evaluate("defined(__aarch64__) && defined(__LP64__)", None, "arm64") is True
    assert evaluate("defined(__thumb2__)", None, "arm") is None


def test_arch_macros_follow_arch_and_config():
    assert evaluate("defined(__arm__) && defined(__thumb2__)", ARM, "arm") is True
    assert evaluate("__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__", ARM, "arm") is True
    assert evaluate("defined(__arm__)", ARM, "arm64") is False
    x86_32 = KernelConfig.parse(b"CONFIG_X86=y\nCONFIG_X86_32=y\n")
    assert evaluate("defined(__i386__) && !defined(__x86_64__)", x86_32, "x86") is True
    assert evaluate("BITS_PER_LONG", x86_32, "x86") is True
    assert evaluate("BITS_PER_LONG == 32", x86_32, "x86") is True


def test_assembly_and_module_parameters():
    assert ev("defined(__ASSEMBLY__)", assembly=True) is True
    assert ev("!defined(__ASSEMBLY__)", assembly=True) is False
    assert ev("defined(MODULE)", module=True) is True
    assert ev("IS_REACHABLE(CONFIG_KVM)", module=True) is True


def test_evaluate_all():
    assert evaluate_all((), X86, "x86") is True
    assert evaluate_all(("defined(CONFIG_SMP)", "CONFIG_NR_CPUS > 1"), X86, "x86") is True
    assert evaluate_all(("UNKNOWN", "defined(CONFIG_X86_32)"), X86, "x86") is False
    assert evaluate_all(("UNKNOWN", "defined(CONFIG_SMP)"), X86, "x86") is None
    assert evaluate_all(("!defined(__ASSEMBLY__)",), X86, "x86", assembly=True) is False


def test_whitespace_comments_and_continuations():
    assert ev("defined(CONFIG_SMP) /* SMP */ && \\\n  CONFIG_NR_CPUS > 1 // many") is True


def test_parse_is_cached():
    assert parse("defined(CONFIG_SMP)") is parse("defined(CONFIG_SMP)")
    exprs = [f"defined(CONFIG_A{i}) || (IS_ENABLED(CONFIG_SMP) && CONFIG_NR_CPUS > {i})"
             for i in range(1000)]
    start = time.perf_counter()
    for k in range(100_000):
        evaluate(exprs[k % 1000], X86, "x86")
    print(f"\n100,000 evaluations: {time.perf_counter() - start:.2f} s")


def test_config_symbols():
    assert config_symbols("defined(CONFIG_A) && !CONFIG_B || CONFIG_A") == ("CONFIG_A", "CONFIG_B")


# -- the Kbuild condition language --------------------------------------------------------

@pytest.mark.parametrize("expr,want", [
    ("", True),
    ("CONFIG_SMP", True),
    ("CONFIG_KVM", True),  # ifdef / obj-$(CONFIG_KVM): y or m
    ("CONFIG_X86_32", False),
    ("CONFIG_KVM=m", True),
    ("CONFIG_KVM=y", False),
    ("!CONFIG_KVM=y", True),
    ("CONFIG_X86_32=", True),  # ifeq ($(CONFIG_X86_32),)
    ("CONFIG_NR_CPUS=64", True),
    ("CONFIG_SMP&&!CONFIG_X86_32", True),
    ("!(CONFIG_SMP||CONFIG_X86_32)", False),
    ("(CONFIG_KVM=y&&CONFIG_SMP=y)||(CONFIG_KVM=m&&CONFIG_SMP=m)", False),
    ("$(BITS)=64", True),
    ("$(BITS)=32", False),
    ("!$(need-config)=", True),
    ("[ifeq ($(call cc-option,-foo),)]", None),
    ("[x]||CONFIG_SMP", True),
    ("[x]&&CONFIG_X86_32", False),
    ("1", True),
    ("0", False),
    ("CONFIG_SMP &&", None),  # malformed
])
def test_kbuild_conditions(expr, want):
    assert evaluate_kbuild(expr, X86, "x86", {"BITS": "64", "need-config": "1"}) is want


def test_kbuild_conditions_without_config():
    assert evaluate_kbuild("CONFIG_SMP", None, "x86") is None
    assert evaluate_kbuild("CONFIG_X86", None, "x86") is True
    assert evaluate_kbuild("CONFIG_SMP&&CONFIG_ARM64", None, "x86") is False
    assert evaluate_kbuild("$(BITS)=64", None, "x86", {}) is None


# -- the real tree --------------------------------------------------------------------------

def _if_expressions(root, subdirs):
    out = []
    for sub in subdirs:
        for path in (root / sub).rglob("*"):
            if path.suffix not in (".c", ".h", ".S") or not path.is_file():
                continue
            text = path.read_text(errors="replace").replace("\\\n", " ")
            for m in re.finditer(r"^\s*#\s*(?:if|elif)\s+(.*)$", text, re.M):
                e = re.sub(r"//.*", "", re.sub(r"/\*.*?\*/", "", m.group(1))).strip()
                if e:
                    out.append(e)
    return out


@pytest.mark.kernel
def test_every_if_of_kernel_and_x86_parses(real_tree, groundtruth):
    exprs = _if_expressions(real_tree, ["kernel", "arch/x86/kernel", "include/linux"])
    assert len(exprs) > 1000
    unparsed = sorted({e for e in exprs if parse(e) is None})
    assert unparsed == []
    config = KernelConfig.load(groundtruth / "x86_64" / "config")
    decided = sum(evaluate(e, config, "x86") is not None for e in exprs)
    assert decided / len(exprs) > 0.6  # the rest use header macros (DEBUG, PAGE_SIZE...)
    assert evaluate("defined(CONFIG_X86_32)", config, "x86") is False
    assert evaluate("IS_ENABLED(CONFIG_KPROBES_ON_FTRACE)", config, "x86") is True
    assert evaluate("defined(CONFIG_GENERIC_ENTRY)", KernelConfig.load(
        groundtruth / "arm64" / "config"), "arm64") is False
