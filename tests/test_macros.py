"""Macro expansion: uses + definitions -> generated functions and registrations."""

from __future__ import annotations

import textwrap

import pytest

from kpanalyze.facts import MacroDef, MacroUse
from kpanalyze.parsing.c_extract import extract_c
from kpanalyze.parsing.macros import (
    MAX_DEPTH,
    expand,
    expand_text,
    expand_use,
    index_defs,
    pick_defs,
    substitute,
)


def mdef(name, params, body, path="include/linux/x.h", line=1, conditions=()):
    return MacroDef(name, path, line, tuple(params), body, tuple(conditions))


def use(name, *args, path="kernel/x.c", line=10, conditions=()):
    return MacroUse(name, path, line, tuple(args), tuple(conditions))


def from_source(files: dict[str, str]):
    """Extract every snippet, return (uses, defs) as the index would hand them over."""
    facts = [extract_c(p, textwrap.dedent(src).lstrip("\n").encode()) for p, src in files.items()]
    return ([u for f in facts for u in f.macro_uses],
            index_defs(d for f in facts for d in f.macro_defs))


# ---------------------------------------------------------------------------
# Substitution

def test_substitute_params_and_pasting():
    d = mdef("UNHANDLED", ["el", "regsize", "vector"],
             "asmlinkage void noinstr el##_##regsize##_##vector##_handler(struct pt_regs *regs) { }")
    assert substitute(d, ("el1t", "64", "sync")) == (
        "asmlinkage void noinstr el1t_64_sync_handler(struct pt_regs *regs) { }")


def test_substitute_variadics_and_stringizing():
    d = mdef("V", ["fmt", "..."], 'printk(fmt, ## __VA_ARGS__); const char *s = #fmt;')
    assert substitute(d, ("x", "a", "b")) == 'printk(x,a, b); const char *s = "x";'
    assert substitute(d, ("x",)) == 'printk(x); const char *s = "x";'
    named = mdef("N", ["name", "args..."], "void name(args)")
    assert substitute(named, ("f", "int a", "int b")) == "void f(int a, int b)"


def test_substitute_does_not_touch_longer_identifiers():
    d = mdef("D", ["func"], "void func##_x(void) { func_ptr = func; }")
    assert substitute(d, ("f",)) == "void f_x(void) { func_ptr = f; }"


def test_expand_text_nested_and_depth_limit():
    defs = index_defs([
        mdef("OUTER", ["f"], "INNER(noist_##f)"),
        mdef("INNER", ["f"], "noinstr void f(void)"),
        mdef("LOOP", ["f"], "LOOP(f)"),
    ])
    assert expand_text("OUTER(x)", defs, "kernel/a.c", None).split() == ["noinstr", "void", "noist_x(void)"]
    # Self reference stops at once (C rules); mutual recursion stops at MAX_DEPTH.
    assert "LOOP(y)" in expand_text("LOOP(y)", defs, "kernel/a.c", None)
    assert MAX_DEPTH == 8


# ---------------------------------------------------------------------------
# Choosing the definition

def test_pick_defs_prefers_file_then_arch_then_include():
    defs = index_defs([
        mdef("M", ["f"], "void f(void)", path="include/linux/m.h"),
        mdef("M", ["f"], "void f(void)", path="arch/x86/include/asm/m.h"),
        mdef("M", ["f"], "void f(void)", path="arch/arm64/include/asm/m.h"),
        mdef("M", ["f"], "void f(void)", path="kernel/m.c"),
    ])
    assert [d.path for d in pick_defs("M", defs, "kernel/m.c", "x86")] == ["kernel/m.c"]
    assert [d.path for d in pick_defs("M", defs, "kernel/other.c", "x86")] == ["kernel/m.c"]  # same dir
    assert [d.path for d in pick_defs("M", defs, "mm/a.c", "x86")] == ["arch/x86/include/asm/m.h"]
    assert [d.path for d in pick_defs("M", defs, "mm/a.c", "arm64")] == ["arch/arm64/include/asm/m.h"]
    assert [d.path for d in pick_defs("M", defs, "mm/a.c", "riscv")] == ["include/linux/m.h"]
    # A use under arch/<a>/ is compiled for <a>, whatever the caller says.
    assert [d.path for d in pick_defs("M", defs, "arch/arm64/kernel/a.c", "x86")] == [
        "arch/arm64/include/asm/m.h"]


def test_pick_defs_never_uses_another_arch():
    defs = index_defs([mdef("M", ["f"], "void f(void)", path="arch/powerpc/include/asm/m.h")])
    assert pick_defs("M", defs, "kernel/a.c", "x86") == []
    assert expand([use("M", "f")], defs, "x86") == ([], [])


# ---------------------------------------------------------------------------
# Expansion into facts

