"""Kbuild / Kconfig facts and the build map."""

from __future__ import annotations

import csv
import os
import re
import time
from pathlib import Path

import pytest

from kpanalyze.buildmap import BuildMap, BuildStatus
from kpanalyze.config import KernelConfig
from kpanalyze.facts import FlagRemoval, KbuildRule, KconfigSelect
from kpanalyze.parsing.kbuild import extract_kbuild
from kpanalyze.parsing.kconfig import extract_kconfig


def kb(text: str, path: str = "dir/Makefile"):
    return extract_kbuild(path, text.encode())


def rules(text: str, path: str = "dir/Makefile"):
    return [(r.variable, r.config, r.objects) for r in kb(text, path).kbuild_rules]


# -- extract_kbuild -------------------------------------------------------------------------

def test_object_lists_and_operators():
    facts = kb("""\
# a comment
obj-y := a.o b.o   # trailing comment
obj-y += c.o \\
         sub/
obj-m += mod.o
obj-$(CONFIG_KPROBES) ?= kprobes.o
obj-$(subst m,y,$(CONFIG_HYPERV)) += hv.o
obj-${CONFIG_SMP} += smp.o
lib-y += string.o
lib-$(CONFIG_FOO) += foo.o
""")
    assert facts.kind == "kbuild" and facts.parse_errors == 0
    assert [(r.line, r.variable, r.config, r.objects) for r in facts.kbuild_rules] == [
        (2, "obj-y", "", ("a.o", "b.o")),
        (3, "obj-y", "", ("c.o", "sub/")),
        (5, "obj-m", "", ("mod.o",)),
        (6, "obj-$(CONFIG_KPROBES)", "CONFIG_KPROBES", ("kprobes.o",)),
        (7, "obj-$(subst m,y,$(CONFIG_HYPERV))", "CONFIG_HYPERV", ("hv.o",)),
        (8, "obj-${CONFIG_SMP}", "CONFIG_SMP", ("smp.o",)),
        (9, "lib-y", "", ("string.o",)),
        (10, "lib-$(CONFIG_FOO)", "CONFIG_FOO", ("foo.o",)),
    ]
    assert all(isinstance(r, KbuildRule) and r.path == "dir/Makefile" for r in facts.kbuild_rules)


def test_composites_arch_lists_and_make_variables_kept_as_written():
    assert rules("""\
obj-$(CONFIG_E1000E) += e1000e.o
e1000e-objs := 82571.o netdev.o
e1000e-$(CONFIG_PTP) += ptp.o
8250-y := 8250_core.o
obj-y += head_$(BITS).o $(addprefix foo/,a.o b.o)
core-y += arch/x86/
libs-y += arch/x86/lib/
drivers-$(CONFIG_PCI) += arch/x86/pci/
head-y := head.o
ccflags-y += -DFOO
always-y += foo.lds
""") == [
        ("obj-$(CONFIG_E1000E)", "CONFIG_E1000E", ("e1000e.o",)),
        ("e1000e-objs", "", ("82571.o", "netdev.o")),
        ("e1000e-$(CONFIG_PTP)", "CONFIG_PTP", ("ptp.o",)),
        ("8250-y", "", ("8250_core.o",)),
        ("obj-y", "", ("head_$(BITS).o", "$(addprefix foo/,a.o b.o)")),
        ("core-y", "", ("arch/x86/",)),
        ("libs-y", "", ("arch/x86/lib/",)),
        ("drivers-$(CONFIG_PCI)", "CONFIG_PCI", ("arch/x86/pci/",)),
        ("head-y", "", ("head.o",)),
    ]


