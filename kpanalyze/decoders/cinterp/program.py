"""CProgram: the functions, macros, enums, typedefs and const arrays of a few tree files,
and the entry points: constants, expressions, arrays, calls. Loading, type names and the
static path views are its parts in source.py, ctype.py and paths.py."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

from ... import conditions as _conditions
from ...verdict import Evidence
from ..cpreproc import Macro
from .ctype import ANY, INT, UINT, CType, TypeNames
from .nodes import array_size_node, declarator_name
from .paths import StaticPaths
from .results import Outcome, TraceStep, Unsupported
from .runtime import Frame, Runtime, Scope
from .source import Def, SourceLoader, Unit
from .statements import Compiler, Function
from .values import Array, CPointer, Memory


class CProgram(SourceLoader, TypeNames, StaticPaths):
    """The functions, macros, enums, typedefs and const arrays of a few tree files."""

    def __init__(self, tree, *, config=None, arch: str = "", assume: Iterable[str] = (),
                 types: dict[str, str] | None = None, builtins: dict | None = None):
        self.tree = tree
        self.config = config
        self.arch = arch
        self.assume = frozenset(assume)
        self.word = _conditions.ARCH_FIXED_BITS.get(arch, 64)
        if config is not None and arch not in _conditions.ARCH_FIXED_BITS:
            try:
                self.word = 64 if config.builtin("64BIT") else 32
            except Exception:
                pass
        self.builtins = dict(builtins or {})
        self.macros: dict[str, list[Macro]] = {}
        self.functions: dict[str, list[Def]] = {}
        self.protos: dict[str, Def] = {}
        self.arrays: dict[str, list[Def]] = {}
        self.enums: dict[str, tuple[Any, Unit, tuple]] = {}  # name -> (value node/int, unit, cond)
        self.enum_types: dict[str, list[str]] = {}  # enum tag -> constant names in order
        self.typedefs: dict[str, CType] = {}
        self.typedef_nodes: dict[str, tuple[Any, Unit]] = {}
        self.units: list[Unit] = []
        self.paths: list[str] = []
        self._compiled: dict[str, "Function"] = {}
        self._parse_cache: dict[tuple[str, str], Any] = {}
        self._enum_values: dict[str, int] = {}
        self._array_values: dict[str, Array] = {}
        self._const_cache: dict[str, int] = {}
        self._file_lines: dict[str, list[str]] = {}
        self._pred_cache: dict[tuple[str, tuple[str, ...]], Callable[..., Any]] = {}
        for k, v in (types or {}).items():
            self.typedefs[k] = self._basic_type(v) or ANY

    # -- loading -------------------------------------------------------------------

    @classmethod
    def load(cls, tree, paths: Sequence[str], *, config=None, arch: str = "",
             assume: Iterable[str] = (), types: dict[str, str] | None = None,
             builtins: dict | None = None) -> "CProgram":
        """Parse these tree-relative files (missing files raise FileNotFoundError).
        `assume`: CONFIG_ names taken as =y whatever the config says (CONFIG_KPROBES for a
        kprobe decoder). `types`: extra typedefs, name -> C type name."""
        prog = cls(tree, config=config, arch=arch, assume=assume, types=types, builtins=builtins)
        texts = []
        for p in paths:
            data = tree.read(p)
            if data is None:
                raise FileNotFoundError(p)
            text = data.decode("latin-1")
            prog._file_lines[p] = text.split("\n")
            prog.paths.append(p)
            texts.append((p, prog._preprocess(p, text)))
        # macros of every file are known before any top-level use is looked for, so the
        # order of `paths` matters only for duplicate definitions (first wins)
        for p, (blanked, line_conds) in texts:
            prog._add_text(p, blanked, line_conds, 0, None)
        return prog

    # -- public queries --------------------------------------------------------------

    def has_function(self, name: str) -> bool:
        return name in self.functions

    def return_type(self, name: str) -> CType:
        """The declared return type of a function (`enum probe_insn` keeps its name)."""
        f = self.compiled(name)
        if f.body is None:
            f._build()
        return f.rtype

    def defined_in(self, name: str) -> str:
        """The file (tree-relative) that defines a function or holds its generating macro use."""
        return self.functions[name][0].ev.path

    def function_names(self) -> list[str]:
        return list(self.functions)

    def where(self, name: str) -> Evidence:
        """Definition site of a function (the macro use for generated functions), macro,
        enum constant or array."""
        if name in self.functions:
            return self.functions[name][0].ev
        if name in self.macros:
            return self.macros[name][0].ev
        if name in self.enums:
            node, unit, _ = self.enums[name]
            return unit.ev(node)
        if name in self.arrays:
            return self.arrays[name][0].ev
        if name in self.protos:
            return self.protos[name].ev
        raise KeyError(name)

    def macro_use(self, name: str) -> tuple[str, tuple[str, ...]] | None:
        """For a function generated by a top-level macro use: (macro name, argument texts)."""
        defs = self.functions.get(name)
        return defs[0].origin if defs else None

    def condition_of(self, name: str) -> tuple[str, ...]:
        """Unknown #if conditions a function/macro/array definition sits under."""
        for table in (self.functions, self.macros, self.arrays):
            if name in table:
                return table[name][0].cond
        if name in self.enums:
            return self.enums[name][2]
        return ()

    def conditions_at(self, path: str, line: int) -> tuple[str, ...]:
        """Unknown #if conditions around a line of a loaded file."""
        for u in self.units:
            if u.path == path and not u.fixed_line:
                return u.conds(line)
        return ()

    def macro(self, name: str) -> Macro | None:
        defs = self.macros.get(name)
        return defs[0] if defs else None

    def enum_constants(self, tag: str) -> list[str]:
        return list(self.enum_types.get(tag, ()))

    def constant(self, name: str) -> int:
        """Value of an enum constant or an object-like macro (a constant expression)."""
        if name in self._const_cache:
            return self._const_cache[name]
        if name in self.enums:
            v = self._enum_value(name)
        else:
            v = self.eval_expr(name)
        if not isinstance(v, int):
            raise Unsupported(f"constant {name} is not an integer")
        self._const_cache[name] = v
        return v

    def eval_expr(self, text: str, path: str = "<expr>", line: int = 0, **variables):
        """Evaluate a C expression text (macros, enums and the given variables known)."""
        node, unit = self._parse_expr(text, path, line)
        scope = Scope(None)
        env = {}
        for k, v in variables.items():
            key = scope.declare(k, INT if isinstance(v, int) else ANY)
            env[key] = v
        fn = Compiler(self, unit, "<expr>").expr_in(node, scope)[0]
        rt = Runtime(self, {}, 100_000)
        return fn(Frame(env, rt))

    def predicate(self, text: str, variables: Sequence[str]) -> Callable[..., Any]:
        """Compile an expression text once; returns f(*values) binding `variables` in order
        (for evaluating many candidate encodings against one condition)."""
        key = (text, tuple(variables))
        cache = self._pred_cache
        hit = cache.get(key)
        if hit is None:
            node, unit = self._parse_expr(text, "<expr>", 0)
            scope = Scope(None)
            keys = [scope.declare(v, UINT) for v in variables]
            fn = Compiler(self, unit, "<expr>").expr_in(node, scope)[0]
            prog = self

            def hit(*values):
                return fn(Frame(dict(zip(keys, values)), Runtime(prog, {}, 100_000)))
            cache[key] = hit
        return hit

    def _enum_value(self, name: str) -> int:
        if name in self._enum_values:
            return self._enum_values[name]
        node, unit, _ = self.enums[name]
        # enumerators without a value follow the previous one
        body = node.parent
        prev = -1
        for e in body.children:
            if e.type != "enumerator":
                continue
            nm = e.child_by_field_name("name").text.decode("latin-1")
            vnode = e.child_by_field_name("value")
            if vnode is not None:
                comp = Compiler(self, unit, "<enum>")
                fn = comp.expr_in(vnode, Scope(None))[0]
                val = fn(Frame({}, Runtime(self, {}, 10_000)))
            else:
                val = prev + 1
            self._enum_values.setdefault(nm, val)
            prev = val
            if nm == name:
                break
        return self._enum_values[name]

    def array(self, name: str) -> list:
        return list(self._array(name).values)

    def array_lines(self, name: str) -> list[int]:
        """For each element of a const array, the line of its initializer (0 = implicit)."""
        return list(self._array(name).lines)

    def _array(self, name: str) -> Array:
        if name in self._array_values:
            return self._array_values[name]
        d = self.arrays[name][0]
        node = d.node
        for decl in node.children_by_field_name("declarator"):
            if decl.type == "init_declarator" and declarator_name(decl.child_by_field_name("declarator")) == name:
                break
        else:
            raise Unsupported(f"array {name}", d.ev.path, d.ev.line)
        core = decl.child_by_field_name("declarator")
        elem = self._type_of(node, core, d.unit)
        elem = elem.pointee if elem is not None and elem.kind == "ptr" else ANY
        size_node = array_size_node(core)
        comp = Compiler(self, d.unit, f"<array {name}>")
        frame = Frame({}, Runtime(self, {}, 1_000_000))
        size = None
        if size_node is not None:
            size = comp.expr_in(size_node, Scope(None))[0](frame)
        values, lines = comp.initializer(decl.child_by_field_name("value"), frame, size, elem)
        arr = Array(values, elem, lines)
        self._array_values[name] = arr
        return arr

    # -- calling -----------------------------------------------------------------------

    def call(self, name: str, *args, builtins: dict | None = None, limit: int = 100_000,
             memory: Sequence[Memory | CPointer] = ()) -> Outcome:
        """Evaluate function `name` with Python ints / CStruct / CPointer args. `memory`:
        extra memories that integer addresses cast to pointers may point into (the memory
        of every CPointer argument is known already)."""
        rt = Runtime(self, builtins or {}, limit)
        for m in memory:
            rt.memories.append(m.mem if isinstance(m, CPointer) else m)
        for a in args:
            if isinstance(a, CPointer):
                rt.memories.append(a.mem)
        fn = self.compiled(name)
        value, ret_ev = fn.invoke(rt, list(args), None)
        steps = tuple(TraceStep(*s) for s in rt.trace)
        return Outcome(value, steps, ret_ev, tuple(dict.fromkeys(rt.conds)))

    def compiled(self, name: str) -> "Function":
        f = self._compiled.get(name)
        if f is None:
            defs = self.functions.get(name)
            if not defs:
                raise Unsupported(f"function {name} (no definition in {', '.join(self.paths)})")
            f = Function(self, defs[0])
            self._compiled[name] = f
        return f

