"""The kernel's own view of x86 instruction lengths, from the tree's x86-opcode-map.txt.

`can_probe` walks a function with the kernel's decoder (arch/x86/lib/insn.c driven by the
attribute tables that arch/x86/tools/gen-insn-attr-x86.awk generates from
arch/x86/lib/x86-opcode-map.txt). kpanalyze decodes with capstone first (x86.py says why);
this module is the fallback for the few encodings capstone refuses but the kernel's
decoder accepts (SERIALIZE `0f 01 e8`, RMPADJUST, PVALIDATE, AMX, 32-bit far jumps in
64-bit head code), and a cross-check used by the tests.

It parses the map the way the awk script does (operand letters -> ModRM / immediate kind,
superscripts -> force64, VEX-only, last-prefix variants) into attribute words with the
same bit layout as arch/x86/include/asm/inat.h, so that alternatives OR-merge exactly as in
the generated C tables, then decodes one instruction the way insn_decode() does (prefixes,
REX, VEX/EVEX, escapes, groups, ModRM/SIB/displacement, immediates). Only lengths and the
struct insn fields matter here; nothing is copied from the kernel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAP_PATH = "arch/x86/lib/x86-opcode-map.txt"

# Attribute word layout (arch/x86/include/asm/inat.h): prefix id, escape id, group id,
# immediate kind, then flags. Kept identical so OR-merging alternatives behaves the same.
PFX_BITS, ESC_OFFS, GRP_OFFS, IMM_OFFS, FLAG_OFFS = 4, 4, 6, 11, 14
PFX_MASK = 0xF
ESC_MASK = 0x3 << ESC_OFFS
GRP_MASK = 0x1F << GRP_OFFS
IMM_MASK = 0x7 << IMM_OFFS
MODRM = 1 << FLAG_OFFS
FORCE64 = 1 << (FLAG_OFFS + 1)
SCNDIMM = 1 << (FLAG_OFFS + 2)
MOFFSET = 1 << (FLAG_OFFS + 3)
VARIANT = 1 << (FLAG_OFFS + 4)
VEXOK = 1 << (FLAG_OFFS + 5)
VEXONLY = 1 << (FLAG_OFFS + 6)
EVEXONLY = 1 << (FLAG_OFFS + 7)

# prefix ids (inat.h INAT_PFX_*)
PFX_OPNDSZ, PFX_REPE, PFX_REPNE, PFX_LOCK = 1, 2, 3, 4
PFX_ADDRSZ, PFX_REX, PFX_VEX2, PFX_VEX3, PFX_EVEX = 11, 12, 13, 14, 15
LGCPFX_MAX, LSTPFX_MAX = 11, 3
IMM_BYTE, IMM_WORD, IMM_DWORD, IMM_QWORD, IMM_PTR, IMM_VWORD32, IMM_VWORD = 1, 2, 3, 4, 5, 6, 7

# The awk script's vocabulary (gen-insn-attr-x86.awk BEGIN block), as regexes on map fields.
_IMM_FLAG = {"Ib": IMM_BYTE, "Jb": IMM_BYTE, "Iw": IMM_WORD, "Id": IMM_DWORD, "Iq": IMM_QWORD,
             "Ap": IMM_PTR, "Iz": IMM_VWORD32, "Jz": IMM_VWORD32, "Iv": IMM_VWORD,
             "Ob": -1, "Ov": -1, "Lx": IMM_BYTE}  # -1: moffset
_PREFIX_NUM = {"Operand-Size": PFX_OPNDSZ, "REPNE": PFX_REPNE, "REP/REPE": PFX_REPE,
               "XACQUIRE": PFX_REPNE, "XRELEASE": PFX_REPE, "LOCK": PFX_LOCK,
               "SEG=CS": 5, "SEG=DS": 6, "SEG=ES": 7, "SEG=FS": 8, "SEG=GS": 9, "SEG=SS": 10,
               "Address-Size": PFX_ADDRSZ, "VEX+1byte": PFX_VEX2, "VEX+2byte": PFX_VEX3,
               "EVEX": PFX_EVEX}
_OPND = re.compile(r"^[A-Za-z/]")
_EXT = re.compile(r"^\(")
_IMM = re.compile(r"^[IJAOL][a-z]")
_MODRM = re.compile(r"^([CDEGMNPQRSUVW/][a-z]+|NTA|T[012])")
_GROUP = re.compile(r"^Grp[0-9A-Za-z]+")
_FORCE64 = re.compile(r"\([df]64\)")
_REX = re.compile(r"^REX(\.[XRWB]+)*")
_FPU = re.compile(r"^ESC")
_LP1 = re.compile(r"\((66|!F3)\)")
_LP2 = re.compile(r"\(F3\)")
_LP3 = re.compile(r"\((F2|!F3|66&F2)\)")
_LP = re.compile(r"\((66|F2|F3)\)")
_VEXOK_OPCODE = re.compile(r"^[vk].*")
_ENTRY = re.compile(r"^([0-9a-f]+):")


class MapError(Exception):
    pass


@dataclass
class OpcodeMap:
    """The generated-table equivalent: tables[(kind, id, lpfx)] -> {index: attr}."""

    primary: dict = field(default_factory=dict)
    escape: dict = field(default_factory=dict)  # (eid, lpfx) -> table
    group: dict = field(default_factory=dict)  # (gid, lpfx) -> table
    avx: dict = field(default_factory=dict)  # (aid, lpfx) -> table
    group_names: dict = field(default_factory=dict)  # name -> gid
    lines: dict = field(default_factory=dict)  # ("primary"|("esc",eid)|..., index) -> map line
    i64: set = field(default_factory=set)  # one-byte opcodes whose legacy form is (i64)

    @classmethod
    def parse(cls, text: str) -> "OpcodeMap":
        m = cls()
        escapes: dict[str, int] = {}
        geid, ggid = 1, 1
        table: dict = {}
        lp = {1: {}, 2: {}, 3: {}}
        eid = gid = aid = -1
        kind = None
        for lineno, raw in enumerate(text.splitlines(), 1):
            fields = raw.split()
            if not fields or raw.startswith("#"):
                continue
            head = fields[0]
            if head == "Referrer:":
                if len(fields) != 1:
                    ref = "".join(fields[1:])
                    if ref not in escapes:
                        raise MapError(f"{MAP_PATH}:{lineno}: unknown escape referrer {ref!r}")
                    eid = escapes[ref]
                    kind = "esc"
            elif head == "AVXcode:":
                if len(fields) != 1:
                    aid = int(fields[1])
                    if kind is None:
                        kind = "avx"
                if aid == -1 and eid == -1:
                    kind = "primary"
            elif head == "GrpTable:":
                if fields[1] not in m.group_names:
                    raise MapError(f"{MAP_PATH}:{lineno}: no group {fields[1]}")
                gid = m.group_names[fields[1]]
                kind = "grp"
            elif head == "EndTable":
                tables = {0: table, **lp}
                for n, t in tables.items():
                    if not t:
                        continue
                    if kind == "grp":
                        m.group[(gid, n)] = t
                    else:
                        if kind == "primary" and n == 0:
                            m.primary = t
                        if eid >= 0:
                            m.escape[(eid, n)] = t
                        if aid >= 0:
                            m.avx[(aid, n)] = t
                table, lp = {}, {1: {}, 2: {}, 3: {}}
                eid = gid = aid = -1
                kind = None
            elif (em := _ENTRY.match(head)) and kind is not None:
                idx = int(em.group(1), 16)
                where = ("grp", gid) if kind == "grp" else ("esc", eid) if eid >= 0 else \
                    ("avx", aid) if kind == "avx" else ("primary", 0)
                m.lines[(where, idx)] = lineno
                if len(fields) > 1 and fields[1] == "escape":
                    ref = "".join(raw.split("#", 1)[1].split())
                    escapes[ref] = geid
                    table[idx] = geid << ESC_OFFS
                    geid += 1
                    continue
                variant = False
                i, nf = 1, len(fields)
                first = True
                while i < nf:
                    opcode = fields[i]
                    i += 1
                    flags, ext = 0, ""
                    if i < nf and _OPND.match(fields[i]):
                        flags = _convert_operands(fields[i].split(","), lineno)
                        i += 1
                    if i < nf and _EXT.match(fields[i]):
                        ext = fields[i]
                        i += 1
                    if i < nf and fields[i] == "|":
                        i += 1
                    if kind == "primary" and first and "(i64)" in ext:
                        m.i64.add(idx)
                    first = False
                    if _GROUP.match(opcode):
                        if opcode not in m.group_names:
                            m.group_names[opcode] = ggid
                            ggid += 1
                        flags |= (m.group_names[opcode] << GRP_OFFS) | MODRM
                    if _FORCE64.search(ext):
                        flags |= FORCE64
                    if _REX.match(opcode):
                        flags |= PFX_REX
                    if _FPU.match(opcode):
                        flags |= MODRM
                    if "(ev)" in ext:
                        flags |= VEXOK | EVEXONLY
                    elif "(v)" in ext:
                        flags |= VEXOK | VEXONLY
                    elif "(v1)" in ext or _VEXOK_OPCODE.match(opcode):
                        flags |= VEXOK
                    if "(Prefix)" in ext:
                        if opcode not in _PREFIX_NUM:
                            raise MapError(f"{MAP_PATH}:{lineno}: unknown prefix {opcode}")
                        flags |= _PREFIX_NUM[opcode]
                    if not flags:
                        continue
                    if _LP1.search(ext):
                        lp[1][idx] = lp[1].get(idx, 0) | flags
                        variant = True
                    if _LP2.search(ext):
                        lp[2][idx] = lp[2].get(idx, 0) | flags
                        variant = True
                    if _LP3.search(ext):
                        lp[3][idx] = lp[3].get(idx, 0) | flags
                        variant = True
                    if not _LP.search(ext):
                        table[idx] = table.get(idx, 0) | flags
                if variant:
                    table[idx] = table.get(idx, 0) | VARIANT
        if not m.primary:
            raise MapError(f"{MAP_PATH}: no one-byte opcode table")
        return m

    # inat.c lookups
    def opcode_attr(self, b: int) -> int:
        return self.primary.get(b, 0)

    def last_prefix_id(self, b: int) -> int:
        p = self.opcode_attr(b) & PFX_MASK
        return 0 if p > LSTPFX_MAX else p

    def escape_attr(self, op: int, lpfx: int, esc_attr: int) -> int:
        n = (esc_attr & ESC_MASK) >> ESC_OFFS
        t = self.escape.get((n, 0))
        if t is None:
            return 0
        if t.get(op, 0) & VARIANT and lpfx:
            t = self.escape.get((n, lpfx))
            if t is None:
                return 0
        return t.get(op, 0)

    def group_attr(self, modrm: int, lpfx: int, grp_attr: int) -> int:
        n = (grp_attr & GRP_MASK) >> GRP_OFFS
        common = grp_attr & ~GRP_MASK
        t = self.group.get((n, 0))
        reg = (modrm >> 3) & 7
        if t is None:
            return common
        if t.get(reg, 0) & VARIANT and lpfx:
            t = self.group.get((n, lpfx))
            if t is None:
                return common
        return t.get(reg, 0) | common

    def avx_attr(self, op: int, vex_m: int, vex_p: int) -> int:
        if vex_m > 0x1F or vex_p > LSTPFX_MAX:
            return 0
        t = self.avx.get((vex_m, 0))
        if t is None:
            return 0
        if not (t.get(op, 0) & GRP_MASK) and vex_p:
            t = self.avx.get((vex_m, vex_p))
            if t is None:
                return 0
        return t.get(op, 0)


def _convert_operands(opnds: list[str], lineno: int) -> int:
    imm = 0
    mod = 0
    for o in opnds:
        if _IMM.match(o):
            if o not in _IMM_FLAG:
                raise MapError(f"{MAP_PATH}:{lineno}: unknown immediate operand {o}")
            f = MOFFSET if _IMM_FLAG[o] == -1 else _IMM_FLAG[o] << IMM_OFFS
            if imm:
                imm |= SCNDIMM
            else:
                imm = f
        elif _MODRM.match(o):
            mod = MODRM
    return imm | mod


@dataclass
class KInsn:
    """The struct insn fields kprobes reads, as insn_decode() would fill them."""

    length: int = 0
    x86_64: int = 1
    emulate_prefix_size: int = 0
    prefixes: list = field(default_factory=list)  # distinct legacy prefixes, in order
    prefix_nbytes: int = 0
    last_prefix: int = 0
    rex: int = 0
    rex_nbytes: int = 0
    vex: bytes = b""
    opcode: bytes = b""
    modrm: int = 0
    modrm_nbytes: int = 0
    sib: int = 0
    sib_nbytes: int = 0
    disp: int = 0
    disp_nbytes: int = 0
    imm: int = 0  # immediate / immediate1 / moffset1, sign-extended as the kernel stores it
    imm_nbytes: int = 0
    imm2: int = 0
    imm2_nbytes: int = 0
    opnd_bytes: int = 4
    addr_bytes: int = 8
    attr: int = 0
    source: str = ""  # "capstone" or "opcode-map"


class DecodeFailure(Exception):
    """insn_decode() would return < 0 (reason in the message)."""


def _sx(v: int, n: int) -> int:
    bits = 8 * n
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def decode(m: OpcodeMap, buf: bytes, x86_64: bool, emulate_prefixes=()) -> KInsn:
    """Decode one instruction at buf[0] as insn_decode() does; raises DecodeFailure."""
    k = KInsn(x86_64=int(x86_64), addr_bytes=8 if x86_64 else 4, source="opcode-map")
    pos = 0
    n = len(buf)

    def byte(i: int) -> int:
        if i >= n or i >= 15:
            raise DecodeFailure("truncated (ENODATA)")
        return buf[i]

    for pfx in emulate_prefixes:
        if buf[:len(pfx)] == bytes(pfx):
            k.emulate_prefix_size = len(pfx)
            pos = len(pfx)
            break
    # legacy prefixes
    nb = 0
    lb = 0
    b = byte(pos)
    attr = m.opcode_attr(b)
    while 0 < (attr & PFX_MASK) <= LGCPFX_MAX:
        if b not in k.prefixes and nb < 4:
            k.prefixes.append(b)
            nb += 1
            if (attr & PFX_MASK) == PFX_ADDRSZ:
                k.addr_bytes ^= 12 if x86_64 else 6
            elif (attr & PFX_MASK) == PFX_OPNDSZ:
                k.opnd_bytes ^= 6
        elif b not in k.prefixes:
            break
        k.prefix_nbytes += 1
        pos += 1
        lb = b
        b = byte(pos)
        attr = m.opcode_attr(b)
    k.last_prefix = lb
    if x86_64 and (m.opcode_attr(b) & PFX_MASK) == PFX_REX:
        k.rex, k.rex_nbytes = b, 1
        pos += 1
        if b & 8:
            k.opnd_bytes = 8
    b = byte(pos)
    pfx = m.opcode_attr(b) & PFX_MASK
    if pfx in (PFX_VEX2, PFX_VEX3, PFX_EVEX):
        b2 = byte(pos + 1)
        if x86_64 or (b2 >> 6) == 3:
            size = 4 if pfx == PFX_EVEX else 3 if pfx == PFX_VEX3 else 2
            k.vex = bytes(byte(pos + j) for j in range(size))
            # VEX.W overrides the operand size (insn.c reads the last byte it fetched)
            if x86_64 and size > 2 and k.vex[-1] & 0x80:
                k.opnd_bytes = 8
            pos += size
    # opcode
    op = byte(pos)
    pos += 1
    opcode = [op]
    vp = 0
    if k.vex:
        if len(k.vex) == 2:
            vm, vp = 1, k.vex[1] & 3
        elif len(k.vex) == 3:
            vm, vp = k.vex[1] & 0x1F, k.vex[2] & 3
        else:
            vm, vp = k.vex[1] & 0x07, k.vex[2] & 3
        attr = m.avx_attr(op, vm, vp)
        if (attr & EVEXONLY and len(k.vex) != 4) or (not attr & VEXOK and not attr & GRP_MASK):
            raise DecodeFailure("opcode does not accept VEX/EVEX (EINVAL)")
    else:
        attr = m.opcode_attr(op)
        while attr & ESC_MASK:
            op = byte(pos)
            pos += 1
            opcode.append(op)
            lpfx = m.last_prefix_id(lb) if lb else 0
            attr = m.escape_attr(op, lpfx, attr)
        if attr & (VEXONLY | EVEXONLY):
            raise DecodeFailure("VEX-only opcode without VEX (EINVAL)")
    k.opcode = bytes(opcode)
    # modrm
    if attr & MODRM:
        k.modrm, k.modrm_nbytes = byte(pos), 1
        pos += 1
        if attr & GRP_MASK:
            lpfx = vp if k.vex else (m.last_prefix_id(lb) if lb else 0)
            attr = m.group_attr(k.modrm, lpfx, attr)
            if k.vex and not attr & VEXOK:
                raise DecodeFailure("group member does not accept VEX (EINVAL)")
    if x86_64 and attr & FORCE64:
        k.opnd_bytes = 8
    k.attr = attr
    # sib, displacement
    if k.modrm_nbytes:
        mod, rm = k.modrm >> 6, k.modrm & 7
        if k.addr_bytes != 2 and mod != 3 and rm == 4:
            k.sib, k.sib_nbytes = byte(pos), 1
            pos += 1
        if mod != 3:
            base = k.sib & 7
            size = 0
            if mod == 1:
                size = 1
            elif k.addr_bytes == 2:
                size = 2 if (mod == 0 and rm == 6) or mod == 2 else 0
            elif (mod == 0 and rm == 5) or mod == 2 or (mod == 0 and k.sib_nbytes and base == 5):
                size = 4
            if size:
                k.disp = _sx(int.from_bytes(bytes(byte(pos + j) for j in range(size)), "little"), size)
                k.disp_nbytes = size
                pos += size
    # immediates

    def take(size: int, signed: bool = True) -> int:
        nonlocal pos
        v = int.from_bytes(bytes(byte(pos + j) for j in range(size)), "little")
        pos += size
        return _sx(v, size) if signed else v

    if attr & MOFFSET:
        if k.addr_bytes == 8:
            k.imm, k.imm_nbytes = take(4), 4
            k.imm2, k.imm2_nbytes = take(4), 4
        else:
            k.imm_nbytes = k.addr_bytes
            k.imm = take(k.addr_bytes)
    elif attr & IMM_MASK:
        kind = (attr & IMM_MASK) >> IMM_OFFS
        if kind == IMM_BYTE:
            k.imm, k.imm_nbytes = take(1), 1
        elif kind == IMM_WORD:
            k.imm, k.imm_nbytes = take(2), 2
        elif kind == IMM_DWORD:
            k.imm, k.imm_nbytes = take(4), 4
        elif kind == IMM_QWORD:
            k.imm, k.imm_nbytes = take(4), 4
            k.imm2, k.imm2_nbytes = take(4), 4
        elif kind == IMM_PTR:
            if k.opnd_bytes == 8:
                raise DecodeFailure("ptr16:64 does not exist (ENODATA)")
            k.imm_nbytes = k.opnd_bytes
            k.imm = take(k.opnd_bytes)
            k.imm2, k.imm2_nbytes = take(2, signed=False), 2
        elif kind == IMM_VWORD32:
            size = 2 if k.opnd_bytes == 2 else 4
            k.imm, k.imm_nbytes = take(size), size
        elif kind == IMM_VWORD:
            if k.opnd_bytes == 8:
                k.imm, k.imm_nbytes = take(4), 4
                k.imm2, k.imm2_nbytes = take(4), 4
            else:
                k.imm, k.imm_nbytes = take(k.opnd_bytes), k.opnd_bytes
        else:
            raise DecodeFailure("unknown immediate kind (ENODATA)")
        if attr & SCNDIMM:
            k.imm2, k.imm2_nbytes = take(1), 1
    k.length = pos
    if pos > 15:
        raise DecodeFailure("longer than MAX_INSN_SIZE")
    return k