def test_define_raw_gets_the_braces_from_the_use():
    uses, defs = from_source({
        "arch/x86/include/asm/idtentry.h": """
            #define DEFINE_IDTENTRY_RAW(func)					\\
            __visible noinstr void func(struct pt_regs *regs)
            #define DECLARE_IDTENTRY_RAW(vector, func)				\\
            	asmlinkage void asm_##func(void);				\\
            	__visible void func(struct pt_regs *regs)
            DECLARE_IDTENTRY_RAW(X86_TRAP_BP, exc_int3);
            """,
        "arch/x86/kernel/traps.c": """
            #include <asm/idtentry.h>

            DEFINE_IDTENTRY_RAW(exc_int3)
            {
            	handle(regs);
            }
            """,
    })
    funcs, regs = expand(uses, defs, "x86")
    assert [(f.name, f.path, f.line, f.keywords, f.via_macro, f.macro_path, f.macro_line) for f in funcs] == [
        ("exc_int3", "arch/x86/kernel/traps.c", 3, ("__visible", "noinstr"), "DEFINE_IDTENTRY_RAW",
         "arch/x86/include/asm/idtentry.h", 1)]
    assert regs == []


def test_define_idtentry_body_helper_and_alias():
    uses, defs = from_source({
        "arch/x86/include/asm/idtentry.h": """
            #define DEFINE_IDTENTRY(func)					\\
            static __always_inline void __##func(struct pt_regs *regs);		\\
            __visible noinstr void func(struct pt_regs *regs)			\\
            {									\\
            	__##func (regs);						\\
            }									\\
            static __always_inline void __##func(struct pt_regs *regs)
            #define DEFINE_IDTENTRY_RAW(func) __visible noinstr void func(struct pt_regs *regs)
            #define DEFINE_IDTENTRY_NOIST(func) DEFINE_IDTENTRY_RAW(noist_##func)
            #define DEFINE_IDTENTRY_MCE_USER DEFINE_IDTENTRY_NOIST
            """,
        "arch/x86/kernel/traps.c": """
            DEFINE_IDTENTRY(exc_overflow)
            {
            	do_error_trap(regs);
            }
            DEFINE_IDTENTRY_MCE_USER(exc_machine_check)
            {
            }
            """,
    })
    funcs, _ = expand(uses, defs, "x86")
    got = {(f.name, f.keywords, f.storage, f.line) for f in funcs}
    assert got == {
        ("exc_overflow", ("__visible", "noinstr"), "extern", 1),
        ("__exc_overflow", ("static", "__always_inline"), "static", 1),
        ("noist_exc_machine_check", ("__visible", "noinstr"), "extern", 5),
    }


def test_registration_from_expansion_and_conditions():
    uses, defs = from_source({
        "arch/powerpc/include/asm/interrupt.h": """
            #define interrupt_handler __visible noinline notrace __no_kcsan
            #define DEFINE_INTERRUPT_HANDLER(func)				\\
            static __always_inline void ____##func(struct pt_regs *regs);	\\
            interrupt_handler void func(struct pt_regs *regs)		\\
            {								\\
            	____##func (regs); /* the body */			\\
            }								\\
            NOKPROBE_SYMBOL(func);						\\
            static __always_inline void ____##func(struct pt_regs *regs)
            """,
        "arch/powerpc/kernel/traps.c": """
            #ifdef CONFIG_PPC_BOOK3S
            DEFINE_INTERRUPT_HANDLER(program_check_exception)
            {
            }
            #endif
            """,
    })
    funcs, regs = expand(uses, defs, "powerpc")
    assert {(f.name, f.keywords) for f in funcs} == {
        ("program_check_exception", ("__visible", "noinline", "notrace", "__no_kcsan")),
        ("____program_check_exception", ("static", "__always_inline")),
    }
    assert [(r.name, r.path, r.line, r.macro, r.conditions, r.via_macro, r.macro_line) for r in regs] == [
        ("program_check_exception", "arch/powerpc/kernel/traps.c", 2, "NOKPROBE_SYMBOL",
         ("defined(CONFIG_PPC_BOOK3S)",), "DEFINE_INTERRUPT_HANDLER", 2)]


def test_unhandled_without_braces_or_semicolons():
    uses, defs = from_source({
        "arch/arm64/kernel/entry-common.c": """
            #define UNHANDLED(el, regsize, vector)					\\
            asmlinkage void noinstr el##_##regsize##_##vector##_handler(struct pt_regs *regs)	\\
            {									\\
            	const char *desc = #regsize "-bit " #el " " #vector;		\\
            	panic_unhandled(regs, desc);					\\
            }

            UNHANDLED(el1t, 64, sync)
            UNHANDLED(el1t, 64, irq)
            """,
    })
    funcs, _ = expand(uses, defs, "arm64")
    assert [(f.name, f.line, f.keywords) for f in funcs] == [
        ("el1t_64_sync_handler", 8, ("asmlinkage", "noinstr")),
        ("el1t_64_irq_handler", 9, ("asmlinkage", "noinstr")),
    ]


