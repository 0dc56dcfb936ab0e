"""Compiling C expressions (and const-array initializers) to closures f(frame) -> value,
with the C type of each; function-like macros are expanded at the use site. The base of
the Compiler (statements.py adds the statements)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from .ctype import ANY, BOOL, INT, VOID, CType, arith, int_type, number, promote
from .nodes import short
from .results import Unsupported
from .runtime import CMP, MISSING, Scope, deref, int_op, ptr_op, raiser, truth
from ..cpreproc import split_args
from .source import Unit, expand_macro
from .values import Array, CPointer, CStruct, FuncRef, ReinterpretRef, Ref, as_int, wrap, wrapper

if TYPE_CHECKING:
    from .program import CProgram

DEFAULT_BUILTINS: dict[str, Callable] = {
    "BIT": lambda n: 1 << n,
    "BIT_ULL": lambda n: 1 << n,
    "GENMASK": lambda h, low: ((1 << (h + 1)) - 1) & ~((1 << low) - 1),
    "GENMASK_ULL": lambda h, low: ((1 << (h + 1)) - 1) & ~((1 << low) - 1),
    "_UL": lambda x: x, "_ULL": lambda x: x, "UL": lambda x: x, "ULL": lambda x: x,
    "_AC": lambda x, _t=None: x,
    "likely": lambda x: 1 if x else 0, "unlikely": lambda x: 1 if x else 0,
    "le32_to_cpu": lambda x: x & 0xFFFFFFFF, "cpu_to_le32": lambda x: x & 0xFFFFFFFF,
    "le16_to_cpu": lambda x: x & 0xFFFF, "cpu_to_le16": lambda x: x & 0xFFFF,
    "le64_to_cpu": lambda x: x, "cpu_to_le64": lambda x: x,
    "hweight32": lambda x: bin(x & 0xFFFFFFFF).count("1"),
    "hweight16": lambda x: bin(x & 0xFFFF).count("1"),
    "hweight8": lambda x: bin(x & 0xFF).count("1"),
}
# compile-time checks: never evaluated
NOOP_CALLS = frozenset({"BUILD_BUG_ON", "BUILD_BUG_ON_MSG", "BUILD_BUG_ON_ZERO", "static_assert",
                        "_Static_assert", "BUILD_BUG_ON_NOT_POWER_OF_2", "compiletime_assert"})
DEFAULT_CONSTANTS = {"NULL": 0, "true": 1, "false": 0}

CHAR_ESC = {"n": 10, "t": 9, "r": 13, "0": 0, "\\": 92, "'": 39, '"': 34, "a": 7, "b": 8,
            "f": 12, "v": 11}


class ExprCompiler:
    """Turns tree-sitter nodes into closures f(frame). Compile-time problems become
    closures that raise Unsupported when executed."""

    def __init__(self, prog: CProgram, unit: Unit, fname: str, expanding: frozenset = frozenset()):
        self.prog = prog
        self.unit = unit
        self.fname = fname
        self.expanding = expanding

    def where(self, node) -> tuple[str, int]:
        return self.unit.path, self.unit.line(node)

    def unsupported(self, what, node):
        return raiser(what, *self.where(node))

    def sub(self, unit: Unit, name: str):
        """The compiler of a macro expansion (`name` is not expanded again inside it)."""
        return type(self)(self.prog, unit, self.fname, self.expanding | {name})

    def stmt(self, node, scope: Scope):  # pragma: no cover - provided by statements.Compiler
        raise NotImplementedError

    def cond(self, node, scope):
        f = self.expr(node, scope)[0]

        def truth(fr):
            v = f(fr)
            if isinstance(v, int):
                return v != 0
            if isinstance(v, CPointer):
                return True
            return bool(v)
        return truth

    def expr_in(self, node, scope):
        return self.expr(node, scope)

    def expr(self, node, scope) -> tuple[Callable, CType]:
        try:
            return self._expr(node, scope)
        except Unsupported as e:
            p, ln = self.where(node)
            return raiser(e.construct, e.path or p, e.line or ln), ANY
        except RecursionError:
            return self.unsupported("expression nested too deeply", node), ANY

    def _expr(self, node, scope):
        t = node.type
        if t == "number_literal":
            v, ct = number(node.text.decode("latin-1"))
            return (lambda fr: v), ct
        if t == "char_literal":
            s = node.text.decode("latin-1")[1:-1]
            v = ord(s[0]) if not s.startswith("\\") else CHAR_ESC.get(s[1:2], None)
            if v is None:
                v = int(s[1:], 8) if s[1:].isdigit() else ord(s[1])
            return (lambda fr: v), INT
        if t in ("true", "false"):
            v = 1 if t == "true" else 0
            return (lambda fr: v), BOOL
        if t == "null":
            return (lambda fr: 0), CType("ptr", pointee=VOID, name="void *")
        if t == "identifier":
            return self._identifier(node, scope)
        if t == "parenthesized_expression":
            inner = node.named_children[0] if node.named_children else None
            if inner is None:
                raise Unsupported("empty parentheses", *self.where(node))
            if inner.type == "compound_statement":
                return self._stmt_expr(inner, scope)
            return self.expr(inner, scope)
        if t == "binary_expression":
            return self._binary(node, scope)
        if t == "unary_expression":
            return self._unary(node, scope)
        if t == "update_expression":
            return self._update(node, scope)
        if t == "assignment_expression":
            return self._assign(node, scope)
        if t == "conditional_expression":
            c = self.cond(node.child_by_field_name("condition"), scope)
            a, ta = self.expr(node.child_by_field_name("consequence"), scope)
            b, tb = self.expr(node.child_by_field_name("alternative"), scope)
            rt_ = arith(ta, tb, self.prog.word) if ta.kind == "int" and tb.kind == "int" else ta
            return (lambda fr: a(fr) if c(fr) else b(fr)), rt_
        if t == "comma_expression":
            a = self.expr(node.child_by_field_name("left"), scope)[0]
            b, tb = self.expr(node.child_by_field_name("right"), scope)
            return (lambda fr: (a(fr), b(fr))[1]), tb
        if t == "call_expression":
            return self._call(node, scope)
        if t == "cast_expression":
            return self._cast(node, scope)
        if t == "sizeof_expression":
            return self._sizeof(node, scope)
        if t == "pointer_expression":
            return self._pointer(node, scope)
        if t == "subscript_expression":
            return self._subscript(node, scope)
        if t == "field_expression":
            get, _set, ft = self._field(node, scope)
            return get, ft
        raise Unsupported(f"expression {t}: {short(node)}", *self.where(node))

    def _stmt_expr(self, comp, scope):
        """GCC statement expression ({ ...; last; }): the value of the last expression."""
        inner = Scope(scope)
        kids = [c for c in comp.named_children if c.type != "comment"]
        if not kids or kids[-1].type != "expression_statement":
            raise Unsupported("statement expression without a final expression", *self.where(comp))
        parts = [self.stmt(c, inner) for c in kids[:-1]]
        last, lt = self.expr(kids[-1].named_children[0], inner)

        def run(fr):
            for p in parts:
                r = p(fr)
                if r is not None:
                    raise Unsupported("control flow out of a statement expression", *self.where(comp))
            return last(fr)
        return run, lt

    def _identifier(self, node, scope):
        name = node.text.decode("latin-1")
        hit = scope.lookup(name)
        if hit is not None:
            key, t = hit
            return (lambda fr: fr.v[key]), t
        prog = self.prog
        m = prog.macro(name)
        if m is not None and m.params is None and name not in self.expanding:
            path, line = self.where(node)
            if m.conds:
                conds = m.conds
            else:
                conds = ()
            if not m.body:
                raise Unsupported(f"macro {name} with an empty body used as a value", path, line)
            sub_node = prog._parse_snippet("expr", m.body, path, line)
            unit = Unit(m.path, None, {}, m.line, prog._file_lines.get(m.path, []))
            f, t = self.sub(unit, name).expr(sub_node, scope)
            if conds:
                def withc(fr):
                    fr.rt.conds.extend(conds)
                    return f(fr)
                return withc, t
            return f, t
        if name in prog.enums:
            conds = prog.enums[name][2]
            v = prog._enum_value(name)
            if conds:
                def enumc(fr):
                    fr.rt.conds.extend(conds)
                    return v
                return enumc, INT
            return (lambda fr: v), INT
        if name in prog.arrays:
            def arr(fr):
                return prog._array(name)
            return arr, CType("ptr", pointee=ANY, name="array")
        if name in prog.functions or name in prog.protos:
            ref = FuncRef(name)
            return (lambda fr: ref), CType("func", name=name)
        if name in prog.builtins:
            b = prog.builtins[name]
            return (lambda fr: b), ANY
        if name in DEFAULT_CONSTANTS:
            v = DEFAULT_CONSTANTS[name]
            return (lambda fr: v), INT
        path, line = self.where(node)

        def runtime_lookup(fr):
            b = fr.rt.builtins.get(name, MISSING)
            if b is MISSING:
                raise Unsupported(f"identifier {name}", path, line)
            return b
        return runtime_lookup, ANY

    def _binary(self, node, scope):
        op = node.child_by_field_name("operator").type
        a, ta = self.expr(node.child_by_field_name("left"), scope)
        b, tb = self.expr(node.child_by_field_name("right"), scope)
        word = self.prog.word
        if op == "&&":
            return (lambda fr: 1 if truth(a(fr)) and truth(b(fr)) else 0), INT
        if op == "||":
            return (lambda fr: 1 if truth(a(fr)) or truth(b(fr)) else 0), INT
        if ta.kind == "ptr" or tb.kind == "ptr" or ta.kind == "any" or tb.kind == "any":
            return self._ptr_binary(op, a, ta, b, tb, node)
        if op in ("<<", ">>"):
            rtype = promote(ta)
        else:
            rtype = arith(ta, tb, word)
        w = wrapper(rtype)
        if op in ("==", "!=", "<", ">", "<=", ">="):
            # compare in the common type (unsigned comparisons of negative values)
            cmp = CMP[op]
            return (lambda fr: 1 if cmp(w(a(fr)), w(b(fr))) else 0), INT
        if op == "&":
            return (lambda fr: w(a(fr) & b(fr))), rtype
        if op == "|":
            return (lambda fr: w(a(fr) | b(fr))), rtype
        if op == "^":
            return (lambda fr: w(a(fr) ^ b(fr))), rtype
        if op == "+":
            return (lambda fr: w(a(fr) + b(fr))), rtype
        if op == "-":
            return (lambda fr: w(a(fr) - b(fr))), rtype
        if op == "*":
            return (lambda fr: w(a(fr) * b(fr))), rtype
        if op == "<<":
            return (lambda fr: w(w(a(fr)) << b(fr))), rtype
        if op == ">>":
            return (lambda fr: w(w(a(fr)) >> b(fr))), rtype
        path, line = self.where(node)
        if op in ("/", "%"):
            return (lambda fr: w(int_op(op, w(a(fr)), w(b(fr)), path, line))), rtype
        raise Unsupported(f"operator {op}", path, line)

    def _ptr_binary(self, op, a, ta, b, tb, node):
        path, line = self.where(node)
        cmp = CMP.get(op)

        def run(fr):
            x, y = a(fr), b(fr)
            return ptr_op(op, x, y, cmp, path, line)
        rtype = ta if ta.kind == "ptr" and op in ("+", "-") and tb.kind != "ptr" else \
            (tb if tb.kind == "ptr" and op == "+" else (INT if cmp else int_type(self.prog.word, True, "long")))
        if ta.kind == "any" and tb.kind == "any":
            rtype = ANY
        return run, rtype

    def _unary(self, node, scope):
        op = node.child_by_field_name("operator").type
        a, ta = self.expr(node.child_by_field_name("argument"), scope)
        if op == "!":
            return (lambda fr: 0 if truth(a(fr)) else 1), INT
        rtype = promote(ta) if ta.kind == "int" else int_type(self.prog.word, True, "long")
        w = wrapper(rtype)
        if op == "~":
            return (lambda fr: w(~a(fr))), rtype
        if op == "-":
            return (lambda fr: w(-a(fr))), rtype
        if op == "+":
            return (lambda fr: w(a(fr))), rtype
        raise Unsupported(f"unary operator {op}", *self.where(node))

    def _lvalue(self, node, scope):
        """(get, set, type) of an assignable expression."""
        t = node.type
        if t == "parenthesized_expression" and node.named_children:
            return self._lvalue(node.named_children[0], scope)
        if t == "identifier":
            name = node.text.decode("latin-1")
            hit = scope.lookup(name)
            if hit is None:
                raise Unsupported(f"assignment to {name} (not a local variable)", *self.where(node))
            key, ct = hit
            w = wrapper(ct)

            def setv(fr, v):
                fr.v[key] = w(v) if isinstance(v, int) else v
            return (lambda fr: fr.v[key]), setv, ct
        if t == "field_expression":
            return self._field(node, scope)
        if t == "pointer_expression" and node.child_by_field_name("operator").type == "*":
            p, pt = self.expr(node.child_by_field_name("argument"), scope)
            path, line = self.where(node)

            def get(fr):
                return deref(p(fr), path, line)

            def setp(fr, v):
                ptr = p(fr)
                if not hasattr(ptr, "store"):
                    raise Unsupported("store through a non-pointer", path, line)
                ptr.store(v)
            return get, setp, (pt.pointee or ANY) if pt.kind == "ptr" else ANY
        if t == "subscript_expression":
            a, at = self.expr(node.child_by_field_name("argument"), scope)
            i = self.expr(node.child_by_field_name("index"), scope)[0]
            path, line = self.where(node)

            def element(fr):
                base = a(fr)
                if not isinstance(base, CPointer):
                    raise Unsupported("assignment to an element of a const array or a non-pointer", path, line)
                return base.moved(i(fr))

            def sete(fr, v):
                if not isinstance(v, int):
                    raise Unsupported(f"store of a {type(v).__name__} into memory", path, line)
                element(fr).store(v)
            return (lambda fr: element(fr).load()), sete, (at.pointee or ANY) if at.kind == "ptr" else ANY
        raise Unsupported(f"assignment to {t}", *self.where(node))

    def _assign(self, node, scope):
        op = node.child_by_field_name("operator").type
        get, setv, lt = self._lvalue(node.child_by_field_name("left"), scope)
        rhs, rt_ = self.expr(node.child_by_field_name("right"), scope)
        if op == "=":
            def assign(fr):
                v = rhs(fr)
                setv(fr, v)
                return get(fr)
            return assign, lt
        bop = op[:-1]
        path, line = self.where(node)
        ctype = arith(lt, rt_, self.prog.word) if lt.kind == "int" and rt_.kind == "int" else lt

        def compound(fr):
            x = get(fr)
            y = rhs(fr)
            if isinstance(x, int) and isinstance(y, int):
                v = int_op(bop, wrap(x, ctype), wrap(y, ctype), path, line)
            else:
                v = ptr_op(bop, x, y, None, path, line)
            setv(fr, v)
            return get(fr)
        return compound, lt

    def _update(self, node, scope):
        op = node.child_by_field_name("operator").type
        arg = node.child_by_field_name("argument")
        get, setv, lt = self._lvalue(arg, scope)
        prefix = node.children[0].type in ("++", "--")
        d = 1 if op == "++" else -1

        def upd(fr):
            old = get(fr)
            new = old.moved(d) if isinstance(old, CPointer) else old + d
            setv(fr, new)
            return get(fr) if prefix else old
        return upd, lt

    def _call(self, node, scope):
        fn = node.child_by_field_name("function")
        argn = [a for a in node.child_by_field_name("arguments").named_children if a.type != "comment"]
        path, line = self.where(node)
        if fn.type != "identifier":
            raise Unsupported(f"indirect call {short(fn)}", path, line)
        name = fn.text.decode("latin-1")
        prog = self.prog
        if name in NOOP_CALLS:
            return (lambda fr: 0), INT
        if scope.lookup(name) is not None:
            raise Unsupported(f"call through the variable {name}", path, line)
        m = prog.macro(name)
        if m is not None and m.params is not None and name not in self.expanding \
                and name not in prog.builtins:
            args = [a.text.decode("latin-1") for a in argn]
            text = expand_macro(m, args)
            sub_node = prog._parse_snippet("expr", text, path, line)
            unit = Unit(path, None, {line: self.unit.conds(line)} if self.unit.conds(line) else {},
                        line, self.unit.lines)
            f, t = self.sub(unit, name).expr(sub_node, scope)
            if m.conds:
                conds = m.conds

                def withc(fr):
                    fr.rt.conds.extend(conds)
                    return f(fr)
                return withc, t
            return f, t
        afs = [self.expr(a, scope)[0] for a in argn]
        if name in prog.builtins:
            b = prog.builtins[name]

            def call_pb(fr):
                rb = fr.rt.builtins.get(name, b)
                return rb(*[f(fr) for f in afs])
            return call_pb, ANY
        if name in prog.functions:
            target = prog.compiled(name)
            ev = (path, line)
            if target.body is None:
                try:
                    target._build()
                except Unsupported:
                    pass
            rtype = target.rtype if target.body is not None else ANY

            def call_c(fr):
                rt = fr.rt
                b = rt.builtins.get(name)
                args = [f(fr) for f in afs]
                if b is not None:
                    return b(*args)
                return target.invoke(rt, args, ev)[0]
            return call_c, rtype
        dflt = DEFAULT_BUILTINS.get(name)

        def call_rt(fr):
            b = fr.rt.builtins.get(name, dflt)
            if b is None:
                raise Unsupported(f"call to {name} (no definition in the loaded files and no builtin)",
                                  path, line)
            return b(*[f(fr) for f in afs])
        return call_rt, INT if dflt is not None else ANY

    def _cast(self, node, scope):
        tnode = node.child_by_field_name("type")
        target = self.prog._descriptor_type(tnode, self.unit)
        if target is None:
            raise Unsupported(f"cast to unknown type {tnode.text.decode('latin-1')}", *self.where(node))
        valn = node.child_by_field_name("value")
        f = self.expr(valn, scope)[0]
        path, line = self.where(node)
        if target.kind == "int":
            w = wrapper(target)

            def to_int(fr):
                v = f(fr)
                if isinstance(v, int):
                    return w(v)
                if isinstance(v, CPointer):
                    return w(v.addr)
                if isinstance(v, (ReinterpretRef, Ref)):
                    raise Unsupported("cast of an address of a variable to an integer", path, line)
                return w(as_int(v, target))
            return to_int, target
        if target.kind == "ptr":
            pt = target.pointee or ANY

            def to_ptr(fr):
                v = f(fr)
                if isinstance(v, CPointer):
                    return v.retyped(pt) if pt.kind == "int" else v
                if isinstance(v, (Ref, ReinterpretRef)):
                    return ReinterpretRef(v, pt) if pt.kind == "int" else v
                if isinstance(v, int):
                    if v == 0:
                        return 0
                    if pt.kind != "int":
                        raise Unsupported(f"cast of {v:#x} to {target.name}", path, line)
                    return CPointer(fr.rt.memory_at(v, path, line), ctype=pt, addr=v)
                return v  # structs, function refs: pointer-ness is not modelled
            return to_ptr, target
        return f, target if target.kind != "void" else VOID

    def _sizeof(self, node, scope):
        tnode = node.child_by_field_name("type")
        prog = self.prog
        if tnode is not None:
            t = prog._descriptor_type(tnode, self.unit)
            if t is None:
                raise Unsupported(f"sizeof({tnode.text.decode('latin-1')})", *self.where(node))
        else:
            v = node.child_by_field_name("value")
            inner = v.named_children[0] if v.type == "parenthesized_expression" and v.named_children else v
            t = None
            if inner.type in ("identifier", "type_identifier") and scope.lookup(inner.text.decode("latin-1")) is None:
                t = prog.type_named(inner.text.decode("latin-1"))
            if t is None:
                t = self.expr(v, scope)[1]
        n = prog.sizeof(t)
        return (lambda fr: n), int_type(self.prog.word, False, "size_t")

    def _pointer(self, node, scope):
        op = node.child_by_field_name("operator").type
        arg = node.child_by_field_name("argument")
        path, line = self.where(node)
        if op == "*":
            p, pt = self.expr(arg, scope)
            return (lambda fr: deref(p(fr), path, line)), (pt.pointee or ANY) if pt.kind == "ptr" else ANY
        # &x
        inner = arg
        while inner.type == "parenthesized_expression" and inner.named_children:
            inner = inner.named_children[0]
        if inner.type == "identifier":
            name = inner.text.decode("latin-1")
            hit = scope.lookup(name)
            if hit is not None:
                key, t = hit
                if t.kind == "struct":
                    return (lambda fr: fr.v[key]), CType("ptr", pointee=t, name=t.name + " *")
                return (lambda fr: Ref(fr.v, key, t)), CType("ptr", pointee=t, name=t.name + " *")
            if name in self.prog.functions or name in self.prog.protos:
                ref = FuncRef(name)
                return (lambda fr: ref), CType("func", name=name)
            raise Unsupported(f"address of {name}", path, line)
        if inner.type == "field_expression":
            struct, fname = self._owner(inner, scope)

            def addr_field(fr):
                s = struct(fr)
                v = dict.get(s, fname)
                if v is None or isinstance(v, CStruct):
                    return s.sub(fname)
                return Ref(s, fname)
            return addr_field, CType("ptr", pointee=ANY, name="field *")
        if inner.type == "subscript_expression":
            a, at = self.expr(inner.child_by_field_name("argument"), scope)
            i = self.expr(inner.child_by_field_name("index"), scope)[0]

            def addr_elem(fr):
                base = a(fr)
                if isinstance(base, CPointer):
                    return base.moved(i(fr))
                raise Unsupported("address of an array element", path, line)
            return addr_elem, at
        raise Unsupported(f"address of {inner.type}", path, line)

    def _subscript(self, node, scope):
        a, at = self.expr(node.child_by_field_name("argument"), scope)
        i = self.expr(node.child_by_field_name("index"), scope)[0]
        path, line = self.where(node)

        def index(fr):
            base = a(fr)
            k = i(fr)
            if isinstance(base, Array):
                if not 0 <= k < len(base.values):
                    raise Unsupported(f"array index {k} out of range", path, line)
                return base.values[k]
            if isinstance(base, CPointer):
                return base.moved(k).load()
            if isinstance(base, (list, tuple)):
                return base[k]
            raise Unsupported("subscript of a non-array", path, line)
        return index, (at.pointee or ANY) if at.kind == "ptr" else ANY

    def _struct_base(self, node, scope):
        """Evaluate `node` as a struct (nested fields are created on use)."""
        if node.type == "field_expression":
            struct, fname = self._owner(node, scope)
            return lambda fr: struct(fr).sub(fname)
        if node.type == "parenthesized_expression" and node.named_children:
            return self._struct_base(node.named_children[0], scope)
        return self.expr(node, scope)[0]

    def _owner(self, node, scope):
        """For a field expression `s.f` or `p->f`: (f(frame) -> the struct, field name)."""
        base = self._struct_base(node.child_by_field_name("argument"), scope)
        fname = node.child_by_field_name("field").text.decode("latin-1")
        path, line = self.where(node)

        def struct(fr):
            s = base(fr)
            if not isinstance(s, CStruct):
                raise Unsupported(f"field {fname} of a non-struct value", path, line)
            return s
        return struct, fname

    def _field(self, node, scope):
        struct, fname = self._owner(node, scope)

        def setf(fr, v):
            struct(fr)[fname] = v
        return (lambda fr: struct(fr)[fname]), setf, ANY

    # ---- initializers (const arrays)

    def initializer(self, node, frame, size, elem: CType):
        if node is None or node.type != "initializer_list":
            raise Unsupported("array without an initializer list", *self.where(node) if node else ("", 0))
        vals: dict[int, Any] = {}
        lines: dict[int, int] = {}
        pos = 0
        scope = Scope(None)
        w = wrapper(elem)
        for comp, item in self.init_items(node):
            if item.type == "initializer_pair":
                des = item.child_by_field_name("designator")
                desigs = item.children_by_field_name("designator")
                if len(desigs) != 1:
                    raise Unsupported("nested designators", *comp.where(item))
                des = desigs[0]
                vnode = item.child_by_field_name("value")
                if des.type == "subscript_designator":
                    lo = hi = comp.expr(des.named_children[0], scope)[0](frame)
                elif des.type == "subscript_range_designator":
                    lo = comp.expr(des.child_by_field_name("start"), scope)[0](frame)
                    hi = comp.expr(des.child_by_field_name("end"), scope)[0](frame)
                else:
                    raise Unsupported(f"designator {des.type}", *comp.where(item))
            else:
                lo = hi = pos
                vnode = item
            v = comp._init_value(vnode, frame, elem)
            v = w(v) if isinstance(v, int) else v
            for k in range(lo, hi + 1):
                vals[k] = v
                lines[k] = comp.where(item)[1]
            pos = hi + 1
        n = size if size is not None else (max(vals) + 1 if vals else 0)
        return [vals.get(k, 0) for k in range(n)], [lines.get(k, 0) for k in range(n)]

    def init_items(self, node):
        """(compiler, item) for the items of an initializer list; an item that is an
        object-like macro expanding to a comma list (`{ __XEN_EMULATE_PREFIX }`) stands for
        its items (compiled where the macro is used)."""
        for item in node.named_children:
            if item.type == "comment":
                continue
            m = self.prog.macro(item.text.decode("latin-1")) if item.type == "identifier" else None
            if m is not None and m.params is None and m.name not in self.expanding \
                    and len(split_args(m.body)) > 1:
                path, line = self.where(item)
                items = self.prog._parse_snippet("init", m.body, path, line)
                yield from self.sub(Unit(path, None, {}, line, self.unit.lines), m.name).init_items(items)
            else:
                yield self, item

    def _init_value(self, vnode, frame, elem):
        if vnode.type == "initializer_list":
            has_fields = any(c.type == "initializer_pair" and c.child_by_field_name("designator") is not None
                             and c.child_by_field_name("designator").type == "field_designator"
                             for c in vnode.named_children)
            if has_fields:
                s = CStruct()
                for c in vnode.named_children:
                    if c.type == "initializer_pair":
                        d = c.child_by_field_name("designator")
                        if d.type == "field_designator":
                            s[d.named_children[0].text.decode("latin-1")] = \
                                self._init_value(c.child_by_field_name("value"), frame, ANY)
                return s
            return [self._init_value(c, frame, ANY) for c in vnode.named_children if c.type != "comment"]
        return self.expr(vnode, Scope(None))[0](frame)


