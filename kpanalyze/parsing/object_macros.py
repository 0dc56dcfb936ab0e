"""Object-like #define bodies, read on demand to learn what an annotation macro means.

Kernel code wraps annotations in its own macros (`__init_memblock` -> `__meminit`,
powerpc `interrupt_handler` -> `__visible noinline notrace`); the model follows them to
the annotations it knows. Only the few headers defining an unknown keyword are read.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import tsparse


@dataclass(frozen=True)
class ObjectMacro:
    name: str
    path: str
    line: int
    body: str
    conditions: tuple[str, ...]


def _cond_text(node) -> str:
    return " ".join(tsparse.text(node).split())


def object_macros(path: str, data: bytes, wanted: set[str] | None = None) -> list[ObjectMacro]:
    """Every `#define NAME body` (object-like) of a file, with its #if conditions."""
    tree = tsparse.parse_c(data)
    out: list[ObjectMacro] = []

    def walk(node, conds: tuple[str, ...]):
        for child in node.named_children:
            t = child.type
            if t == "preproc_def":
                name = child.child_by_field_name("name")
                if name is None:
                    continue
                n = tsparse.text(name)
                if wanted is not None and n not in wanted:
                    continue
                value = child.child_by_field_name("value")
                body = " ".join(tsparse.text(value).replace("\\\n", " ").split()) if value is not None else ""
                out.append(ObjectMacro(n, path, child.start_point[0] + 1, body, conds))
            elif t in ("preproc_ifdef", "preproc_if", "preproc_elif", "preproc_elifdef"):
                if t in ("preproc_ifdef", "preproc_elifdef"):
                    name = child.child_by_field_name("name")
                    neg = tsparse.text(child.children[0]).endswith("ndef")
                    cond = f"{'!' if neg else ''}defined({tsparse.text(name) if name else '?'})"
                else:
                    c = child.child_by_field_name("condition")
                    cond = _cond_text(c) if c is not None else "?"
                body_conds = conds + (cond,)
                alt = child.child_by_field_name("alternative")
                skip = [n for n in (alt, child.child_by_field_name("condition"),
                                    child.child_by_field_name("name")) if n is not None]
                for sub in child.named_children:
                    if sub not in skip:
                        walk_one(sub, body_conds)
                if alt is not None:
                    # #else: its children; #elif: the node itself, a conditional of its own
                    (walk if alt.type == "preproc_else" else walk_one)(alt, conds + (f"!({cond})",))
            elif t in ("translation_unit", "preproc_else"):
                walk(child, conds)

    def walk_one(node, conds):
        walk(_Wrap(node), conds)

    walk(tree.root_node, ())
    return out


class _Wrap:
    """Lets walk() treat a single node as a list of one child."""

    def __init__(self, node):
        self.named_children = [node]
