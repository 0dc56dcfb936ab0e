"""From a KernelModel to Verdicts: the refusal rules of KPROBE_RULES.md §1-§5.

Reasons are collected in the kernel's runtime order, so the first decisive reason
is the one registration reports (its errno is the verdict's expected_errno):
  tracefs: symbol lookup, %return entry check, uniqueness, notrace, then register_k(ret)probe
  module : symbol lookup, kretprobe entry check + kretprobe blacklist, then register_kprobe
  register_kprobe: text check (init freed), blacklists.
"""

from __future__ import annotations

from ..model import Candidate, KernelModel, split_clone
from ..reasons import CATALOG
from ..verdict import (BLOCKED, MISSING, PROBEABLE, UNCERTAIN, Evidence, ProbePoint, Reason,
                       Verdict)

# Above this a definition counts as "has no symbol"; between the two, existence is uncertain.
ABSENT = 0.9
MAYBE = 0.15


def judge_many(model: KernelModel, points: list[ProbePoint], kinds, via: str, binary=None) -> list[Verdict]:
    """`binary`: an analysis.instruction.BinaryContext when a symbol table (and image) is given."""
    bases = {p.symbol: split_clone(p.symbol)[0] for p in points}
    cands = model.candidates_many(set(bases.values()))
    data = model.index.data_many(set(bases.values())) if model.config_flag("KALLSYMS_ALL", False) else {}
    out = []
    for p in points:
        base = bases[p.symbol]
        for kind in kinds:
            out.append(judge(model, p, kind, via, cands.get(base, []), data.get(base, []), binary))
    return out


def judge(model: KernelModel, point: ProbePoint, kind: str, via: str,
          cands: list[Candidate], data_syms=(), binary=None) -> Verdict:
    v = _Builder(model, point, kind, via)
    v.binary = binary
    hooks = model.hooks
    if not hooks.supports_kprobes:
        return v.finish_blocked(Reason("arch-no-kprobes",
                                       f"arch/{model.arch} does not select HAVE_KPROBES: kprobes cannot be enabled",
                                       _ev(hooks.kprobes_evidence)))
    cfg = model.config
    if cfg is not None and not cfg.enabled("KPROBES"):
        return v.finish_blocked(Reason("kprobes-disabled", "CONFIG_KPROBES is not set in the given config"))
    if kind == "kretprobe" and (not hooks.supports_kretprobes or (cfg is not None and not cfg.enabled("KRETPROBES"))):
        return v.finish_blocked(Reason("kprobes-disabled", "return probes are not available (no KRETPROBES)"))

    base, suffix = split_clone(point.symbol)
    if suffix:
        v.info("clone-name", f"{point.symbol} is a compiler clone of {base}: it exists only in the binary, "
                             f"and it inherits {base}'s blacklisting", confidence="medium")

    symbols = binary.symbols.lookup(point.symbol) if binary is not None else None
    if symbols == []:
        return _not_in_symbol_table(v, model, point, kind, via, cands, data_syms, binary)
    v.symbols = symbols
    present = [c for c in cands if not c.excluded]
    if not present:
        if symbols:
            return _binary_only(v, model, point, kind, via, symbols)
        return _missing(v, model, base, cands)
    present = _drop_overridden_weak(v, present)
    primary = min(present, key=_rank)
    v.definition = primary.evidence
    if any(c.config_dependent for c in present):
        v.config_dependent = True
    if primary.build == "unlisted":
        v.confidence_at_most("medium", f"{primary.path} is not named by any Makefile line (an #included file?)")
    if primary.build == "m":
        v.info_note(f"built as a module ({primary.path}): probe-able only while the module is loaded")

    # Does a symbol exist at all?
    p_absent = primary.p_absent
    est = primary.inline
    if suffix or symbols:
        # A clone name comes from a binary's symbol table, and a name found in the given
        # symbol table exists: whether the compiler inlines it elsewhere does not matter.
        p_absent, est = 0.0, None
    if "__exit" in primary.keywords and not (model.spec.exit_text_kept and model.config_flag("KALLSYMS_ALL", True)):
        return v.finish_missing(Reason("exit-discarded",
                                       "built-in __exit code is discarded (or not in kallsyms) on this arch/config",
                                       (primary.evidence,)))
    if est is not None and p_absent >= ABSENT:
        if_present = _blocking(v.fork(), model, point, kind, via, primary, present, data_syms)
        return v.finish_missing(Reason(est.reason_id, est.why, (primary.evidence,)),
                                if_present=if_present, p_absent=p_absent)
    uncertain = est is not None and p_absent >= MAYBE

    reasons = _blocking(v, model, point, kind, via, primary, present, data_syms)
    if reasons:
        if uncertain:
            v.info(est.reason_id, f"{est.why} (P(no symbol) ~ {p_absent:.0%}); if it has one, it is refused",
                   (primary.evidence,))
        return v.finish(BLOCKED)
    if uncertain:
        return v.finish_uncertain(Reason(est.reason_id, f"{est.why} (P(no symbol) ~ {p_absent:.0%})",
                                         (primary.evidence,)), p_absent)
    return v.finish(PROBEABLE)