def test_conditional_blocks():
    assert rules("""\
ifdef CONFIG_A
obj-y += a.o
ifndef CONFIG_B
obj-$(CONFIG_C) += c.o
else
obj-y += notb.o
endif
endif
ifeq ($(CONFIG_X86_32),y)
obj-y += x32.o
else ifeq ($(CONFIG_KVM), m)
obj-y += kvm.o
else
obj-y += other.o
endif
ifneq ($(CONFIG_SMP),)
obj-y += smp.o
endif
ifeq ($(CONFIG_A)$(CONFIG_B),yy)
obj-y += ab.o
endif
ifneq ($(filter y,$(CONFIG_A) $(CONFIG_B)),)
obj-y += aorb.o
endif
ifeq ($(BITS),32)
obj-y += bits32.o
endif
ifeq ($(call cc-option,-mfoo),)
obj-y += unknown.o
endif
""") == [
        ("obj-y", "CONFIG_A", ("a.o",)),
        ("obj-$(CONFIG_C)", "CONFIG_C&&CONFIG_A&&!CONFIG_B", ("c.o",)),
        ("obj-y", "CONFIG_A&&CONFIG_B", ("notb.o",)),
        ("obj-y", "CONFIG_X86_32=y", ("x32.o",)),
        ("obj-y", "!CONFIG_X86_32=y&&CONFIG_KVM=m", ("kvm.o",)),
        ("obj-y", "!CONFIG_X86_32=y&&!CONFIG_KVM=m", ("other.o",)),
        ("obj-y", "CONFIG_SMP", ("smp.o",)),
        ("obj-y", "CONFIG_A=y&&CONFIG_B=y", ("ab.o",)),
        ("obj-y", "(CONFIG_A=y||CONFIG_B=y)", ("aorb.o",)),
        ("obj-y", "$(BITS)=32", ("bits32.o",)),
        ("obj-y", "[ifeq ($(call cc-option,-mfoo),)]", ("unknown.o",)),
    ]


def test_conditions_evaluate():
    from kpanalyze.conditions import evaluate_kbuild
    config = KernelConfig.parse(b"CONFIG_A=y\nCONFIG_KVM=m\n")
    got = {r[2][0]: evaluate_kbuild(r[1], config, "x86", {"BITS": "64"}) for r in rules("""\
ifdef CONFIG_A
obj-y += a.o
ifndef CONFIG_B
obj-$(CONFIG_C) += c.o
else
obj-y += notb.o
endif
endif
ifneq ($(filter y,$(CONFIG_A) $(CONFIG_B)),)
obj-y += aorb.o
endif
ifeq ($(CONFIG_KVM),m)
obj-y += kvm.o
endif
ifeq ($(BITS),32)
obj-y += bits32.o
endif
""")}
    assert got == {"a.o": True, "c.o": False, "notb.o": False, "aorb.o": True, "kvm.o": True,
                   "bits32.o": False}


def test_recipes_defines_and_rules_are_skipped():
    facts = kb("""\
$(obj)/foo.h: $(src)/gen.sh FORCE
\t$(call cmd,gen)
ifdef CONFIG_X
\tobj-y += not-a-rule.o
endif
\techo done
define filechk_foo
\tobj-y += inside-define.o
endef
$(obj)/x.o: KBUILD_CFLAGS += -DX
obj-y += real.o
$(eval $(call foo))
""")
    assert [r.objects for r in facts.kbuild_rules] == [("real.o",)]
    assert facts.parse_errors == 0


def test_unbalanced_blocks_are_counted():
    facts = kb("endif\nobj-y += a.o\nifdef CONFIG_A\n")
    assert facts.parse_errors == 2
    assert facts.warnings[0] == "dir/Makefile:1: endif without if"


def test_plain_variables_used_by_lists_are_kept():
    got = rules("""\
KVM := ../../../virt/kvm
UNUSED := whatever
VDSO64-$(CONFIG_X86_64) := y
vdso_img-$(VDSO64-y) += 64
kvm-y += $(KVM)/kvm_main.o
obj-$(VDSO64-y) += vdso-image-64.o
obj-y += $(vdso_img-y:%=vdso-image-%.o)
""")
    names = [v for v, _, _ in got]
    assert "KVM" in names and "UNUSED" not in names
    assert ("VDSO64-$(CONFIG_X86_64)", "CONFIG_X86_64", ("y",)) in got
    assert ("vdso_img-$(VDSO64-y)", "", ("64",)) in got


