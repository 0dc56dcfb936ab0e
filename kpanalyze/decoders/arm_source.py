"""Reading the C sources of arch/arm/probes: conditional regions, macros, enums, struct
fields, functions, and the initialized arrays (decode tables, action/checker arrays).

Nothing here knows what an instruction is accepted for: this module turns C source into
plain data (items with their file:line) that arm.py walks the way probes_decode_insn does.

Preprocessor handling: the decode tables hold `#if __LINUX_ARM_ARCH__ < 6` and
`#ifdef CONFIG_THUMB2_KERNEL` *inside* initializer lists, which tree-sitter cannot parse.
So conditional directives are blanked (same byte count, lines kept) before parsing and
every line remembers the stack of conditions it sits under; the caller decides, per
build context, which lines are live (True), dead (False) or config-dependent (None).
Macros used by table entries (DECODE_SIMULATEX, REGS...) are expanded from their
definitions in the tree, then the expansion is parsed and its `{.bits = ...}` items
evaluated; an entry that does not expand to such items is reported, never skipped.
The preprocessing itself (scanning, #define, expansion) is cpreproc's, shared with cinterp.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from .. import tsparse
from ..verdict import Evidence
from .cpreproc import CONDITIONAL, Conditionals, Macro, parse_define, scan, strip_comments

# -- sources -----------------------------------------------------------------------


class SourceFile:
    """One file: original lines, conditions per line, macros, and (lazily) its syntax tree
    parsed from the text with the conditional directives blanked."""

    def __init__(self, path: str, data: bytes):
        self.path = path
        self.data = data
        text = data.decode("latin-1")  # one char per byte: node offsets stay valid
        self.lines = text.split("\n")
        self.line_conds: list[tuple[str, ...]] = []
        self.macros: list[Macro] = []
        self.blanked = self._scan(text).encode("latin-1")
        self._tree = None

    def _scan(self, text: str) -> str:
        """Blank the conditional directives (keeping newlines), record the conditions of
        each line (as text: decided later, per build context) and collect the #defines."""
        out = list(self.lines)
        conds = Conditionals()
        for ln in scan(strip_comments(text), conds):
            here = conds.texts()
            if ln.directive in CONDITIONAL:
                for j in range(ln.first, ln.last + 1):
                    out[j] = " " * len(self.lines[j])
            elif ln.directive == "define":
                d = parse_define(ln.rest)
                if d is not None:
                    self.macros.append(Macro(*d, self.path, ln.first + 1, here))
            self.line_conds.extend([here] * (ln.last + 1 - ln.first))
        return "\n".join(out)

    @property
    def root(self):
        if self._tree is None:
            self._tree = tsparse.parse_c(self.blanked)
        return self._tree.root_node

    def conds_at(self, line: int) -> tuple[str, ...]:
        return self.line_conds[line - 1] if 0 < line <= len(self.line_conds) else ()

    def evidence(self, line: int) -> Evidence:
        text = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        return Evidence(self.path, line, text[:120])


# -- declarations ----------------------------------------------------------------------

@dataclass(frozen=True)
class Enumerator:
    name: str
    value: str | None  # text of the explicit value
    path: str
    line: int
    conds: tuple[str, ...]
    group: str  # one enum body: "path:byte"


@dataclass(frozen=True)
class ArrayDecl:
    """A top-level (or function-local static) array with an initializer list."""

    name: str
    type: str  # "union decode_item", "union decode_action", "struct decode_checker", ...
    pointer: bool  # an array of pointers (the checker lists)
    init: object  # the initializer_list node
    file: SourceFile
    line: int
    function: str = ""  # enclosing function for local tables


@dataclass(frozen=True)
class FunctionDef:
    name: str
    node: object
    file: SourceFile
    line: int
    conds: tuple[str, ...]


@dataclass(frozen=True)
class StructDef:
    name: str
    fields: tuple[tuple[str, str], ...]  # (type text, field name)


@dataclass
class Sources:
    """Everything read from the probes directory: one instance per tree."""

    files: dict[str, SourceFile] = field(default_factory=dict)
    macros: dict[str, list[Macro]] = field(default_factory=dict)
    enumerators: list[Enumerator] = field(default_factory=list)
    arrays: dict[str, list[ArrayDecl]] = field(default_factory=dict)
    functions: dict[str, list[FunctionDef]] = field(default_factory=dict)
    structs: dict[str, StructDef] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def add(self, path: str, data: bytes, *, parse: bool = True) -> None:
        sf = SourceFile(path, data)
        self.files[path] = sf
        for mac in sf.macros:
            self.macros.setdefault(mac.name, []).append(mac)
        if parse:
            _collect(self, sf)

    def function(self, name: str, prefer: str = "") -> FunctionDef | None:
        return _prefer(self.functions.get(name, ()), prefer)

    def array(self, name: str, prefer: str = "") -> ArrayDecl | None:
        return _prefer(self.arrays.get(name, ()), prefer)


def _prefer(cands: Iterable, path: str):
    cands = list(cands)
    for c in cands:
        if c.file.path == path:
            return c
    return cands[0] if cands else None


