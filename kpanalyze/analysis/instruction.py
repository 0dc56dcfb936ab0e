"""Instruction-level refusals at symbol+offset, read from a kernel image.

The order is the kernel's (kernel/kprobes.c, register_kprobe):
  check_ftrace_location          -> ftrace site: KPROBES_ON_FTRACE or -EINVAL; inside it -EILSEQ
  check_kprobe_address_safe      -> jump label / static call / BUG site: -EINVAL
  arch_prepare_kprobe (decoder)  -> misaligned, not a boundary, refused instruction
Pure functions of (BinaryContext, symbol, offset); analysis/verdicts.py turns the
findings into the verdict.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from ..decoders.base import ACCEPTED, REJECTED, UNKNOWN, DecodeResult, FunctionBytes
from ..verdict import Evidence, Instruction, Reason

_RESERVED = {"jump_label": ("jump-label-site", "a static-key (jump label) site"),
             "static_call": ("static-call-site", "a static call site")}

# Bytes the kernel patches at an ftrace site (MCOUNT_INSN_SIZE): x86 5 (call/nop5), else one insn.
_FTRACE_INSN = {"x86": 5}


@dataclass
class BinaryContext:
    """The artifacts and the decoder for one arch, shared by every point of a run."""

    artifacts: object  # kpanalyze.binary.Artifacts
    decoder: object  # kpanalyze.decoders.base.Decoder
    arch: str
    kprobes_on_ftrace: bool
    # The names kallsyms would hold, when narrower than artifacts.symbols (a System.map of a
    # kernel without KALLSYMS_ALL); the image and its tables keep using the full table.
    names: object = None
    _fn_cache: dict = field(default_factory=dict, repr=False)
    _boot_sites: list | None = field(default=None, repr=False)

    @property
    def symbols(self):
        return self.names if self.names is not None else self.artifacts.symbols

    @property
    def symbols_source(self) -> str:
        """How evidence names the symbol table (System.map, kallsyms or the vmlinux)."""
        return str(getattr(self.symbols, "path", "") or "symbol table")

    @property
    def source(self) -> str:
        """How evidence names the image the bytes come from."""
        img = self.artifacts.image
        return str(getattr(img, "path", "") or getattr(self.symbols, "path", "") or "kernel image")

    def has_ftrace_site(self, sym) -> bool | None:
        """Does the function hold an ftrace call as a booted kernel sees it (trace_kprobe's
        __within_notrace_func)? None when the image gave no ftrace table."""
        sites = self.artifacts.sites
        if sites is None or not getattr(sites, "ftrace", None):
            return None
        return bool(sites.ftrace_in(sym.address, sym.address + self.symbols.size_of(sym), booted=True))

    def patched_at_boot(self, addr: int) -> tuple[str, int]:
        """(what rewrites the bytes at addr at boot, start of that site), or ("", 0):
        x86 alternatives and paravirt call sites, each table sorted once."""
        if self._boot_sites is None:
            sites = self.artifacts.sites
            self._boot_sites = []
            for attr, what in (("alternatives", "alternatives"), ("paravirt", "paravirt patching")):
                ranges = sorted(getattr(sites, attr, None) or ())
                if ranges:
                    self._boot_sites.append((what, [r[0] for r in ranges], ranges))
        for what, starts, ranges in self._boot_sites:
            i = bisect_right(starts, addr) - 1
            while i >= 0 and starts[i] > addr - 32:  # sites overlap rarely and are short
                if ranges[i][0] <= addr < ranges[i][1]:
                    return what, ranges[i][0]
                i -= 1
        return "", 0

    def function(self, sym) -> tuple[FunctionBytes, list[int]]:
        """The symbol's bytes and its instruction starts (cached per symbol)."""
        key = (sym.name, sym.address)
        if key not in self._fn_cache:
            fn = self.artifacts.image.function_bytes(sym, self.symbols.size_of(sym))
            self._fn_cache[key] = (fn, self.decoder.boundaries(fn))
            if len(self._fn_cache) > 4096:
                self._fn_cache.pop(next(iter(self._fn_cache)))
        return self._fn_cache[key]


@dataclass(frozen=True)
class InsnFindings:
    reasons: tuple[Reason, ...]  # decisive, in runtime order
    infos: tuple[Reason, ...]
    instruction: Instruction | None
    uncertain: bool = False  # the decoder could not decide
    guess: str = ""  # when uncertain: the errno most likely returned ("" = succeeds)