def test_reassignment_discards_earlier_lines():
    got = rules("""\
mmu-y := nommu.o
mmu-$(CONFIG_MMU) := memory.o
mmu-$(CONFIG_MMU) += mlock.o
obj-y := filemap.o $(mmu-y)
libs-y := arch/arm/lib/ $(libs-y)
""")
    assert got[0] == ("mmu-y", "!CONFIG_MMU=y", ("nommu.o",))
    assert got[1][1] == "CONFIG_MMU" and got[2][1] == "CONFIG_MMU"
    assert got[-1] == ("libs-y", "", ("arch/arm/lib/", "$(libs-y)"))  # appends to itself


def test_includes():
    assert rules("include $(srctree)/virt/kvm/Makefile.kvm\n-include $(src)/Makefile.gate\n") == [
        ("include", "", ("$(srctree)/virt/kvm/Makefile.kvm",)),
        ("include", "", ("$(src)/Makefile.gate",)),
    ]


def test_ftrace_flag_removals():
    facts = kb("""\
ccflags-remove-$(CONFIG_FUNCTION_TRACER) += $(CC_FLAGS_FTRACE)
ccflags-remove-y += -Wmissing-prototypes
ifdef CONFIG_FUNCTION_TRACER
CFLAGS_REMOVE_tsc.o = -pg
CFLAGS_REMOVE_time_$(BITS).o := -pg
CFLAGS_REMOVE_vdso32/vclock_gettime.o = -pg
endif
CFLAGS_REMOVE_foo.o = $(CC_FLAGS_FTRACE) -Os
CFLAGS_REMOVE_bar.o += -mfentry
CFLAGS_REMOVE_baz.o = $(CC_FLAGS_FTRACE_WITH_REGS)
CFLAGS_REMOVE_keep.o = -fstack-protector
subdir-ccflags-remove-y += $(CC_FLAGS_FTRACE)
KBUILD_CFLAGS := $(filter-out $(CC_FLAGS_FTRACE) $(CC_FLAGS_SCS), $(KBUILD_CFLAGS))
KBUILD_CFLAGS := $(filter-out -fprofile-use=%, $(KBUILD_CFLAGS))
cflags-$(CONFIG_ARM64) := $(subst $(CC_FLAGS_FTRACE),,$(KBUILD_CFLAGS)) -fpie
ifdef CONFIG_FTRACE_SELFTEST
CFLAGS_selftest.o = $(CC_FLAGS_FTRACE)
endif
CFLAGS_other.o := -I$(src)
""")
    got = [(f.line, f.target, f.config, f.flags) for f in facts.flag_removals]
    assert got == [
        (1, "*", "CONFIG_FUNCTION_TRACER", "$(CC_FLAGS_FTRACE)"),
        (4, "tsc.o", "CONFIG_FUNCTION_TRACER", "-pg"),
        (5, "time_$(BITS).o", "CONFIG_FUNCTION_TRACER", "-pg"),
        (6, "vdso32/vclock_gettime.o", "CONFIG_FUNCTION_TRACER", "-pg"),
        (8, "foo.o", "", "$(CC_FLAGS_FTRACE) -Os"),
        (9, "bar.o", "", "-mfentry"),
        (10, "baz.o", "", "$(CC_FLAGS_FTRACE_WITH_REGS)"),
        (12, "**", "", "$(CC_FLAGS_FTRACE)"),
        (13, "**", "", "$(filter-out $(CC_FLAGS_FTRACE) $(CC_FLAGS_SCS), $(KBUILD_CFLAGS))"),
        (15, "**", "CONFIG_ARM64", "$(subst $(CC_FLAGS_FTRACE),,$(KBUILD_CFLAGS)) -fpie"),
    ]
    assert all(isinstance(f, FlagRemoval) for f in facts.flag_removals)
    # CFLAGS_<obj>.o putting the ftrace flags back is kept as a rule
    assert [(r.variable, r.config) for r in facts.kbuild_rules] == [
        ("CFLAGS_selftest.o", "CONFIG_FTRACE_SELFTEST")]


def test_crlf_and_bad_bytes():
    facts = extract_kbuild("x/Kbuild", b"obj-y += a.o\r\nobj-y += b\xff.o\r\n")
    assert [r.objects for r in facts.kbuild_rules] == [("a.o",), ("b\ufffd.o",)]


# -- extract_kconfig ------------------------------------------------------------------------

