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
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .. import tsparse
from ..verdict import Evidence

# -- sources -----------------------------------------------------------------------

_DIRECTIVE = re.compile(r"^\s*#\s*(\w+)\s*(.*)$", re.S)
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


@dataclass(frozen=True)
class Macro:
    name: str
    params: tuple[str, ...] | None  # None: object-like
    body: str
    path: str
    line: int
    conds: tuple[str, ...]
    variadic: bool = False


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
        self.blanked = _scan(self, text).encode("latin-1")
        self._tree = None

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


def _scan(sf: SourceFile, text: str) -> str:
    """Blank conditional directives (keeping newlines), record conditions per line and
    collect #defines."""
    lines = sf.lines
    out = list(lines)
    frames: list[tuple[list[str], str]] = []  # (earlier branch exprs, current expr)
    conds_per_line: list[tuple[str, ...]] = []

    def current() -> tuple[str, ...]:
        out_c: list[str] = []
        for earlier, cur in frames:
            out_c.extend(f"!({e})" if e else "0" for e in earlier)  # "" stands for always true
            if cur:
                out_c.append(cur)
        return tuple(out_c)

    i = 0
    n = len(lines)
    while i < n:
        start = i
        logical = lines[i]
        while logical.endswith("\\") and i + 1 < n:
            i += 1
            logical = logical[:-1] + " " + lines[i]
        conds_here = current()
        m = _DIRECTIVE.match(logical) if logical.lstrip().startswith("#") else None
        word = m.group(1) if m else ""
        rest = _COMMENT.sub(" ", m.group(2)).strip() if m else ""
        if word in ("if", "ifdef", "ifndef", "elif", "else", "endif"):
            if word == "if":
                frames.append(([], rest))
            elif word == "ifdef":
                frames.append(([], f"defined({rest.split()[0]})" if rest else "0"))
            elif word == "ifndef":
                guard = rest.split()[0] if rest else ""
                # an include guard (#ifndef X / #define X) is true where the file is used
                nxt = i + 1
                while nxt < n and not lines[nxt].strip():
                    nxt += 1
                is_guard = bool(guard) and nxt < n and re.match(
                    rf"\s*#\s*define\s+{re.escape(guard)}\b", lines[nxt]) is not None
                frames.append(([], "" if is_guard or not guard else f"!defined({guard})"))
            elif frames and word == "elif":
                earlier, cur = frames[-1]
                frames[-1] = (earlier + [cur], rest)
            elif frames and word == "else":
                earlier, cur = frames[-1]
                frames[-1] = (earlier + [cur], "")
            elif frames and word == "endif":
                frames.pop()
            for j in range(start, i + 1):
                out[j] = " " * len(lines[j])
            conds_here = current() if word != "endif" else conds_here
        elif word == "define":
            mac = _parse_define(m.group(2))
            if mac:
                name, params, body, variadic = mac
                sf.macros.append(Macro(name, params, body, sf.path, start + 1, conds_here, variadic))
        for _ in range(start, i + 1):
            conds_per_line.append(conds_here)
        i += 1
    sf.line_conds = conds_per_line
    return "\n".join(out)


_DEFINE = re.compile(r"([A-Za-z_]\w*)(\(([^)]*)\))?(.*)$", re.S)


def _parse_define(rest: str):
    m = _DEFINE.match(rest.lstrip())
    if not m:
        return None
    name = m.group(1)
    body = _COMMENT.sub(" ", m.group(4)).strip()
    if m.group(2) is None:
        return name, None, body, False
    params = [p.strip() for p in m.group(3).split(",") if p.strip()]
    variadic = bool(params) and params[-1].endswith("...")
    if variadic:
        last = params[-1][:-3].strip()
        params[-1] = last or "__VA_ARGS__"
    return name, tuple(params), body, variadic


# -- macro expansion -----------------------------------------------------------------

