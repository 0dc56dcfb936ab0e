"""The ``kpanalyze`` command: parses options, calls kpanalyze.api, prints a renderer's output.

No analysis here. Heavy modules (the api, tree-sitter, rich) are imported inside the
commands so that ``kpanalyze --help`` starts fast. Expected errors (InputError, an
OSError about a path the user gave, an unusable cache) print one line on stderr and
exit 2; never a traceback.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from .errors import InputError
from .verdict import KINDS, VIAS

EXIT_OK, EXIT_NOT_PROBEABLE, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3

_EXIT_CODES = """\b
Exit codes:
  0  every verdict is "probeable"
  1  at least one verdict is blocked, missing or uncertain
  2  usage or input error (one line on stderr)
  3  internal error (set KPANALYZE_DEBUG=1 for the traceback)"""

_STATUSES = """\b
Statuses:
  probeable  registration would succeed
  blocked    the symbol exists but the kernel refuses the probe
             (kprobe blacklist, no ftrace site via tracefs, ambiguous
             name, arch without kprobes, return probe refused ...)
  missing    no such symbol in the built kernel (inlined, a macro,
             compiled out, only defined for other arches ...): ENOENT
  uncertain  source alone cannot decide (depends on the compiler or the
             config); see "confidence" and "if present\""""

MAIN_EPILOG = f"""\b
Examples:
  kpanalyze check tcp_retransmit_skb --arch arm
  kpanalyze check 'do_sys_open+0x10' --via module
  kpanalyze check - < names.txt --format json
  kpanalyze blacklist --arch x86 --kernel ~/src/linux
  kpanalyze reasons

Without --kernel (or KPANALYZE_KERNEL) the small sample tree shipped with
kpanalyze is analysed. Run 'kpanalyze COMMAND --help' for each command.

{_EXIT_CODES}"""

CHECK_EPILOG = f"""\b
Examples:
  kpanalyze check tcp_retransmit_skb --arch arm
  kpanalyze check 'do_sys_open+0x10' --via module
  kpanalyze check - < names.txt --format json
  kpanalyze check vfs_read --kernel ~/src/linux --config /boot/config-6.1.0-13-amd64
  kpanalyze check --points-from probes.txt --quiet --arch x86 --arch arm64
  kpanalyze check --points-from probes.txt --format sarif --output kpanalyze.sarif

A POINT is SYMBOL or SYMBOL+OFFSET (decimal or 0x-hex). '-' (as a POINT or
as --points-from) reads points from stdin; a points file holds one point a
line, '#' starts a comment, blank lines are ignored.

{_STATUSES}

Each reason has a stable id (e.g. nokprobe-symbol, noinstr, notrace); see
'kpanalyze reasons'.

{_EXIT_CODES}"""


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def _fail(ctx: click.Context, message: str, code: int = EXIT_INPUT, label: str = "error") -> None:
    click.echo(f"kpanalyze: {label}: {_one_line(message)}", err=True)
    ctx.exit(code)


def _os_message(e: OSError) -> str:
    if e.filename is not None:
        where = f"{e.filename}" + (f" -> {e.filename2}" if e.filename2 is not None else "")
        return f"{where}: {e.strerror or e}"
    return str(e)


def _quiet_broken_pipe() -> None:
    # The reader went away (| head): stop writing, and keep Python from complaining
    # about the unflushed stdout at exit.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


