"""arm64, riscv and csky decoders: the tree's own decode functions run by cinterp.

Fast tests use sample_kernel (our own small decoder files in the kernel's layout and macro
forms) and trees written into tmp_path; `kernel` tests check the hand-evaluated encodings
of KPROBE_RULES §3.3/§3.4 on the real 6.1 tree.
"""

from __future__ import annotations

import re
import shutil
import struct
import time
from pathlib import Path

import pytest

from kpanalyze.config import KernelConfig
from kpanalyze.decoders.arm64 import Arm64Decoder
from kpanalyze.decoders.base import ACCEPTED, REJECTED, SIMULATED, SLOT, UNKNOWN, DecoderError, FunctionBytes
from kpanalyze.decoders.csky import CskyDecoder
from kpanalyze.decoders.riscv import RiscvDecoder
from kpanalyze.tree import KernelTree

ARM64_FILES = ["arch/arm64/include/asm/insn.h", "arch/arm64/include/asm/probes.h", "arch/arm64/lib/insn.c",
               "arch/arm64/kernel/probes/decode-insn.c", "arch/arm64/kernel/probes/decode-insn.h",
               "arch/arm64/kernel/probes/simulate-insn.h", "arch/arm64/kernel/probes/kprobes.c"]
RISCV_FILES = ["arch/riscv/include/asm/bug.h", "arch/riscv/include/asm/probes.h",
               "arch/riscv/kernel/probes/decode-insn.c", "arch/riscv/kernel/probes/decode-insn.h",
               "arch/riscv/kernel/probes/simulate-insn.h", "arch/riscv/kernel/probes/kprobes.c"]

# ldaxr x1, [x0]; add x1, x1, #1; stlxr w2, x1, [x0]; ret
ATOMIC_WORDS = [0xC85FFC01, 0x91000421, 0xC802FC01, 0xD65F03C0]


