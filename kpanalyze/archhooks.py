"""Read an arch's kprobe hooks from the tree being analyzed.

* HAVE_KPROBES / HAVE_KRETPROBES / HAVE_KPROBES_ON_FTRACE: `select` lines of arch/<A>/Kconfig.
* Blacklisted sections: the identifiers used inside arch_populate_kprobe_blacklist()
  (added to the debugfs list) and arch_within_kprobe_blacklist() (checked, not listed),
  plus the generic populate_kprobe_blacklist() of kernel/kprobes.c.
* kretprobe_blacklist[]: the string literals of its initializer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import tsparse
from .conditions import evaluate
from .verdict import Evidence

# Linker-script boundary symbols (and the arm helpers that test them) -> section.
_SECTION_MARKERS = (
    ("irqentry", ".irqentry.text"),
    ("hyp_idmap", ".hyp.idmap.text"),
    ("idmap", ".idmap.text"),
    ("hyp_text", ".hyp.text"),
    ("entry_text", ".entry.text"),
    ("kprobes_text", ".kprobes.text"),
    ("noinstr_text", ".noinstr.text"),
    ("head_end", ".head.text"),
)

SECTION_REASONS = {
    ".entry.text": "entry-text",
    ".irqentry.text": "irqentry-text",
    ".idmap.text": "idmap-text",
    ".hyp.text": "hyp-text",
    ".hyp.idmap.text": "hyp-text",
    ".kprobes.text": "kprobes-text",
    ".noinstr.text": "noinstr",
    ".head.text": "arch-blacklist",
}


def section_for_identifier(ident: str) -> str:
    low = ident.lower()
    if low == "in_entry_text":
        return ".entry.text"
    for marker, section in _SECTION_MARKERS:
        if marker in low:
            return section
    return ""


@dataclass(frozen=True)
class SectionRule:
    section: str
    reason_id: str
    evidence: Evidence
    in_debugfs: bool  # populated list (debugfs) vs arch_within_kprobe_blacklist range


@dataclass
class ArchHooks:
    arch: str
    supports_kprobes: bool
    kprobes_evidence: Evidence | None
    supports_kretprobes: bool = True
    kprobes_on_ftrace: bool = False
    sections: dict[str, SectionRule] = field(default_factory=dict)
    kretprobe_blacklist: dict[str, Evidence] = field(default_factory=dict)


def _declarator_name(node) -> str:
    """The identifier a (function or init) declarator names, through pointers and arrays."""
    decl = node.child_by_field_name("declarator")
    while decl is not None and decl.type != "identifier":
        decl = decl.child_by_field_name("declarator")
    return tsparse.text(decl) if decl is not None else ""


def _function_node(root, name: str):
    """The function_definition node named `name` in a parsed file (first match)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "function_definition":
            if _declarator_name(node) == name:
                return node
            continue
        stack.extend(reversed(node.children))
    return None


def _identifiers(node):
    return (n for n in _walk(node) if n.type == "identifier")


def _parser(read):
    """path -> parsed tree (None: binary or oversized), each file read and parsed once."""
    trees: dict = {}

    def parse(path: str):
        if path not in trees:
            data = read(path)
            trees[path] = tsparse.parse_c(data) if data is not None else None
        return trees[path]
    return parse


def sections_in_function(parse, path: str, name: str) -> list[tuple[str, int]]:
    """[(section, line)] for the section markers used in function `name` of file `path`."""
    tree = parse(path)
    if tree is None:
        return []
    fn = _function_node(tree.root_node, name)
    if fn is None:
        return []
    out, seen = [], set()
    for ident in _identifiers(fn):
        sec = section_for_identifier(tsparse.text(ident))
        if sec and sec not in seen:
            seen.add(sec)
            out.append((sec, ident.start_point[0] + 1))
    return out


