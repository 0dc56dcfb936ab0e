"""KernelModel: the facts of one tree joined for one arch and an optional config.

It answers "which definitions of this name exist on this arch, are they built, and
what do their annotations and Makefiles say" — the analyses turn that into verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from .analysis.inlining import InlineEstimate, estimate
from .annotations import annotation
from .archhooks import ArchHooks, read_arch_hooks
from .arches import arch_spec
from .buildmap import BuildMap
from .conditions import evaluate_all
from .parsing.object_macros import object_macros
from .facts import AsmSymbol, FlagRemoval, FunctionDef, Registration
from .verdict import Evidence

# Keywords that are never annotation macros (skip the #define lookup).
_PLAIN = frozenset({"static", "extern", "const", "volatile", "asmlinkage", "__visible", "__used",
                    "__maybe_unused", "__always_unused", "__must_check", "__cold", "__hot", "__weak",
                    "__attribute_const__", "__pure", "__noreturn", "noreturn", "__latent_entropy",
                    "unsigned", "signed", "struct", "enum", "union"})


def split_annotation_body(body: str) -> list[str]:
    """`noinline notrace __attribute((__section__(".x")))` -> tokens, groups kept whole."""
    out, cur, depth = [], "", 0
    for ch in body:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch.isspace() and depth == 0:
            if cur:
                out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        out.append(cur)
    return out


def split_clone(name: str) -> tuple[str, str]:
    """`foo.isra.0` -> ("foo", ".isra.0"); names starting with '.' are asm labels, kept."""
    if "." not in name[1:]:
        return name, ""
    i = name.index(".", 1)
    return name[:i], name[i:]


@dataclass(frozen=True)
class Candidate:
    """One definition of a name that may end up in kallsyms on this arch."""

    name: str
    path: str
    line: int
    fn: FunctionDef | None  # C definition (possibly macro-generated)
    asm: AsmSymbol | None  # assembler label
    build: str  # "y", "m", "n", "unknown", "unlisted", "header"
    build_evidence: tuple[Evidence, ...]
    build_conditions: tuple[str, ...]
    cond: bool | None  # the enclosing #if conditions under the config (None: unknown)
    inline: InlineEstimate | None  # C only
    ftrace_removed: FlagRemoval | None

    @property
    def excluded(self) -> bool:
        return self.build == "n" or self.cond is False

    @property
    def p_absent(self) -> float:
        if self.excluded:
            return 1.0
        if self.asm is not None:
            return 0.0 if self.asm.is_function else 1.0
        return self.inline.p_absent if self.inline else 0.0

    @property
    def keywords(self) -> tuple[str, ...]:
        return self.fn.keywords if self.fn else ()

    @property
    def config_dependent(self) -> bool:
        return self.build == "unknown" or self.cond is None

    @property
    def evidence(self) -> Evidence:
        return Evidence(self.path, self.line)


class KernelModel:
    """Facts of one indexed tree for one arch (and config, or None)."""

    def __init__(self, tree, index, arch: str, config=None):
        self.tree = tree
        self.index = index
        self.arch = arch
        self.config = config
        self.spec = arch_spec(arch)
        self._kw_cache: dict[str, tuple[str, ...]] = {}

    # -- per-arch knowledge read from the tree ------------------------------------
    @cached_property
    def hooks(self) -> ArchHooks:
        return read_arch_hooks(self.index, self.tree.read, self.arch, self.config)

    @cached_property
    def buildmap(self) -> BuildMap:
        return BuildMap(self.index.kbuild_facts(), self.arch, self.config)

    @cached_property
    def registrations(self) -> dict[str, list[tuple[Registration, bool | None]]]:
        """name -> [(registration, active)] for registrations that can apply on this arch."""
        out: dict[str, list] = {}
        for reg in self.index.registrations():
            if not self.on_arch(reg.path):
                continue
            state = self.file_state(reg.path)[0]
            if state == "n":
                continue
            active = evaluate_all(reg.conditions, self.config, self.arch,
                                  **({"assembly": True} if reg.path.endswith(".S") else {}))
            if active is False:
                continue
            if state == "unknown" and active is True:
                active = None
            out.setdefault(reg.name, []).append((reg, active))
        return out

    @cached_property
    def trace_events(self):
        from .generated import TraceEvents, trace_macro_uses

        return TraceEvents.from_uses(trace_macro_uses(self.index))

    def generated_origin(self, name: str):
        """How a syscall or tracepoint macro family generates `name`, if it does."""
        from .generated import syscall_origin, tracepoint_origin

        return (syscall_origin(self.index, name, self.spec.syscall_prefixes,
                               self.spec.compat_syscall_prefixes, self.on_arch)
                or tracepoint_origin(self.trace_events, name, self.on_arch))

    # -- config semantics ---------------------------------------------------------
    def config_flag(self, symbol: str, default: bool) -> bool:
        if self.config is None:
            return default
        return bool(self.config.enabled(symbol))

    @cached_property
    def tracefs_checks_notrace(self) -> bool:
        """trace_kprobe refuses notrace functions only with DYNAMIC_FTRACE and
        without KPROBE_EVENTS_ON_NOTRACE (kernel/trace/trace_kprobe.c)."""
        return self.config_flag("DYNAMIC_FTRACE", True) and not self.config_flag(
            "KPROBE_EVENTS_ON_NOTRACE", False)

    # -- files ---------------------------------------------------------------------
    def on_arch(self, path: str) -> bool:
        if not path.startswith("arch/"):
            return True
        return path.startswith(f"arch/{self.arch}/")

    def file_state(self, path: str) -> tuple[str, tuple[Evidence, ...], tuple[str, ...]]:
        if path.endswith(".h"):
            return "header", (), ()
        st = self.buildmap.status(path)
        ev = tuple(Evidence(p, l) for p, l in st.evidence)
        return st.state, ev, tuple(st.conditions)

    # -- candidates -----------------------------------------------------------------
    def candidates_many(self, names) -> dict[str, list[Candidate]]:
        names = list(dict.fromkeys(names))
        fns = self.index.functions_many(names)
        asms = self.index.asm_symbols_many(names)
        refs = self.index.refs_many(names)
        out: dict[str, list[Candidate]] = {}
        for name in names:
            uses = {}
            for r in refs.get(name, ()):
                c, t = uses.get(r.path, (0, 0))
                uses[r.path] = (c + r.calls, t + r.address_taken)
            regs = {reg.path for reg, _ in self.registrations.get(name, ())}
            cands = []
            for fn in fns.get(name, ()):
                if not self.on_arch(fn.path):
                    continue
                calls, taken = uses.get(fn.path, (0, 0))
                cands.append(self._candidate_c(fn, calls, taken, fn.path in regs))
            for sym in asms.get(name, ()):
                if self.on_arch(sym.path):
                    cands.append(self._candidate_asm(sym))
            out[name] = cands
        return out

    def candidates(self, name: str) -> list[Candidate]:
        return self.candidates_many([name])[name]

    def other_arch_definitions(self, name: str) -> list[Evidence]:
        return [Evidence(f.path, f.line) for f in self.index.functions(name) if not self.on_arch(f.path)] + [
            Evidence(a.path, a.line) for a in self.index.asm_symbols(name) if not self.on_arch(a.path)]

    # -- annotation macros defined by the tree itself ------------------------------
    def expand_keyword(self, kw: str, depth: int = 0) -> tuple[str, ...]:
        """Known annotations an unknown keyword macro stands for (`__init_memblock` ->
        `__meminit` when !ARCH_KEEP_MEMBLOCK), read from its #define in the tree."""
        if kw in self._kw_cache:
            return self._kw_cache[kw]
        self._kw_cache[kw] = ()  # recursion guard
        out: list[str] = []
        if depth < 5:
            best = None
            for m in self._annotation_defs(kw):
                active = evaluate_all(m.conditions, self.config, self.arch)
                if active is not False and (best is None or (active and not best[0])):
                    best = (bool(active), m)
            if best is not None:
                for tok in split_annotation_body(best[1].body):
                    if annotation(tok) is not None:
                        out.append(tok)
                    else:
                        out.extend(self.expand_keyword(tok, depth + 1))
        self._kw_cache[kw] = tuple(out)
        return self._kw_cache[kw]

    def _annotation_defs(self, kw: str):
        """#defines of an attribute macro on this arch: keyword aliases the extractor
        kept (any case), else the object-like #defines of the headers naming it."""
        aliases = [m for m in self.index.macro_defs(kw) if not m.params and self.on_arch(m.path)]
        if aliases:
            return aliases
        if not (kw[:1] == "_" or kw.islower()):
            return []
        return [m for path in self.index.is_macro(kw) if self.on_arch(path) and path.endswith(".h")
                for m in object_macros(path, self.tree.read(path) or b"", {kw})]

    def expand_keywords(self, keywords: tuple[str, ...]) -> tuple[str, ...]:
        out = list(keywords)
        for kw in keywords:
            if kw not in _PLAIN and annotation(kw) is None:
                out.extend(k for k in self.expand_keyword(kw) if k not in out)
        return tuple(out)

    def _candidate_c(self, fn: FunctionDef, calls: int, taken: int, registered: bool) -> Candidate:
        state, ev, conds = self.file_state(fn.path)
        cond = evaluate_all(fn.conditions, self.config, self.arch)
        kws = self.expand_keywords(fn.keywords)
        if self.config is not None and not self.config.enabled("KPROBES") and "nokprobe_inline" in kws:
            kws = tuple("inline" if k == "nokprobe_inline" else k for k in kws)
        if kws != fn.keywords:
            fn = replace(fn, keywords=kws)
        return Candidate(
            name=fn.name, path=fn.path, line=fn.line, fn=fn, asm=None, build=state,
            build_evidence=ev, build_conditions=conds, cond=cond,
            inline=estimate(fn, calls, taken, registered),
            ftrace_removed=self.buildmap.ftrace_removed(fn.path) if fn.path.endswith(".c") else None,
        )

    def _candidate_asm(self, sym: AsmSymbol) -> Candidate:
        state, ev, conds = self.file_state(sym.path)
        cond = evaluate_all(sym.conditions, self.config, self.arch, assembly=True)
        return Candidate(
            name=sym.name, path=sym.path, line=sym.line, fn=None, asm=sym, build=state,
            build_evidence=ev, build_conditions=conds, cond=cond, inline=None, ftrace_removed=None,
        )

    # -- annotations -----------------------------------------------------------------
    def section_of(self, cand: Candidate) -> tuple[str, str]:
        """(section, keyword that put it there) for a candidate; ("", "") for .text."""
        if cand.asm is not None:
            return cand.asm.section, cand.asm.section
        for kw in cand.keywords:
            if kw in self.spec.keyword_sections:
                sec = self.spec.keyword_sections[kw]
                if sec:
                    return sec, kw
                continue
            ann = annotation(kw)
            if ann and ann.section:
                if ann.config and not self.config_flag(ann.config, True):
                    continue
                return ann.section, kw
        return "", ""

    def notrace_cause(self, cand: Candidate) -> tuple[str, Evidence] | None:
        """Why this definition has no ftrace site, or None if it has one."""
        if cand.asm is not None:
            return "assembler code has no ftrace call site", cand.evidence
        for kw in cand.keywords:
            ann = annotation(kw)
            if ann and ann.notrace:
                if ann.config and not self.config_flag(ann.config, True):
                    continue
                return f"`{kw}` implies notrace", cand.evidence
        if cand.ftrace_removed is not None:
            fr = cand.ftrace_removed
            return (f"{fr.path} builds it without ftrace flags ({fr.flags})", Evidence(fr.path, fr.line))
        return None
