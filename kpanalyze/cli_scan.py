"""CLI command `scan`: options in, kpanalyze.scan out. Registered on the main group by cli.py."""

from __future__ import annotations

from pathlib import Path

import click

from .cli import (_config_option, _no_progress_option, _one_line, _output_option, _progress,
                  _report_format_option, _split_arches, _tty, _width, cli)

SCAN_EPILOG = """\b
Examples:
  kpanalyze scan .
  kpanalyze scan bpf/ tools/trace.bt --arch x86 --arch arm64
  kpanalyze scan . --kernel ~/src/linux-6.1 --config /boot/config-6.1.0-13-amd64
  kpanalyze scan --staged                    # what `git commit` would record
  kpanalyze scan . --format sarif -o kpanalyze.sarif
  kpanalyze scan . --format markdown >> "$GITHUB_STEP_SUMMARY"

\b
What is read (files given, or found under each PATH; .gitignore applies):
  *.c *.h     SEC("kprobe/NAME[+OFF]"), SEC("kretprobe/NAME"),
              SEC("ksyscall/NAME") (the arch's syscall entry symbol),
              SEC("kprobe.multi/GLOB"), bpf_program__attach_kprobe*() with a
              literal name, struct kprobe/kretprobe .symbol_name/.offset
  *.bt        bpftrace: kprobe:NAME[+OFF], kretprobe:NAME, k:/kr:, wildcards
  *.py        bcc: attach_kprobe/attach_kretprobe(event=, event_re=),
              kprobe__NAME functions in BPF(text=...)
  kprobe_events, *.events
              p[:GRP/EV] SYM[+OFF] ..., r[:GRP/EV] SYM ..., p SYM%return
Globs and regexes are expanded against the functions of the kernel tree.

\b
Project configuration: [tool.kpanalyze] in pyproject.toml or .kpanalyze.toml,
found from the first PATH upwards (or --project-config FILE): targets (kernel,
config, arches), via, severity per reason id, ignore paths/symbols,
include/exclude. --kernel/--config/--arch replace those of every target.

\b
Suppress one probe point with a comment on its line or the line above,
naming the reason ids you accept (see `kpanalyze reasons`):
  SEC("kprobe/do_user_addr_fault") // kpanalyze: ignore[nokprobe-symbol, notrace]

\b
Exit codes:
  0  nothing at severity "error" (every point probeable, or accepted)
  1  at least one error: a point the kernel refuses or lacks, or a wrong
     suppression (a point that only may be refused, "uncertain", is a warning)
  2  usage or input error (bad option, bad project configuration, no such PATH)
  3  internal error (set KPANALYZE_DEBUG=1 for the traceback)
Broken scanned files (binary, not UTF-8, too large, unreadable, malformed
SEC(...)) are reported as warnings and skipped; they do not change the exit code."""


@cli.command(epilog=SCAN_EPILOG)
@click.argument("paths", nargs=-1, metavar="PATH...")
@click.option("--arch", "arches", multiple=True, metavar="ARCH",
              help="Arch to judge (repeatable, or comma-separated). Default: the project's, else the arch of "
                   "--config, else every arch of the tree that supports kprobes.")
@click.option("--kernel", type=click.Path(path_type=Path), metavar="PATH",
              help="Root of a kernel source tree. Default: the project's target, else $KPANALYZE_KERNEL, "
                   "else the sample tree shipped with kpanalyze.")
@_config_option
@click.option("--via", type=click.Choice(["auto", "tracefs", "module"]), default=None,
              help="auto (default): each format's own way in (module for struct kprobe, tracefs for the "
                   "others); tracefs or module: judge every point that way.")
@_report_format_option
@_output_option
@click.option("--project-config", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Read this pyproject.toml or .kpanalyze.toml instead of looking for one.")
@click.option("--staged", is_flag=True,
              help="Scan the files staged in git (their staged content), under PATH if given.")
@click.option("--all", "show_all", is_flag=True, help="Text: also list the probe points that are probeable.")
@_no_progress_option
def scan(paths, arches, kernel, config, via, fmt, output, project_config, staged, show_all, no_progress) -> None:
    """Find the probe points in your files and check each one.

    Reads BPF C, libbpf calls, bpftrace scripts, kernel modules, bcc programs
    and kprobe_events files (PATH: files or folders, default '.'), and judges
    every probe point on every target kernel and arch. Diagnostics read like a
    compiler's: path:line:col: level: point: verdict.
    """
    from .scan import scan as run_scan
    from .scan.report import render_scan

    ctx = click.get_current_context()
    result = run_scan(list(paths), arches=_split_arches(arches) or None, kernel=kernel, config=config, via=via,
                      project_config=project_config, staged=staged, progress=_progress(no_progress))

    def render(f: str) -> str:
        if f == "text":
            return render_scan(result, tty=_tty() and output is None, show_all=show_all)
        from .render import render_report

        return render_report(result, f, root=result.root, width=_width())

    to_file = output is not None and str(output) != "-"
    if to_file:
        output.write_text(render(fmt), encoding="utf-8")
    shown = "text" if to_file else fmt
    click.echo(render(shown), nl=False)
    if shown not in ("text", "json"):
        for w in result.warnings:
            click.echo(f"kpanalyze: warning: {_one_line(w)}", err=True)
    if to_file:
        click.echo(f"kpanalyze: wrote the {fmt} report to {output}", err=True)
    ctx.exit(result.exit_code)