class _Group(click.Group):
    """Turns expected errors into one line on stderr and exit 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except InputError as e:
            _fail(ctx, str(e))
        except BrokenPipeError:
            _quiet_broken_pipe()
            ctx.exit(EXIT_NOT_PROBEABLE)
        except OSError as e:
            _fail(ctx, _os_message(e))
        except UnicodeDecodeError as e:
            _fail(ctx, f"an input file is not UTF-8 text ({e})")
        except KeyboardInterrupt:
            click.echo("kpanalyze: interrupted", err=True)
            ctx.exit(130)
        except Exception as e:  # noqa: BLE001 - the last net: one line, not a traceback
            import sqlite3

            if isinstance(e, sqlite3.Error):
                _fail(ctx, f"fact index: {e} (set KPANALYZE_CACHE_DIR to a writable folder)")
            if os.environ.get("KPANALYZE_DEBUG"):
                raise
            _fail(ctx, f"{type(e).__name__}: {e} (set KPANALYZE_DEBUG=1 for the traceback)",
                  EXIT_INTERNAL, label="internal error")


# -- shared options -----------------------------------------------------------------

def _kernel_option(f):
    return click.option(
        "--kernel", type=click.Path(path_type=Path), envvar="KPANALYZE_KERNEL", show_envvar=True,
        metavar="PATH", help="Root of a kernel source tree (default: the sample tree shipped with kpanalyze).")(f)


def _config_option(f):
    return click.option(
        "--config", type=click.Path(path_type=Path), metavar="FILE",
        help="A kernel .config: decide #if/IS_ENABLED conditions and Kbuild object selection "
             "(without it, verdicts that depend on the config say so).")(f)


def _format_option(f):
    return click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                        show_default=True, help="Output format (JSON is documented in the README).")(f)


def _report_format_option(f):
    """--format of the commands that give verdicts (check, scan)."""
    from .render import REPORT_FORMATS

    return click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="text", show_default=True,
                        help="Report format: text, json (kpanalyze.check/1), sarif (SARIF 2.1.0, code "
                             "scanning), junit (JUnit XML, CI test tabs), markdown (CI job summaries).")(f)


def _output_option(f):
    return click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
                        help="Write the report (--format) to FILE and print the text verdicts on stdout "
                             "as well (for CI). Exit codes do not change.")(f)


def emit_report(result, fmt: str, output: Path | None = None, *, quiet: bool = False, levels=None,
                root=None) -> None:
    """Print (or, with ``output``, write) the report of a run; with ``output``, stdout still
    gets the text verdicts. Warnings go to stderr except when stdout is a JSON document
    (which holds them)."""
    from .render import render_report

    opts = {"only_problems": quiet, "levels": levels, "root": root}
    to_file = output is not None and str(output) != "-"
    if to_file:
        output.write_text(render_report(result, fmt, **opts), encoding="utf-8")
    shown = "text" if to_file else fmt
    click.echo(render_report(result, shown, tty=_tty() and shown == "text", width=_width(), **opts), nl=False)
    if shown != "json":
        for w in result.warnings:
            click.echo(f"kpanalyze: warning: {_one_line(w)}", err=True)
    if to_file:
        click.echo(f"kpanalyze: wrote the {fmt} report to {output}", err=True)


_EXISTING = click.Path(path_type=Path, exists=True, dir_okay=False)


def _binary_options(f):
    """--vmlinux / --image / --system-map / --kallsyms (read, never run)."""
    for opt in reversed((
        click.option("--vmlinux", type=_EXISTING, metavar="FILE",
                     help="An ELF vmlinux (e.g. from a -dbg package): symbols and instruction bytes."),
        click.option("--image", type=_EXISTING, metavar="FILE",
                     help="A boot image: bzImage/vmlinuz (x86), zImage (arm), Image or Image.gz (arm64). "
                          "Needs --system-map or --kallsyms."),
        click.option("--system-map", type=_EXISTING, metavar="FILE",
                     help="System.map of the same build: which names exist, and where."),
        click.option("--kallsyms", type=_EXISTING, metavar="FILE",
                     help="A copy of /proc/kallsyms of the running kernel (read as root, KASLR off or "
                          "matching the image)."),
    )):
        f = opt(f)
    return f


def _no_progress_option(f):
    return click.option("--no-progress", is_flag=True,
                        help="Never draw a progress bar (it is drawn only when stderr is a terminal).")(f)


def _progress(no_progress: bool) -> bool:
    return not no_progress and sys.stderr.isatty()


def _tty() -> bool:
    """Colour and tables for a person at a terminal; plain lines for pipes and files."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def _width() -> int:
    return shutil.get_terminal_size((100, 24)).columns


def _kernel_label(kernel: Path | None) -> str:
    """The tree a JSON document names: --kernel, else the sample tree, resolved."""
    from . import api

    return str(Path(kernel or api.default_kernel()).resolve())


def _split_arches(values: tuple[str, ...]) -> list[str]:
    return [a.strip() for v in values for a in v.split(",") if a.strip()]