def test_kconfig_selects():
    facts = extract_kconfig("arch/x86/Kconfig", b"""\
# SPDX
config X86
\tdef_bool y
\tselect HAVE_KPROBES
\tselect HAVE_OPTPROBES if !THUMB2_KERNEL  # comment
\tselect ARCH_SUPPORTS_INT128 if CC_HAS_INT128 && \\
\t\t\t\t!CC_IS_CLANG
\thelp
\t  Some text that says
\t  select FOO if you like.

\t  More text.

menuconfig HYPERVISOR_GUEST
\tbool "guests"
\tselect HAVE_RETHOOK

menu "Processor"
comment "no owner here"
endmenu
""")
    assert facts.kind == "kconfig" and facts.parse_errors == 0
    assert facts.kconfig_selects == [
        KconfigSelect("arch/x86/Kconfig", 4, "X86", "HAVE_KPROBES", ""),
        KconfigSelect("arch/x86/Kconfig", 5, "X86", "HAVE_OPTPROBES", "!THUMB2_KERNEL"),
        KconfigSelect("arch/x86/Kconfig", 6, "X86", "ARCH_SUPPORTS_INT128",
                      "CC_HAS_INT128 && !CC_IS_CLANG"),
        KconfigSelect("arch/x86/Kconfig", 16, "HYPERVISOR_GUEST", "HAVE_RETHOOK", ""),
    ]


def test_kconfig_select_outside_entry_is_a_warning():
    facts = extract_kconfig("arch/foo/Kconfig", b"menu \"x\"\n\tselect FOO\nendmenu\n")
    assert facts.kconfig_selects == [] and facts.parse_errors == 1
    assert facts.warnings == ["arch/foo/Kconfig:2: select outside a config entry"]


# -- BuildMap on a small tree ------------------------------------------------------------------

TREE = {
    "Kbuild": """\
obj-y += init/
obj-y += arch/$(SRCARCH)/
obj-y += $(ARCH_CORE)
obj-y += kernel/
obj-y += mm/
obj-y += $(ARCH_LIB)
obj-y += drivers/
obj-y += $(ARCH_DRIVERS)
""",
    "Makefile": """\
ifeq ($(KBUILD_EXTMOD),)
core-y :=
drivers-y :=
libs-y := lib/
endif
""",
    "arch/x86/Makefile": """\
ifeq ($(CONFIG_X86_32),y)
        BITS := 32
else
        BITS := 64
endif
libs-y += arch/x86/lib/
drivers-$(CONFIG_PCI) += arch/x86/pci/
""",
    "arch/x86/Kbuild": "obj-y += kernel/\nobj-$(CONFIG_KVM) += kvm/\n",
    "arch/x86/Makefile.in-kbuild-dir": "",
    "arch/x86/kernel/Makefile": """\
ifdef CONFIG_FUNCTION_TRACER
CFLAGS_REMOVE_tsc.o = -pg
endif
obj-y += tsc.o head_$(BITS).o
obj-$(CONFIG_KPROBES) += kprobes/
""",
    "arch/x86/kernel/kprobes/Makefile": """\
obj-$(CONFIG_KPROBES) += core.o
obj-$(CONFIG_KPROBES_ON_FTRACE) += ftrace.o
""",
    "arch/x86/lib/Makefile": "lib-y := memcpy_64.o\nobj-y += msr.o\n",
    "arch/x86/pci/Makefile": "obj-y += common.o\n",
    "arch/x86/kvm/Makefile": """\
include $(srctree)/virt/kvm/Makefile.kvm
obj-$(CONFIG_KVM) += kvm.o
kvm-y += x86.o
""",
    "virt/kvm/Makefile.kvm": "KVM ?= ../../../virt/kvm\nkvm-y := $(KVM)/kvm_main.o\n",
    "arch/arm64/Makefile": "libs-y := arch/arm64/lib/ $(libs-y)\n",
    "arch/arm64/Kbuild": "obj-y += kernel/\n",
    "arch/arm64/kernel/Makefile": "obj-y += entry-common.o\n",
    "init/Makefile": "obj-y := main.o\n",
    # the Kbuild file wins over the Makefile in the same directory
    "init/Kbuild": "obj-y := main.o version.o\n",
    "kernel/Makefile": """\
obj-y = fork.o
obj-$(CONFIG_KPROBES) += kprobes.o
obj-$(CONFIG_GENERIC_ENTRY) += entry/
obj-$(CONFIG_TRACING) += trace/
obj-y += sched/
""",
    "kernel/sched/Makefile": "obj-y += core.o build_utility.o\n",
    "kernel/entry/Makefile": "obj-$(CONFIG_GENERIC_ENTRY) += common.o\n",
    "kernel/trace/Makefile": """\
ccflags-remove-$(CONFIG_FUNCTION_TRACER) += $(CC_FLAGS_FTRACE)
ifdef CONFIG_FTRACE_SELFTEST
CFLAGS_selftest.o = $(CC_FLAGS_FTRACE)
obj-y += selftest.o
endif
obj-$(CONFIG_TRACING) += trace.o
""",
    "mm/Makefile": """\
mmu-y := nommu.o
mmu-$(CONFIG_MMU) := memory.o
obj-y := filemap.o $(mmu-y)
""",
    "lib/Makefile": """\
ccflags-remove-$(CONFIG_FUNCTION_TRACER) += $(CC_FLAGS_FTRACE)
lib-y := vsprintf.o
obj-y += bitmap.o
obj-$(CONFIG_LIBFOO) += foo/
""",
    "lib/foo/Makefile": "obj-y += foo.o\n",
    "drivers/Makefile": "obj-$(CONFIG_NET) += net/\n",
    "drivers/net/Makefile": "obj-$(CONFIG_E1000E) += e1000e/\n",
    "drivers/net/e1000e/Makefile": """\
obj-$(CONFIG_E1000E) += e1000e.o
e1000e-objs := netdev.o param.o
e1000e-$(CONFIG_PTP) += ptp.o
obj-y += stray.o
""",
}

