"""Where the data shipped with kpanalyze lives: the sample kernel tree and the queries.

In a source checkout (or an editable install) they are the top-level ``sample_kernel/``
and ``queries/`` folders; in an installed wheel pyproject.toml maps them into the
package as ``kpanalyze/_sample_kernel`` and ``kpanalyze/queries``.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent
_CHECKOUT = _PKG.parent


def _first_dir(candidates: tuple[Path, ...], what: str) -> Path:
    for d in candidates:
        if d.is_dir():
            return d
    raise FileNotFoundError(
        f"{what} not found (looked in {', '.join(str(d) for d in candidates)}); "
        "reinstall kpanalyze")


def sample_kernel_path() -> Path:
    """Root of the embedded sample kernel tree (the default ``--kernel``)."""
    return _first_dir((_PKG / "_sample_kernel", _CHECKOUT / "sample_kernel"), "the sample kernel tree")


def queries_dir() -> Path:
    """Folder of the tree-sitter queries (``*.scm``)."""
    return _first_dir((_PKG / "queries", _CHECKOUT / "queries"), "the tree-sitter queries folder")
