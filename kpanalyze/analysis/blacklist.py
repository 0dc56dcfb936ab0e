"""Predict /sys/kernel/debug/kprobes/blacklist (and the arch ranges it does not list)."""

from __future__ import annotations

from ..model import KernelModel
from ..verdict import BlacklistEntry, Evidence


def _built(c) -> int:
    return 0 if c.build != "m" else 1


def predict_blacklist(model: KernelModel) -> list[BlacklistEntry]:
    """Every symbol the kernel's kprobe blacklist would cover on this arch and config."""
    hooks = model.hooks
    if not hooks.supports_kprobes:
        return []
    out: dict[str, BlacklistEntry] = {}

    def add(name, reason_id, ev, in_debugfs, dep, build="y"):
        # Module code joins the debugfs list only while the module is loaded.
        if name not in out:
            out[name] = BlacklistEntry(name, reason_id, ev, in_debugfs and build != "m", dep)

    cands = model.candidates_many(model.registrations)
    for name, regs in model.registrations.items():
        # NOKPROBE_SYMBOL of a name with no definition here is skipped by the kernel too.
        present = [c for c in cands.get(name, []) if not c.excluded]
        if not present:
            continue
        reg, active = regs[0]
        dep = active is None or any(c.config_dependent for c in present)
        add(name, "nokprobe-symbol", Evidence(reg.path, reg.line), True, dep, min(present, key=_built).build)
    sections = hooks.sections
    for sym in model.index.asm_in_sections(tuple(sections)):
        if not sym.is_function or not model.on_arch(sym.path):
            continue
        cand = model._candidate_asm(sym)
        if cand.excluded:
            continue
        rule = sections[sym.section]
        add(sym.name, rule.reason_id, Evidence(sym.path, sym.line), rule.in_debugfs, cand.config_dependent,
            cand.build)
    keywords = {"noinstr", "__kprobes", "__irq_entry", "__exception_irq_entry", "__idmap"}
    keywords |= set(model.spec.keyword_sections)
    for kw in sorted(keywords):
        for fn in model.index.functions_with_keyword(kw):
            if not model.on_arch(fn.path):
                continue
            cand = model._candidate_c(fn, 0, 1, False)  # judged as present: blacklist lists symbols
            if cand.excluded or (cand.inline and cand.inline.reason_id in ("always-inline", "static-inline")):
                continue
            section, _ = model.section_of(cand)
            rule = sections.get(section)
            if rule is None:
                continue
            add(fn.name, rule.reason_id, Evidence(fn.path, fn.line), rule.in_debugfs, cand.config_dependent,
                cand.build)
    return sorted(out.values(), key=lambda e: e.name)
