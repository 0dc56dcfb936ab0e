"""Disassembly text for display (capstone). Never used to decide anything: the verdicts
come from the tree's decoders; this only names the instruction for people."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from .base import DecodeResult

# decoder mode -> (capstone arch, mode) names, resolved lazily
_MODES = {
    "a64": ("CS_ARCH_ARM64", "CS_MODE_ARM"),
    "arm": ("CS_ARCH_ARM", "CS_MODE_ARM"),
    "t16": ("CS_ARCH_ARM", "CS_MODE_THUMB"),
    "t32": ("CS_ARCH_ARM", "CS_MODE_THUMB"),
    "rv": ("CS_ARCH_RISCV", "CS_MODE_RISCV64|CS_MODE_RISCVC"),
    "rvc": ("CS_ARCH_RISCV", "CS_MODE_RISCV64|CS_MODE_RISCVC"),
}


@lru_cache(maxsize=None)
def _engine(mode: str):
    try:
        import capstone
    except ImportError:  # display only: no capstone, no text
        return None
    names = _MODES.get(mode)
    if names is None or not hasattr(capstone, names[0]):
        return None
    flags = 0
    for n in names[1].split("|"):
        flags |= getattr(capstone, n, 0)
    try:
        return capstone.Cs(getattr(capstone, names[0]), flags)
    except capstone.CsError:
        return None


def encoding_bytes(res: DecodeResult) -> bytes:
    """The instruction as it sits in (little-endian) memory."""
    if res.mode == "t32":
        return (res.encoding >> 16).to_bytes(2, "little") + (res.encoding & 0xFFFF).to_bytes(2, "little")
    return (res.encoding & ((1 << (8 * res.length)) - 1)).to_bytes(res.length, "little")


def describe(res: DecodeResult) -> DecodeResult:
    """The result with `mnemonic` filled when the decoder left it empty."""
    if res.mnemonic or res.length <= 0:
        return res
    cs = _engine(res.mode)
    if cs is None:
        return res
    for ins in cs.disasm(encoding_bytes(res), 0):
        return replace(res, mnemonic=f"{ins.mnemonic} {ins.op_str}".strip())
    return res
