"""The 32-bit arm decoder: decode tables, checkers and arch_prepare_kprobe read from the tree.

Real-tree cases are the hand-evaluated encodings of KPROBE_RULES.md §3.2.5, each with the
table entry (file:line) that decides. Sample-tree cases run fast on our own small tables;
the tree-modification tests show that verdicts follow the tree's text.
"""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path

import pytest

from kpanalyze.config import KernelConfig
from kpanalyze.decoders.arm import ArmDecoder
from kpanalyze.decoders.base import (ACCEPTED, EMULATED, REJECTED, SIMULATED, SLOT, UNKNOWN,
                                     FunctionBytes)
from kpanalyze.errors import InputError
from kpanalyze.tree import KernelTree

DATA = Path(__file__).parent / "data"
SAMPLE_CONFIG = DATA / "configs" / "sample-arm.config"

DA = "arch/arm/probes/decode-arm.c"
DT = "arch/arm/probes/decode-thumb.c"
CORE = "arch/arm/probes/kprobes/core.c"
CHK = "arch/arm/probes/kprobes/checkers-arm.c"
PROBES_H = "arch/arm/include/asm/probes.h"


def where(res):
    return [str(e) for e in res.evidence]


# -- the real tree: KPROBE_RULES §3.2.5 -------------------------------------------------

# (mode, encoding, status, how or None, decided_by fragment, evidence that must appear)
REAL_CASES = [
    ("arm", 0xE92D41F0, ACCEPTED, None, "PROBES_LDMSTM", [f"{DA}:598"]),  # push {r4-r8,lr}
    ("arm", 0xE52DE004, ACCEPTED, EMULATED, "PROBES_STORE", [f"{DA}:572"]),  # str lr,[sp,#-4]!
    ("arm", 0xE1A0C00D, ACCEPTED, SIMULATED, "PROBES_MOV_IP_SP", [f"{DA}:305"]),  # mov ip, sp
    ("arm", 0xE92DD800, ACCEPTED, None, "PROBES_LDMSTM", [f"{DA}:598"]),  # push {fp,ip,lr,pc}
    ("arm", 0xEB000010, ACCEPTED, SIMULATED, "PROBES_BRANCH)", [f"{DA}:678"]),  # bl
    ("arm", 0x1A000003, ACCEPTED, SIMULATED, "PROBES_BRANCH)", [f"{DA}:678"]),  # bne
    ("arm", 0xE12FFF1E, ACCEPTED, SIMULATED, "PROBES_BRANCH_REG", [f"{DA}:159"]),  # bx lr
    ("arm", 0xE8BD8010, ACCEPTED, None, "PROBES_LDMSTM", [f"{DA}:598"]),  # pop {r4,pc}
    ("arm", 0xE49DF004, ACCEPTED, EMULATED, "PROBES_LOAD", [f"{DA}:577"]),  # ldr pc,[sp],#4
    ("arm", 0xE10F0000, ACCEPTED, SIMULATED, "PROBES_MRS", [f"{DA}:155"]),  # mrs r0, cpsr
    ("arm", 0xE320F000, ACCEPTED, SIMULATED, "PROBES_WFE", [f"{DA}:375"]),  # nop
    ("arm", 0xE320F003, ACCEPTED, SIMULATED, "PROBES_WFE", [f"{DA}:375"]),  # wfi
    ("arm", 0xE1A0F00E, ACCEPTED, EMULATED, "PROBES_DATA_PROCESSING_REG", [f"{DA}:316"]),  # mov pc, lr
    ("arm", 0xE1910F9F, REJECTED, None, "DECODE_END of arm_cccc_0001_____1001_table", [f"{DA}:249"]),  # ldrex
    ("arm", 0xE1812F90, REJECTED, None, "DECODE_END of arm_cccc_0001_____1001_table", [f"{DA}:249"]),  # strex
    ("arm", 0xE121F000, REJECTED, None, "DECODE_END of arm_cccc_0001_0xx0____0xxx_table", [f"{DA}:182"]),  # msr
    ("arm", 0xF10C0080, REJECTED, None, "DECODE_END of arm_1111_table", [f"{DA}:148"]),  # cpsid i
    ("arm", 0xF57FF05B, REJECTED, None, "DECODE_END of arm_1111_table", [f"{DA}:148"]),  # dmb ish
    ("arm", 0xEF000000, REJECTED, None, "DECODE_REJECT (0x0c000000, 0x0c000000)", [f"{DA}:692"]),  # svc #0
    ("arm", 0xEE070F95, REJECTED, None, "DECODE_REJECT (0x0c000000, 0x0c000000)", [f"{DA}:692"]),  # mcr p15
    ("arm", 0xE1200070, REJECTED, None, "DECODE_END of arm_cccc_0001_0xx0____0xxx_table", [f"{DA}:182"]),  # bkpt
    ("arm", 0xE25EF004, REJECTED, None, "DECODE_REJECT (0x0e10f000, 0x0210f000)", [f"{DA}:382"]),  # subs pc,lr,#4
    ("arm", 0xE16FFF10, REJECTED, None, "REG_TYPE_NOPC forbids r15 in bits 15-12", [f"{DA}:166"]),  # clz pc, r0
    ("arm", 0xE52D0044, REJECTED, None, "stack_space 68 > MAX_STACK_SIZE 64",
     [f"{CORE}:113", f"{PROBES_H}:47", f"{CHK}:73"]),  # str r0,[sp,#-68]!
    ("arm", 0xE78D0001, REJECTED, None, "stack_space -1 < 0", [f"{CORE}:113", f"{CHK}:39"]),  # str r0,[sp,r1]
    ("t16", 0xB510, ACCEPTED, None, "PROBES_T16_PUSH", [f"{DT}:667"]),  # push {r4,lr}
    ("t16", 0x4770, ACCEPTED, SIMULATED, "PROBES_T16_BLX", [f"{DT}:753"]),  # bx lr
    ("t16", 0xBE00, REJECTED, None, "DECODE_END of t16_table_1011", [f"{DT}:693"]),  # bkpt
    ("t16", 0xDF00, REJECTED, None, "DECODE_REJECT (0xfe00, 0xde00)", [f"{DT}:819"]),  # svc 0
    ("t32", 0xE92D4FF0, ACCEPTED, None, "PROBES_T32_LDMSTM", [f"{DT}:40"]),  # push.w {r4-r11,lr}
    ("t32", 0xE8500F00, REJECTED, None, "DECODE_END of t32_table_1110_100x_x1xx", [f"{DT}:70"]),  # ldrex
    ("t32", 0xF3BF8F5B, REJECTED, None, "DECODE_REJECT (0xfb80d000, 0xf3808000)", [f"{DT}:266"]),  # dmb ish
]