# -- probe points from arguments, files and stdin -----------------------------------

def parse_points_text(data: bytes, source: str) -> list[tuple[str, str]]:
    """One probe point a line; '#' starts a comment; blank lines are skipped.
    Returns (point text, "source:line") pairs."""
    if b"\0" in data:
        raise InputError(f"{source}: binary data, expected one probe point per line")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{source}: not UTF-8 text (byte {e.start}), expected one probe point per line") from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        point = line.partition("#")[0].strip()
        if point:
            out.append((point, f"{source}:{n}"))
    return out


def _read_source(name: str, stdin_cache: dict) -> list[tuple[str, str]]:
    if name == "-":
        if "points" not in stdin_cache:  # '-' given twice reads stdin once
            stream = sys.stdin
            data = stream.buffer.read() if hasattr(stream, "buffer") else stream.read().encode()
            stdin_cache["points"] = parse_points_text(data, "<stdin>")
        return stdin_cache["points"]
    return parse_points_text(Path(name).read_bytes(), name)


def gather_points(args: tuple[str, ...], points_from: str | None) -> list[str]:
    """Every point of the command line, the --points-from file and stdin, validated,
    without duplicates, in the order given. Errors name the file and line."""
    from .verdict import ProbePoint

    stdin_cache: dict = {}
    items: list[tuple[str, str]] = []
    for a in args:
        items.extend(_read_source("-", stdin_cache) if a == "-" else [(a, "")])
    if points_from:
        items.extend(_read_source(points_from, stdin_cache))
    seen: set = set()
    points = []
    for text, where in items:
        try:
            p = ProbePoint.parse(text)
        except InputError as e:
            raise InputError(f"{where}: {e}" if where else str(e)) from None
        if p not in seen:
            seen.add(p)
            points.append(text.strip())
    return points


# -- commands -----------------------------------------------------------------------

