"""A small C interpreter for the kernel's instruction-decoding code.

Arch decoders (arm64, riscv, csky, parts of x86 and arm) decide from C functions,
predicate macros and const tables in the tree. Rather than re-typing them, we parse the
tree's files (tree-sitter through kpanalyze.tsparse), preprocess them ourselves (#if with
kpanalyze.conditions, #define collection, textual expansion of function-like macros:
decoders/cpreproc.py) and evaluate the functions on Python ints.

Laziness: files are parsed once at load; a function body is compiled to Python closures
the first time it is called (then cached); macro expansions are parsed once per text.
Whatever the interpreter does not know raises Unsupported(construct, path, line) when it
is *executed* (a construct in a branch never taken costs nothing).

Three-valued #if: with no config, a block whose condition is unknown is kept (both
branches of an #else), and everything in it is tagged with the condition; a call that
goes through a tagged return, taken branch or definition lists it in Outcome.conditions.

Modules: program (CProgram), source (reading files), ctype (types), values (runtime
values), expressions and statements (the compiler), runtime (what closures run on),
paths (static return/decision paths), nodes (AST helpers), results (Outcome, Unsupported).
"""

from .ctype import ANY, BOOL, INT, UINT, VOID, CType
from .paths import DecisionPath, Guard, Literal, ReturnPath
from .program import CProgram
from .results import Outcome, TraceStep, Unsupported
from .source import expand_macro
from .values import CPointer, CStruct, FuncRef, Memory, Ref

__all__ = [
    "ANY", "BOOL", "INT", "UINT", "VOID", "CType", "CPointer", "CProgram", "CStruct", "DecisionPath",
    "FuncRef", "Guard", "Literal", "Memory", "Outcome", "Ref", "ReturnPath", "TraceStep", "Unsupported",
    "expand_macro",
]