@pytest.fixture(scope="module")
def real_arm(real_tree, debian_config):
    return ArmDecoder(KernelTree(real_tree), KernelConfig.load(debian_config("arm")))


@pytest.mark.kernel
@pytest.mark.parametrize("mode,enc,status,how,by,evidence", REAL_CASES,
                         ids=[f"{c[0]}-{c[1]:#x}" for c in REAL_CASES])
def test_real_hand_evaluated(real_arm, mode, enc, status, how, by, evidence):
    res = real_arm.decode(enc, mode=mode)
    assert res.status == status, res
    if how:
        assert res.how == how, res
    if status == REJECTED:
        assert res.errno == "EINVAL"
        if not by.startswith("stack_space"):
            assert f"{CORE}:89" in where(res)  # case INSN_REJECTED: return -EINVAL
    assert by in res.decided_by, res.decided_by
    for ev in evidence:
        assert ev in where(res), (ev, where(res))
    assert not res.unsupported


@pytest.mark.kernel
def test_real_stack_space_of_accepted_stores(real_arm):
    """The stack checkers run (second decode + cinterp) and report the bytes they found."""
    assert "stack_space 24" in real_arm.decode(0xE92D41F0, mode="arm").notes  # push {r4-r8,lr}
    assert "stack_space 4" in real_arm.decode(0xE52DE004, mode="arm").notes
    assert "stack_space 16" in real_arm.decode(0xE92DD800, mode="arm").notes
    assert "stack_space 36" in real_arm.decode(0xE92D4FF0, mode="t32").notes  # push.w r4-r11,lr
    assert "stack_space 8" in real_arm.decode(0xB510, mode="t16").notes


