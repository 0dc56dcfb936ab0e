"""CLI commands about instructions: `rules`, `decode`, `offsets`, and the binary-artifact
options that `check` shares. Registered on the main group by cli.py; no analysis here."""

from __future__ import annotations


import click

from .cli import (EXIT_NOT_PROBEABLE, EXIT_OK, _binary_options, _config_option, _format_option,
                  _kernel_option, _no_progress_option, _progress, cli)
from .errors import InputError

RULES_EPILOG = """\b
Examples:
  kpanalyze rules --arch arm64
  kpanalyze rules --arch arm --kernel ~/src/linux --format json

Every rule is read from the decoder sources of the tree (decode tables,
predicate macros, decision functions), with the file:line it comes from."""


@cli.command(epilog=RULES_EPILOG)
@click.option("--arch", required=True, metavar="ARCH", help="The arch whose kprobe decoder to read.")
@_kernel_option
@_config_option
@_format_option
def rules(arch, kernel, config, fmt) -> None:
    """The instruction classes the arch's kprobe decoder refuses or handles specially."""
    from . import api
    from .render import insn as render

    dec = api.decoder(arch, kernel=kernel, config=config)
    entries = dec.rules()
    if fmt == "json":
        click.echo(render.rules_json(entries, arch=dec.arch, kernel=str(kernel or api.default_kernel())), nl=False)
    else:
        click.echo(render.rules_text(entries, dec.arch), nl=False)


DECODE_EPILOG = """\b
Examples:
  kpanalyze decode --arch arm64 d53b4220 d5384100 d503233f
  kpanalyze decode --arch arm e92d41f0 e1910f9f
  kpanalyze decode --arch arm --thumb b510 e8500f00
  kpanalyze decode --arch riscv 8082 00000297
  kpanalyze decode --arch x86 'ff 50 08' 55

ENCODING is a hex word as the arch writes it (arm64/arm/riscv: the
instruction value; Thumb-2 32-bit: first halfword then second, e.g.
e92d4ff0), or for x86 the bytes in memory order ('ff d0' or ffd0).

\b
Exit codes:
  0  every instruction is accepted
  1  at least one is rejected or could not be decided
  2  usage or input error"""


@cli.command(epilog=DECODE_EPILOG)
@click.argument("encodings", nargs=-1, required=True, metavar="ENCODING...")
@click.option("--arch", required=True, metavar="ARCH", help="The arch whose kprobe decoder to run.")
@click.option("--thumb", is_flag=True, help="arm: the encodings are Thumb (T16 or T32), not ARM.")
@_kernel_option
@_config_option
@_format_option
@click.option("-v", "--verbose", is_flag=True, help="Show the path through the tables/predicates.")
def decode(encodings, arch, thumb, kernel, config, fmt, verbose) -> None:
    """Would the arch's kprobe decoder accept these instructions?"""
    from . import api
    from .render import insn as render

    dec = api.decoder(arch, kernel=kernel, config=config)
    results = [_decode_one(dec, e, thumb) for e in encodings]
    if fmt == "json":
        click.echo(render.decode_json(results, arch=dec.arch, kernel=str(kernel or api.default_kernel())), nl=False)
    else:
        click.echo(render.decode_text(results, verbose=verbose), nl=False)
    click.get_current_context().exit(EXIT_OK if all(r.accepted for r in results) else EXIT_NOT_PROBEABLE)


def _decode_one(dec, text: str, thumb: bool):
    raw = text.strip().lower().replace(" ", "").replace("_", "")
    if raw.startswith("0x"):
        raw = raw[2:]
    if not raw or any(c not in "0123456789abcdef" for c in raw) or len(raw) > 32:
        raise InputError(f"malformed encoding {text!r}: expected hex digits (e.g. d53b4220)")
    if dec.arch == "x86":
        if len(raw) % 2:
            raise InputError(f"malformed x86 encoding {text!r}: give whole bytes (e.g. 'ff 50 08')")
        return dec.decode_bytes(bytes.fromhex(raw))
    value = int(raw, 16)
    if dec.arch == "arm":
        if thumb:
            mode = "t16" if len(raw) <= 4 else "t32"
            if mode == "t16" and value >= 0xE800:
                raise InputError(f"{text}: a halfword >= 0xe800 starts a 32-bit Thumb instruction; give both halfwords")
            return dec.decode(value, mode=mode)
        if len(raw) > 8:
            raise InputError(f"malformed ARM encoding {text!r}: at most 8 hex digits")
        return dec.decode(value, mode="arm")
    if thumb:
        raise InputError("--thumb only applies to --arch arm")
    return dec.decode(value)


OFFSETS_EPILOG = """\b
Examples:
  kpanalyze offsets tcp_retransmit_skb --arch x86 --kernel ~/src/linux \\
      --image /boot/vmlinuz-6.1.0-50-amd64 --kallsyms kallsyms.txt
  kpanalyze offsets do_sys_open --arch arm64 --vmlinux vmlinux-6.1.0-50-arm64 --format json

Like 'perf probe -L', but for kprobe feasibility: one line per instruction
of the function with the verdict of a kprobe at that offset (the function-
level reasons, then the instruction's own: ftrace site, jump label, BUG
trap, not a boundary, refused by the decoder)."""


@cli.command(epilog=OFFSETS_EPILOG)
@click.argument("symbol")
@click.option("--arch", required=True, metavar="ARCH", help="The arch of the kernel image.")
@_kernel_option
@_config_option
@_binary_options
@click.option("--via", type=click.Choice(["tracefs", "module"]), default="tracefs", show_default=True,
              help="The front end (as for check).")
@_format_option
@_no_progress_option
def offsets(symbol, arch, kernel, config, vmlinux, image, system_map, kallsyms, via, fmt, no_progress) -> None:
    """A kprobe verdict for every instruction offset of SYMBOL."""
    from . import api
    from .render import insn as render

    result = api.offsets(symbol, arch, kernel=kernel, config=config, vmlinux=vmlinux, image=image,
                         system_map=system_map, kallsyms=kallsyms, via=via, progress=_progress(no_progress))
    if fmt == "json":
        click.echo(render.offsets_json(result, arch=arch, symbol=symbol), nl=False)
    else:
        click.echo(render.offsets_text(result), nl=False)
    click.get_current_context().exit(result.exit_code)
