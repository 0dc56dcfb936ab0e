"""`kpanalyze rules --arch x86`: the refused and emulated instruction classes, read from
the syntax trees of the tree's kprobe functions (never typed here).

* prepare_emulation: every `case` group of its switch that reaches `return -E...` (refused)
  or assigns an `emulate_op` (emulated), with the enclosing if-conditions, the comments on
  the case labels as the description, and the return / assignment line as evidence.
* __copy_instruction: every `return 0` guarded by a predicate on the instruction (decode
  failure, emulate prefix, INT3, exception masking, RIP displacement), turned into the
  errno arch_copy_kprobe gives a zero length; predicates from insn.h are expanded (their
  return expression with the macro values).
* prepare_singlestep: the -ENOSPC check; can_probe: the instruction-boundary rule.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .. import tsparse
from ..verdict import Evidence
from .base import RuleEntry
from .cinterp import Unsupported

if TYPE_CHECKING:
    from .x86 import X86Decoder

_COMMENT = re.compile(r"/\*\s*(.*?)\s*\*/")
_RUNTIME_GUARDS = ("recovered_insn", "copy_from_kernel_nofault")


def rules(dec: "X86Decoder") -> list[RuleEntry]:
    out: list[RuleEntry] = []
    out += _boundary_rules(dec)
    out += _copy_rules(dec)
    out += _emulation_rules(dec)
    out += _singlestep_rules(dec)
    return out


def _entry(dec, action, pattern, description, decided_by, evidence, condition="") -> RuleEntry:
    return RuleEntry(dec.arch, dec.mode, action, pattern, description, decided_by,
                     dec._evs(evidence), condition)


def _boundary_rules(dec) -> list[RuleEntry]:
    glue = dec._glue()
    if not glue.eilseq_ev:
        return []
    return [_entry(dec, "rejected", "a probe address that is not an instruction start",
                   "can_probe decodes the function from its symbol start; the address must be "
                   "reached exactly (offset 0 always is)",
                   f"arch_prepare_kprobe: !can_probe -> -{glue.eilseq}",
                   glue.boundary_ev + glue.eilseq_ev)]


def _copy_rules(dec) -> list[RuleEntry]:
    glue = dec._glue()
    rp_len = next((st[3] for st in glue.steps if st[0] == "__copy_instruction"), None)
    errno = re.search(r"-\s*(E[A-Z0-9]+)", rp_len.value).group(1) \
        if rp_len is not None and re.search(r"-\s*(E[A-Z0-9]+)", rp_len.value) else "EINVAL"
    try:
        paths = [rp for rp in dec.prog.return_paths("__copy_instruction")
                 if rp.ev.text.strip().startswith("return")]
    except Unsupported:
        return []
    out = []
    for rp in paths:
        if rp.value.strip() != "0":
            continue
        taken = [g for g in rp.guards if g.holds]
        if not taken:
            continue
        g = taken[-1]
        if any(r in g.expr for r in _RUNTIME_GUARDS):
            continue
        desc = _comment_above(dec, g.ev) or g.expr
        pattern = _assignments_before(dec, "__copy_instruction", g) + g.expr + _expand(dec, g.expr)
        action = "rejected"
        if "newdisp" in g.expr:
            action = "runtime"
            desc = ("a RIP-relative displacement that does not fit in 32 bits from the slot "
                    "(depends on where the slot is; x86_64 slots are within +-2 GiB of the text)")
        if "ret < 0" in g.expr or "insn_decode" in g.expr:
            desc = "the kernel's instruction decoder (insn_decode, x86-opcode-map.txt) fails"
        out.append(_entry(dec, action, pattern, desc,
                          f"__copy_instruction returns 0 -> arch_copy_kprobe -{errno}",
                          [g.ev, rp.ev] + ([rp_len.ev] if rp_len is not None else []),
                          " && ".join(dict.fromkeys(dec.prog.condition_of("__copy_instruction")))))
    return out


def _assignments_before(dec, fn: str, g) -> str:
    """`ret = insn_decode_kernel(insn, dest); ` when the guard tests a local set by a call."""
    start = dec._where(fn)
    out = []
    for var in dict.fromkeys(re.findall(r"[A-Za-z_]\w*", g.expr)):
        for i, text in enumerate(dec._function_text(fn).split("\n")):
            if start.line + i >= g.ev.line:
                break
            m = re.match(rf"\s*{re.escape(var)}\s*=\s*(\w+\s*\(.*\));", text)
            if m:
                out.append(f"{var} = {m.group(1)}; ")
    return "".join(dict.fromkeys(out))


def _expand(dec, expr: str) -> str:
    """The values behind the names a guard uses: constants, and the body of an inline
    predicate (with its constants), and the emulate prefixes."""
    parts = []
    for ident in dict.fromkeys(re.findall(r"[A-Za-z_]\w*", expr)):
        if ident in ("insn", "ret", "newdisp"):
            continue
        if dec.prog.has_function(ident):
            ret = _predicate_text(dec, ident)
            if ret:
                parts.append(f"{ident}: {ret}{_constants(dec, ret)}")
            if "emulate_prefix" in ident and dec.emulate_prefixes:
                parts.append("prefixes " + ", ".join(p.hex(" ") for p, _ in dec.emulate_prefixes))
        else:
            c = _constants(dec, ident)
            if c:
                parts.append(c.strip(" ()"))
    return f" [{'; '.join(parts)}]" if parts else ""


def _predicate_text(dec, name: str) -> str:
    """An inline predicate as one line: its return expression, or `value if guard; ...`."""
    try:
        paths = [rp for rp in dec.prog.return_paths(name) if rp.ev.text.strip().startswith("return")]
    except Unsupported:
        return ""
    if len(paths) == 1 and not paths[0].guards:
        return " ".join(paths[0].value.split())
    out = []
    for rp in paths:
        taken = [g.expr if g.holds else f"!({g.expr})" for g in rp.guards]
        out.append(f"{' '.join(rp.value.split())} if {' && '.join(taken)}" if taken
                   else f"else {' '.join(rp.value.split())}")
    return "; ".join(out)


def _constants(dec, text: str) -> str:
    vals = []
    for ident in dict.fromkeys(re.findall(r"\b[A-Z][A-Z0-9_]{2,}\b", text)):
        m = dec.prog.macro(ident)
        if m is None or m.params is not None:
            continue
        try:
            vals.append(f"{ident}={dec.prog.constant(ident):#x}")
        except Exception:
            continue
    return f" ({', '.join(vals)})" if vals else ""


def _comment_above(dec, ev: Evidence) -> str:
    for back in (1, 2):
        m = _COMMENT.search(dec._line(ev.path, ev.line - back))
        if m:
            return m.group(1)
    return ""


def _singlestep_rules(dec) -> list[RuleEntry]:
    try:
        paths = dec.prog.return_paths("prepare_singlestep")
    except Unsupported:
        return []
    out = []
    for rp in paths:
        m = re.search(r"-\s*(E[A-Z0-9]+)", rp.value)
        if not m:
            continue
        taken = [g for g in rp.guards if g.holds]
        pattern = " && ".join(g.expr for g in taken) + _constants(dec, " ".join(g.expr for g in taken))
        out.append(_entry(dec, "rejected", pattern,
                          "no room for the int3 after the copied instruction (a 15-byte instruction)",
                          f"prepare_singlestep -> -{m.group(1)}", [g.ev for g in taken] + [rp.ev]))
    return out


# ---------------------------------------------------------------------- prepare_emulation

def _emulation_rules(dec) -> list[RuleEntry]:
    name = "prepare_emulation"
    ev = dec._where(name)
    data = dec.tree.read(ev.path) if ev.line else None
    if data is None:
        return []
    fn = _find_function(tsparse.parse_c(data).root_node, name)
    if fn is None:
        return []
    body = fn.child_by_field_name("body")
    out = []
    for sw in _descendants(body, "switch_statement"):
        sel = tsparse.text(sw.child_by_field_name("condition")).strip("() ")
        sel_desc = _selector(body, sel)
        labels: list[str] = []
        comments: list[str] = []
        for case in sw.child_by_field_name("body").named_children:
            if case.type != "case_statement":
                continue
            value = case.child_by_field_name("value")
            label = "default" if value is None else tsparse.text(case).split(":", 1)[0] \
                .replace("case", "", 1).strip()
            labels.append(label)
            cm = _COMMENT.search(dec._line(ev.path, case.start_point[0] + 1))
            if cm:
                comments.append(cm.group(1))
            stmts = [c for c in case.named_children if c != value and c.type != "ERROR"]
            if not [c for c in stmts if c.type != "comment"]:
                continue
            for kind, target, conds, line, comment in _walk(stmts, []):
                pattern = f"{sel_desc} = {', '.join(labels)}"
                if conds:
                    pattern += "; " + " and ".join(c if ok else f"!({c})" for c, ok in conds)
                desc = _comment_near(dec, ev.path, line) or comment if conds else ""
                desc = desc or "; ".join(dict.fromkeys(comments)) or comment
                evid = [Evidence(ev.path, line)]
                if kind == "reject":
                    out.append(_entry(dec, "rejected", pattern, desc or "refused opcode",
                                      f"prepare_emulation: return -{target}", evid))
                else:
                    out.append(_entry(dec, "emulated", pattern, desc or target,
                                      f"prepare_emulation: emulate_op = {target}", evid))
            labels, comments = [], []
    return out


def _selector(body, sel: str) -> str:
    """`opcode (insn->opcode.bytes[0])` when the switch variable is a local set from the insn."""
    for d in _descendants(body, "init_declarator"):
        if tsparse.text(d.child_by_field_name("declarator")) == sel:
            return f"{sel} ({tsparse.text(d.child_by_field_name('value'))})"
    return sel


def _walk(stmts, conds, comment=""):
    """(kind, target, conditions, line, comment) for each refusal return / emulate_op
    assignment reached through these statements; stops at break/return."""
    found = []
    for s in stmts:
        t = s.type
        if t == "comment":
            m = _COMMENT.search(tsparse.text(s))
            comment = m.group(1) if m else comment
        elif t == "return_statement":
            m = re.search(r"-\s*(E[A-Z0-9]+)", tsparse.text(s))
            if m:
                found.append(("reject", m.group(1), list(conds), s.start_point[0] + 1, comment))
            return found
        elif t == "break_statement":
            return found
        elif t == "if_statement":
            branches = _chain(s)
            falling = []
            for bconds, block in branches:
                found += _walk(block, conds + bconds, comment)
                if not _terminates(block):
                    falling.append(bconds)
            if len(falling) < len(branches):
                if not falling:
                    return found
                # later statements run only on the branches that fall through
                own = [next(((c, ok) for c, ok in reversed(b) if ok), b[-1]) for b in falling]
                if len(own) == 1:
                    conds = conds + [own[0]]
                else:
                    either = " || ".join(f"({c})" if ok else f"!({c})" for c, ok in own)
                    conds = conds + [(f"({either})", True)]
        elif t == "expression_statement":
            e = s.named_children[0] if s.named_children else None
            if e is not None and e.type == "assignment_expression":
                left = tsparse.text(e.child_by_field_name("left"))
                right = tsparse.text(e.child_by_field_name("right"))
                if left.endswith("emulate_op"):
                    found.append(("emulate", right, list(conds), s.start_point[0] + 1, comment))
                elif re.fullmatch(r"\w+", left):
                    conds = conds + [(f"{left} = {right}", True)]
        elif t == "compound_statement":
            sub = _walk(s.named_children, conds, comment)
            found += sub
            if _terminates(list(s.named_children)):
                return found
    return found


def _chain(s):
    """The branches of an if / else-if / else chain: [(conditions, statements)]; an implicit
    empty else when the chain has none."""
    out = []
    neg: list = []
    node = s
    while node is not None:
        c = " ".join(tsparse.text(node.child_by_field_name("condition")).split())[1:-1]
        out.append((neg + [(c, True)], _block(node.child_by_field_name("consequence"))))
        neg = neg + [(c, False)]
        alt = node.child_by_field_name("alternative")
        if alt is None:
            out.append((neg, []))
            break
        inner = [x for x in alt.named_children if x.type != "comment"]
        if len(inner) == 1 and inner[0].type == "if_statement":
            node = inner[0]
        else:
            out.append((neg, _block(alt)))
            break
    return out


def _terminates(stmts) -> bool:
    """A block that always leaves the case (break or return as its last statement)."""
    real = [x for x in stmts if x.type != "comment"]
    return bool(real) and real[-1].type in ("break_statement", "return_statement")


def _block(node):
    if node is None:
        return []
    if node.type == "else_clause":
        return [c for c in node.named_children]
    if node.type == "compound_statement":
        return list(node.named_children)
    return [node]


def _returns(node) -> bool:
    return node is not None and any(n.type == "return_statement" for n in _block(node))


def _comment_near(dec, path, line) -> str:
    m = _COMMENT.search(dec._line(path, line))
    return m.group(1) if m else ""


def _find_function(node, name: str):
    for d in _descendants(node, "function_definition"):
        decl = d.child_by_field_name("declarator")
        while decl is not None and decl.type != "function_declarator":
            decl = decl.child_by_field_name("declarator")
        if decl is not None and tsparse.text(decl.child_by_field_name("declarator")) == name:
            return d
    return None


def _descendants(node, kind: str):
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == kind:
            yield n
        stack.extend(reversed(n.children))