def _blocking(v, model: KernelModel, point, kind, via, primary: Candidate, present, data_syms) -> list[Reason]:
    """Decisive refusals for a symbol that exists, in runtime order; also recorded on v."""
    hooks, spec = model.hooks, model.spec
    off = point.offset
    base, suffix = split_clone(point.symbol)
    if kind == "kretprobe" and off:
        v.add(Reason("kretprobe-not-entry", f"a return probe needs the function entry, not +{off:#x}"))
    if off and off % spec.insn_align:
        v.add(Reason("misaligned", f"offset {off:#x} is not a multiple of {spec.insn_align} on {model.arch}"))
    if via == "tracefs":
        if v.symbols is not None:
            # trace_kprobe counts every symbol of the name, of any type (number_of_same_symbols)
            dups = [Evidence(v.binary.symbols_source, 0, f"{s.name} at {s.address:#x} ({s.type})")
                    for s in v.binary.symbols.symbols(point.symbol)]
        else:
            dups = _duplicates(model, present, data_syms) if not suffix else []
        if len(dups) > 1:
            v.add(Reason("non-unique", f"kallsyms would hold {len(dups)} symbols named {point.symbol}",
                         tuple(dups[:6])))
        traced = _binary_traced(v, base, suffix) if model.tracefs_checks_notrace else None
        if traced is not None:
            if not traced[0]:
                v.add(Reason("notrace", f"no ftrace site: {traced[1]}", (Evidence(v.binary.source, 0, point.symbol),)))
        elif model.tracefs_checks_notrace:
            cause = model.notrace_cause(primary)
            if cause is None and suffix.endswith(".cold") and suffix != ".cold":
                # trace_kprobe falls back to the base name only if a symbol of that name
                # exists; for foo.isra.0.cold the clone usually replaced foo entirely.
                cause = (f"{point.symbol} is the cold part of a clone: it has no ftrace call, and no "
                         f"symbol named {base} is likely to exist for the fallback", primary.evidence)
                v.confidence_at_most("medium")
            if cause:
                v.add(Reason("notrace", f"no ftrace site: {cause[0]}", (cause[1],)))
    if kind == "kretprobe":
        ev = hooks.kretprobe_blacklist.get(base)
        if ev:
            v.add(Reason("kretprobe-blacklist", f"{model.arch} refuses return probes on this function", (ev,)))
    # register_kprobe: kernel text check, then the blacklists
    init_kw = next((k for k in primary.keywords if k in ("__init", "__exit", "__meminit")), "")
    if init_kw == "__meminit":
        # .meminit.text stays in .text iff MEMORY_HOTPLUG (vmlinux.lds.h MEM_KEEP)
        if model.config is None:
            v.add(Reason("init-text", "`__meminit` text is freed after boot unless CONFIG_MEMORY_HOTPLUG",
                         (primary.evidence,)), conditional=True)
        elif not model.config.enabled("MEMORY_HOTPLUG"):
            v.add(Reason("init-text", "`__meminit` text is freed after boot (no CONFIG_MEMORY_HOTPLUG)",
                         (primary.evidence,)))
    elif init_kw:
        v.add(Reason("init-text", f"`{init_kw}` text is freed after boot", (primary.evidence,)))
    for reg, active in model.registrations.get(base, ()):
        gen = f" generated by {reg.via_macro}" if reg.via_macro else ""
        evs = (Evidence(reg.path, reg.line),) + ((Evidence(reg.macro_path, reg.macro_line),) if reg.macro_path else ())
        v.add(Reason("nokprobe-symbol", f"{reg.macro}({reg.name}){gen}", evs), conditional=active is None)
        break  # the first registration decides
    section, why = model.section_of(primary)
    rule = hooks.sections.get(section)
    if rule is not None:
        gen = f", generated by {primary.fn.via_macro}" if primary.fn is not None and primary.fn.via_macro else ""
        evs = (primary.evidence,)
        if primary.fn is not None and primary.fn.macro_path:
            evs += (Evidence(primary.fn.macro_path, primary.fn.macro_line),)
        v.add(Reason(rule.reason_id, f"in {section} (`{why}`{gen}), blacklisted by {rule.evidence}",
                     evs + (rule.evidence,)))
    if v.symbols:
        _instruction_checks(v, point)
    elif off and model.spec.ftrace_site_offset == off and not hooks.kprobes_on_ftrace \
            and model.config_flag("FUNCTION_TRACER", True):
        v.info("offset-binary", f"+{off:#x} is usually the ftrace call site on {model.arch}, refused "
                                "without KPROBES_ON_FTRACE; confirm with the kernel image", confidence="medium")
    elif off:
        v.info("offset-binary", "whether this offset is an instruction boundary or a refused instruction "
                                "needs the kernel image", confidence="medium")
    return list(v.decisive)