FULL = KernelConfig.parse(b"""\
CONFIG_X86=y
CONFIG_64BIT=y
CONFIG_PCI=y
CONFIG_KPROBES=y
CONFIG_KPROBES_ON_FTRACE=y
CONFIG_FUNCTION_TRACER=y
CONFIG_TRACING=y
CONFIG_MMU=y
CONFIG_NET=y
CONFIG_E1000E=m
CONFIG_PTP=y
CONFIG_KVM=m
""")


@pytest.fixture(scope="module")
def facts():
    return {p: extract_kbuild(p, t.encode()) for p, t in TREE.items()}


@pytest.fixture(scope="module")
def full(facts):
    return BuildMap(facts, "x86", FULL)


def state(bm, path):
    return bm.status(path).state


def test_builtin_chain_with_evidence(full):
    st = full.status("kernel/kprobes.c")
    assert st == BuildStatus("y", ("CONFIG_KPROBES",), (("Kbuild", 4), ("kernel/Makefile", 2)))
    assert full.status("arch/x86/kernel/kprobes/core.c").evidence == (
        ("Kbuild", 2), ("arch/x86/Kbuild", 1), ("arch/x86/kernel/Makefile", 5),
        ("arch/x86/kernel/kprobes/Makefile", 1))
    assert state(full, "arch/x86/kernel/kprobes/ftrace.c") == "y"
    assert state(full, "kernel/fork.c") == "y"


def test_kbuild_file_preferred(full):
    assert state(full, "init/version.c") == "y"


def test_config_off_is_n(facts):
    bm = BuildMap(facts, "x86", KernelConfig.parse(b"CONFIG_X86=y\nCONFIG_64BIT=y\n"))
    st = bm.status("kernel/entry/common.c")
    assert st.state == "n" and st.conditions == ("CONFIG_GENERIC_ENTRY",)
    assert st.evidence[-1] == ("kernel/entry/Makefile", 1)
    assert state(bm, "kernel/kprobes.c") == "n"
    assert state(bm, "arch/x86/pci/common.c") == "n"  # drivers-$(CONFIG_PCI)
    assert state(bm, "kernel/fork.c") == "y"


