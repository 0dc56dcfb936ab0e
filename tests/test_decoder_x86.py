"""x86 kprobe instruction checks: hand-evaluated encodings against the tree's
arch/x86/kernel/kprobes/core.c (real Debian 6.1 tree) and the sample tree, boundaries
(can_probe), rules, and proof that verdicts and lengths follow edits of the tree."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kpanalyze.decoders import x86_map
from kpanalyze.decoders.base import ACCEPTED, EMULATED, REJECTED, SLOT, UNKNOWN, DecoderError, FunctionBytes
from kpanalyze.decoders.x86 import CORE, SUPPORT, X86Decoder
from kpanalyze.tree import KernelTree

H = bytes.fromhex


@pytest.fixture(scope="module")
def real(real_tree):
    return X86Decoder(KernelTree(real_tree))


@pytest.fixture(scope="module")
def real32(real_tree):
    return X86Decoder(KernelTree(real_tree), bits=32)


@pytest.fixture(scope="module")
def sample(sample_tree):
    return X86Decoder(KernelTree(sample_tree))


def lines(res):
    return [(e.path, e.text) for e in res.evidence]


def has_line(res, path, fragment):
    return any(e.path == path and fragment in e.text for e in res.evidence)


# ---------------------------------------------------------------- real tree: encodings

@pytest.mark.kernel
def test_call_register_indirect_is_emulated(real):
    r = real.decode(H("ffd0"))  # call *%rax
    assert (r.status, r.how, r.length) == (ACCEPTED, EMULATED, 2)
    assert "kprobe_emulate_call_indirect" in r.decided_by
    assert has_line(r, CORE, "emulate_op = kprobe_emulate_call_indirect")


@pytest.mark.kernel
def test_call_through_memory_is_refused(real):
    r = real.decode(H("ff5008"))  # call *0x8(%rax)
    assert (r.status, r.errno, r.length) == (REJECTED, "EOPNOTSUPP", 3)
    assert has_line(r, CORE, "return -EOPNOTSUPP;\t/* TODO: support memory addressing */")
    assert has_line(r, CORE, "X86_MODRM_MOD(opcode) != 3")
    # ljmp *0x24(%rax): ff /5, far jmp (a ground-truth row, machine_real_restart+64)
    r = real.decode(H("ff6824"))
    assert (r.status, r.errno) == (REJECTED, "EOPNOTSUPP") and "far jmp" in r.decided_by


@pytest.mark.kernel
@pytest.mark.parametrize("hexbytes", ["9a00000000 1000", "ea00000000 1000"])
def test_far_absolute_call_and_jump_are_refused(real, real32, hexbytes):
    # 64-bit: invalid opcodes to capstone, but the kernel's decoder (opcode map) decodes them
    for dec in (real, real32):
        r = dec.decode(H(hexbytes.replace(" ", "")))
        assert (r.status, r.errno, r.length) == (REJECTED, "EOPNOTSUPP", 7)
        assert has_line(r, CORE, "return -EOPNOTSUPP;")
        assert "0x9a, 0xea, 0xcc, 0xcf" in r.decided_by


@pytest.mark.kernel
def test_int3_is_refused_by_copy_instruction(real):
    r = real.decode(H("cc"))
    assert (r.status, r.errno) == (REJECTED, "EINVAL")  # before prepare_emulation's -EOPNOTSUPP
    assert "INT3_INSN_OPCODE" in r.decided_by
    assert has_line(r, "arch/x86/include/asm/text-patching.h", "INT3_INSN_OPCODE")
    assert has_line(r, CORE, "return -EINVAL;")


@pytest.mark.kernel
@pytest.mark.parametrize("hexbytes,mnem", [("cf", "iret"), ("48cf", "iretq")])
def test_iret_is_refused(real, hexbytes, mnem):
    r = real.decode(H(hexbytes))
    assert (r.status, r.errno) == (REJECTED, "EOPNOTSUPP")
    assert mnem in r.mnemonic


@pytest.mark.kernel
@pytest.mark.parametrize("hexbytes", ["0f01c1", "0f01c2", "0f01c3", "0f01c4"])  # vmcall, vmlaunch, vmresume, vmxoff
def test_vm_extensions_are_refused(real, hexbytes):
    r = real.decode(H(hexbytes))
    assert (r.status, r.errno) == (REJECTED, "EOPNOTSUPP")
    assert has_line(r, CORE, "opcode == 0x01 &&")


@pytest.mark.kernel
def test_exception_masking_instructions(real, real32):
    r = real.decode(H("8ed0"))  # mov %eax,%ss
    assert (r.status, r.errno) == (REJECTED, "EINVAL")
    assert "insn_masking_exception" in r.decided_by
    assert has_line(r, "arch/x86/include/asm/insn.h", "insn_masking_exception")
    assert real.decode(H("8ed8")).status == ACCEPTED  # mov %eax,%ds: reg 3, not SS
    # 6.1's insn.h defines POP_SS_OPCODE as 0x1f, which is POP DS: the tree refuses
    # pop %ds and lets pop %ss (0x17) through. kpanalyze follows the tree.
    assert (real32.decode(H("1f")).status, real32.decode(H("1f")).errno) == (REJECTED, "EINVAL")
    assert real32.decode(H("17")).status == ACCEPTED


@pytest.mark.kernel
@pytest.mark.parametrize("sig", [b"xen", b"kvm"])
def test_force_emulation_prefix(real, sig):
    r = real.decode(H("0f0b") + sig + H("0fa2"))  # ud2; .ascii "xen"; cpuid
    assert (r.status, r.errno, r.length) == (REJECTED, "EINVAL", 7)
    assert "insn_has_emulate_prefix" in r.decided_by
    assert has_line(r, "arch/x86/lib/insn.c", "_prefix[] =")
    assert real.decode(H("0f0b")).status == ACCEPTED  # a plain ud2 is not the prefix


@pytest.mark.kernel
def test_plain_instructions_use_a_slot(real):
    for hexbytes in ("55", "4889e5", "488b0500100000", "0fb9cc"):
        r = real.decode(H(hexbytes))
        assert (r.status, r.how) == (ACCEPTED, SLOT), hexbytes
    assert any("RIP-relative" in n for n in real.decode(H("488b0500100000")).notes)


@pytest.mark.kernel
@pytest.mark.parametrize("hexbytes,emulator", [
    ("7405", "kprobe_emulate_jcc"), ("0f8400010000", "kprobe_emulate_jcc"),
    ("eb05", "kprobe_emulate_jmp"), ("e900010000", "kprobe_emulate_jmp"),
    ("e800010000", "kprobe_emulate_call"), ("c3", "kprobe_emulate_ret"),
    ("9c", "kprobe_emulate_ifmodifiers"), ("fa", "kprobe_emulate_ifmodifiers"),
    ("e2fe", "kprobe_emulate_loop"), ("41ffe3", "kprobe_emulate_jmp_indirect"),
])
def test_emulated(real, hexbytes, emulator):
    r = real.decode(H(hexbytes))
    assert (r.status, r.how) == (ACCEPTED, EMULATED)
    assert r.decided_by == f"prepare_emulation: emulate_op = {emulator}"
    assert has_line(r, CORE, f"emulate_op = {emulator};")


@pytest.mark.kernel
def test_indirect_with_other_address_size_is_refused(real):
    r = real.decode(H("67ffd0"))  # addr32 call *%rax
    assert (r.status, r.errno) == (REJECTED, "EOPNOTSUPP")
    assert "sizeof(unsigned long)" in r.decided_by


@pytest.mark.kernel
def test_no_room_for_the_int3(real):
    r = real.decode(H("2e2e2e2e48c780000000002a000000"))  # 15 bytes: nothing fits after it
    assert r.length == 15
    assert (r.status, r.errno) == (REJECTED, "ENOSPC")
    assert has_line(r, CORE, "return -ENOSPC;")


@pytest.mark.kernel
def test_lengths_the_kernel_and_capstone_disagree_on(real):
    ud1 = real.decode(H("0fb9cc"))  # UD1 has a ModRM in the kernel's map
    assert ud1.length == 3 and any("capstone decodes 2 bytes" in n for n in ud1.notes)
    serialize = real.decode(H("0f01e8"))  # capstone 5.0.7 cannot decode SERIALIZE
    assert (serialize.status, serialize.length) == (ACCEPTED, 3)
    r = real.decode(H("0f38f2c0"))  # ANDN without VEX: the map says VEX-only
    assert (r.status, r.errno) == (REJECTED, "EINVAL")
    assert "kernel's decoder fails" in r.decided_by


# ---------------------------------------------------------------- real tree: boundaries

FN = H("554889e5" "e800000000" "5d" "c3")  # push %rbp; mov %rsp,%rbp; call; pop %rbp; ret


@pytest.mark.kernel
def test_boundaries_and_mid_instruction(real):
    fn = FunctionBytes("f", 0xFFFFFFFF81000000, FN)
    assert real.boundaries(fn) == [0, 1, 4, 9, 10]
    r = real.decode_at(fn, 2)
    assert (r.status, r.errno, r.cause) == (REJECTED, "EILSEQ", "boundary")
    assert r.decided_by == "not an instruction boundary"
    assert has_line(r, CORE, "return (addr == paddr);")
    assert has_line(r, CORE, "return -EILSEQ;")
    assert real.decode_at(fn, 4).how == EMULATED
    assert real.decode_at(fn, 0).how == SLOT


@pytest.mark.kernel
def test_walk_uses_the_kernel_lengths(real):
    # serialize (capstone cannot decode it) then iretq: the iretq is still reached
    fn = FunctionBytes("sync", 0xFFFFFFFF81000000, H("0f01e8" "48cf" "c3"))
    assert real.boundaries(fn) == [0, 3, 5]
    assert (real.decode_at(fn, 3).status, real.decode_at(fn, 3).errno) == (REJECTED, "EOPNOTSUPP")
    # the xen prefix and its instruction are one instruction to the kernel
    fn = FunctionBytes("xen", 0xFFFFFFFF81000000, H("0f0b78656e0fa2" "c3"))
    assert real.boundaries(fn) == [0, 7]
    assert real.decode_at(fn, 2).errno == "EILSEQ"
    assert real.decode_at(fn, 7).how == EMULATED


@pytest.mark.kernel
def test_decode_failure_before_the_offset(real):
    fn = FunctionBytes("bad", 0xFFFFFFFF81000000, H("0f38f2c0" "c3"))
    r = real.decode_at(fn, 4)
    assert (r.status, r.errno, r.cause) == (REJECTED, "EILSEQ", "boundary")
    assert "decoding fails at +0x0" in r.decided_by


@pytest.mark.kernel
def test_rules_come_from_the_tree(real):
    rules = real.rules()
    refused = [r for r in rules if r.action == "rejected"]
    emulated = {r.decided_by.split("= ")[-1] for r in rules if r.action == "emulated"}
    assert any("0x9a, 0xea, 0xcc, 0xcf" in r.pattern and r.evidence[0].path == CORE for r in refused)
    assert any("opcode == 0x01" in r.pattern for r in refused)
    assert any("POP_SS_OPCODE=0x1f" in r.pattern for r in refused)
    assert any("INT3_INSN_OPCODE=0xcc" in r.pattern for r in refused)
    assert any("0f 0b 78 65 6e" in r.pattern for r in refused)
    assert any("-ENOSPC" in r.decided_by for r in refused)
    assert {"kprobe_emulate_jcc", "kprobe_emulate_call", "kprobe_emulate_ret", "kprobe_emulate_loop",
            "kprobe_emulate_call_indirect", "kprobe_emulate_jmp_indirect",
            "kprobe_emulate_ifmodifiers", "kprobe_emulate_jmp"} <= emulated
    jcc = [r for r in rules if "0x70 ... 0x7f" in r.pattern]
    assert jcc and jcc[0].description == "1 byte conditional jump"


def _copy_tree(src: Path, dst: Path, extra: tuple[str, ...] = ()) -> Path:
    (dst / "kernel").mkdir(parents=True)
    (dst / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\n")
    for rel in (CORE, *SUPPORT, *extra):
        if (src / rel).is_file():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src / rel, dst / rel)
    return dst


@pytest.mark.kernel
def test_verdicts_follow_edits_of_the_tree(real_tree, tmp_path):
    tree = _copy_tree(real_tree, tmp_path / "t", (x86_map.MAP_PATH,))
    before = X86Decoder(KernelTree(tree))
    assert before.decode(H("48cf")).errno == "EOPNOTSUPP"
    assert before.decode(H("0fb9cc")).length == 3
    core = tree / CORE
    core.write_text(core.read_text().replace("\tcase 0xcf:\t/* iret -- in-kernel IRET is not supported */\n", ""))
    insn_h = tree / "arch/x86/include/asm/insn.h"
    insn_h.write_text(insn_h.read_text().replace("#define POP_SS_OPCODE 0x1f", "#define POP_SS_OPCODE 0x17"))
    opmap = tree / x86_map.MAP_PATH
    opmap.write_text(opmap.read_text().replace("b9: Grp10 (1A)", "b9: UD1"))
    after = X86Decoder(KernelTree(tree))
    assert (after.decode(H("48cf")).status, after.decode(H("48cf")).how) == (ACCEPTED, SLOT)
    assert after.decode(H("cc")).errno == "EINVAL"  # the other cases are untouched
    after32 = X86Decoder(KernelTree(tree), bits=32)
    assert after32.decode(H("17")).errno == "EINVAL"
    assert after32.decode(H("1f")).status == ACCEPTED
    assert after.decode(H("0fb9cc")).length == 2  # UD1 lost its ModRM in the map
    assert not any("0xcf" in r.pattern for r in after.rules() if r.action == "rejected")


@pytest.mark.kernel
def test_map_decoder_agrees_with_capstone_on_common_code(real_tree):
    import capstone
    m = x86_map.OpcodeMap.parse((real_tree / x86_map.MAP_PATH).read_text())
    cs = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    for hexbytes in ("55", "4889e5", "488b0500100000", "f30f1efa", "0f1f440000", "66900f1f00",
                     "c4e27d5a00", "62f17c481000", "48b80000000000000000", "a10000000000000000",
                     "f3a4", "c8100001", "660f3a0fc108", "65488b042528000000"):
        b = H(hexbytes)
        ins = next(cs.disasm(b, 0, 1))
        assert x86_map.decode(m, b, True).length == ins.size, hexbytes


# ---------------------------------------------------------------- sample tree (fast)

SAMPLE_CORE = CORE


def test_sample_decisions(sample):
    r = sample.decode(H("ff5008"))
    assert (r.status, r.errno) == (REJECTED, "EOPNOTSUPP")
    assert has_line(r, SAMPLE_CORE, "if (X86_MODRM_REG(insn->modrm.bytes[0]) == 2 &&")
    assert "X86_MODRM_MOD(insn->modrm.bytes[0]) != 3" in r.decided_by
    r = sample.decode(H("cc"))
    assert (r.status, r.errno) == (REJECTED, "EINVAL")
    assert has_line(r, "arch/x86/include/asm/text-patching.h", "INT3_INSN_OPCODE")
    r = sample.decode(H("e800000000"))
    assert (r.status, r.how, r.decided_by) == (ACCEPTED, EMULATED, "prepare_emulation: emulate_op = sample_emulate_call")
    assert sample.decode(H("55")).how == SLOT
    assert sample.decode(H("8ed0")).errno == "EINVAL"
    assert sample.decode(0xCF).errno == "EOPNOTSUPP"  # an int is read as the bytes in hex order


def test_sample_without_opcode_map_is_unknown_when_capstone_fails(sample):
    r = sample.decode(H("ea000000001000"))  # invalid in 64-bit for capstone; no map to ask
    assert r.status == UNKNOWN and r.unsupported
    assert any("x86-opcode-map.txt" in n for n in sample.notes)


def test_sample_boundaries(sample):
    fn = FunctionBytes("f", 0x1000, FN)
    assert sample.boundaries(fn) == [0, 1, 4, 9, 10]
    r = sample.decode_at(fn, 5)
    assert (r.status, r.errno, r.cause) == (REJECTED, "EILSEQ", "boundary")
    assert has_line(r, SAMPLE_CORE, "return -EILSEQ;")
    assert sample.decode_at(fn, 10).how == SLOT
    assert sample.decode_at(fn, 11).status == UNKNOWN  # past the bytes given


def test_sample_rules(sample):
    rules = sample.rules()
    assert any(r.action == "rejected" and "0xcf, 0xea" in r.pattern for r in rules)
    assert any(r.action == "emulated" and "0x70 ... 0x7f" in r.pattern
               and r.description == "short conditional branches" for r in rules)
    assert any("-ENOSPC" in r.decided_by for r in rules)
    assert all(r.evidence for r in rules)


def test_sample_edit_changes_the_verdict(sample_tree, tmp_path):
    tree = _copy_tree(sample_tree, tmp_path / "s")
    core = tree / CORE
    core.write_text(core.read_text().replace("\tcase 0xcf:\t/* returning from an interrupt */\n", ""))
    dec = X86Decoder(KernelTree(tree))
    assert dec.decode(H("cf")).how == SLOT
    assert dec.decode(H("ea00000000")).status == UNKNOWN


def test_unknown_construct_is_never_a_pass(sample_tree, tmp_path):
    tree = _copy_tree(sample_tree, tmp_path / "u")
    core = tree / CORE
    core.write_text(core.read_text().replace("\tcase 0xe8:\t/* call with a relative target */\n",
                                             "\tcase 0xe8:\n\t\tif (sample_mystery(insn))\n\t\t\treturn -EINVAL;\n"))
    r = X86Decoder(KernelTree(tree)).decode(H("e800000000"))
    assert r.status == UNKNOWN
    assert any("sample_mystery" in u for u in r.unsupported)


def test_missing_core_is_a_decoder_error(tmp_path):
    root = tmp_path / "empty"
    (root / "kernel").mkdir(parents=True)
    (root / "arch").mkdir()
    (root / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 1\n")
    with pytest.raises(DecoderError):
        X86Decoder(KernelTree(root))


def test_map_parser_on_a_small_map():
    text = "\n".join([
        "Table: one byte opcode", "Referrer:", "AVXcode:",
        "55: PUSH rBP (d64)", "66: Operand-Size (Prefix)", "e8: CALL Jz (f64)",
        "ff: Grp5 (1A)", "EndTable", "",
        "GrpTable: Grp5", "2: CALLN Ev (f64)", "EndTable", ""])
    m = x86_map.OpcodeMap.parse(text)
    assert x86_map.decode(m, H("55"), True).length == 1
    assert x86_map.decode(m, H("ffd0"), True).length == 2
    k = x86_map.decode(m, H("ff500800"), True)
    assert (k.length, k.modrm, k.disp) == (3, 0x50, 8)
    k = x86_map.decode(m, H("66e8fbffffff"), True)  # force64: the 66 prefix does not shrink Jz
    assert (k.length, k.imm, k.imm_nbytes) == (6, -5, 4)
    assert x86_map.decode(m, H("90"), True).length == 1  # absent from the map: no ModRM
    with pytest.raises(x86_map.DecodeFailure):
        x86_map.decode(m, H("ff"), True)  # truncated


@pytest.mark.kernel
def test_decode_failure_at_the_offset_is_the_copy_refusing(real):
    fn = FunctionBytes("bad", 0xFFFFFFFF81000000, H("55" "0f38f2c0" "c3"))
    assert real.boundaries(fn) == [0, 1]  # can_probe reaches +1; nothing after it decodes
    r = real.decode_at(fn, 1)
    assert (r.status, r.errno) == (REJECTED, "EINVAL")
    assert has_line(r, CORE, "return -EINVAL;")
    assert real.decode_at(fn, 5).errno == "EILSEQ"