def _binary_traced(v: "_Builder", base: str, suffix: str):
    """(has an ftrace site?, why) from the image's ftrace table, as trace_kprobe decides:
    no site in the function -> notrace, except a clone whose base function has one.
    None when no ftrace table was read."""
    if not v.symbols or v.binary is None or v.binary.artifacts.image is None:
        return None
    ctx = v.binary
    has = ctx.has_ftrace_site(v.symbols[0])
    if has is None or has:
        return None if has is None else (True, "")
    if suffix:
        for b in ctx.symbols.lookup(base):
            if ctx.has_ftrace_site(b):
                return True, ""
    return False, f"the image's ftrace table (__mcount_loc) has no call site in {v.symbols[0].name}"


def _instruction_checks(v: "_Builder", point: ProbePoint) -> None:
    """The refusals read from the image at symbol+offset (analysis/instruction.py)."""
    from .instruction import check_at

    if v.binary.artifacts.image is None:
        if point.offset:
            v.info("offset-binary", "give the kernel image (--image/--vmlinux) to check the instruction "
                                    "at this offset", confidence="medium")
        return
    found = check_at(v.binary, v.symbols[0], point.offset)
    for r in found.reasons:
        v.add(r)
    v.infos.extend(found.infos)
    v.instruction = found.instruction
    if found.uncertain and not v.decisive:
        v.undecided = found.guess or True
        v.confidence_at_most("medium")