@pytest.mark.kernel
def test_real_thumb_auto_mode_and_errors(real_arm):
    assert real_arm.decode(0xB510, mode="thumb").mode == "t16"
    assert real_arm.decode(0xE92D4FF0, mode="thumb").mode == "t32"
    with pytest.raises(InputError):
        real_arm.decode(0xE92D, mode="thumb")  # half of a 32-bit instruction
    with pytest.raises(InputError):
        real_arm.decode(0xB5104770, mode="thumb")  # 0xb510 does not start a wide insn


@pytest.mark.kernel
def test_real_rules(real_arm):
    rules = real_arm.rules()
    by_where = {(r.mode, str(r.evidence[0])): r for r in rules}
    svc = by_where[("arm", f"{DA}:692")]
    assert svc.action == "rejected" and svc.pattern == "mask 0x0c000000 value 0x0c000000"
    assert "SVC" in svc.description
    sync = by_where[("arm", f"{DA}:249")]
    assert "LDREX" in sync.description and "DECODE_END" in sync.decided_by
    assert ("t32", f"{DT}:266") in by_where
    stack = [r for r in rules if r.mode == "arm" and r.pattern.startswith("stack_space")]
    assert stack and f"{PROBES_H}:47" in [str(e) for e in stack[0].evidence]
    swp = [r for r in rules if r.condition]
    assert not swp  # the Debian config decides every #if (__LINUX_ARM_ARCH__ = 7)


@pytest.mark.kernel
def test_real_without_config_is_config_dependent_only_for_swp(real_tree):
    dec = ArmDecoder(KernelTree(real_tree))
    assert dec.decode(0xE1910F9F, mode="arm").status == REJECTED  # ldrex: not under the #if
    swp = dec.decode(0xE1001090, mode="arm")  # swp r1, r0, [r0]
    assert swp.status == UNKNOWN
    assert "__LINUX_ARM_ARCH__ < 6" in swp.unsupported[0] and f"{DA}:244" in swp.unsupported[0]


@pytest.mark.kernel
def test_real_speed(real_tree, debian_config):
    t0 = time.perf_counter()
    dec = ArmDecoder(KernelTree(real_tree), KernelConfig.load(debian_config("arm")))
    dec.decode(0xE1A0C00D, mode="arm")
    dec.decode(0x4770, mode="t16")
    print(f"\nload + both contexts: {time.perf_counter() - t0:.2f} s")
    rnd = random.Random(3)
    words = [rnd.getrandbits(32) for _ in range(2000)]
    t0 = time.perf_counter()
    for w in words:
        dec.decode(w, mode="arm")
    print(f"{(time.perf_counter() - t0) / len(words) * 1e6:.0f} us per ARM word")


# -- tree modification: the verdict follows the tree's text ------------------------------