def test_without_config_is_unknown(facts):
    bm = BuildMap(facts, "x86", None)
    st = bm.status("kernel/kprobes.c")
    assert st.state == "unknown" and st.conditions == ("CONFIG_KPROBES",)
    assert state(bm, "kernel/fork.c") == "y"
    assert state(bm, "arch/x86/kernel/kprobes/core.c") == "unknown"
    # $(BITS) comes from CONFIG_64BIT: both candidates, each unknown
    st = bm.status("arch/x86/kernel/head_64.S")
    assert st.state == "unknown" and "CONFIG_64BIT" in st.conditions
    assert state(bm, "arch/x86/kernel/head_32.S") == "unknown"
    assert state(bm, "mm/memory.c") == "unknown" and state(bm, "mm/nommu.c") == "unknown"


def test_bits_and_srcarch(full):
    assert state(full, "arch/x86/kernel/head_64.S") == "y"
    assert state(full, "arch/x86/kernel/head_32.S") == "n"


def test_reassigned_variable(full):
    assert state(full, "mm/memory.c") == "y"
    assert state(full, "mm/nommu.c") == "n"


def test_arch_lists_and_lib(full, facts):
    assert full.status("arch/x86/pci/common.c").evidence == (("arch/x86/Makefile", 7),
                                                            ("arch/x86/pci/Makefile", 1))
    st = full.status("lib/vsprintf.c")
    assert st.state == "y" and st.archive  # lib-y: linked if referenced
    assert not full.status("lib/bitmap.c").archive
    assert state(full, "arch/x86/lib/memcpy_64.c") == "y"
    assert state(full, "lib/foo/foo.c") == "n"
    arm64 = BuildMap(facts, "arm64", None)
    assert state(arm64, "arch/arm64/kernel/entry-common.c") == "y"
    assert state(arm64, "lib/vsprintf.c") == "y"  # libs-y := arch/arm64/lib/ $(libs-y)
    assert state(arm64, "arch/x86/kernel/tsc.c") == "n"  # named, but not for arm64


def test_modules(full):
    for f in ("drivers/net/e1000e/netdev.c", "drivers/net/e1000e/param.c",
              "drivers/net/e1000e/ptp.c"):
        assert state(full, f) == "m", f
    st = full.status("drivers/net/e1000e/netdev.c")
    assert st.conditions == ("CONFIG_NET", "CONFIG_E1000E")
    assert st.evidence[-2:] == (("drivers/net/e1000e/Makefile", 1), ("drivers/net/e1000e/Makefile", 2))
    # obj-y in a directory reached only through obj-m is not linked anywhere
    assert state(full, "drivers/net/e1000e/stray.c") == "n"
    # composite: an e1000e.c would not be compiled, only the parts are
    assert state(full, "drivers/net/e1000e/e1000e.c") == "n"
    # an included Makefile (virt/kvm/Makefile.kvm) is part of the including directory
    assert state(full, "virt/kvm/kvm_main.c") == "m"
    assert state(full, "arch/x86/kvm/x86.c") == "m"


def test_unlisted(full):
    assert state(full, "kernel/sched/clock.c") == "unlisted"  # #included by build_utility.c
    assert state(full, "include/linux/kprobes.h") == "unlisted"
    assert full.status("kernel/sched/build_utility.c").state == "y"


def test_ftrace_removed(full, facts):
    fr = full.ftrace_removed("arch/x86/kernel/tsc.c")
    assert (fr.path, fr.line, fr.target) == ("arch/x86/kernel/Makefile", 2, "tsc.o")
    assert full.ftrace_removed("arch/x86/kernel/head_64.S") is None
    fr = full.ftrace_removed("kernel/trace/trace.c")
    assert (fr.path, fr.line, fr.target) == ("kernel/trace/Makefile", 1, "*")
    assert full.ftrace_removed("lib/vsprintf.c").path == "lib/Makefile"
    assert full.ftrace_removed("lib/foo/foo.c") is None  # ccflags-remove is not inherited
    assert full.ftrace_removed("kernel/kprobes.c") is None
    # selftest.o gets its ftrace flags back
    selftest = KernelConfig.parse(b"CONFIG_X86=y\nCONFIG_FUNCTION_TRACER=y\nCONFIG_TRACING=y\n"
                                  b"CONFIG_FTRACE_SELFTEST=y\n")
    bm = BuildMap(facts, "x86", selftest)
    assert state(bm, "kernel/trace/selftest.c") == "y"
    assert bm.ftrace_removed("kernel/trace/selftest.c") is None
    assert bm.ftrace_removed("kernel/trace/trace.c") is not None
    # without FUNCTION_TRACER nothing is removed (there is nothing to remove)
    notrace = BuildMap(facts, "x86", KernelConfig.parse(b"CONFIG_X86=y\nCONFIG_TRACING=y\n"))
    assert notrace.ftrace_removed("kernel/trace/trace.c") is None
    assert notrace.ftrace_removed("arch/x86/kernel/tsc.c") is None
    # without a config the rule is reported (it applies whenever ftrace exists)
    assert BuildMap(facts, "x86", None).ftrace_removed("kernel/trace/trace.c") is not None