def _not_in_symbol_table(v: "_Builder", model, point, kind, via, cands, data_syms, binary) -> Verdict:
    """The given symbol table decides existence; the source says why the name is missing."""
    base = split_clone(point.symbol)[0]
    clones = [s.name for s in binary.symbols.clones(base) if s.name != point.symbol]
    if binary.symbols.lookup(base) and base != point.symbol:
        clones.insert(0, base)
    v.suggest(*clones)
    source = judge(model, point, kind, via, cands, data_syms)
    v.definition = source.definition
    why = ""
    if source.status in (MISSING, UNCERTAIN):
        first = next((r for r in source.reasons if r.id in CATALOG and CATALOG[r.id].category == "missing"), None)
        if first is not None:
            why = f"; the source says: {first.message}"
            v.info(first.id, first.message, first.evidence)
    msg = f"{binary.symbols_source} has no text symbol {point.symbol}{why}"
    if binary.names is not None and binary.artifacts.symbols.lookup(point.symbol):
        msg = (f"{point.symbol} is in {binary.symbols_source} but outside [_stext, _etext] and the init text: "
               "without CONFIG_KALLSYMS_ALL, kallsyms does not list it (scripts/kallsyms.c)")
    if clones:
        msg += f" (compiler clones to probe instead: {', '.join(clones[:4])})"
    return v.finish_missing(Reason("not-in-symbol-table", msg, (Evidence(binary.symbols_source, 0, point.symbol),)))


def _binary_only(v: "_Builder", model, point, kind, via, symbols) -> Verdict:
    """A symbol of the table with no definition the source analysis found (asm or generated)."""
    v.confidence_at_most("medium", f"{point.symbol} is in the symbol table but its definition was not found "
                                   "in the tree: only the binary checks apply")
    if kind == "kretprobe" and point.offset:
        v.add(Reason("kretprobe-not-entry", f"a return probe needs the function entry, not +{point.offset:#x}"))
    if via == "tracefs" and len(symbols) > 1:
        v.add(Reason("non-unique", f"kallsyms holds {len(symbols)} symbols named {point.symbol}",
                     tuple(Evidence(v.binary.symbols_source, 0, f"{s.address:#x}") for s in symbols[:6])))
    traced = _binary_traced(v, *split_clone(point.symbol)) if via == "tracefs" and model.tracefs_checks_notrace else None
    if traced is not None and not traced[0]:
        v.add(Reason("notrace", f"no ftrace site: {traced[1]}", (Evidence(v.binary.source, 0, point.symbol),)))
    _instruction_checks(v, point)
    return v.finish(PROBEABLE)


def _duplicates(model: KernelModel, present: list[Candidate], data_syms) -> list[Evidence]:
    """Definitions that would each give a vmlinux kallsyms symbol of this name.

    Only objects built into vmlinux count (modules add their symbols only while loaded);
    header copies and #included files are left out: whether they yield copies is [binary]."""
    seen, out = set(), []
    for c in present:
        if c.p_absent >= 0.5 or c.build not in ("y", "unknown"):
            continue
        if c.path not in seen:
            seen.add(c.path)
            out.append(c.evidence)
    for d in data_syms:
        if model.on_arch(d.path) and model.file_state(d.path)[0] == "y":
            out.append(Evidence(d.path, d.line, "variable"))
    # Several extern definitions of one name are alternatives (only one links), not duplicates.
    externs = [c for c in present if c.fn is not None and c.fn.storage != "static"]
    if len(externs) > 1 and len(externs) == len(present):
        return out[:1]
    return out


_BUILD_RANK = {"y": 0, "unknown": 1, "unlisted": 2, "header": 3, "m": 4}


def _rank(c: Candidate):
    """The definition a probe by name most likely reaches: built-in before module."""
    weak = "__weak" in c.keywords
    return (_BUILD_RANK.get(c.build, 5), c.p_absent >= 0.5, weak,
            c.fn is not None and c.fn.storage == "static", c.build == "header", c.path)


def _drop_overridden_weak(v, present: list[Candidate]) -> list[Candidate]:
    strong = [c for c in present if "__weak" not in c.keywords]
    weak = [c for c in present if "__weak" in c.keywords]
    if strong and weak:
        v.info("weak-overridden", f"the __weak definition is overridden by {strong[0].evidence}",
               tuple(c.evidence for c in weak[:3]))
        return strong
    return present