def copy_arm_tree(src: Path, dst: Path) -> Path:
    """A minimal kernel tree holding the arm decoder sources of `src`."""
    (dst / "kernel").mkdir(parents=True)
    (dst / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\n")
    shutil.copytree(src / "arch/arm/probes", dst / "arch/arm/probes")
    (dst / "arch/arm/include/asm").mkdir(parents=True)
    for name in ("probes.h", "ptrace.h"):
        shutil.copy(src / "arch/arm/include/asm" / name, dst / "arch/arm/include/asm" / name)
    shutil.copy(src / "arch/arm/Makefile", dst / "arch/arm/Makefile")
    (dst / "arch/arm/Kconfig").write_text("config ARM\n\tdef_bool y\n")
    return dst


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


@pytest.mark.kernel
def test_real_tree_modification(real_tree, debian_config, tmp_path):
    cfg = KernelConfig.load(debian_config("arm"))
    tree = copy_arm_tree(real_tree, tmp_path / "t")
    before = ArmDecoder(KernelTree(tree), cfg)
    assert before.decode(0xE25EF004, mode="arm").status == REJECTED  # subs pc, lr, #4
    assert before.decode(0xEB000010, mode="arm").status == ACCEPTED  # bl
    assert before.decode(0xE52D0044, mode="arm").status == REJECTED  # str r0,[sp,#-68]!
    # 1. one DECODE_REJECT's value changed: `<op>S PC` no longer matches subs pc, lr
    edit(tree / DA, "DECODE_REJECT\t(0x0e10f000, 0x0210f000),", "DECODE_REJECT\t(0x0e10f000, 0x0210e000),")
    # 2. the B/BL entry turned into a reject
    edit(tree / DA, "DECODE_SIMULATE\t(0x0e000000, 0x0a000000, PROBES_BRANCH),",
         "DECODE_REJECT\t(0x0e000000, 0x0a000000),")
    # 3. a larger MAX_STACK_SIZE
    edit(tree / PROBES_H, "#define MAX_STACK_SIZE\t\t\t64", "#define MAX_STACK_SIZE\t\t\t128")
    after = ArmDecoder(KernelTree(tree), cfg)
    subs = after.decode(0xE25EF004, mode="arm")
    assert subs.status == ACCEPTED and subs.how == EMULATED and "PROBES_DATA_PROCESSING_IMM" in subs.decided_by
    bl = after.decode(0xEB000010, mode="arm")
    assert bl.status == REJECTED and "DECODE_REJECT (0x0e000000, 0x0a000000)" in bl.decided_by
    assert f"{DA}:678" in where(bl)
    store = after.decode(0xE52D0044, mode="arm")
    assert store.status == ACCEPTED and "stack_space 68" in store.notes


# -- the sample tree (fast) ---------------------------------------------------------------

@pytest.fixture(scope="module")
def sample_arm(sample_tree):
    return ArmDecoder(KernelTree(sample_tree), KernelConfig.load(SAMPLE_CONFIG))


SAMPLE_CASES = [
    ("arm", 0xE92D41F0, ACCEPTED, SLOT, "sample_decode_ldmstm returns INSN_GOOD", f"{DA}:71"),
    ("arm", 0xE8BD8010, ACCEPTED, SIMULATED, "returns INSN_GOOD_NO_SLOT", f"{DA}:71"),
    ("arm", 0xE52DE004, ACCEPTED, EMULATED, "PROBES_STORE", f"{DA}:58"),
    ("arm", 0xEB000010, ACCEPTED, SIMULATED, "PROBES_BRANCH)", f"{DA}:92"),
    ("arm", 0x1A000003, ACCEPTED, SIMULATED, "PROBES_BRANCH)", f"{DA}:92"),  # bne: condition rewritten
    ("arm", 0xE10F0000, ACCEPTED, SIMULATED, "PROBES_MRS", f"{DA}:20"),
    ("arm", 0xE10FF000, REJECTED, "", "REG_TYPE_NOPC forbids r15", f"{DA}:20"),  # mrs pc
    ("arm", 0xE1910F9F, REJECTED, "", "DECODE_END of sample_arm_sync_table", f"{DA}:37"),  # ldrex
    ("arm", 0xEF000000, REJECTED, "", "DECODE_REJECT (0x0c000000, 0x0c000000)", f"{DA}:95"),  # svc
    ("arm", 0xE52D0044, REJECTED, "", "stack_space 68 > MAX_STACK_SIZE 64", f"{CORE}:70"),
    ("arm", 0xE78D0001, REJECTED, "", "stack_space -1 < 0", "arch/arm/probes/kprobes/checkers-arm.c:16"),
    ("t16", 0xB510, ACCEPTED, SLOT, "PROBES_T16_PUSH", f"{DT}:38"),
    ("t16", 0xBE00, REJECTED, "", "DECODE_END of sample_t16_misc_table", f"{DT}:44"),
    ("t16", 0xDF00, REJECTED, "", "DECODE_REJECT (0xfe00, 0xde00)", f"{DT}:55"),
    ("t32", 0xE92D4FF0, ACCEPTED, SLOT, "PROBES_T32_LDMSTM", f"{DT}:14"),
    ("t32", 0xE92D6000, REJECTED, "", "DECODE_REJECT (0xfe402000, 0xe8002000)", f"{DT}:11"),
    ("t32", 0xE8500F00, REJECTED, "", "DECODE_END of sample_thumb32_table", f"{DT}:33"),
    ("t32", 0xF84D0C50, REJECTED, "", "stack_space 80 > MAX_STACK_SIZE 64",
     "arch/arm/probes/kprobes/checkers-thumb.c:18"),
]


@pytest.mark.parametrize("mode,enc,status,how,by,ev", SAMPLE_CASES, ids=[f"{c[0]}-{c[1]:#x}" for c in SAMPLE_CASES])
def test_sample(sample_arm, mode, enc, status, how, by, ev):
    res = sample_arm.decode(enc, mode=mode)
    assert (res.status, res.how) == (status, how), res
    assert by in res.decided_by, res.decided_by
    assert ev in where(res), where(res)
    for e in res.evidence:  # evidence points into the tree
        assert (Path(sample_arm.tree.root) / e.path).is_file()


def test_sample_enum_order_comes_from_the_tree(sample_arm):
    """The sample's enum decode_type puts REJECT before OR (unlike the kernel)."""
    ctx = sample_arm.context(False)
    assert ctx.type_names[5] == "REJECT" and ctx.type_names[6] == "OR"
    assert sample_arm.decode(0xE78D0001, mode="arm").status == REJECTED  # goes through a DECODE_OR


def test_sample_arch_version_decides_the_if(sample_tree):
    tree = KernelTree(sample_tree)
    swp = 0xE1001090  # swp r1, r0, [r0]
    v7 = ArmDecoder(tree, KernelConfig.load(SAMPLE_CONFIG))
    assert v7.arm_arch == 7 and str(v7.arm_arch_where).startswith("arch/arm/Makefile:")
    assert v7.decode(swp, mode="arm").status == REJECTED
    unknown = ArmDecoder(tree).decode(swp, mode="arm")
    assert unknown.status == UNKNOWN and "__LINUX_ARM_ARCH__ < 6" in unknown.unsupported[0]
    # ARMv5: the SWP entry is live but the sample's actions array has no PROBES_SWP
    v5 = ArmDecoder(tree, KernelConfig({"ARM": "y", "CPU_32v5": "y"})).decode(swp, mode="arm")
    assert v5.status == UNKNOWN and "PROBES_SWP" in v5.unsupported[0] and "no entry" in v5.unsupported[0]


def test_sample_decode_at_and_boundaries(sample_arm):
    arm_fn = FunctionBytes("f", 0xC0100000, (0xE52DE004).to_bytes(4, "little") + (0xE12FFF1E).to_bytes(4, "little"))
    assert sample_arm.boundaries(arm_fn) == [0, 4]
    assert sample_arm.decode_at(arm_fn, 0).status == ACCEPTED  # push {lr}
    mis = sample_arm.decode_at(arm_fn, 2)
    assert mis.status == REJECTED and mis.errno == "EINVAL" and f"{CORE}:51" in where(mis)
    # Thumb: push {r4, lr}; push.w {r4-r11, lr}; bx lr
    data = (0xB510).to_bytes(2, "little") + (0xE92D).to_bytes(2, "little") + (0x4FF0).to_bytes(2, "little") \
        + (0x4770).to_bytes(2, "little")
    tfn = FunctionBytes("t", 0xC0200000, data, thumb=True)
    assert sample_arm.boundaries(tfn) == [0, 2, 6]
    assert sample_arm.decode_at(tfn, 2).mode == "t32"
    mid = sample_arm.decode_at(tfn, 4)  # second halfword of push.w, decoded as an instruction
    assert mid.mode == "t16" and mid.encoding == 0x4FF0
    assert any("no instruction-boundary check" in n for n in mid.notes)
    odd = sample_arm.decode_at(tfn, 1)  # bit 0 is the Thumb marker: cleared
    assert odd.encoding == 0xB510 and any("bit 0" in n for n in odd.notes)


def test_sample_rules(sample_arm):
    rules = sample_arm.rules()
    rejects = [r for r in rules if r.mode == "arm" and r.decided_by.startswith("DECODE_REJECT")]
    assert {r.pattern for r in rejects} == {"mask 0x0e10f000 value 0x0010f000", "mask 0x0c40f000 value 0x0440f000",
                                            "mask 0x0c000000 value 0x0c000000"}
    svc = next(r for r in rejects if r.pattern == "mask 0x0c000000 value 0x0c000000")
    assert "coprocessor and SVC" in svc.description and str(svc.evidence[0]) == f"{DA}:95"
    ends = [r for r in rules if r.mode == "arm" and r.decided_by.startswith("DECODE_END")]
    assert any("LDREX" in r.description for r in ends)
    assert any(r.action == "stack-check" and "STACK_USE_UNKNOWN" in r.decided_by for r in rules)
    assert any(r.pattern == "address & 0x3" for r in rules)
    assert any(r.mode == "t32" and r.pattern == "mask 0xfb80d000 value 0xf3808000" for r in rules)


def test_sample_unknown_macro_form_is_named(sample_tree, tmp_path):
    tree = copy_arm_tree(sample_tree, tmp_path / "t")
    edit(tree / DA, "\t/* BX Rm\t\t", "\tDECODE_FANCY\t(0x0ff000f0, 0x01200010, PROBES_BRANCH_REG),\n\t/* BX Rm\t\t")
    dec = ArmDecoder(KernelTree(tree), KernelConfig.load(SAMPLE_CONFIG))
    res = dec.decode(0xE12FFF1E, mode="arm")  # bx lr reaches the unreadable entry
    assert res.status == UNKNOWN
    assert "DECODE_FANCY at arch/arm/probes/decode-arm.c:23" in res.unsupported[0]
    assert dec.decode(0xE10F0000, mode="arm").status == ACCEPTED  # mrs: decided before it
    assert dec.decode(0xEB000010, mode="arm").status == ACCEPTED  # bl: never enters that table
    assert any(r.action == "unknown" and "DECODE_FANCY" in r.description for r in dec.rules())


def test_sample_custom_decoder_that_can_reject_is_unknown(sample_tree, tmp_path):
    tree = copy_arm_tree(sample_tree, tmp_path / "t")
    edit(tree / "arch/arm/probes/kprobes/actions-arm.c", "\tif (insn & 0x8000)\n\t\treturn INSN_GOOD_NO_SLOT;",
         "\tif (insn & 0x8000)\n\t\treturn INSN_REJECTED;")
    res = ArmDecoder(KernelTree(tree), KernelConfig.load(SAMPLE_CONFIG)).decode(0xE92D41F0, mode="arm")
    assert res.status == UNKNOWN and "sample_decode_ldmstm" in res.unsupported[0]
    assert "INSN_REJECTED" in res.unsupported[0]


# -- arm_source: the C reading underneath ----------------------------------------------------

def test_source_conditions_and_macros():
    from kpanalyze.decoders import arm_source as S
    from kpanalyze.decoders.cconst import eval_const
    from kpanalyze.decoders.cinterp.source import parse_snippet
    from kpanalyze.decoders.cpreproc import expand

    src = b"""#ifndef _G_H
#define _G_H
#define PASTE(a, b) (a##_##b)
#define TWICE(x) ((x) + (x))
#if __LINUX_ARM_ARCH__ >= 7
int v7;
#elif defined(CONFIG_X)
int x;
#else
int other;
#endif
#endif
"""
    sf = S.SourceFile("a.h", src)
    assert sf.conds_at(6) == ("__LINUX_ARM_ARCH__ >= 7",)  # the include guard adds nothing
    assert sf.conds_at(8) == ("!(__LINUX_ARM_ARCH__ >= 7)", "defined(CONFIG_X)")
    assert sf.conds_at(10) == ("!(__LINUX_ARM_ARCH__ >= 7)", "!(defined(CONFIG_X))")
    assert b"#if" not in sf.blanked and len(sf.blanked) == len(src)
    macros = {m.name: m for m in sf.macros}
    assert expand("PASTE(REG, NOPC)", macros.get) == "(REG_NOPC)"
    assert expand("TWICE(PASTE(A, B))", macros.get) == "(((A_B)) + ((A_B)))"
    tree, node = parse_snippet("(unsigned)(0xe800) >= 0xe800 && 3 << 2 == 12")
    assert eval_const(node, lambda n: 0) == 1
