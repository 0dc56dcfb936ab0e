"""Kernel modules: ``struct kprobe`` / ``struct kretprobe`` with a literal symbol (tree-sitter C).

* initializers: ``struct kprobe kp = { .symbol_name = "NAME", .offset = 0x10 }``, arrays
  of them, compound literals, and for kretprobes ``.kp.symbol_name = "NAME"`` or
  ``.kp = { .symbol_name = "NAME" }``;
* assignments: ``kp.symbol_name = "NAME";``, ``rp.kp.symbol_name = ...``, ``p->symbol_name = ...``
  (with ``X.offset = N`` on the same object);
* a ``.symbol_name`` that names a file-scope ``char NAME[] = "..."`` (the usual
  ``module_param_string`` default) is read through it.

These are registered with register_kprobe()/register_kretprobe(): judged ``--via module``.
"""

from __future__ import annotations

from ..verdict import Origin
from .grammars import captures, one_line, position, query, text
from .model import NAME, Finding, FileScan

_QUERY = """
(initializer_pair) @pair
(assignment_expression left: (field_expression) @lhs) @assign
(declaration) @decl
(parameter_declaration) @decl
(init_declarator value: (string_literal) @sval) @sinit
"""

STRUCTS = ("kprobe", "kretprobe")


def _designators(pair) -> list[str]:
    out = []
    for d in pair.children_by_field_name("designator"):
        ident = next((c for c in d.named_children if c.type == "field_identifier"), None)
        out.append(text(ident) if ident is not None else "")
    return out


def _struct_name(type_node) -> str:
    if type_node is None:
        return ""
    if type_node.type == "type_descriptor":
        return _struct_name(type_node.child_by_field_name("type"))
    if type_node.type == "struct_specifier":
        name = type_node.child_by_field_name("name")
        return text(name) if name is not None else ""
    return ""


def _context(pair) -> tuple[str, bool]:
    """(struct type the initializer belongs to, or ""; whether it sits inside `.kp = {...}`)."""
    in_kp = False
    node = pair.parent
    while node is not None:
        if node.type == "initializer_pair":
            if _designators(node)[-1:] == ["kp"]:
                in_kp = True
        elif node.type == "init_declarator":
            decl = node.parent
            return (_struct_name(decl.child_by_field_name("type")) if decl is not None and
                    decl.type == "declaration" else ""), in_kp
        elif node.type == "compound_literal_expression":
            return _struct_name(node.child_by_field_name("type")), in_kp
        elif node.type != "initializer_list":
            return "", in_kp
        node = node.parent
    return "", in_kp


def _declared_names(node) -> list[str]:
    """Identifiers a declarator declares (through pointers, arrays, initializers)."""
    if node is None:
        return []
    if node.type == "identifier":
        return [text(node)]
    if node.type in ("init_declarator", "pointer_declarator", "array_declarator", "parenthesized_declarator"):
        return _declared_names(node.child_by_field_name("declarator") or
                               next((c for c in node.named_children if c.type.endswith("declarator")
                                     or c.type == "identifier"), None))
    return []


def extract(path: str, data: bytes, root, out: FileScan) -> None:
    from .clang import int_value, string_value

    caps = captures(query("c", _QUERY), root)
    strings: dict[str, str] = {}  # file-scope char x[] = "..." (module_param_string defaults)
    for init, sval in zip(caps.get("sinit", []), caps.get("sval", [])):
        value = string_value(sval)
        if value is not None:
            for n in _declared_names(init.child_by_field_name("declarator")):
                strings.setdefault(n, value)
    var_types: dict[str, str] = {}
    for decl in caps.get("decl", []):
        st = _struct_name(decl.child_by_field_name("type"))
        if st in STRUCTS:
            for d in decl.children_by_field_name("declarator"):
                for n in _declared_names(d):
                    var_types[n] = st

    def name_of(value_node) -> tuple[str | None, str]:
        v = string_value(value_node)
        if v is not None:
            return v, ""
        if value_node is not None and value_node.type == "identifier" and text(value_node) in strings:
            return strings[text(value_node)], f" (through {text(value_node)})"
        return None, ""

    def add(node_for_pos, whole, symbol: str, kind: str, offset: int, via_text: str) -> None:
        if not symbol or not all(c.isalnum() or c in "_.$" for c in symbol) or symbol[0].isdigit():
            return
        line, col = position(data, node_for_pos)
        out.findings.append(Finding(Origin(path, line, col, one_line(text(whole)) + via_text, "module"),
                                    symbol, kind, "module", offset, NAME))

    for pair in caps.get("pair", []):
        des = _designators(pair)
        if des[-1:] != ["symbol_name"]:
            continue
        value = pair.child_by_field_name("value")
        symbol, via_text = name_of(value)
        if symbol is None:
            continue
        struct, in_kp = _context(pair)
        if struct not in STRUCTS and not in_kp:
            continue
        kind = "kretprobe" if struct == "kretprobe" or in_kp or "kp" in des[:-1] else "kprobe"
        offset = 0
        for sib in pair.parent.named_children if pair.parent is not None else ():
            if sib.type == "initializer_pair" and _designators(sib) == des[:-1] + ["offset"]:
                offset = int_value(sib.child_by_field_name("value")) or 0
        add(value, pair, symbol, kind, offset, via_text)

    offsets: dict[str, int] = {}
    named: list = []
    for assign, lhs in zip(caps.get("assign", []), caps.get("lhs", [])):
        field = lhs.child_by_field_name("field")
        arg = lhs.child_by_field_name("argument")
        if field is None or arg is None:
            continue
        fname = text(field)
        if fname == "offset":
            off = int_value(assign.child_by_field_name("right"))
            if off is not None:
                offsets[text(arg)] = off
        elif fname == "symbol_name":
            named.append((assign, arg))
    for assign, arg in named:
        value = assign.child_by_field_name("right")
        symbol, via_text = name_of(value)
        if symbol is None:
            continue
        if arg.type == "field_expression" and text(arg.child_by_field_name("field") or arg) == "kp":
            kind = "kretprobe"
        else:
            kind = "kretprobe" if var_types.get(text(arg)) == "kretprobe" else "kprobe"
        add(value, assign, symbol, kind, offsets.get(text(arg), 0), via_text)
