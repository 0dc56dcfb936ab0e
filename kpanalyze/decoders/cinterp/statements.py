"""Compiling C statements to closures (a statement returns None, BREAK, CONTINUE or a
("r", value, evidence) tuple for `return`), and whole functions (Function: parameters,
return type, invocation with the trace)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...verdict import Evidence
from ..cpreproc import Macro
from .ctype import ANY, INT, CType
from .expressions import NOOP_CALLS, ExprCompiler
from .nodes import array_size_node, case_label, declarator_name, has_array, has_error, short
from .results import Unsupported
from .runtime import BREAK, CONTINUE, Frame, Runtime, Scope, block, raiser
from .source import Def, Unit, expand_macro
from .values import CPointer, CStruct, Memory, wrapper

if TYPE_CHECKING:
    from .program import CProgram


class Compiler(ExprCompiler):
    """The compiler of function bodies: statements here, expressions in ExprCompiler."""

    def stmt(self, node, scope: Scope):
        try:
            return self._stmt(node, scope)
        except Unsupported as e:
            return raiser(e.construct, e.path or self.where(node)[0], e.line or self.where(node)[1])

    def _stmt(self, node, scope):
        t = node.type
        if t == "compound_statement":
            inner = Scope(scope)
            parts = [self.stmt(c, inner) for c in node.named_children if c.type != "comment"]
            return block(parts)
        if t == "expression_statement":
            if not node.named_children:
                return lambda fr: None
            e = node.named_children[0]
            if e.type == "call_expression":
                fn = e.child_by_field_name("function")
                if fn.type == "identifier":
                    name = fn.text.decode("latin-1")
                    if name in NOOP_CALLS:
                        return lambda fr: None
                    m = self.prog.macro(name)
                    if m is not None and m.params is not None and name not in self.expanding \
                            and name not in self.prog.builtins:
                        return self._macro_stmt(m, e, scope)
            f = self.expr(e, scope)[0]

            def run_expr(fr):
                f(fr)
            return run_expr
        if t == "declaration":
            return self._declaration(node, scope)
        if t == "return_statement":
            return self._return(node, scope)
        if t == "if_statement":
            return self._if(node, scope)
        if t == "switch_statement":
            return self._switch(node, scope)
        if t == "while_statement":
            return self._while(node, scope)
        if t == "do_statement":
            return self._do(node, scope)
        if t == "for_statement":
            return self._for(node, scope)
        if t == "break_statement":
            return lambda fr: BREAK
        if t == "continue_statement":
            return lambda fr: CONTINUE
        if t in (";", "comment", "type_definition"):
            return lambda fr: None
        if t == "else_clause":
            return self.stmt(node.named_children[0], scope)
        return self.unsupported(f"statement {t}: {short(node)}", node)

    def _macro_stmt(self, m: Macro, call, scope):
        path, line = self.where(call)
        args = [a.text.decode("latin-1") for a in call.child_by_field_name("arguments").named_children
                if a.type != "comment"]
        if not call.child_by_field_name("arguments").named_children and m.params:
            args = []
        text = expand_macro(m, args if args or m.params else [])
        body = self.prog._parse_snippet("stmt", text, path, line)
        unit = Unit(path, None, {line: self.unit.conds(line)} if self.unit.conds(line) else {},
                    line, self.unit.lines)
        parts = [self.sub(unit, m.name).stmt(c, scope) for c in body.named_children]
        return block(parts)

    def _declaration(self, node, scope):
        parts = []
        for decl in node.children_by_field_name("declarator"):
            core = decl.child_by_field_name("declarator") if decl.type == "init_declarator" else decl
            name = declarator_name(core)
            t = self.prog._type_of(node, core, self.unit)
            if t is None:
                tn = node.child_by_field_name("type")
                raise Unsupported(f"type {tn.text.decode('latin-1') if tn is not None else '?'}",
                                  *self.where(node))
            if has_array(core):
                parts.append(self._local_array(decl, core, t, scope, name))
                continue
            if decl.type == "init_declarator":
                val = decl.child_by_field_name("value")
                if val.type == "initializer_list":
                    raise Unsupported("local initializer list", *self.where(node))
                f = self.expr(val, scope)[0]
            else:
                f = None
            key = scope.declare(name, t)
            w = wrapper(t)
            if f is None:
                if t.kind == "struct":
                    parts.append(lambda fr, key=key: fr.v.__setitem__(key, CStruct()))
                else:
                    parts.append(lambda fr, key=key: fr.v.__setitem__(key, 0))
            else:
                def init(fr, key=key, f=f, w=w):
                    v = f(fr)
                    fr.v[key] = w(v) if isinstance(v, int) else v
                parts.append(init)
        return block(parts)

    def _local_array(self, decl, core, t: CType, scope, name: str):
        """`T a[N];` or `T a[] = {x, y};` (T an integer type): the variable is a pointer to
        fresh zeroed memory, so indexing, stores, casts and pointer arithmetic work on it."""
        path, line = self.where(decl)
        elem = t.pointee or ANY
        if elem.kind != "int":
            raise Unsupported(f"local array of {elem.name or elem.kind}", path, line)
        size_node = array_size_node(core)
        size = self.expr(size_node, scope)[0] if size_node is not None else None
        items = []
        value = decl.child_by_field_name("value") if decl.type == "init_declarator" else None
        if value is not None:
            if value.type != "initializer_list":
                raise Unsupported("local array initialized by an expression", path, line)
            for comp, item in self.init_items(value):
                if item.type == "initializer_pair":
                    raise Unsupported("designated initializer of a local array", *comp.where(item))
                items.append(comp.expr(item, scope)[0])
        key = scope.declare(name, t)

        def init(fr):
            n = size(fr) if size is not None else len(items)
            if not isinstance(n, int) or not len(items) <= n <= 1 << 16:
                raise Unsupported(f"local array {name} of {n} elements", path, line)
            ptr = CPointer(Memory(bytes(n * elem.size)), ctype=elem)
            for k, f in enumerate(items):
                v = f(fr)
                if not isinstance(v, int):
                    raise Unsupported(f"local array {name} initialized with a {type(v).__name__}", path, line)
                ptr.moved(k).store(v)
            fr.v[key] = ptr
        return init

    def _return(self, node, scope):
        path, line = self.where(node)
        ev = Evidence(path, line, self.unit.text_at(line))
        conds = self.unit.conds(line)
        if not node.named_children:
            r = ("r", None, ev)
            return lambda fr: r
        f = self.expr(node.named_children[0], scope)[0]
        if conds:
            def ret_c(fr):
                fr.rt.conds.extend(conds)
                return ("r", f(fr), ev)
            return ret_c
        return lambda fr: ("r", f(fr), ev)

    def _if(self, node, scope):
        cond = self.cond(node.child_by_field_name("condition"), scope)
        then = self.stmt(node.child_by_field_name("consequence"), scope)
        alt = node.child_by_field_name("alternative")
        els = self.stmt(alt, scope) if alt is not None else None
        path, line = self.where(node)
        conds = self.unit.conds(line)

        def run_if(fr):
            rt = fr.rt
            rt.steps += 1
            if rt.steps > rt.limit:
                raise Unsupported("step limit exceeded", path, line)
            if cond(fr):
                rt.trace.append(("if", "", path, line, True))
                if conds:
                    rt.conds.extend(conds)
                return then(fr)
            rt.trace.append(("if", "", path, line, False))
            if els is not None:
                return els(fr)
            return None
        return run_if

    def _switch(self, node, scope):
        cond = self.expr(node.child_by_field_name("condition"), scope)[0]
        body = node.child_by_field_name("body")
        inner = Scope(scope)
        labels = []  # (lo, hi) or None for default, index into stmts
        stmts = []
        for case in body.named_children:
            if case.type != "case_statement":
                stmts.append(self.stmt(case, inner))
                continue
            v = case.child_by_field_name("value")
            idx = len(stmts)
            if v is None:
                labels.append((None, idx, case))
            else:
                label = case_label(case)
                if "..." in label or has_error(v):
                    # GCC case ranges `case A ... B:` do not parse: read the label text
                    lo_t, _, hi_t = label.partition("...")
                    path, line = self.where(case)
                    try:
                        lo = self.expr(self.prog._parse_snippet("expr", lo_t, path, line), inner)[0]
                        hi = self.expr(self.prog._parse_snippet("expr", hi_t or lo_t, path, line), inner)[0]
                    except Unsupported:
                        lo = hi = self.unsupported(f"case label {label}", case)
                else:
                    lo = hi = self.expr(v, inner)[0]
                labels.append(((lo, hi), idx, case))
            for c in case.named_children:
                if c == v or c.type in ("ERROR", "comment"):
                    continue
                stmts.append(self.stmt(c, inner))
        path, line = self.where(node)
        resolved = []

        def run_switch(fr):
            if not resolved:
                done = []
                for lab, idx, case in labels:
                    if lab is None:
                        done.append((None, None, idx, self.where(case)[1]))
                    else:
                        done.append((lab[0](fr), lab[1](fr), idx, self.where(case)[1]))
                resolved.extend(done)
            v = cond(fr)
            start = None
            for lo, hi, idx, cl in resolved:
                if lo is not None and lo <= v <= hi:
                    start, at = idx, cl
                    break
            if start is None:
                for lo, hi, idx, cl in resolved:
                    if lo is None:
                        start, at = idx, cl
                        break
            if start is None:
                fr.rt.trace.append(("case", "", path, line, None))
                return None
            fr.rt.trace.append(("case", "", path, at, v))
            for s in stmts[start:]:
                r = s(fr)
                if r is not None:
                    if r == BREAK:
                        return None
                    return r
            return None
        return run_switch

    def _loop(self, node, cond, body, *, test_first=True, init=None, update=None):
        """while, do-while and for: `body` until `cond` is false, a break or a return; each
        iteration counts against the step limit."""
        path, line = self.where(node)

        def run(fr):
            if init is not None:
                init(fr)
            rt = fr.rt
            test = test_first
            while not test or cond(fr):
                test = True
                rt.steps += 1
                if rt.steps > rt.limit:
                    raise Unsupported("step limit exceeded", path, line)
                r = body(fr)
                if r is not None and r != CONTINUE:
                    if r == BREAK:
                        break
                    return r
                if update is not None:
                    update(fr)
            return None
        return run

    def _while(self, node, scope):
        return self._loop(node, self.cond(node.child_by_field_name("condition"), scope),
                          self.stmt(node.child_by_field_name("body"), scope))

    def _do(self, node, scope):
        return self._loop(node, self.cond(node.child_by_field_name("condition"), scope),
                          self.stmt(node.child_by_field_name("body"), scope), test_first=False)

    def _for(self, node, scope):
        inner = Scope(scope)
        init = node.child_by_field_name("initializer")
        cnode = node.child_by_field_name("condition")
        upd = node.child_by_field_name("update")
        finit = None
        if init is not None:
            finit = self.stmt(init, inner) if init.type == "declaration" else self.expr(init, inner)[0]
        cond = self.cond(cnode, inner) if cnode is not None else (lambda fr: True)
        fupd = self.expr(upd, inner)[0] if upd is not None else None
        return self._loop(node, cond, self.stmt(node.child_by_field_name("body"), inner), init=finit, update=fupd)


class Function:
    """A compiled C function: parameters and a body of closures (built on first call)."""

    def __init__(self, prog: CProgram, d: Def):
        self.prog = prog
        self.d = d
        self.name = d.name
        self.body = None
        self.params: list[tuple[str, CType]] = []
        self.rtype = INT
        self.cond = d.cond

    def _build(self):
        node, unit = self.d.node, self.d.unit
        comp = Compiler(self.prog, unit, self.name)
        base = self.prog._spec_type(node, unit) or ANY
        decl = node.child_by_field_name("declarator")
        fdecl = decl
        while fdecl is not None and fdecl.type != "function_declarator":
            if fdecl.type == "pointer_declarator":
                base = CType("ptr", pointee=base, name=base.name + " *")
            fdecl = fdecl.child_by_field_name("declarator")
        self.rtype = base
        scope = Scope(None)
        params = []
        plist = fdecl.child_by_field_name("parameters") if fdecl is not None else None
        for p in (plist.named_children if plist is not None else ()):
            if p.type != "parameter_declaration":
                continue
            pd = p.child_by_field_name("declarator")
            if pd is None:
                continue  # (void)
            pname = declarator_name(pd)
            pt = self.prog._type_of(p, pd, unit) or ANY
            params.append((scope.declare(pname, pt), pt))
        self.params = params
        self.wraps = [wrapper(t) for _, t in params]
        self.rwrap = wrapper(self.rtype)
        self.body = comp.stmt(node.child_by_field_name("body"), scope)
        self.ev = self.d.ev

    def invoke(self, rt: Runtime, args: list, call_ev) -> tuple[Any, Evidence | None]:
        if self.body is None:
            self._build()
        if len(args) != len(self.params):
            raise Unsupported(f"call of {self.name} with {len(args)} arguments for {len(self.params)}",
                              *(call_ev or (self.ev.path, self.ev.line)))
        rt.depth += 1
        if rt.depth > 200:
            raise Unsupported(f"recursion too deep in {self.name}", self.ev.path, self.ev.line)
        if self.cond:
            rt.conds.extend(self.cond)
        rt.trace.append(("call", self.name, self.ev.path, self.ev.line, tuple(args)))
        env = {}
        for (key, _t), w, a in zip(self.params, self.wraps, args):
            env[key] = w(a) if isinstance(a, int) else a
        r = self.body(Frame(env, rt))
        rt.depth -= 1
        if type(r) is tuple:
            v = r[1]
            if isinstance(v, int):
                v = self.rwrap(v)
            rt.trace.append(("return", self.name, r[2].path, r[2].line, v))
            return v, r[2]
        if self.rtype.kind != "void":
            raise Unsupported(f"{self.name} ends without a return statement", self.ev.path, self.ev.line)
        rt.trace.append(("return", self.name, self.ev.path, self.ev.line, None))
        return None, None