def test_subdir_removal():
    f = {
        "Kbuild": "obj-y += a/\n",
        "a/Makefile": "subdir-ccflags-remove-y += $(CC_FLAGS_FTRACE)\nobj-y += x.o b/\n",
        "a/b/Makefile": "obj-y += y.o\n",
    }
    bm = BuildMap({p: extract_kbuild(p, t.encode()) for p, t in f.items()}, "x86", FULL)
    assert bm.ftrace_removed("a/x.c").target == "**"
    assert bm.ftrace_removed("a/b/y.c").path == "a/Makefile"


def test_built_objects_and_sources(full):
    objs = full.built_objects()
    assert objs["kernel/kprobes.o"].state == "y"
    assert objs["drivers/net/e1000e/netdev.o"].state == "m"
    assert "mm/nommu.o" not in objs
    src = full.built_sources(["kernel/kprobes.c", "arch/x86/kernel/head_64.S", "mm/nommu.c",
                              "include/linux/x.h"])
    assert set(src) == {"kernel/kprobes.c", "arch/x86/kernel/head_64.S"}


# -- the real tree ----------------------------------------------------------------------------

def kbuild_facts(root: Path) -> dict:
    """Facts of every Makefile/Kbuild of the tree (what the index would hold)."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            if name in ("Makefile", "Kbuild"):
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                with open(full, "rb") as f:
                    out[rel] = extract_kbuild(rel, f.read())
    return out


@pytest.fixture(scope="module")
def real_facts(real_tree):
    start = time.perf_counter()
    facts = kbuild_facts(real_tree)
    print(f"\nextract_kbuild: {len(facts)} files in {time.perf_counter() - start:.2f} s")
    return facts


@pytest.fixture(scope="module")
def x86_map(real_facts, debian_config):
    config = KernelConfig.load(debian_config("x86"))
    start = time.perf_counter()
    bm = BuildMap(real_facts, "x86", config)
    elapsed = time.perf_counter() - start
    print(f"\nBuildMap x86_64: {elapsed:.2f} s")
    return bm


@pytest.mark.kernel
def test_real_tree_extracts_cleanly(real_facts):
    assert len(real_facts) > 2800
    bad = {p: f.warnings for p, f in real_facts.items() if f.parse_errors}
    assert bad == {}
    removals = [fr for f in real_facts.values() for fr in f.flag_removals]
    assert len(removals) >= 130  # KPROBE_RULES §1.5 counts 135 Makefile lines
    by_place = {(fr.path, fr.target) for fr in removals}
    assert ("lib/Makefile", "*") in by_place and ("kernel/trace/Makefile", "*") in by_place
    assert ("arch/x86/kernel/Makefile", "tsc.o") in by_place
    assert ("arch/arm64/kvm/hyp/nvhe/Makefile", "**") in by_place


@pytest.mark.kernel
def test_real_x86_inline_truth_files_are_builtin(x86_map, real_tree, groundtruth):
    with open(groundtruth / "x86_64" / "inline_truth.tsv") as f:
        files = sorted({row["file"] for row in csv.DictReader(f, delimiter="\t")})
    assert len(files) == 1676
    states = {p: x86_map.status(p).state for p in files}
    builtin = sum(s == "y" for s in states.values())
    print(f"\ninline_truth files built in: {builtin}/{len(files)}")
    assert builtin >= 1650
    # the rest are .c files #included by another .c (kernel/sched/build_*.c)
    for path, st in states.items():
        if st == "y":
            continue
        assert st == "unlisted", path
        name = re.escape(Path(path).name)
        siblings = (real_tree / path).parent.glob("*.c")
        assert any(re.search(rf'#\s*include\s+"{name}"', s.read_text(errors="replace"))
                   for s in siblings), path


@pytest.mark.kernel
def test_real_x86_examples(x86_map):
    assert x86_map.status("lib/vsprintf.c").state == "y"
    assert x86_map.ftrace_removed("lib/vsprintf.c").path == "lib/Makefile"
    assert x86_map.ftrace_removed("kernel/trace/trace.c").path == "kernel/trace/Makefile"
    fr = x86_map.ftrace_removed("arch/x86/kernel/tsc.c")
    assert (fr.path, fr.line, fr.target) == ("arch/x86/kernel/Makefile", 12, "tsc.o")
    assert x86_map.ftrace_removed("kernel/kprobes.c") is None
    for path in ("kernel/kprobes.c", "arch/x86/kernel/kprobes/core.c",
                 "arch/x86/kernel/kprobes/ftrace.c", "kernel/entry/common.c", "mm/memory.c"):
        assert x86_map.status(path).state == "y", path
    st = x86_map.status("drivers/net/ethernet/intel/e1000e/netdev.c")
    assert st.state == "m" and "CONFIG_E1000E" in st.conditions
    assert x86_map.status("arch/x86/kvm/x86.c").state == "m"
    assert x86_map.status("mm/nommu.c").state == "n"
    assert x86_map.status("arch/x86/kernel/head_32.c").state == "n"
    assert x86_map.status("arch/x86/kernel/head64.c").state == "y"
    assert x86_map.status("arch/arm64/kernel/entry-common.c").state == "n"
    assert x86_map.status("include/linux/kprobes.h").state == "unlisted"


@pytest.mark.kernel
def test_real_arm64(real_facts, debian_config):
    bm = BuildMap(real_facts, "arm64", KernelConfig.load(debian_config("arm64")))
    st = bm.status("kernel/entry/common.c")
    assert st.state == "n" and st.conditions == ("CONFIG_GENERIC_ENTRY",)
    assert bm.status("arch/arm64/kernel/probes/kprobes.c").state == "y"
    assert bm.status("kernel/kprobes.c").state == "y"
    assert bm.status("arch/x86/kernel/tsc.c").state == "n"


@pytest.mark.kernel
def test_real_without_config_is_unknown(real_facts):
    bm = BuildMap(real_facts, "riscv", None)
    assert bm.status("kernel/kprobes.c").state == "unknown"
    assert bm.status("kernel/fork.c").state == "y"
    assert bm.status("arch/riscv/kernel/probes/kprobes.c").state == "unknown"


@pytest.mark.kernel
def test_real_arch_kconfig_selects(real_tree):
    have = {}
    for path in sorted(real_tree.glob("arch/*/Kconfig*")):
        rel = path.relative_to(real_tree).as_posix()
        facts = extract_kconfig(rel, path.read_bytes())
        assert facts.parse_errors == 0, facts.warnings
        for s in facts.kconfig_selects:
            if s.symbol.startswith("HAVE_KPROBES") or s.symbol in ("HAVE_KRETPROBES", "HAVE_RETHOOK"):
                have.setdefault(rel.split("/")[1], set()).add((s.symbol, s.condition))
    assert {("HAVE_KPROBES", ""), ("HAVE_KPROBES_ON_FTRACE", ""), ("HAVE_RETHOOK", "")} <= have["x86"]
    assert ("HAVE_KPROBES", "!XIP_KERNEL && !CPU_ENDIAN_BE32 && !CPU_V7M") in have["arm"]
    assert ("HAVE_KPROBES", "") in have["arm64"]
    assert not any(s == "HAVE_KPROBES_ON_FTRACE" for s, _ in have["arm64"])
    assert ("HAVE_KPROBES", "!XIP_KERNEL") in have["riscv"]
    assert "loongarch" not in have  # no kprobes on loongarch in 6.1
