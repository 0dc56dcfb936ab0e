"""Renderers: thin pure functions from the result model to strings (the CLI prints them).

``render_report`` picks the renderer of a ``--format`` for a CheckResult; ``check`` and
``scan`` share it, so every report format works for both.
"""

from __future__ import annotations

import os
from typing import Mapping

# Formats of a verdict report, in the order --help lists them.
REPORT_FORMATS = ("text", "json", "sarif", "junit", "markdown")


def render_report(result, fmt: str, *, only_problems: bool = False, tty: bool = False,
                  width: int | None = None, levels: Mapping[str, str] | None = None,
                  root: str | os.PathLike | None = None) -> str:
    """The report of one run in ``fmt``. ``only_problems`` (--quiet) drops probeable
    verdicts from text and JSON only: SARIF lists problems anyway, and JUnit and
    Markdown count every verdict. ``levels`` ({reason id or status: error|warning|
    note|none}) sets severities in SARIF, JUnit and Markdown (a scan result's own
    ``level()`` decides what it does not name); ``root`` is the directory that SARIF,
    JUnit and Markdown name scanned files relative to."""
    if fmt == "text":
        from . import text

        return text.render_check(result, tty=tty, width=width, only_problems=only_problems)
    if fmt == "json":
        from . import json

        return json.render_check(result, only_problems=only_problems)
    if fmt == "sarif":
        from . import sarif

        return sarif.render_check(result, levels=levels, root=root)
    if fmt == "junit":
        from . import junit

        return junit.render_check(result, levels=levels, root=root)
    if fmt == "markdown":
        from . import markdown

        return markdown.render_check(result, levels=levels, root=root)
    raise ValueError(f"unknown report format {fmt!r}")