def check_at(ctx: BinaryContext, sym, offset: int) -> InsnFindings:
    """Every instruction-level refusal for a probe at sym.address + offset."""
    syms, sites = ctx.symbols, ctx.artifacts.sites
    addr = sym.address + offset
    infos: list[Reason] = []
    size = syms.size_of(sym)
    fn_sym, fn_off = sym, offset
    if offset >= size:
        inner = syms.containing(addr)
        if inner is None:
            return InsnFindings((), (Reason("insn-unknown", f"{sym.name}+{offset:#x} is beyond the end of {sym.name} "
                                            f"(size {size:#x}) and outside every known symbol", decisive=False),),
                                None, uncertain=True)
        fn_sym, fn_off = inner, addr - inner.address
        infos.append(Reason("note", f"+{offset:#x} is beyond the end of {sym.name} (size {size:#x}): "
                                    f"the address is {inner.name}+{fn_off:#x}", decisive=False))
    fn, _starts = ctx.function(fn_sym)
    where = _binary_evidence(ctx, addr)
    reasons: list[Reason] = []

    # check_ftrace_location
    ftrace = _covering(sites.ftrace, addr, _FTRACE_INSN.get(ctx.arch, 4)) if sites else None
    if ftrace is not None:
        if ftrace != addr:
            reasons.append(Reason("not-insn-boundary", f"inside the ftrace call at {sym.name}+{ftrace - sym.address:#x}",
                                  where))
        elif ctx.kprobes_on_ftrace:
            infos.append(Reason("note", "the ftrace call site: the kprobe is ftrace-based, so the instruction is not "
                                        "decoded (arch_prepare_kprobe_ftrace)", decisive=False))
            return InsnFindings(tuple(reasons), tuple(infos), _instruction(ctx, fn, fn_off, offset, None))
        else:
            reasons.append(Reason("ftrace-site", f"{sym.name}+{offset:#x} is the ftrace call site and {ctx.arch} has "
                                                 "no KPROBES_ON_FTRACE", where))
    # check_kprobe_address_safe
    patched, site_start = "", 0
    if sites is not None:
        patched_site = sites.reserved(addr)
        if patched_site:
            rid, what = _RESERVED[patched_site]
            reasons.append(Reason(rid, f"{sym.name}+{offset:#x} is inside {what} the kernel patches at run time",
                                  where))
        if addr in sites.bugs:
            reasons.append(Reason("bug-site", f"{sym.name}+{offset:#x} is a BUG()/WARN() trap (__bug_table)", where))
        if ctx.arch == "arm64" and addr in getattr(sites, "extable", ()):
            reasons.append(Reason("extable-site", "the instruction has an exception-table entry", where))
        patched, site_start = ctx.patched_at_boot(addr)
        if patched and site_start != addr:
            # Inside a site the boot-time rewrite replaces: the replacement has other
            # instruction lengths, so this is most likely not a boundary at run time.
            infos.append(Reason("insn-unknown", f"{sym.name}+{offset:#x} is inside a site rewritten at boot "
                                                f"({patched}, starts at {site_start:#x}): the run-time instruction "
                                                "boundaries depend on the CPU; most likely not a boundary",
                                decisive=False))
            return InsnFindings(tuple(reasons), tuple(infos), _instruction(ctx, fn, fn_off, offset,
                                                                          ctx.decoder.decode_at(fn, fn_off)),
                                uncertain=not reasons, guess="EILSEQ")
    # arch_prepare_kprobe
    res = ctx.decoder.decode_at(fn, fn_off)
    insn = _instruction(ctx, fn, fn_off, offset, res)
    uncertain = False
    if res.status == REJECTED and patched and res.cause != "misaligned":
        uncertain = True
        infos.append(Reason("insn-unknown", _decoder_message(res, sym.name, offset) + f", but the site is rewritten "
                                            f"at boot ({patched}): the run-time instruction depends on the CPU and "
                                            "hypervisor (usually one that is accepted)", res.evidence or where,
                            decisive=False))
    elif res.status == REJECTED:
        reasons.append(Reason(_reason_id(res), _decoder_message(res, sym.name, offset), res.evidence or where))
    elif res.status == UNKNOWN:
        uncertain = True
        what = "; ".join(res.unsupported) or res.decided_by or "unknown"
        infos.append(Reason("insn-unknown", f"the decoder could not decide: {what}", res.evidence, decisive=False))
    return InsnFindings(tuple(reasons), tuple(infos), insn, uncertain)


def _reason_id(res: DecodeResult) -> str:
    cause = getattr(res, "cause", "")
    if cause == "misaligned":
        return "misaligned" if res.errno != "EILSEQ" else "not-insn-boundary"
    if cause == "boundary" or res.errno == "EILSEQ":
        return "not-insn-boundary"
    if cause == "atomic":
        return "atomic-window"
    if res.errno == "EOPNOTSUPP":
        return "insn-unsupported"
    return "insn-rejected"


def _decoder_message(res: DecodeResult, name: str, offset: int) -> str:
    what = f" `{res.mnemonic}`" if res.mnemonic else f" {res.encoding:#x}"
    by = f": {res.decided_by}" if res.decided_by else ""
    return f"{name}+{offset:#x}{what} ({res.mode}) refused{by}"


def _instruction(ctx: BinaryContext, fn: FunctionBytes, fn_off: int, offset: int,
                 res: DecodeResult | None) -> Instruction:
    length = res.length if res is not None and res.length else min(4, len(fn.data) - fn_off)
    raw = fn.data[fn_off:fn_off + max(length, 0)]
    if res is None:
        outcome = "not decoded (ftrace-based)"
    elif res.status == ACCEPTED:
        outcome = f"accepted ({res.how})" if res.how else "accepted"
    else:
        outcome = res.status
    return Instruction(address=fn.address + fn_off, offset=offset, bytes=raw.hex(),
                       mode=res.mode if res is not None else "", mnemonic=res.mnemonic if res is not None else "",
                       decoder=outcome, decided_by=res.decided_by if res is not None else "")


def _binary_evidence(ctx: BinaryContext, addr: int) -> tuple[Evidence, ...]:
    return (Evidence(ctx.source, 0, f"address {addr:#x}"),)


def _covering(sites, addr: int, width: int) -> int | None:
    """The site whose `width` bytes contain addr (sites: a set of addresses)."""
    for s in range(addr, addr - width, -1):
        if s in sites:
            return s
    return None