def _missing(v, model: KernelModel, base: str, cands: list[Candidate]) -> Verdict:
    if cands:
        evs = []
        for c in cands[:4]:
            evs.append(c.evidence)
            evs.extend(c.build_evidence[-1:])
        why = "; ".join(_exclusion(c) for c in cands[:3])
        return v.finish_missing(Reason("config-excluded", f"compiled out: {why}", tuple(evs)))
    gen = _generated(model, base)
    if gen is not None:
        return gen(v)
    macro = model.index.is_macro(base)
    if macro:
        return v.finish_missing(Reason("macro", f"{base} is a preprocessor macro", tuple(Evidence(p, 0) for p in macro[:3])))
    other = model.other_arch_definitions(base)
    if other:
        return v.finish_missing(Reason("other-arch", "defined only under other arches' directories", tuple(other[:3])))
    v.confidence_at_most("medium", "names generated by macros the analyzer does not expand would be missed")
    return v.finish_missing(Reason("no-definition", f"no definition of {base} on {model.arch}"))


def _exclusion(c: Candidate) -> str:
    if c.cond is False:
        return f"{c.path}:{c.line} is under #if {' && '.join(c.fn.conditions if c.fn else c.asm.conditions)}"
    conds = " && ".join(c.build_conditions) or "a disabled option"
    return f"{c.path} is not built ({conds})"


def _generated(model: KernelModel, name: str):
    """Names made by macro families the expander does not follow (generated.py)."""
    gen = model.generated_origin(name)
    if gen is None:
        return None
    use = gen.use
    ev = (Evidence(use.path, use.line, f"{use.name}({', '.join(a.strip() for a in use.args[:2])}, ...)"),)
    state = model.file_state(use.path)[0]

    def present(v, notrace_why: str = ""):
        v.definition = ev[0]
        if state == "unknown":
            v.config_dependent = True
        if state == "n":
            return v.finish_missing(Reason("config-excluded", f"{use.path} is not built", ev))
        if v.via == "tracefs" and model.tracefs_checks_notrace:
            removed = model.buildmap.ftrace_removed(use.path) if use.path.endswith(".c") else None
            if notrace_why:
                v.add(Reason("notrace", f"no ftrace site: {notrace_why}", ev))
            elif removed is not None:
                v.add(Reason("notrace", f"no ftrace site: {removed.path} builds it without ftrace flags",
                             (Evidence(removed.path, removed.line),)))
        if v.kind == "kretprobe" and v.point.offset:
            v.add(Reason("kretprobe-not-entry", "a return probe needs the function entry"))
        return v.finish(PROBEABLE)

    if gen.role in ("entry", "weak-stub"):
        return present
    if gen.role == "traceiter":
        def traceiter(v):
            v.confidence_at_most("medium", "the tracepoint is instantiated where CREATE_TRACE_POINTS includes its header")
            return present(v)
        return traceiter
    if gen.role == "class-function":
        def cls(v):
            v.confidence_at_most("medium", "generated by the TRACE_EVENT machinery of include/trace/")
            return present(v, f"`static notrace`, generated by {use.name}")
        return cls
    if gen.role in ("static-inline-helper", "static-helper"):
        def helper(v):
            v.suggest(*gen.expected)
            rid = "static-inline" if gen.role == "static-inline-helper" else "maybe-inlined"
            return v.finish_missing(Reason(rid, f"{name} is a static helper of {use.name}, usually inlined", ev),
                                    p_absent=0.8)
        return helper

    def renamed(v):
        v.suggest(*gen.expected)
        return v.finish_missing(Reason("renamed-entry", f"on {model.arch} {use.name}({use.args[0].strip()}) emits "
                                                        f"{' / '.join(gen.expected)}, not {name}", ev))
    return renamed


_CONFIDENCE_ORDER = {"high": 2, "medium": 1, "low": 0}


def _ev(e):
    return (e,) if e is not None else ()