def strings_in_initializer(parse, path: str, var: str) -> list[tuple[str, int]]:
    """[(string, line)] of the string literals initializing `var` in file `path`."""
    tree = parse(path)
    if tree is None:
        return []
    for node in _walk(tree.root_node):
        if node.type == "init_declarator" and _declarator_name(node) == var:
            return [(tsparse.text(n), n.start_point[0] + 1)
                    for n in _walk(node.child_by_field_name("value")) if n.type == "string_content"]
    return []


def _walk(node):
    if node is None:
        return
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n.children)


def read_arch_hooks(index, read, arch: str, config) -> ArchHooks:
    """Derive the ArchHooks of `arch` from the indexed tree. `read(path) -> bytes`."""
    prefix = f"arch/{arch}/"
    parse = _parser(read)  # kernel/kprobes.c holds several of the functions read below
    selects = [s for s in index.kconfig_selects(prefix) if s.path.startswith(prefix)]

    def selected(symbol: str) -> tuple[bool, Evidence | None]:
        for s in selects:
            if s.symbol != symbol:
                continue
            cond = True
            if s.condition and config is not None:
                cond = evaluate(_kconfig_to_cpp(s.condition), config, arch) is not False
            if cond:
                return True, Evidence(s.path, s.line, f"select {symbol}" + (f" if {s.condition}" if s.condition else ""))
        return False, None

    ok, ev = selected("HAVE_KPROBES")
    hooks = ArchHooks(arch=arch, supports_kprobes=ok, kprobes_evidence=ev)
    if not ok:
        kconfig = f"arch/{arch}/Kconfig"
        hooks.kprobes_evidence = Evidence(kconfig, 1, "no `select HAVE_KPROBES`")
        return hooks
    hooks.supports_kretprobes = selected("HAVE_KRETPROBES")[0] or selected("HAVE_RETHOOK")[0]
    hooks.kprobes_on_ftrace = selected("HAVE_KPROBES_ON_FTRACE")[0]

    def arch_defs(name: str):
        return [f for f in index.functions(name) if f.path.startswith(prefix)]

    def generic_defs(name: str):
        return [f for f in index.functions(name) if f.path.startswith("kernel/")]

    # Generic list population (kernel/kprobes.c): .kprobes.text and .noinstr.text.
    for fn in generic_defs("populate_kprobe_blacklist") + generic_defs("init_kprobes"):
        for sec, line in sections_in_function(parse, fn.path, fn.name):
            hooks.sections.setdefault(sec, SectionRule(sec, SECTION_REASONS[sec], Evidence(fn.path, line), True))
    # An arch override replaces the weak default of kernel/kprobes.c.
    within = arch_defs("arch_within_kprobe_blacklist") or generic_defs("arch_within_kprobe_blacklist")
    for fn in within[:1]:
        for sec, line in sections_in_function(parse, fn.path, fn.name):
            hooks.sections.setdefault(sec, SectionRule(sec, SECTION_REASONS[sec], Evidence(fn.path, line), False))
    for fn in arch_defs("arch_populate_kprobe_blacklist")[:1]:
        for sec, line in sections_in_function(parse, fn.path, fn.name):
            rule = SectionRule(sec, SECTION_REASONS[sec], Evidence(fn.path, line), True)
            if sec not in hooks.sections or not hooks.sections[sec].in_debugfs:
                hooks.sections[sec] = rule
    for d in index.data_symbols("kretprobe_blacklist"):
        if d.path.startswith(prefix):
            for s, line in strings_in_initializer(parse, d.path, "kretprobe_blacklist"):
                hooks.kretprobe_blacklist[s] = Evidence(d.path, line, f'kretprobe_blacklist[] = {{"{s}"}}')
    return hooks


def _kconfig_to_cpp(expr: str) -> str:
    """Kconfig `A && !B || C=y` -> a preprocessor expression over CONFIG_ symbols."""
    out, word = [], ""
    for ch in expr + " ":
        if ch.isalnum() or ch == "_":
            word += ch
            continue
        if word:
            out.append(f"IS_ENABLED(CONFIG_{word})" if not word.isdigit() and word not in ("y", "n", "m") else word)
            word = ""
        out.append(ch)
    return "".join(out)[:-1].replace("=y", "")