def tree_root(dst: Path) -> Path:
    """The least KernelTree accepts: a top Makefile with a version, kernel/ and arch/."""
    (dst / "kernel").mkdir(parents=True, exist_ok=True)
    (dst / "arch").mkdir(exist_ok=True)
    (dst / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\n")
    return dst


def copy_tree(src: Path, dst: Path, files) -> Path:
    tree_root(dst)
    for f in files:
        if (src / f).exists():
            (dst / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src / f, dst / f)
    return dst


def edit(path: Path, pattern: str, repl: str) -> int:
    """Regex-replace in a copied tree file; returns the 1-based line of the change."""
    text = path.read_text()
    m = re.search(pattern, text, re.M)
    assert m, f"{pattern!r} not in {path}"
    path.write_text(text[:m.start()] + re.sub(pattern, repl, m.group(0)) + text[m.end():])
    return text.count("\n", 0, m.start()) + 1


def check(r, status, how="", pred="", errno=""):
    assert r.status == status, (hex(r.encoding), r)
    if how:
        assert r.how == how, (hex(r.encoding), r.how, r.decided_by)
    if errno:
        assert r.errno == errno
    if pred:
        assert pred in r.decided_by, (hex(r.encoding), r.decided_by)
    assert r.evidence, r


# -------------------------------------------------------------------------- arm64 (sample)

@pytest.fixture(scope="module")
def arm64_sample(sample_tree):
    return Arm64Decoder(KernelTree(sample_tree))


# (encoding, status, how, predicate named in decided_by)
ARM64_MANDATORY = [
    (0xD53B4220, REJECTED, "", "aarch64_insn_is_mrs"),        # mrs x0, daif
    (0xD5384100, ACCEPTED, SLOT, "aarch64_insn_is_mrs"),      # mrs x0, sp_el0
    (0xD503233F, ACCEPTED, SLOT, "aarch64_insn_is_hint"),     # paciasp
    (0xD503245F, ACCEPTED, SLOT, "aarch64_insn_is_hint"),     # bti c
    (0xD50323BF, REJECTED, "", "aarch64_insn_is_hint"),       # autiasp
    (0x885F7C01, REJECTED, "", "aarch64_insn_is_exclusive"),  # ldxr w1, [x0]
    (0x88027C20, REJECTED, "", "aarch64_insn_is_exclusive"),  # stxr w2, w0, [x1]
    (0x94000000, ACCEPTED, SIMULATED, "aarch64_insn_is_bl"),  # bl
]


@pytest.mark.parametrize("enc,status,how,pred", ARM64_MANDATORY)
def test_arm64_sample_mandatory_cases(arm64_sample, enc, status, how, pred):
    r = arm64_sample.decode(enc)
    check(r, status, how, pred, "EINVAL" if status == REJECTED else "")
    assert (r.arch, r.length, r.mode) == ("arm64", 4, "a64")


def test_arm64_sample_evidence_points_at_the_tree(arm64_sample, sample_tree):
    r = arm64_sample.decode(0x885F7C01)
    assert "aarch64_insn_is_exclusive: mask 0x3F800000 value 0x08000000" in r.decided_by
    macro = r.evidence[0]
    assert macro.path == "arch/arm64/include/asm/insn.h"
    lines = (sample_tree / macro.path).read_text().splitlines()
    assert lines[macro.line - 1].startswith("__AARCH64_INSN_FUNCS(exclusive,")
    assert any(e.path.endswith("decode-insn.c") and "INSN_REJECTED" in e.text for e in r.evidence)
    daif = arm64_sample.decode(0xD53B4220)
    assert any("AARCH64_INSN_SPCLREG_DAIF" in e.text for e in daif.evidence)
    auti = arm64_sample.decode(0xD50323BF)
    assert "aarch64_insn_is_steppable_hint returns 0" in auti.decided_by
    assert any(e.text.startswith("default") for e in auti.evidence)  # the switch label that decided


def test_arm64_sample_atomic_window(arm64_sample):
    fn = FunctionBytes("sample_cmpxchg", 0xFFFF800008010000, struct.pack("<4I", *ATOMIC_WORDS))
    assert arm64_sample.boundaries(fn) == [0, 4, 8, 12]
    entry = arm64_sample.decode_at(fn, 0)
    check(entry, REJECTED, pred="aarch64_insn_is_exclusive")  # ldaxr itself
    inside = arm64_sample.decode_at(fn, 4)
    check(inside, REJECTED, pred="aarch64_insn_is_load_ex", errno="EINVAL")
    assert "is_probed_address_atomic returns 1" in inside.decided_by
    assert any("0xc85ffc01" in n for n in inside.notes)
    after = arm64_sample.decode_at(fn, 12)
    check(after, ACCEPTED, SIMULATED, "aarch64_insn_is_store_ex")
    # the same add with no exclusive load before it is fine
    alone = FunctionBytes("plain", 0xFFFF800008020000, struct.pack("<2I", 0xD503201F, 0x91000421))
    check(arm64_sample.decode_at(alone, 4), ACCEPTED, SLOT)


def test_arm64_sample_misaligned_and_outside(arm64_sample):
    fn = FunctionBytes("f", 0x1000, struct.pack("<2I", 0xD503201F, 0xD65F03C0))
    r = arm64_sample.decode_at(fn, 2)
    assert (r.status, r.errno) == (REJECTED, "EINVAL")
    assert r.evidence[0].path == "arch/arm64/kernel/probes/kprobes.c" and "0x3" in r.evidence[0].text
    assert arm64_sample.decode_at(fn, 8).status == UNKNOWN


def test_arm64_sample_rules_come_from_the_decision_functions(arm64_sample):
    rules = arm64_sample.rules()
    rejected = {r.pattern.split(" ")[0] for r in rules if r.action == "rejected"}
    simulated = {r.pattern.split(" ")[0] for r in rules if r.action == "simulated"}
    assert {"exclusive", "mrs", "hint", "prfm_lit", "ret_auth", "msr_imm", "msr_reg", "exception",
            "eret", "load_ex", "address"} <= rejected
    assert {"bl", "b", "bcond", "cbz", "ret", "br", "blr", "adr", "adrp", "ldr_lit"} <= simulated
    assert not {"bl", "b", "ret", "adrp"} & rejected  # not steppable, but simulated
    mrs = next(r for r in rules if r.pattern.startswith("mrs"))
    assert "AARCH64_INSN_SPCLREG_DAIF = 0xda11" in mrs.description
    atomic = next(r for r in rules if r.pattern.startswith("load_ex"))
    assert "store_ex" in atomic.pattern and "32 instructions" in atomic.description


def test_arm64_tree_modification_changes_the_verdict(sample_tree, tmp_path):
    """Rules come from the tree: change the mask of one predicate and ldxr becomes steppable."""
    root = copy_tree(sample_tree, tmp_path, ARM64_FILES)
    before = Arm64Decoder(KernelTree(root)).decode(0x885F7C01)
    assert before.status == REJECTED
    line = edit(root / "arch/arm64/include/asm/insn.h",
                r"^__AARCH64_INSN_FUNCS\(exclusive,.*$", "__AARCH64_INSN_FUNCS(exclusive,\t0x3F800000, 0x0A000000)")
    after = Arm64Decoder(KernelTree(root)).decode(0x885F7C01)
    assert (after.status, after.how) == (ACCEPTED, SLOT)
    assert "aarch64_insn_is_exclusive" not in after.decided_by
    assert Arm64Decoder(KernelTree(root)).decode(0x0A000000).status == REJECTED  # the new class
    hit = Arm64Decoder(KernelTree(root)).decode(0x0A000000)
    assert any(e.path.endswith("insn.h") and e.line == line for e in hit.evidence)


def test_arm64_unknown_construct_is_named(sample_tree, tmp_path):
    root = copy_tree(sample_tree, tmp_path, ARM64_FILES)
    edit(root / "arch/arm64/kernel/probes/decode-insn.c",
         r"if \(aarch64_insn_is_steppable\(insn\)\)", "if (aarch64_insn_is_steppable(insn) && fancy_new_check(insn))")
    d = Arm64Decoder(KernelTree(root))
    r = d.decode(0x910003FD)
    assert r.status == UNKNOWN
    assert len(r.unsupported) == 1 and "fancy_new_check" in r.unsupported[0]
    assert "arch/arm64/kernel/probes/decode-insn.c:" in r.unsupported[0]


def test_arm64_missing_decoder_is_a_decoder_error(tmp_path):
    (tree_root(tmp_path) / "arch/arm64").mkdir(parents=True)
    with pytest.raises(DecoderError, match="not found"):
        Arm64Decoder(KernelTree(tmp_path))


# -------------------------------------------------------------------------- riscv (sample)

@pytest.fixture(scope="module")
def riscv_sample(sample_tree):
    return RiscvDecoder(KernelTree(sample_tree))


RISCV_TABLE = [  # KPROBE_RULES §3.4 (c.ebreak is not in the sample's list)
    (0x1141, ACCEPTED, SLOT, "", 2), (0xFE010113, ACCEPTED, SLOT, "", 4),
    (0x00000297, ACCEPTED, SIMULATED, "riscv_insn_is_auipc", 4),
    (0x00008067, ACCEPTED, SIMULATED, "riscv_insn_is_jalr", 4),
    (0x0000006F, ACCEPTED, SIMULATED, "riscv_insn_is_jal", 4),
    (0x00050463, ACCEPTED, SIMULATED, "riscv_insn_is_branch", 4),
    (0x1005272F, ACCEPTED, SLOT, "", 4),
    (0x8082, REJECTED, "", "riscv_insn_is_c_jr", 2), (0x9002, REJECTED, "", "riscv_insn_is_c_jalr", 2),
    (0xA001, REJECTED, "", "riscv_insn_is_c_j", 2), (0xC001, REJECTED, "", "riscv_insn_is_c_beqz", 2),
    (0x00000073, REJECTED, "", "riscv_insn_is_system", 4), (0x00100073, REJECTED, "", "riscv_insn_is_system", 4),
    (0x14021273, REJECTED, "", "riscv_insn_is_system", 4), (0x10500073, REJECTED, "", "riscv_insn_is_system", 4),
    (0x0FF0000F, REJECTED, "", "riscv_insn_is_fence", 4),
]


@pytest.mark.parametrize("enc,status,how,pred,length", RISCV_TABLE)
def test_riscv_sample_table(riscv_sample, enc, status, how, pred, length):
    r = riscv_sample.decode(enc)
    check(r, status, how, pred, "EINVAL" if status == REJECTED else "")
    assert (r.length, r.mode) == (length, "rvc" if length == 2 else "rv")


def test_riscv_sample_config_dependence(sample_tree):
    tree = KernelTree(sample_tree)
    nocfg = RiscvDecoder(tree).decode(0x8082)
    assert nocfg.status == REJECTED
    assert any("config-dependent" in n and "CONFIG_RISCV_ISA_C" in n for n in nocfg.notes)
    on = RiscvDecoder(tree, KernelConfig.parse("CONFIG_RISCV_ISA_C=y\nCONFIG_KPROBES=y\n")).decode(0x8082)
    assert on.status == REJECTED and not on.notes[:-1] and not any("config-dependent" in n for n in on.notes)
    off = RiscvDecoder(tree, KernelConfig.parse("CONFIG_KPROBES=y\n")).decode(0x8082)
    assert (off.status, off.how) == (ACCEPTED, SLOT)
    assert RiscvDecoder(tree).decode(0x73).notes == ()  # system is rejected whatever the config


def test_riscv_sample_boundaries_and_alignment(riscv_sample):
    # c.addi sp,-16 ; addi sp,sp,-32 ; c.jr ra
    fn = FunctionBytes("f", 0xFFFFFFFF80001000, bytes.fromhex("4111 1301 01fe 8280"))
    assert riscv_sample.boundaries(fn) == [0, 2, 6]
    check(riscv_sample.decode_at(fn, 0), ACCEPTED, SLOT)
    check(riscv_sample.decode_at(fn, 2), ACCEPTED, SLOT)
    mid = riscv_sample.decode_at(fn, 4)
    assert (mid.status, mid.errno) == (REJECTED, "EILSEQ") and "arch_check_kprobe" in mid.decided_by
    assert any(e.path.endswith("bug.h") for e in mid.evidence)
    odd = riscv_sample.decode_at(fn, 3)
    assert (odd.status, odd.errno) == (REJECTED, "EILSEQ") and "0x1" in odd.evidence[0].text
    check(riscv_sample.decode_at(fn, 6), REJECTED, pred="riscv_insn_is_c_jr", errno="EINVAL")


def test_riscv_sample_rules(riscv_sample):
    rules = {r.pattern.split(" ")[0]: r for r in riscv_sample.rules()}
    assert rules["system"].action == "rejected" and rules["system"].condition == ""
    assert rules["c_jr"].condition == "defined(CONFIG_RISCV_ISA_C)" and rules["c_jr"].mode == "rvc"
    assert rules["jal"].action == "simulated"
    assert rules["not"].pattern == "not an instruction boundary"


def test_riscv_tree_modification_changes_the_verdict(sample_tree, tmp_path):
    root = copy_tree(sample_tree, tmp_path, RISCV_FILES)
    assert RiscvDecoder(KernelTree(root)).decode(0x0FF0000F).status == REJECTED
    line = edit(root / "arch/riscv/kernel/probes/decode-insn.c",
                r"RISCV_INSN_REJECTED\(fence,", "RISCV_INSN_SET_SIMULATE(fence,")
    r = RiscvDecoder(KernelTree(root)).decode(0x0FF0000F)
    assert (r.status, r.how) == (ACCEPTED, SIMULATED)
    assert any(e.path.endswith("decode-insn.c") and e.line == line for e in r.evidence)


# -------------------------------------------------------------------------- csky (written here)

CSKY_SIM_H = """\
#define __CSKY_INSN_FUNCS(name, mask, val)				\\
static __always_inline bool csky_insn_is_##name(probe_opcode_t code)	\\
{									\\
	return (code & (mask)) == (val);				\\
}
#define CSKY_INSN_SET_SIMULATE(name, code)				\\
	do {								\\
		if (csky_insn_is_##name(code)) {			\\
			api->handler = simulate_##name;			\\
			return INSN_GOOD_NO_SLOT;			\\
		}							\\
	} while (0)
#define CSKY_INSN_REJECTED(name, code)					\\
	do { if (csky_insn_is_##name(code)) return INSN_REJECTED; } while (0)
__CSKY_INSN_FUNCS(br16,		0xfc00, 0x0400)
__CSKY_INSN_FUNCS(rte32,	0x0000ffff, 0x0000c000)
void simulate_br16(u32 opcode, long addr, struct pt_regs *regs);
"""
CSKY_DECODE_C = """\
enum probe_insn __kprobes
csky_probe_decode_insn(probe_opcode_t *addr, struct arch_probe_insn *api)
{
	probe_opcode_t insn = le32_to_cpu(*addr);

	CSKY_INSN_REJECTED(rte32, insn);
	CSKY_INSN_SET_SIMULATE(br16, insn);
	return INSN_GOOD;
}
"""
CSKY_DECODE_H = """\
enum probe_insn { INSN_REJECTED, INSN_GOOD_NO_SLOT, INSN_GOOD, };
#define is_insn32(insn) ((insn & 0xc000) == 0xc000)
"""
CSKY_KPROBES_C = """\
int __kprobes arch_prepare_kprobe(struct kprobe *p)
{
	unsigned long probe_addr = (unsigned long)p->addr;

	if (probe_addr & 0x1)
		return -EILSEQ;
	switch (csky_probe_decode_insn(p->addr, &p->ainsn.api)) {
	case INSN_REJECTED:
		return -EINVAL;
	default:
		return 0;
	}
}
"""


def csky_tree(tmp_path: Path, decode_c: str = CSKY_DECODE_C) -> KernelTree:
    d = tree_root(tmp_path) / "arch/csky/kernel/probes"
    d.mkdir(parents=True)
    (d / "simulate-insn.h").write_text(CSKY_SIM_H)
    (d / "decode-insn.c").write_text(decode_c)
    (d / "decode-insn.h").write_text(CSKY_DECODE_H)
    (d / "kprobes.c").write_text(CSKY_KPROBES_C)
    return KernelTree(tmp_path)


def test_csky_reject_list_and_alignment(tmp_path):
    d = CskyDecoder(csky_tree(tmp_path))
    check(d.decode(0xC000), REJECTED, pred="csky_insn_is_rte32", errno="EINVAL")
    assert d.decode(0xC000).length == 4
    check(d.decode(0x0400), ACCEPTED, SIMULATED, "csky_insn_is_br16")
    check(d.decode(0x6C03), ACCEPTED, SLOT)
    fn = FunctionBytes("f", 0x8000, bytes.fromhex("036c 00c0 0000 0004"))
    assert d.boundaries(fn) == [0, 2, 6]
    odd = d.decode_at(fn, 1)
    assert (odd.status, odd.errno) == (REJECTED, "EILSEQ")
    check(d.decode_at(fn, 2), REJECTED, pred="csky_insn_is_rte32")
    mid = d.decode_at(fn, 4)  # csky does not walk boundaries: accepted, with a note
    assert mid.status == ACCEPTED and any("not an instruction boundary" in n for n in mid.notes)
    actions = {r.pattern.split(" ")[0]: r.action for r in d.rules()}
    assert actions == {"address": "rejected", "rte32": "rejected", "br16": "simulated"}


def test_csky_unknown_form_is_named(tmp_path):
    src = CSKY_DECODE_C.replace("return INSN_GOOD;", "return csky_classify(insn) ? INSN_GOOD : INSN_REJECTED;")
    d = CskyDecoder(csky_tree(tmp_path, src))
    r = d.decode(0x6C03)
    assert r.status == UNKNOWN and "csky_classify" in r.unsupported[0]


# -------------------------------------------------------------------------- real tree

@pytest.fixture(scope="module")
def arm64_real(real_tree):
    return Arm64Decoder(KernelTree(real_tree))


ARM64_TABLE = ARM64_MANDATORY + [  # KPROBE_RULES §3.3
    (0xD503201F, ACCEPTED, SLOT, "aarch64_insn_is_hint"),           # nop
    (0xAA1E03E9, ACCEPTED, SLOT, "aarch64_insn_is_steppable returns 1"),  # mov x9, x30
    (0xA9BF7BFD, ACCEPTED, SLOT, "aarch64_insn_is_steppable returns 1"),  # stp x29, x30, [sp, #-16]!
    (0x910003FD, ACCEPTED, SLOT, "aarch64_insn_is_steppable returns 1"),  # mov x29, sp
    (0x54000040, ACCEPTED, SIMULATED, "aarch64_insn_is_bcond"),     # b.eq
    (0xD65F03C0, ACCEPTED, SIMULATED, "aarch64_insn_is_ret"),       # ret
    (0xD63F0100, ACCEPTED, SIMULATED, "aarch64_insn_is_blr"),       # blr x8
    (0x58000040, ACCEPTED, SIMULATED, "aarch64_insn_is_ldr_lit"),   # ldr x0, =lit
    (0x90000000, ACCEPTED, SIMULATED, "aarch64_insn_is_adrp"),      # adrp
    (0xD65F0BFF, REJECTED, "", "aarch64_insn_is_ret_auth"),         # retaa
    (0xD503203F, REJECTED, "", "aarch64_insn_is_hint"),             # yield
    (0xD50342DF, REJECTED, "", "aarch64_insn_is_msr_imm"),          # msr daifset, #2
    (0xD5184100, REJECTED, "", "aarch64_insn_is_msr_reg"),          # msr sp_el0, x0
    (0xC85FFC01, REJECTED, "", "aarch64_insn_is_exclusive"),        # ldaxr
    (0xC8DFFC01, ACCEPTED, SLOT, "aarch64_insn_is_steppable returns 1"),  # ldar (alone)
    (0xD4200000, REJECTED, "", "aarch64_insn_is_exception"),        # brk
    (0xD4000001, REJECTED, "", "aarch64_insn_is_exception"),        # svc
    (0xD69F03E0, REJECTED, "", "aarch64_insn_is_eret"),             # eret
    (0xD5033BBF, ACCEPTED, SLOT, "aarch64_insn_is_steppable returns 1"),  # dmb ish
    (0xB8200020, ACCEPTED, SLOT, "aarch64_insn_is_steppable returns 1"),  # ldadd
    (0xF9800000, ACCEPTED, SLOT, "aarch64_insn_is_steppable returns 1"),  # prfm
    (0xD8000040, REJECTED, "", "aarch64_insn_is_prfm_lit"),         # prfm (literal)
]


@pytest.mark.kernel
@pytest.mark.parametrize("enc,status,how,pred", ARM64_TABLE)
def test_arm64_real_hand_evaluated(arm64_real, enc, status, how, pred):
    r = arm64_real.decode(enc)
    check(r, status, how, pred, "EINVAL" if status == REJECTED else "")
    if "aarch64_insn_is_" in pred and "returns" not in pred:
        name = pred.split()[0]
        ev = next(e for e in r.evidence if e.path == "arch/arm64/include/asm/insn.h")
        assert ev.text.startswith(f"__AARCH64_INSN_FUNCS({name.removeprefix('aarch64_insn_is_')},")


@pytest.mark.kernel
def test_arm64_real_details(arm64_real):
    daif = arm64_real.decode(0xD53B4220)
    assert any(e.path == "arch/arm64/kernel/probes/decode-insn.c" and "aarch64_insn_extract_system_reg" in e.text
               for e in daif.evidence)
    auti = arm64_real.decode(0xD50323BF)
    assert "aarch64_insn_is_steppable_hint returns 0" in auti.decided_by
    ldar_fn = FunctionBytes("f", 0xFFFF800008001000, struct.pack("<3I", 0xC8DFFC01, 0x91000421, 0xD65F03C0))
    check(arm64_real.decode_at(ldar_fn, 4), REJECTED, pred="aarch64_insn_is_load_ex")  # ldar poisons (§3.3)
    fn = FunctionBytes("f", 0xFFFF800008001000, struct.pack("<4I", *ATOMIC_WORDS))
    check(arm64_real.decode_at(fn, 4), REJECTED, pred="is_probed_address_atomic returns 1")
    check(arm64_real.decode_at(fn, 12), ACCEPTED, SIMULATED)
    mis = arm64_real.decode_at(fn, 1)
    assert (mis.status, mis.errno, mis.evidence[0].path) == (REJECTED, "EINVAL", "arch/arm64/kernel/probes/kprobes.c")


@pytest.mark.kernel
def test_arm64_real_rules(arm64_real):
    rules = arm64_real.rules()
    rejected = {r.pattern.split(" ")[0] for r in rules if r.action == "rejected"}
    assert rejected == {"address", "blr_auth", "br_auth", "eret", "eret_auth", "exception", "exclusive", "hint",
                        "mrs", "msr_imm", "msr_reg", "prfm_lit", "ret_auth", "load_ex"}
    simulated = {r.pattern.split(" ")[0] for r in rules if r.action == "simulated"}
    assert simulated == {"adr", "adrp", "b", "bcond", "bl", "blr", "br", "cbnz", "cbz", "ldr_lit", "ldrsw_lit",
                         "ret", "tbnz", "tbz"}
    for r in rules:
        assert r.evidence and all(e.line > 0 for e in r.evidence)


@pytest.mark.kernel
def test_arm64_real_tree_modification(real_tree, tmp_path):
    root = copy_tree(real_tree, tmp_path, ARM64_FILES)
    edit(root / "arch/arm64/lib/insn.c", r"^\tcase AARCH64_INSN_HINT_PACIASP:\n", "")
    r = Arm64Decoder(KernelTree(root)).decode(0xD503233F)  # paciasp leaves the whitelist
    assert r.status == REJECTED and "aarch64_insn_is_steppable_hint returns 0" in r.decided_by


@pytest.mark.kernel
def test_arm64_real_decode_speed(arm64_real):
    arm64_real.decode(0x12345678)
    encs = [(0x9E3779B9 * i) & 0xFFFFFFFF for i in range(1, 401)]
    t = time.perf_counter()
    for e in encs:
        arm64_real._cache.pop(e, None)
        arm64_real.decode(e)
    print(f"\n{(time.perf_counter() - t) / len(encs) * 1e6:.0f} us per arm64 decode")


RISCV_REAL = RISCV_TABLE + [(0x9002, REJECTED, "", "riscv_insn_is_c_jalr", 2)]  # c.ebreak hits c_jalr first


@pytest.mark.kernel
@pytest.mark.parametrize("enc,status,how,pred,length", RISCV_REAL)
def test_riscv_real_hand_evaluated(real_tree, enc, status, how, pred, length):
    r = RiscvDecoder(KernelTree(real_tree)).decode(enc)
    check(r, status, how, pred, "EINVAL" if status == REJECTED else "")
    assert r.length == length
    if pred:
        ev = next(e for e in r.evidence if e.path.endswith("simulate-insn.h"))
        assert ev.text.startswith(f"__RISCV_INSN_FUNCS({pred.removeprefix('riscv_insn_is_')},")
    if pred.startswith("riscv_insn_is_c_"):
        assert any("CONFIG_RISCV_ISA_C" in n for n in r.notes)


@pytest.mark.kernel
def test_riscv_real_rules_and_walk(real_tree, tmp_path):
    d = RiscvDecoder(KernelTree(real_tree))
    rules = {r.pattern.split(" ")[0]: r for r in d.rules()}
    assert rules["c_ebreak"].action == "shadowed"  # every c.ebreak matches c_jalr first
    assert rules["c_jr"].condition == "defined(CONFIG_RISCV_ISA_C)"
    fn = FunctionBytes("f", 0xFFFFFFFF80001000, bytes.fromhex("4111 1301 01fe 8280"))
    assert (d.decode_at(fn, 4).errno, d.decode_at(fn, 5).errno) == ("EILSEQ", "EILSEQ")
    check(d.decode_at(fn, 6), REJECTED, pred="riscv_insn_is_c_jr")
    root = copy_tree(real_tree, tmp_path, RISCV_FILES)
    edit(root / "arch/riscv/kernel/probes/simulate-insn.h", r"^__RISCV_INSN_FUNCS\(fence,.*$",
         "__RISCV_INSN_FUNCS(fence,\t0x7f, 0x0b);")
    assert RiscvDecoder(KernelTree(root)).decode(0x0FF0000F).status == ACCEPTED


@pytest.mark.kernel
def test_csky_real(real_tree):
    d = CskyDecoder(KernelTree(real_tree))
    check(d.decode(0x0400), ACCEPTED, SIMULATED, "csky_insn_is_br16")
    check(d.decode(0x6C03), ACCEPTED, SLOT)
    assert not [r for r in d.rules() if r.action == "rejected" and r.pattern != "address & 0x1"]
    fn = FunctionBytes("f", 0x8000, bytes.fromhex("036c 036c"))
    assert d.decode_at(fn, 1).errno == "EILSEQ"
