"""C types as the interpreter models them (integers by width and signedness, pointers,
structs), the usual arithmetic conversions, integer literals, and the naming of types by
a program (typedefs, declarators)."""

from __future__ import annotations

from dataclasses import dataclass

from ..cconst import parse_int
from .results import Unsupported


@dataclass(frozen=True)
class CType:
    kind: str  # "int", "ptr", "struct", "void", "func", "any"
    bits: int = 0
    signed: bool = False
    pointee: "CType | None" = None
    name: str = ""

    @property
    def size(self) -> int:
        if self.kind == "int":
            return max(1, self.bits // 8)
        if self.kind == "ptr":
            return 8  # the arch word: TypeNames.sizeof
        return 0


ANY = CType("any", name="?")
VOID = CType("void", name="void")
BOOL = CType("int", 1, False, name="bool")
INT = CType("int", 32, True, name="int")
UINT = CType("int", 32, False, name="unsigned int")


def int_type(bits: int, signed: bool, name: str) -> CType:
    return CType("int", bits, signed, name=name)


_FIXED = {
    "u8": (8, False), "u16": (16, False), "u32": (32, False), "u64": (64, False),
    "s8": (8, True), "s16": (16, True), "s32": (32, True), "s64": (64, True),
    "__u8": (8, False), "__u16": (16, False), "__u32": (32, False), "__u64": (64, False),
    "__s8": (8, True), "__s16": (16, True), "__s32": (32, True), "__s64": (64, True),
    "uint8_t": (8, False), "uint16_t": (16, False), "uint32_t": (32, False), "uint64_t": (64, False),
    "int8_t": (8, True), "int16_t": (16, True), "int32_t": (32, True), "int64_t": (64, True),
    "__le16": (16, False), "__le32": (32, False), "__le64": (64, False),
    "__be16": (16, False), "__be32": (32, False), "__be64": (64, False),
    "char": (8, True), "short": (16, True), "int": (32, True), "long long": (64, True),
    "signed char": (8, True), "unsigned char": (8, False), "unsigned short": (16, False),
    "unsigned": (32, False), "unsigned int": (32, False), "signed": (32, True),
    "signed int": (32, True), "unsigned long long": (64, False),
    "short int": (16, True), "unsigned short int": (16, False), "long int": (64, True),
    "long long int": (64, True), "unsigned long int": (64, False),
}
_WORD = {"long": True, "signed long": True, "unsigned long": False, "size_t": False,
         "ssize_t": True, "uintptr_t": False, "intptr_t": True, "ptrdiff_t": True,
         "long int": True, "unsigned long int": False, "phys_addr_t": False}


def arith(a: CType, b: CType, word: int) -> CType:
    """The usual arithmetic conversions (integer part)."""
    if a.kind != "int" or b.kind != "int":
        if a.kind == "int":
            return promote(a)
        if b.kind == "int":
            return promote(b)
        return int_type(word, True, "long")
    a, b = promote(a), promote(b)
    if a.signed == b.signed:
        return a if a.bits >= b.bits else b
    u, s = (a, b) if not a.signed else (b, a)
    if u.bits >= s.bits:
        return u
    return s


def promote(t: CType) -> CType:
    if t.kind == "int" and t.bits < 32:
        return INT
    return t


def number(text: str) -> tuple[int, CType]:
    """Value and type of an integer literal (C rules: suffix, then the first type that fits)."""
    try:
        v, suffix, based = parse_int(text)
    except ValueError:
        raise Unsupported(f"number {text}") from None
    uns = "u" in suffix
    longs = suffix.count("l")
    if longs == 0:
        if not uns and v < 2 ** 31:
            return v, INT
        if (uns or based) and v < 2 ** 32:
            return v, UINT
    if longs <= 1:
        if not uns and v < 2 ** 63:
            return v, int_type(64, True, "long")
        return v, int_type(64, False, "unsigned long")
    return v, int_type(64, not uns and v < 2 ** 63, "long long")


class TypeNames:
    """CProgram part: C type names and declarators -> CType (typedefs of the loaded files
    resolved on first use; `long` and pointers follow the arch word)."""

    word: int
    typedefs: dict
    typedef_nodes: dict

    def _basic_type(self, name: str) -> CType | None:
        name = " ".join(name.split())
        for q in ("const ", "volatile ", "static ", "register "):
            name = name.replace(q, "")
        name = name.strip()
        if name in ("bool", "_Bool"):
            return BOOL
        if name == "void":
            return VOID
        if name in _FIXED:
            b, s = _FIXED[name]
            return int_type(b, s, name)
        if name in _WORD:
            return int_type(self.word, _WORD[name], name)
        if name.startswith("enum "):
            return CType("int", 32, True, name=name)
        if name.startswith(("struct ", "union ")):
            return CType("struct", name=name)
        if name.endswith("*"):
            inner = self._basic_type(name[:-1])
            return CType("ptr", pointee=inner or ANY, name=name)
        if name in self.typedefs:
            return self.typedefs[name]
        if name in self.typedef_nodes:
            node, unit = self.typedef_nodes.pop(name)
            t = self._type_of(node, node.children_by_field_name("declarator")[0], unit) or ANY
            self.typedefs[name] = t
            return t
        return None

    def _spec_type(self, decl_node, unit) -> CType | None:
        """The type named by a declaration's specifiers (type field + qualifiers)."""
        tnode = decl_node.child_by_field_name("type")
        if tnode is None:
            return None
        if tnode.type in ("struct_specifier", "union_specifier"):
            nm = tnode.child_by_field_name("name")
            return CType("struct", name=(nm.text.decode("latin-1") if nm is not None else "struct"))
        if tnode.type == "enum_specifier":
            nm = tnode.child_by_field_name("name")
            return CType("int", 32, True, name="enum " + (nm.text.decode("latin-1") if nm is not None else ""))
        txt = tnode.text.decode("latin-1")
        # `unsigned long` may be split over a sized_type_specifier; `long` alone too
        return self._basic_type(txt)

    def _type_of(self, decl_node, declarator, unit) -> CType | None:
        base = self._spec_type(decl_node, unit)
        if base is None:
            return None
        return self._apply_declarator(base, declarator)

    def _apply_declarator(self, base: CType, d) -> CType:
        while d is not None:
            t = d.type
            if t in ("pointer_declarator", "abstract_pointer_declarator"):
                base = CType("ptr", pointee=base, name=(base.name or "?") + " *")
            elif t in ("array_declarator", "abstract_array_declarator"):
                base = CType("ptr", pointee=base, name=(base.name or "?") + " []")
            elif t in ("function_declarator", "abstract_function_declarator"):
                base = CType("func", name="function")
            elif t in ("parenthesized_declarator", "abstract_parenthesized_declarator"):
                d = next((c for c in d.children if c.is_named), None)
                continue
            else:
                break
            d = d.child_by_field_name("declarator")
        return base

    def type_named(self, name: str) -> CType | None:
        return self._basic_type(name)

    def _descriptor_type(self, node, unit) -> CType | None:
        """type_descriptor node -> CType."""
        base = self._spec_type(node, unit)
        if base is None:
            return None
        d = node.child_by_field_name("declarator")
        return self._apply_declarator(base, d) if d is not None else base

    def sizeof(self, t: CType) -> int:
        if t.kind == "int":
            return t.size
        if t.kind == "ptr":
            return self.word // 8
        raise Unsupported(f"sizeof({t.name or t.kind})")
