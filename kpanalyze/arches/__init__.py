"""Arch registry: one module per arch; unknown arch dirs of a tree get a generic spec."""

from __future__ import annotations

from importlib import import_module

from ..errors import InputError
from .base import ArchSpec

_MODULES = ("x86", "arm", "arm64", "riscv", "powerpc", "s390", "loongarch", "csky")


def _load() -> dict[str, ArchSpec]:
    return {m: import_module(f"{__name__}.{m}").SPEC for m in _MODULES}


SPECS: dict[str, ArchSpec] = _load()


def canonical_arch(name: str, tree_arches: list[str] | None = None) -> str:
    """arch dir name for a user-given arch name or alias (x86_64 -> x86, aarch64 -> arm64)."""
    low = name.strip().lower()
    if low in SPECS or (tree_arches and low in tree_arches):
        return low
    for spec in SPECS.values():
        if low in spec.aliases:
            return spec.name
    known = sorted(set(tree_arches or []) | set(SPECS))
    raise InputError(f"unknown arch {name!r}; known: {', '.join(known)}")


def arch_spec(name: str) -> ArchSpec:
    """The spec of an arch dir; arches without a module (mips, sparc, ...) get defaults."""
    return SPECS.get(name) or ArchSpec(name=name, kprobe_dirs=(f"arch/{name}/kernel",))
