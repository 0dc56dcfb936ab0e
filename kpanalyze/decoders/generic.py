"""The fallback for arches whose kprobe decoder kpanalyze does not interpret."""

from __future__ import annotations

from .base import REJECTED, UNKNOWN, DecodeResult, FunctionBytes, RuleEntry


class GenericDecoder:
    def __init__(self, spec):
        self.arch = spec.name
        self.align = spec.insn_align

    def _unknown(self, encoding: int, length: int) -> DecodeResult:
        return DecodeResult(self.arch, encoding, length, self.arch, UNKNOWN,
                            decided_by="no decoder interpreter for this arch",
                            unsupported=(f"arch/{self.arch} kprobe decoder (not interpreted by kpanalyze)",))

    def decode(self, encoding: int, *, mode: str = "") -> DecodeResult:
        return self._unknown(encoding, self.align)

    def decode_at(self, fn: FunctionBytes, offset: int) -> DecodeResult:
        if offset % self.align:
            return DecodeResult(self.arch, 0, 0, self.arch, REJECTED, errno="EINVAL",
                                decided_by=f"address not aligned to {self.align} bytes")
        word = int.from_bytes(fn.data[offset:offset + self.align], "little")
        return self._unknown(word, self.align)

    def rules(self) -> list[RuleEntry]:
        return []

    def boundaries(self, fn: FunctionBytes) -> list[int]:
        return list(range(0, len(fn.data), self.align))