def _declarator_name(node) -> tuple[str, bool, bool]:
    """(name, is_array, is_pointer) of a declarator."""
    is_array = is_pointer = False
    while node is not None and node.type != "identifier":
        if node.type == "array_declarator":
            is_array = True
        elif node.type == "pointer_declarator":
            is_pointer = True
        node = node.child_by_field_name("declarator")
    return (tsparse.text(node) if node is not None else "", is_array, is_pointer)


_NO_DESCENT = frozenset({
    "initializer_list", "argument_list", "binary_expression", "call_expression", "string_literal",
    "comment", "number_literal", "parenthesized_expression", "assignment_expression",
    "field_expression", "preproc_arg", "identifier", "type_identifier", "primitive_type",
    "return_statement", "unary_expression", "conditional_expression", "cast_expression",
    "subscript_expression", "pointer_expression", "update_expression", "char_literal",
    "field_declaration_list", "enumerator_list", "parameter_list", "concatenated_string",
})


def _collect(src: Sources, sf: SourceFile) -> None:
    stack = [(sf.root, "")]
    while stack:
        node, func = stack.pop()
        for child in reversed(node.children):
            t = child.type
            if t == "enum_specifier":
                body = child.child_by_field_name("body")
                if body is not None:
                    group = f"{sf.path}:{body.start_byte}"
                    for e in body.named_children:
                        if e.type == "enumerator":
                            line = e.start_point[0] + 1
                            val = e.child_by_field_name("value")
                            src.enumerators.append(Enumerator(
                                tsparse.text(e.child_by_field_name("name")),
                                tsparse.text(val) if val is not None else None,
                                sf.path, line, sf.conds_at(line), group))
                continue
            if t in ("struct_specifier", "union_specifier"):
                body = child.child_by_field_name("body")
                name = child.child_by_field_name("name")
                if body is not None and name is not None:
                    fields = []
                    for fd in body.named_children:
                        if fd.type == "field_declaration":
                            ty = " ".join(tsparse.text(fd.child_by_field_name("type")).split())
                            decl = fd.child_by_field_name("declarator")
                            fname, _, ptr = _declarator_name(decl) if decl is not None else ("", False, False)
                            fields.append((ty + (" *" if ptr else ""), fname))
                    key = f"{'struct' if t == 'struct_specifier' else 'union'} {tsparse.text(name)}"
                    src.structs[key] = StructDef(key, tuple(fields))
                continue
            if t == "function_definition":
                decl = child.child_by_field_name("declarator")
                name, _, _ = _declarator_name(decl)
                line = child.start_point[0] + 1
                if name:
                    src.functions.setdefault(name, []).append(
                        FunctionDef(name, child, sf, line, sf.conds_at(line)))
                body = child.child_by_field_name("body")
                if body is not None:
                    stack.append((body, name))
                continue
            if t == "declaration":
                ty = child.child_by_field_name("type")
                if ty is not None and ty.type in ("enum_specifier", "struct_specifier", "union_specifier"):
                    stack.append((child, func))  # `enum x {...};` and friends
                for d in child.children_by_field_name("declarator"):
                    if d.type != "init_declarator":
                        continue
                    value = d.child_by_field_name("value")
                    if value is None or value.type != "initializer_list":
                        continue
                    name, is_array, is_ptr = _declarator_name(d.child_by_field_name("declarator"))
                    if not is_array or ty is None:
                        continue
                    line = d.start_point[0] + 1
                    arr = ArrayDecl(name, " ".join(tsparse.text(ty).split()), is_ptr, value, sf, line, func)
                    key = f"{func}:{name}" if func else name
                    src.arrays.setdefault(key, []).append(arr)
                continue
            if t not in _NO_DESCENT and child.child_count:
                stack.append((child, func))


def comments_before(node) -> list[str]:
    """Texts of the comments between `node` and the previous non-comment sibling."""
    out = []
    prev = node.prev_sibling
    while prev is not None and prev.type == "comment":
        out.append(tsparse.text(prev))
        prev = prev.prev_sibling
    out.reverse()
    return out


def clean_comment(texts: list[str]) -> str:
    """One line from C comments: markers and runs of blanks removed."""
    parts = []
    for t in texts:
        t = re.sub(r"^/\*+|\*+/$|^//", "", t.strip())
        for ln in t.split("\n"):
            ln = ln.strip().lstrip("*").strip()
            if ln:
                parts.append(" ".join(ln.split()))
    return "; ".join(parts)


def initializer_elements(init) -> list:
    """Elements of an initializer list (comments and punctuation left out)."""
    return [c for c in init.named_children if c.type != "comment"]


def parse_items(text: str):
    """Parse the expansion of one table entry as the body of an initializer list;
    returns the elements of the list, or None when it is not valid C."""
    code = f"static const int __kpanalyze_entry[] = {{ {text} }};".encode()
    root = tsparse.parse_c(code).root_node
    if root.has_error:
        return None
    for n in _walk(root):
        if n.type == "initializer_list":
            return initializer_elements(n)
    return None


def _walk(node):
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))
