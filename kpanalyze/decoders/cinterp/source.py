"""Reading the loaded files: the cinterp policy of the preprocessor (#if decided with the
config, three-valued; #defines of active code), attributes blanked, top-level macro uses
that generate functions expanded, and the definitions collected (functions, prototypes,
const arrays, enums, typedefs). A CProgram part (SourceLoader)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from ... import conditions as _conditions
from ...tsparse import parse_c
from ...verdict import Evidence
from ..cpreproc import Conditionals, Macro, MacroError, blank, matching_paren, parse_define, scan, \
    split_args, strip_comments, substitute
from .nodes import declarator_name, has_array, is_function_declarator
from .results import Unsupported

# Attribute-like kernel macros blanked before parsing (they sit in declarator position).
ATTRIBUTES = frozenset({
    "__kprobes", "__always_inline", "notrace", "noinstr", "__init", "__exit", "__meminit",
    "__maybe_unused", "__cold", "__pure", "__must_check", "__used", "__weak", "__visible",
    "asmlinkage", "__nocfi", "__noreturn", "__attribute_const__", "__ro_after_init",
    "__read_mostly", "__initdata", "__initconst", "__init_or_module", "nokprobe_inline",
    "noinline", "__noinline", "__always_unused", "__force", "__user", "__iomem", "__rcu",
    "__percpu", "__kernel", "__nocast", "__bitwise", "__safe", "__idmap", "__ref",
    "__irq_entry", "__cpuidle", "__sched", "__head", "__packed", "__aligned_largest",
    "__section", "__aligned", "__attribute__", "__printf", "__malloc", "__no_sanitize_address",
    "__noinstr_section", "__no_kcsan", "__no_profile", "__always_unused", "__latent_entropy",
    "__inline__", "__inline", "__fix_address", "__no_kasan_or_inline", "fallthrough",
    "__must_hold", "__acquires", "__releases", "__flatten",
})
PAREN_ATTRIBUTES = frozenset({"__attribute__", "__section", "__aligned", "__printf",
                              "__must_hold", "__acquires", "__releases"})
ATTR_RE = re.compile(r"\b(?:__kprobes|__always_inline|notrace|noinstr|__maybe_unused|__init|__exit"
                     r"|__force|__user|__iomem|__rcu|__percpu|nokprobe_inline|__must_check"
                     r"|__visible|asmlinkage|__cold|__pure|noinline|__attribute_const__|fallthrough)\b")


def parse_snippet(source: str, kind: str = "expr"):
    """Parse C text out of context: one expression (kind "expr"), a list of statements
    ("stmt", as in a function body) or the items of an initializer list ("init"). Returns
    (tree, node): the expression (outer parentheses removed), the compound statement or the
    initializer list; node is None when the text does not parse. Keep the tree alive as long
    as the node is used."""
    if kind == "expr":
        src = f"void __kpa_f(void) {{ __kpa_v = ({source}\n); }}"
    elif kind == "init":
        src = f"void __kpa_f(void) {{ int __kpa_a[] = {{ {source}\n }}; }}"
    else:
        src = f"void __kpa_f(void) {{ {source}\n; }}"
    tree = parse_c(src.encode("latin-1", "replace"))
    root = tree.root_node
    body = root.children[0].child_by_field_name("body") if root.child_count else None
    if body is None or root.has_error:
        return tree, None
    if kind == "stmt":
        return tree, body
    first = body.named_children[0]
    if kind == "init":
        return tree, first.child_by_field_name("declarator").child_by_field_name("value")
    rhs = first.named_children[0].child_by_field_name("right")
    return tree, rhs.named_children[0] if rhs.type == "parenthesized_expression" else rhs


def expand_macro(m: Macro, args: Sequence[str]) -> str:
    """Textual expansion of one function-like macro use (parameters, # and ##). Macros in
    the result are expanded later, when the text is compiled (lazily)."""
    try:
        return substitute(m, args)
    except MacroError as e:
        raise Unsupported(str(e), m.path, m.line) from None


@dataclass
class Unit:
    """One parsed text: a file (rows map to lines) or a macro expansion (every row maps to
    the line of the macro use)."""

    path: str
    tree: Any
    line_conds: dict  # line -> tuple of unknown conditions
    fixed_line: int = 0  # expansion units: the use line
    lines: list = field(default_factory=list)  # original source lines of the file

    def line(self, node) -> int:
        return self.fixed_line or node.start_point[0] + 1

    def conds(self, line: int) -> tuple[str, ...]:
        return self.line_conds.get(line, ())

    def text_at(self, line: int) -> str:
        return self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""

    def ev(self, node) -> Evidence:
        ln = self.line(node)
        return Evidence(self.path, ln, self.text_at(ln))


@dataclass
class Def:
    kind: str  # "function", "array", "proto"
    name: str
    node: Any
    unit: Unit
    cond: tuple[str, ...]
    ev: Evidence
    origin: tuple[str, tuple[str, ...]] | None = None  # (macro, args) of a generating use


class SourceLoader:
    """CProgram part: files -> definitions."""

    def _cond_value(self, expr: str) -> bool | None:
        e = expr
        for sym in self.assume:
            e = re.sub(rf"\b(?:defined\s*\(\s*{sym}\s*\)|defined\s+{sym}\b|IS_ENABLED\s*\(\s*{sym}\s*\)"
                       rf"|IS_BUILTIN\s*\(\s*{sym}\s*\)|{sym}\b)", "1", e)
        v = _conditions.evaluate(e, self.config, self.arch)
        if v is None and "CONFIG_" not in e:
            # names the loaded files define (include guards and the like)
            e2 = re.sub(r"\bdefined\s*\(\s*(\w+)\s*\)|\bdefined\s+(\w+)",
                        lambda m: "1" if (m.group(1) or m.group(2)) in self.macros else "0", e)
            if e2 != e:
                v = _conditions.evaluate(e2, self.config, self.arch)
        return v

    def _decide(self, expr: str, kind: str, name: str) -> bool | None:
        if kind == "ifndef" and not name.startswith("CONFIG_") and name not in self.macros:
            return True  # include guards and the like
        return self._cond_value(expr)

    def _preprocess(self, path: str, text: str) -> tuple[str, dict]:
        """Collect #defines, evaluate #if, blank directives and inactive code.
        Returns (text with the same line structure, {line: unknown conditions})."""
        text = strip_comments(text)
        out = text.split("\n")
        line_conds: dict[int, tuple[str, ...]] = {}
        conds = Conditionals(self._decide)
        for ln in scan(text, conds):
            if ln.directive is not None or not conds.active():
                out[ln.first:ln.last + 1] = [""] * (ln.last + 1 - ln.first)
                if ln.directive == "define" and conds.active():
                    self._define(path, ln.first + 1, ln.rest, conds.unknown())
            elif conds.unknown():
                for k in range(ln.first + 1, ln.last + 2):
                    line_conds[k] = conds.unknown()
        return "\n".join(out), line_conds

    def _define(self, path: str, line: int, rest: str, cond) -> None:
        d = parse_define(rest)
        if d is not None:
            name, params, body, variadic = d
            self.macros.setdefault(name, []).append(
                Macro(name, params, body, variadic, path, line, cond, self._src_line(path, line)))

    def _src_line(self, path: str, line: int) -> str:
        lines = self._file_lines.get(path, ())
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""

    def _generating_uses(self, text: str) -> tuple[str, list[tuple[int, int, str, list[str]]]]:
        """Find top-level uses of function-like macros (outside any braces/parens, not
        followed by a body) and blank them. Returns (text, [(start, end, name, args)])."""
        uses = []
        depth = 0
        chars = list(text)
        pos = 0
        n = len(text)
        tok_re = re.compile(r'[A-Za-z_]\w*|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|[{}()\[\]]')
        while pos < n:
            m = tok_re.search(text, pos)
            if not m:
                break
            t = m.group(0)
            pos = m.end()
            if t in "{([":
                depth += 1
                continue
            if t in "})]":
                depth -= 1
                continue
            if depth or t[0] in "\"'":
                continue
            if t in ATTRIBUTES:
                if t in PAREN_ATTRIBUTES:
                    k = pos
                    while k < n and text[k] in " \t\n":
                        k += 1
                    if k < n and text[k] == "(":
                        end = matching_paren(text, k)
                        if end > 0:
                            chars[m.start():end + 1] = list(blank(text[m.start():end + 1]))
                            pos = end + 1
                            continue
                chars[m.start():m.end()] = [" "] * (m.end() - m.start())
                continue
            defs = self.macros.get(t)
            if not defs or defs[0].params is None:
                continue
            k = pos
            while k < n and text[k] in " \t\n":
                k += 1
            if k >= n or text[k] != "(":
                continue
            end = matching_paren(text, k)
            if end < 0:
                continue
            after = end + 1
            while after < n and text[after] in " \t\n":
                after += 1
            if after < n and text[after] == "{":
                continue  # DEFINE_X(...) { body }: not a generating use
            stop = after + 1 if after < n and text[after] == ";" else end + 1
            uses.append((m.start(), stop, t, split_args(text[k + 1:end])))
            chars[m.start():stop] = list(blank(text[m.start():stop]))
            pos = stop
        # attributes inside function bodies and declarations too
        blanked = "".join(chars)
        blanked = ATTR_RE.sub(lambda mm: blank(mm.group(0)), blanked)
        return blanked, uses

    def _add_text(self, path: str, text: str, line_conds: dict, fixed_line: int,
                  origin: tuple[str, tuple[str, ...]] | None, depth: int = 0) -> None:
        text, uses = self._generating_uses(text)
        data = text.encode("latin-1", "replace")
        unit = Unit(path, parse_c(data), line_conds, fixed_line, self._file_lines.get(path, []))
        self.units.append(unit)
        self._collect(unit.tree.root_node, unit, origin)
        if depth > 8:
            return
        for start, _end, name, args in uses:
            line = fixed_line or text.count("\n", 0, start) + 1
            mac = self.macros[name][0]
            try:
                expansion = expand_macro(mac, args)
            except Unsupported:
                continue
            self._add_text(path, expansion, {line: unit.conds(line)} if unit.conds(line) else {},
                           line, (name, tuple(args)), depth + 1)

    def _collect(self, root, unit: Unit, origin) -> None:
        for node in root.children:
            t = node.type
            if t in ("ERROR", "linkage_specification", "declaration_list"):
                self._collect(node, unit, origin)
            elif t == "function_definition":
                name = declarator_name(node.child_by_field_name("declarator"))
                if name:
                    ln = unit.line(node.child_by_field_name("declarator") or node)
                    d = Def("function", name, node, unit, unit.conds(ln),
                            Evidence(unit.path, ln, unit.text_at(ln)), origin)
                    self.functions.setdefault(name, []).append(d)
                self._collect_types(node, unit)
            elif t in ("declaration", "type_definition"):
                self._collect_types(node, unit)
                if t == "type_definition":
                    self._collect_typedef(node, unit)
                    continue
                for decl in node.children_by_field_name("declarator"):
                    ln = unit.line(decl)
                    ev = Evidence(unit.path, ln, unit.text_at(ln))
                    core = decl.child_by_field_name("declarator") if decl.type == "init_declarator" else decl
                    name = declarator_name(core)
                    if not name:
                        continue
                    if decl.type == "init_declarator" and has_array(core):
                        self.arrays.setdefault(name, []).append(
                            Def("array", name, node, unit, unit.conds(ln), ev, origin))
                    elif is_function_declarator(core):
                        self.protos.setdefault(name, Def("proto", name, node, unit, unit.conds(ln),
                                                         ev, origin))
            elif t in ("enum_specifier", "struct_specifier", "union_specifier"):
                self._collect_types(node, unit)

    def _collect_types(self, node, unit: Unit) -> None:
        """Enums (anywhere in the declaration's specifiers)."""
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type == "enum_specifier":
                body = n.child_by_field_name("body")
                if body is not None:
                    tag = n.child_by_field_name("name")
                    names = []
                    for e in body.children:
                        if e.type == "enumerator":
                            nm = e.child_by_field_name("name").text.decode("latin-1")
                            names.append(nm)
                            if nm not in self.enums:
                                self.enums[nm] = (e, unit, unit.conds(unit.line(e)))
                    if tag is not None:
                        self.enum_types.setdefault(tag.text.decode("latin-1"), names)
                continue
            if n.type in ("compound_statement",):
                continue
            stack.extend(n.children)

    def _collect_typedef(self, node, unit: Unit) -> None:
        for decl in node.children_by_field_name("declarator"):
            name = declarator_name(decl)
            if name and name not in self.typedefs and name not in self.typedef_nodes:
                self.typedef_nodes[name] = (node, unit)

    # -- parsing snippets (macro expansions, expression texts) ------------------------

    def _parse_snippet(self, kind: str, text: str, path: str, line: int):
        """Parse an expansion as an expression or statement list; cached by text."""
        key = (kind, text)
        hit = self._parse_cache.get(key)
        if hit is None:
            hit = parse_snippet(ATTR_RE.sub(lambda m: blank(m.group(0)), text), kind)
            self._parse_cache[key] = hit
        _tree, node = hit
        if node is None:
            what = {"expr": "an expression", "init": "initializer items"}.get(kind, "statements")
            raise Unsupported(f"macro expansion that does not parse as {what}: {' '.join(text.split())[:80]}",
                              path, line)
        return node

    def _parse_expr(self, text: str, path: str, line: int):
        node = self._parse_snippet("expr", text, path, line)
        unit = Unit(path, None, {}, line or 1, self._file_lines.get(path, []))
        return node, unit