@click.group(cls=_Group, epilog=MAIN_EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kpanalyze", message="%(prog)s %(version)s")
def cli() -> None:
    """Predict, per architecture, whether a Linux kernel symbol can be kprobed.

    kpanalyze reads a kernel source tree (it never builds or runs it) and says
    whether a kprobe or kretprobe on SYMBOL[+OFFSET] would register, via tracefs
    (kprobe_events, perf, BPF) or a kernel module, and if not, why: a stable
    reason id, one sentence and the file:line that decides it.
    """


@cli.command(epilog=CHECK_EPILOG)
@click.argument("points", nargs=-1, metavar="POINT...")
@click.option("--arch", "arches", multiple=True, metavar="ARCH",
              help="Arch to judge (repeatable, or comma-separated; aliases such as x86_64 and "
                   "aarch64 work). Default: the arch of --config if given, else every arch of "
                   "the tree that supports kprobes.")
@_kernel_option
@_config_option
@click.option("--via", type=click.Choice(VIAS), default="tracefs", show_default=True,
              help="tracefs: kprobe_events, perf and BPF (needs an ftrace site and a unique name); "
                   "module: plain register_kprobe() from a kernel module.")
@click.option("--kind", type=click.Choice([*KINDS, "both"]), default="both", show_default=True,
              help="Judge a kprobe, a kretprobe, or both.")
@_report_format_option
@_output_option
@click.option("--points-from", metavar="FILE|-",
              help="Read more points from FILE ('-': stdin), one a line, '#' comments.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the verdicts that are not probeable.")
@_no_progress_option
@_binary_options
def check(points, arches, kernel, config, via, kind, fmt, output, points_from, quiet, no_progress,
          vmlinux, image, system_map, kallsyms) -> None:
    """Can POINT be probed? One verdict per point x arch x kind."""
    ctx = click.get_current_context()
    if not points and not points_from:
        raise click.UsageError("no probe point given: name one, or read them with '-' or --points-from FILE")
    wanted = gather_points(points, points_from)

    from . import api
    from .verdict import CheckResult

    if wanted:
        result = api.check(wanted, arches=_split_arches(arches) or None, kernel=kernel, config=config,
                           via=via, kinds=KINDS if kind == "both" else (kind,),
                           progress=_progress(no_progress), vmlinux=vmlinux, image=image,
                           system_map=system_map, kallsyms=kallsyms)
    else:  # an empty points file is not an error: nothing to judge
        result = CheckResult(kernel=str(kernel or ""), config=str(config or ""),
                             warnings=["no probe points were given in the input"])

    emit_report(result, fmt, output, quiet=quiet)
    ctx.exit(result.exit_code)


@cli.command(epilog="""\b
Examples:
  kpanalyze blacklist --arch arm64
  kpanalyze blacklist --arch x86 --kernel ~/src/linux --config config-x86 --format json

The list predicts /sys/kernel/debug/kprobes/blacklist from source; entries
that an arch refuses by an address-range check only (not listed in that
file) are marked "not listed in debugfs".""")
@click.option("--arch", required=True, metavar="ARCH", help="The arch whose blacklist to predict.")
@_kernel_option
@_config_option
@_format_option
@_no_progress_option
def blacklist(arch, kernel, config, fmt, no_progress) -> None:
    """Every symbol the kernel's kprobe blacklist would hold, with its reason."""
    from . import api

    entries = api.blacklist(arch, kernel=kernel, config=config, progress=_progress(no_progress))
    if fmt == "json":
        from .render import json as render

        click.echo(render.render_blacklist(entries, arch, kernel=_kernel_label(kernel), config=str(config or "")),
                   nl=False)
    else:
        from .render import text as render

        click.echo(render.render_blacklist(entries, arch, tty=_tty(), width=_width()), nl=False)
        if not entries:
            click.echo(f"kpanalyze: no blacklist on {arch}: the arch has no kprobes in this tree or config "
                       "(see `kpanalyze arches`)", err=True)


@cli.command()
@_kernel_option
@_format_option
def arches(kernel, fmt) -> None:
    """The arches of the tree and whether each supports kprobes."""
    from . import api

    supported = set(api.supported_arches(kernel))
    rows = [(a, a in supported) for a in api.all_arches(kernel)]
    if fmt == "json":
        from .render import json as render

        click.echo(render.render_arches(rows, kernel=_kernel_label(kernel)), nl=False)
    else:
        from .render import text as render

        click.echo(render.render_arches(rows, tty=_tty(), width=_width()), nl=False)


@cli.command()
@_format_option
def reasons(fmt) -> None:
    """The reason catalog: id, category, errno, title and help of every reason."""
    from .reasons import CATALOG

    kinds = list(CATALOG.values())
    if fmt == "json":
        from .render import json as render

        click.echo(render.render_reasons(kinds), nl=False)
    else:
        from .render import text as render

        click.echo(render.render_reasons(kinds, tty=_tty(), width=_width()), nl=False)


@cli.command()
@_kernel_option
@click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
              help="Extraction processes (default: the number of CPUs).")
@_no_progress_option
@click.option("--verbose", is_flag=True, help="List every extraction warning (default: the first 10).")
def index(kernel, workers, no_progress, verbose) -> None:
    """Build or refresh the fact index of a tree (only changed files are re-read).

    The index lives in the user cache directory (KPANALYZE_CACHE_DIR overrides
    it); 'check' and 'blacklist' build it on first use, so this is optional.
    """
    from . import api

    stats = api.build_index(kernel, workers=workers, progress=_progress(no_progress))
    if hasattr(stats, "__dataclass_fields__"):
        from dataclasses import asdict

        stats = asdict(stats)
    if not isinstance(stats, dict):
        click.echo(str(stats))
        return
    warnings = []
    for key, value in stats.items():
        if isinstance(value, (list, tuple)):  # e.g. warnings: print how many here, each on stderr
            if key == "warnings":
                warnings = list(value)
            value = len(value)
        click.echo(f"{key}: {value}")
    shown = warnings if verbose else warnings[:10]
    for w in shown:
        click.echo(f"kpanalyze: warning: {_one_line(w)}", err=True)
    if len(warnings) > len(shown):
        click.echo(f"kpanalyze: {len(warnings) - len(shown)} more warnings (use --verbose to list them all)",
                   err=True)


from . import cli_insn  # noqa: E402,F401 - registers rules/decode/offsets on the group
from . import cli_scan  # noqa: E402,F401 - registers scan on the group


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name="kpanalyze")


if __name__ == "__main__":
    main()