_TOKEN = re.compile(
    r"""(?P<ws>\s+)|(?P<id>[A-Za-z_]\w*)|(?P<num>\.?\d[\w.]*)|(?P<str>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
      |(?P<op>\#\#|\.\.\.|<<|>>|<=|>=|==|!=|&&|\|\||->|.)""", re.X | re.S)


def _tokens(text: str) -> list[str]:
    return [m.group(0) for m in _TOKEN.finditer(text)]


class MacroError(Exception):
    pass


def expand(text: str, lookup: Callable[[str], Macro | None], hide: frozenset = frozenset(),
           depth: int = 0) -> str:
    """Macro-expand `text` (C preprocessor semantics, simplified: a macro's replacement is
    expanded on its own, which is enough for table-entry macros)."""
    if depth > 64:
        raise MacroError("macro expansion too deep")
    toks = _tokens(text)
    out: list[str] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        mac = lookup(tok) if (tok[0].isalpha() or tok[0] == "_") and tok not in hide else None
        if mac is None:
            out.append(tok)
            i += 1
            continue
        if mac.params is None:
            out.append(expand(mac.body, lookup, hide | {tok}, depth + 1))
            i += 1
            continue
        j = i + 1
        while j < len(toks) and toks[j].isspace():
            j += 1
        if j >= len(toks) or toks[j] != "(":
            out.append(tok)
            i += 1
            continue
        args, k = _collect_args(toks, j)
        body = _substitute(mac, args, lookup, hide, depth)
        out.append(expand(body, lookup, hide | {tok}, depth + 1))
        i = k
    return "".join(out)


def _collect_args(toks: list[str], j: int) -> tuple[list[str], int]:
    depth, cur, args = 0, [], []
    k = j
    while k < len(toks):
        t = toks[k]
        if t == "(":
            depth += 1
            if depth == 1:
                k += 1
                continue
        elif t == ")":
            depth -= 1
            if depth == 0:
                args.append("".join(cur).strip())
                return ([] if args == [""] else args), k + 1
        elif t == "," and depth == 1:
            args.append("".join(cur).strip())
            cur = []
            k += 1
            continue
        cur.append(t)
        k += 1
    raise MacroError("unbalanced parentheses in macro arguments")


def _substitute(mac: Macro, args: list[str], lookup, hide, depth) -> str:
    params = list(mac.params or ())
    if mac.variadic:
        fixed = len(params) - 1
        if len(args) > fixed:
            args = args[:fixed] + [", ".join(args[fixed:])]
        while len(args) < len(params):
            args.append("")
    if len(args) != len(params) and not (not params and args == []):
        raise MacroError(f"{mac.name} takes {len(params)} arguments, got {len(args)}")
    raw = dict(zip(params, args))
    body = [t for t in _tokens(mac.body)]
    # drop whitespace next to ## so pasting sees its operands
    toks: list[str] = []
    for t in body:
        if t.isspace() and toks and toks[-1] == "##":
            continue
        if t == "##":
            while toks and toks[-1].isspace():
                toks.pop()
        toks.append(t)
    out: list[str] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t == "#" and i + 1 < len(toks) and toks[i + 1] in raw:
            out.append('"' + raw[toks[i + 1]].replace("\\", "\\\\").replace('"', '\\"') + '"')
            i += 2
            continue
        if t in raw:
            pasted = (i + 1 < len(toks) and toks[i + 1] == "##") or (out and out[-1] == "##")
            out.append(raw[t] if pasted else expand(raw[t], lookup, hide, depth + 1))
            i += 1
            continue
        out.append(t)
        i += 1
    # paste
    res: list[str] = []
    i = 0
    while i < len(out):
        if out[i] == "##" and res and i + 1 < len(out):
            res[-1] = res[-1] + out[i + 1]
            i += 2
            continue
        res.append(out[i])
        i += 1
    return "".join(res)


# -- expression evaluation on tree-sitter nodes ----------------------------------------

