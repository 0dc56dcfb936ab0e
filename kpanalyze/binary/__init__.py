"""Binary artifacts of a built kernel: symbol tables, images, and the special sites in them.

`open_artifacts` is the one entry point the CLI uses (`check --vmlinux/--image/--system-map/
--kallsyms`); every bad input becomes an InputError that names the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .image import KernelImage
from .sites import SpecialSites
from .symbols import Symbol, SymbolTable

__all__ = ["Artifacts", "KernelImage", "SpecialSites", "Symbol", "SymbolTable", "open_artifacts"]


@dataclass
class Artifacts:
    symbols: SymbolTable
    image: KernelImage | None = None
    sites: SpecialSites | None = None


def open_artifacts(vmlinux: str | Path | None = None, image: str | Path | None = None,
                   system_map: str | Path | None = None, kallsyms: str | Path | None = None) -> Artifacts:
    """Load what was given. A symbol table is required, from --system-map, --kallsyms or the
    .symtab of an unstripped --vmlinux; an image (--vmlinux or --image) is optional. Both
    options take any image form (KernelImage.open tells them apart by their headers)."""
    if vmlinux is not None and image is not None:
        raise InputError(f"{image}: give --vmlinux or --image, not both")
    if system_map is not None and kallsyms is not None:
        raise InputError(f"{kallsyms}: give --system-map or --kallsyms, not both")
    table_path = system_map if system_map is not None else kallsyms
    symbols = SymbolTable.load(table_path) if table_path is not None else None
    img_path = vmlinux if vmlinux is not None else image
    img = KernelImage.open(img_path, symbols) if img_path is not None else None
    if symbols is None:
        if img is None:
            raise InputError("no binary artifact given: --vmlinux, --image, --system-map or --kallsyms")
        if img.symbols is None:
            raise InputError(f"{img_path}: the image has no symbol table: add --system-map or --kallsyms")
        symbols = img.symbols
    return Artifacts(symbols, img, img.sites if img is not None else None)