class _Builder:
    """Collects reasons for one verdict and produces the frozen Verdict."""

    def __init__(self, model: KernelModel, point: ProbePoint, kind: str, via: str):
        self.model, self.point, self.kind, self.via = model, point, kind, via
        self.decisive: list[Reason] = []
        self.conditional: set[str] = set()
        self.infos: list[Reason] = []
        self.notes: list[str] = []
        self.suggestions: list[str] = []
        self.confidence = "high"
        self.definition: Evidence | None = None
        self.config_dependent = False
        self.binary = None  # analysis.instruction.BinaryContext
        self.symbols = None  # the symbol-table entries of the name (None: no table given)
        self.instruction = None
        self.undecided = False  # the decoder could not decide the instruction

    def fork(self) -> "_Builder":
        b = _Builder(self.model, self.point, self.kind, self.via)
        b.binary, b.symbols = self.binary, self.symbols
        return b

    def add(self, reason: Reason, conditional: bool = False):
        """A decisive reason; `conditional`: it holds only under some configs (no config given)."""
        if all(r.id != reason.id for r in self.decisive):
            self.decisive.append(reason)
            if conditional:
                self.conditional.add(reason.id)
                self.config_dependent = True

    def info(self, rid: str, message: str, evidence=(), confidence: str = ""):
        self.infos.append(Reason(rid, message, tuple(evidence), decisive=False))
        if confidence:
            self.confidence_at_most(confidence)

    def info_note(self, text: str):
        self.notes.append(text)

    def suggest(self, *names: str):
        self.suggestions.extend(n for n in names if n not in self.suggestions)

    def confidence_at_most(self, level: str, why: str = ""):
        if _CONFIDENCE_ORDER[level] < _CONFIDENCE_ORDER[self.confidence]:
            self.confidence = level
        if why:
            self.notes.append(why)

    def _verdict(self, status: str, errno: str, if_present: str = "") -> Verdict:
        if self.config_dependent and self.model.config is None:
            self.infos.append(Reason("config-dependent",
                                     "the definition, its Makefile line or its annotation depends on config; "
                                     "give --config to decide", decisive=False))
        infos = self.infos + [Reason("note", n, decisive=False) for n in self.notes]
        return Verdict(point=self.point, arch=self.model.arch, kind=self.kind, via=self.via, status=status,
                       reasons=tuple(self.decisive) + tuple(infos), expected_errno=errno,
                       confidence=self.confidence, if_present=if_present,
                       suggestions=tuple(self.suggestions), definition=self.definition,
                       config_dependent=self.config_dependent, instruction=self.instruction)

    def finish(self, status: str) -> Verdict:
        if not self.decisive:
            if self.undecided and status == PROBEABLE:
                guess = self.undecided if isinstance(self.undecided, str) else ""
                return self._verdict(UNCERTAIN, guess, "")
            return self._verdict(status, "")
        errno = CATALOG[self.decisive[0].id].errno
        if all(r.id in self.conditional for r in self.decisive):
            self.confidence_at_most("medium", "refused only under some configs: give --config to decide")
            return self._verdict(UNCERTAIN, errno, "blocked: " + ", ".join(r.id for r in self.decisive))
        return self._verdict(BLOCKED, errno)

    def finish_blocked(self, reason: Reason) -> Verdict:
        self.decisive.insert(0, reason)
        return self._verdict(BLOCKED, CATALOG[reason.id].errno)

    def finish_missing(self, reason: Reason, if_present: list[Reason] | None = None, p_absent: float = 1.0) -> Verdict:
        self.decisive = [reason]
        if p_absent < 0.99:
            self.confidence_at_most("medium")
        desc = ""
        if if_present is not None:
            desc = ("blocked: " + ", ".join(r.id for r in if_present)) if if_present else PROBEABLE
        return self._verdict(MISSING, "ENOENT", desc)

    def finish_uncertain(self, reason: Reason, p_absent: float) -> Verdict:
        self.infos.insert(0, Reason(reason.id, reason.message, reason.evidence, decisive=False))
        self.confidence_at_most("low" if 0.3 < p_absent < 0.7 else "medium")
        return self._verdict(UNCERTAIN, "ENOENT" if p_absent >= 0.5 else "", PROBEABLE)
