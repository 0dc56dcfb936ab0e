"""Small readers of tree-sitter C nodes shared by the loader, the compiler and the static
path analysis."""

from __future__ import annotations


def declarator_name(d) -> str:
    while d is not None:
        if d.type in ("identifier", "field_identifier", "type_identifier"):
            return d.text.decode("latin-1")
        nxt = d.child_by_field_name("declarator")
        if nxt is None:
            nxt = next((c for c in d.named_children if c.type in (
                "identifier", "parenthesized_declarator", "pointer_declarator",
                "function_declarator", "array_declarator", "type_identifier")), None)
        d = nxt
    return ""


def has_array(d) -> bool:
    while d is not None:
        if d.type == "array_declarator":
            return True
        d = d.child_by_field_name("declarator")
    return False


def array_size_node(d):
    while d is not None:
        if d.type == "array_declarator":
            return d.child_by_field_name("size")
        d = d.child_by_field_name("declarator")
    return None


def is_function_declarator(d) -> bool:
    while d is not None:
        if d.type == "function_declarator":
            return True
        if d.type != "pointer_declarator":
            return False
        d = d.child_by_field_name("declarator")
    return False


def case_label(case) -> str:
    """The label text of `case LABEL:` (with GCC ranges `A ... B`, which parse as errors)."""
    colon = next((c for c in case.children if c.type == ":"), None)
    kw = case.children[0]
    if colon is None:
        v = case.child_by_field_name("value")
        return " ".join(v.text.decode("latin-1").split())
    raw = case.text[kw.end_byte - case.start_byte:colon.start_byte - case.start_byte]
    return " ".join(raw.decode("latin-1").split())


def has_error(node) -> bool:
    return node is not None and (node.type == "ERROR" or node.has_error)


def unparen(node):
    while node is not None and not isinstance(node, tuple) and node.type == "parenthesized_expression" and node.named_children:
        node = node.named_children[0]
    return node


def cond_text(node) -> str:
    s = node.text.decode("latin-1")
    if node.type == "parenthesized_expression":
        s = s[1:-1]
    return " ".join(s.split())


def short(node) -> str:
    s = " ".join(node.text.decode("latin-1").split())
    return s if len(s) <= 60 else s[:57] + "..."