def test_alternative_definitions_carry_their_distinguishing_condition():
    defs = index_defs([
        mdef("DEFINE_DF", ["f"], "__visible noinstr void f(struct pt_regs *regs, unsigned long e)",
             path="arch/x86/include/asm/idt.h", line=5, conditions=("!defined(G)", "defined(CONFIG_X86_64)")),
        mdef("DEFINE_DF", ["f"], "__visible noinstr void f(struct pt_regs *regs)",
             path="arch/x86/include/asm/idt.h", line=9, conditions=("!defined(G)", "!(defined(CONFIG_X86_64))")),
    ])
    funcs, _ = expand_use(use("DEFINE_DF", "exc_double_fault", path="arch/x86/kernel/traps.c"), defs)
    assert sorted((f.name, f.conditions, f.macro_line) for f in funcs) == [
        ("exc_double_fault", ("!(defined(CONFIG_X86_64))",), 9),
        ("exc_double_fault", ("defined(CONFIG_X86_64)",), 5),
    ]


def test_declare_uses_and_syscalls_generate_nothing():
    defs = index_defs([
        mdef("DECLARE_THING", ["f"], "__visible void f(struct pt_regs *regs)"),
        mdef("SYSCALL_DEFINE1", ["name", "..."], "long sys##name(__VA_ARGS__)"),
        mdef("TRACE_EVENT", ["name", "..."], "static void trace_##name(void) { }"),
    ])
    assert expand([use("DECLARE_THING", "f"), use("SYSCALL_DEFINE1", "openat", "int", "x"),
                   use("TRACE_EVENT", "sched_switch")], defs) == ([], [])
    assert expand([use("NO_SUCH_MACRO", "f")], defs) == ([], [])


# ---------------------------------------------------------------------------
# Real tree

def _real(real_tree, paths):
    facts = [extract_c(p, (real_tree / p).read_bytes()) for p in paths]
    return ([u for f in facts for u in f.macro_uses],
            index_defs(d for f in facts for d in f.macro_defs))


def _by_name(funcs):
    out = {}
    for f in funcs:
        out.setdefault(f.name, []).append(f)
    return out


@pytest.mark.kernel
def test_real_x86_idtentry(real_tree):
    uses, defs = _real(real_tree, [
        "arch/x86/include/asm/idtentry.h", "arch/x86/kernel/traps.c", "arch/x86/kernel/irq.c",
        "arch/x86/kernel/cpu/mce/core.c", "arch/x86/kernel/apic/apic.c"])
    funcs, _ = expand(uses, defs, "x86")
    by = _by_name(funcs)
    int3 = by["exc_int3"][0]
    assert "noinstr" in int3.keywords and int3.path == "arch/x86/kernel/traps.c"
    assert int3.via_macro == "DEFINE_IDTENTRY_RAW" and int3.macro_path == "arch/x86/include/asm/idtentry.h"
    assert "noinstr" in by["exc_overflow"][0].keywords
    assert by["__exc_overflow"][0].keywords == ("static", "__always_inline")
    # _IRQ and _SYSVEC bodies are `static noinline __func`: real, probeable symbols.
    assert "noinstr" in by["common_interrupt"][0].keywords
    assert by["__common_interrupt"][0].keywords == ("static", "noinline")
    assert "noinstr" in by["sysvec_apic_timer_interrupt"][0].keywords
    assert by["__sysvec_apic_timer_interrupt"][0].keywords == ("static", "noinline")
    assert "noinstr" in by["noist_exc_machine_check"][0].keywords  # _MCE_USER -> _NOIST
    assert all(u.name.startswith("DECLARE_") is False for u in uses if u.path.endswith(".c") and
               u.name.startswith("DEFINE_IDTENTRY"))


@pytest.mark.kernel
def test_real_arm64_unhandled(real_tree):
    uses, defs = _real(real_tree, ["arch/arm64/kernel/entry-common.c"])
    funcs, _ = expand(uses, defs, "arm64")
    by = _by_name(funcs)
    f = by["el1t_64_sync_handler"][0]
    assert "noinstr" in f.keywords and f.via_macro == "UNHANDLED"
    assert f.path == "arch/arm64/kernel/entry-common.c" and f.macro_path == f.path


@pytest.mark.kernel
def test_real_powerpc_interrupt_handler(real_tree):
    uses, defs = _real(real_tree, ["arch/powerpc/include/asm/interrupt.h", "arch/powerpc/kernel/traps.c"])
    funcs, regs = expand(uses, defs, "powerpc")
    by = _by_name(funcs)
    assert {"noinline", "notrace"} <= set(by["program_check_exception"][0].keywords)  # interrupt_handler
    assert by["____program_check_exception"][0].keywords[:2] == ("static", "__always_inline")
    reg = [r for r in regs if r.name == "program_check_exception"]
    assert reg and reg[0].via_macro == "DEFINE_INTERRUPT_HANDLER" and reg[0].path == "arch/powerpc/kernel/traps.c"
