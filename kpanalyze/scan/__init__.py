"""``kpanalyze scan``: find the probe points written in a project's files and judge each.

One module per front end (bpf_c, module, bpftrace, kprobe_events, bcc), the files to
read (files), the project configuration (project), inline suppressions (suppress),
pattern expansion (patterns), the pipeline that ties them (pipeline) and the text
report (report). ``scan()`` returns a ScanResult: a CheckResult whose verdicts carry
``origin`` (file:line:col), so every renderer of kpanalyze.render takes it.
"""

from __future__ import annotations


def scan(*args, **kwargs):
    """See kpanalyze.scan.pipeline.scan."""
    from .pipeline import scan as _scan

    return _scan(*args, **kwargs)
