"""Instruction decoders, one per arch, built from the decoder sources of the tree analysed.

`decoder_for` picks the arch's interpreter (named by its ArchSpec) and caches it per
(tree, arch, config): loading parses a handful of files once.
"""

from __future__ import annotations

from importlib import import_module

from ..arches import arch_spec
from ..errors import InputError
from .base import Decoder, DecoderError
from .disasm import describe

_CACHE: dict = {}


def decoder_for(tree, arch: str, config=None) -> Decoder:
    """The Decoder of `arch` for this tree (and config). Arches without an interpreter get
    the generic one: alignment only, every other answer UNKNOWN (never a silent pass)."""
    key = (str(tree.root), arch, getattr(config, "path", None))
    if key not in _CACHE:
        spec = arch_spec(arch)
        if spec.decoder:
            module, cls = spec.decoder.split(":")
            try:
                _CACHE[key] = _Described(getattr(import_module(f"{__name__}.{module}"), cls)(tree, config=config))
            except DecoderError as e:
                raise InputError(f"{tree.root}: cannot read the {arch} kprobe decoder: {e}") from None
        else:
            from .generic import GenericDecoder

            _CACHE[key] = GenericDecoder(spec)
    return _CACHE[key]


class _Described:
    """A decoder whose results name the instruction (capstone text, display only)."""

    def __init__(self, inner):
        self._inner = inner
        self.arch = inner.arch

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def decode(self, encoding: int, **kw):
        return describe(self._inner.decode(encoding, **kw))

    def decode_at(self, fn, offset: int):
        return describe(self._inner.decode_at(fn, offset))


__all__ = ["decoder_for", "Decoder", "DecoderError"]