class Unresolved(Exception):
    """An identifier or construct the evaluator cannot give a value to."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


_NUM = re.compile(r"(0[xX][0-9a-fA-F]+|0[bB][01]+|\d+)[uUlL]*$")


def parse_number(text: str) -> int:
    m = _NUM.match(text)
    if not m:
        raise Unresolved(f"number {text}")
    s = m.group(1)
    if s[:2] in ("0x", "0X"):
        return int(s, 16)
    if s[:2] in ("0b", "0B"):
        return int(s[2:], 2)
    if len(s) > 1 and s[0] == "0":
        return int(s, 8)
    return int(s)


def eval_expr(node, ident: Callable[[str], int], sizeof: Callable[[str], int] | None = None) -> int:
    """Value of a constant C expression (integers; casts to unsigned types wrap to 32 bits)."""
    t = node.type
    if t == "number_literal":
        return parse_number(tsparse.text(node))
    if t == "char_literal":
        body = tsparse.text(node)[1:-1]
        return ord(body[-1]) if body else 0
    if t == "identifier":
        return ident(tsparse.text(node))
    if t in ("true", "false"):
        return int(t == "true")
    if t == "parenthesized_expression":
        inner = [c for c in node.named_children if c.type != "comment"]
        if len(inner) != 1:
            raise Unresolved(tsparse.text(node))
        return eval_expr(inner[0], ident, sizeof)
    if t == "unary_expression":
        op = tsparse.text(node.child_by_field_name("operator"))
        v = eval_expr(node.child_by_field_name("argument"), ident, sizeof)
        return {"!": lambda x: int(not x), "~": lambda x: ~x, "-": lambda x: -x, "+": lambda x: x}[op](v)
    if t == "binary_expression":
        op = tsparse.text(node.child_by_field_name("operator"))
        a = eval_expr(node.child_by_field_name("left"), ident, sizeof)
        if op == "&&":
            return int(bool(a) and bool(eval_expr(node.child_by_field_name("right"), ident, sizeof)))
        if op == "||":
            return int(bool(a) or bool(eval_expr(node.child_by_field_name("right"), ident, sizeof)))
        b = eval_expr(node.child_by_field_name("right"), ident, sizeof)
        return _BINOPS[op](a, b)
    if t == "conditional_expression":
        c = eval_expr(node.child_by_field_name("condition"), ident, sizeof)
        return eval_expr(node.child_by_field_name("consequence" if c else "alternative"), ident, sizeof)
    if t == "cast_expression":
        v = eval_expr(node.child_by_field_name("value"), ident, sizeof)
        ty = tsparse.text(node.child_by_field_name("type"))
        if "*" in ty:
            raise Unresolved(f"pointer cast ({ty})")
        if "unsigned" in ty or ty.strip() in ("u32", "u16", "u8", "probes_opcode_t"):
            bits = {"u16": 16, "u8": 8}.get(ty.strip(), 32)
            return v & ((1 << bits) - 1)
        return v
    if t == "sizeof_expression" and sizeof is not None:
        ty = node.child_by_field_name("type")
        if ty is not None:
            return sizeof(" ".join(tsparse.text(ty).split()))
    raise Unresolved(f"{t} `{tsparse.text(node)[:40]}`")


def _div(a, b):
    if b == 0:
        raise Unresolved("division by zero")
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


_BINOPS = {
    "|": lambda a, b: a | b, "&": lambda a, b: a & b, "^": lambda a, b: a ^ b,
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": _div, "%": lambda a, b: a - _div(a, b) * b,
    "<<": lambda a, b: a << b, ">>": lambda a, b: a >> b,
    "==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b),
    "<": lambda a, b: int(a < b), ">": lambda a, b: int(a > b),
    "<=": lambda a, b: int(a <= b), ">=": lambda a, b: int(a >= b),
}


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


def parse_expression(text: str):
    """Parse one C expression; returns its node (keep the returned tree alive) or None."""
    code = f"static const int __kpanalyze_expr = ({text});".encode()
    tree = tsparse.parse_c(code)
    if tree.root_node.has_error:
        return None, None
    for n in _walk(tree.root_node):
        if n.type == "init_declarator":
            return tree, n.child_by_field_name("value")
    return None, None


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
