"""Tests for the .S scanner (kpanalyze.parsing.asm_extract).

Fast tests use small assembly snippets written for these tests; `kernel` tests run
the scanner on the real Debian tree (and, where present, the x86_64 ground truth).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kpanalyze.parsing.asm_extract import (
    AsmMacros,
    build_asm_context,
    extract_asm,
    include_candidates,
)


def scan(src: str, path: str = "arch/x86/kernel/t.S", headers: dict[str, str] | None = None):
    data = src.encode()
    ctx = None
    if headers is not None:
        files = {p: t.encode() for p, t in headers.items()}
        ctx = build_asm_context(path, data, "", files.get)
    return extract_asm(path, data, ctx)


def syms(facts) -> dict[str, list]:
    out: dict[str, list] = {}
    for s in facts.asm_symbols:
        out.setdefault(s.name, []).append(s)
    return out


def one(facts, name):
    found = syms(facts).get(name, [])
    assert len(found) == 1, (name, found)
    return found[0]


def regs(facts) -> dict[str, list]:
    out: dict[str, list] = {}
    for r in facts.registrations:
        out.setdefault(r.name, []).append(r)
    return out


# --------------------------------------------------------------------------- labels

def test_plain_labels_default_text_and_local_labels_skipped():
    f = scan("""
foo:
	ret
.Lnot_me:
1:	jmp 1b
.E_copy: movb (%rsi), %al
bar: baz:	nop
""")
    s = syms(f)
    assert set(s) == {"foo", ".E_copy", "bar", "baz"}
    assert one(f, "foo").section == ".text" and one(f, "foo").line == 2
    assert one(f, "foo").is_function and not one(f, "foo").is_global
    assert f.kind == "asm" and f.path == "arch/x86/kernel/t.S"


def test_globl_before_or_after_marks_global():
    f = scan("""
	.globl early
early:
	ret
late:
	ret
	.global late, other
""")
    assert one(f, "early").is_global and one(f, "late").is_global


def test_sym_macros():
    f = scan("""
SYM_FUNC_START(gfunc)
SYM_INNER_LABEL(inner_g, SYM_L_GLOBAL)
SYM_INNER_LABEL(inner_l, SYM_L_LOCAL)
SYM_FUNC_END(gfunc)
SYM_FUNC_ALIAS(gfunc_alias, gfunc)
SYM_FUNC_START_LOCAL(lfunc)
SYM_FUNC_END(lfunc)
SYM_CODE_START_LOCAL_NOALIGN(lcode)
SYM_CODE_END(lcode)
SYM_TYPED_FUNC_START(typed)
SYM_FUNC_START_WEAK(weakf)
SYM_START(started, SYM_L_GLOBAL, SYM_A_NONE)
ENTRY(old_entry)
ENDPROC(old_entry)
SYM_DATA_START(table)
	.quad 0
SYM_DATA_END(table)
SYM_DATA_LOCAL(ldata, .long 0)
""")
    glob = {s.name for s in f.asm_symbols if s.is_global}
    assert glob == {"gfunc", "inner_g", "gfunc_alias", "typed", "weakf", "started", "old_entry",
                    "table"}
    assert one(f, "lfunc").is_function and not one(f, "lfunc").is_global
    assert not one(f, "table").is_function and not one(f, "ldata").is_function
    assert one(f, "inner_l").line == 4


def test_powerpc_and_mips_label_macros():
    f = scan("""
_GLOBAL(ppc_func)
_GLOBAL_TOC(ppc_toc)
LEAF(mips_leaf)
NESTED(mips_nested, 16, ra)
""", path="arch/powerpc/kernel/t.S")
    assert {s.name for s in f.asm_symbols if s.is_global} == {
        "ppc_func", "ppc_toc", "mips_leaf", "mips_nested"}


# --------------------------------------------------------------------------- sections

def test_section_directives_and_stack():
    f = scan("""
.section .entry.text, "ax"
e1:
.pushsection .text, "ax"
t1:
.pushsection ".noinstr.text","ax",@progbits
n1:
.popsection
t2:
.popsection
e2:
.text
t3:
.previous
e3:
.data
d1:
.section .rodata.str, "a"
r1:
.section .idmap.text, "awx"
i1:
.bss
b1:
""")
    sec = {s.name: s.section for s in f.asm_symbols}
    assert sec == {"e1": ".entry.text", "t1": ".text", "n1": ".noinstr.text", "t2": ".text",
                   "e2": ".entry.text", "t3": ".text", "e3": ".entry.text", "d1": ".data",
                   "r1": ".rodata.str", "i1": ".idmap.text", "b1": ".bss"}
    func = {s.name: s.is_function for s in f.asm_symbols}
    assert not func["d1"] and not func["r1"] and not func["b1"]
    assert func["i1"] and func["n1"]


def test_type_directive_decides_plain_labels():
    f = scan("""
	.type obj, @object
obj:	.long 1
	.section .rodata.text, "ax"
code_in_rodata_text:
""")
    assert not one(f, "obj").is_function
    assert one(f, "code_in_rodata_text").is_function


def test_init_macros_without_headers():
    f = scan("""
	__HEAD
h:
	__INIT
i:
	__FINIT
back:
	__INITDATA
idata:
""")
    sec = {s.name: s.section for s in f.asm_symbols}
    assert sec == {"h": ".head.text", "i": ".init.text", "back": ".head.text",
                   "idata": ".init.data"}
    assert not one(f, "idata").is_function


def test_subsection_and_previous():
    f = scan("""
	.pushsection ".entry.text", "ax"
	.subsection 1
	nop
	.previous
inside:
	.popsection
outside:
""", path="arch/arm64/kernel/t.S")
    assert one(f, "inside").section == ".entry.text"
    assert one(f, "outside").section == ".text"


def test_sections_fork_at_if_branches():
    f = scan("""
	.section .text..a
#ifdef CONFIG_X
	.section .text..x
in_x:
#else
in_not_x:
#endif
after:
""")
    assert one(f, "in_x").section == ".text..x"
    assert one(f, "in_not_x").section == ".text..a"  # not the #if branch's section
    assert one(f, "after").section == ".text..x"  # the first live branch wins


def test_linker_scripts_are_ignored():
    f = extract_asm("arch/x86/kernel/vmlinux.lds.S", b"SECTIONS {\n .text : { *(.text) }\n}\n")
    assert f.asm_symbols == [] and f.kind == "asm"


# --------------------------------------------------------------------------- registrations

def test_registrations_per_arch_macro():
    f = scan("""
SYM_FUNC_START(a)
SYM_FUNC_END(a)
_ASM_NOKPROBE(a)
NOKPROBE(b)
_ASM_NOKPROBE_SYMBOL(c)
	EXPORT_SYMBOL(a)
""")
    r = regs(f)
    assert {n: v[0].macro for n, v in r.items()} == {
        "a": "_ASM_NOKPROBE", "b": "NOKPROBE", "c": "_ASM_NOKPROBE_SYMBOL"}
    assert r["a"][0].line == 4 and r["a"][0].via_macro == ""
    assert f.exports == ["a"]


# --------------------------------------------------------------------------- conditions

def test_conditions():
    f = scan("""
#ifdef CONFIG_A
a:
#else
not_a:
#endif
#ifndef CONFIG_B
not_b:
#endif
#if defined(CONFIG_C) && CONFIG_N > 2
c:
#elif IS_ENABLED(CONFIG_D)
d:
#else
neither:
#endif
#ifndef __ASSEMBLY__
c_only:
#else
asm_side:
#endif
#if 0
never:
#endif
""")
    c = {s.name: s.conditions for s in f.asm_symbols}
    assert c == {
        "a": ("defined(CONFIG_A)",),
        "not_a": ("!(defined(CONFIG_A))",),
        "not_b": ("!defined(CONFIG_B)",),
        "c": ("defined(CONFIG_C) && CONFIG_N > 2",),
        "d": ("!(defined(CONFIG_C) && CONFIG_N > 2) && (IS_ENABLED(CONFIG_D))",),
        "neither": ("!(defined(CONFIG_C) && CONFIG_N > 2) && !(IS_ENABLED(CONFIG_D))",),
        "asm_side": (),
    }


def test_ifdef_of_a_macro_defined_in_the_file_is_decided():
    f = scan("""
#define PECULIAR
#ifdef PECULIAR
yes:
#else
no:
#endif
""")
    assert set(syms(f)) == {"yes"} and one(f, "yes").conditions == ()
    assert f.object_macros == ["PECULIAR"]


# --------------------------------------------------------------------------- gas macros

def test_gas_macro_expansion_args_defaults_keywords():
    f = scan("""
.macro stub vector asmsym cfunc has_error_code:req flavour=plain
SYM_CODE_START(\\asmsym)
\\cfunc\\()_\\flavour\\()_inner:
	call \\cfunc
_ASM_NOKPROBE(\\asmsym)
SYM_CODE_END(\\asmsym)
.endm

	.section .entry.text, "ax"
	stub 0 asm_exc_one exc_one has_error_code=0
	stub 1, asm_exc_two, exc_two, has_error_code=1, flavour=fancy
""")
    s = syms(f)
    assert set(s) == {"asm_exc_one", "exc_one_plain_inner", "asm_exc_two", "exc_two_fancy_inner"}
    e = one(f, "asm_exc_two")
    assert (e.section, e.line, e.via_macro, e.is_global) == (".entry.text", 12, "stub", True)
    r = regs(f)["asm_exc_one"][0]
    assert (r.line, r.via_macro, r.macro_line) == (11, "stub", 2)


def test_gas_irp_generates_symbols_and_counter():
    f = scan("""
.irp reg, rax, rbx
SYM_INNER_LABEL(thunk_\\reg, SYM_L_GLOBAL)
.endr
.macro uniq
u\\@:
.endm
	uniq
	uniq
""")
    names = set(syms(f))
    assert {"thunk_rax", "thunk_rbx"} <= names
    assert len([n for n in names if n.startswith("u")]) == 2


def test_recursive_gas_macro_terminates():
    f = scan("""
.macro __for from:req, to:req
	.if (\\from) == (\\to)
	nop
	.else
	__for \\from, %((\\from) + 1)
	.endif
.endm
	__for 0, 31
done:
""")
    assert set(syms(f)) == {"done"}


def test_gas_macro_under_ifdef_keeps_both_heads():
    f = scan("""
#ifndef CONFIG_BIG
	.macro	pair, rd, lo, hi
#else
	.macro	pair, rd, hi, lo
#endif
	orr	\\rd, \\lo, \\hi
	.endm
after:
""", path="arch/arm64/kernel/t.S")
    assert set(syms(f)) == {"after"} and f.warnings == []


def test_line_comments_per_arch():
    f = scan("""
__dabt_svc:	@ a comment: with colon
	mov r0, #1	@ foo: bar
""", path="arch/arm/kernel/t.S")
    assert set(syms(f)) == {"__dabt_svc"}
    f = scan("x:\t# note: here\n", path="arch/x86/lib/t.S")
    assert set(syms(f)) == {"x"}


# --------------------------------------------------------------------------- cpp macros

def test_cpp_function_like_macros_with_pasting():
    f = scan("""
#define THUNK(name, func)		\\
	SYM_FUNC_START(name##_thunk);	\\
	call func;			\\
	SYM_FUNC_END(name##_thunk);	\\
	_ASM_NOKPROBE(name##_thunk)
#define EXC_COMMON_BEGIN(name)	\\
	.text;			\\
	.global name;		\\
	_ASM_NOKPROBE_SYMBOL(name);	\\
name:

	.section .head.text, "ax"
THUNK(preempt, preempt_schedule)
EXC_COMMON_BEGIN(system_reset_common)
""")
    a = one(f, "preempt_thunk")
    assert (a.section, a.via_macro, a.line) == (".head.text", "THUNK", 14)
    b = one(f, "system_reset_common")
    assert (b.section, b.is_global, b.via_macro) == (".text", True, "EXC_COMMON_BEGIN")
    r = regs(f)
    assert r["preempt_thunk"][0].macro_line == 2 and r["system_reset_common"][0].macro == (
        "_ASM_NOKPROBE_SYMBOL")


def test_cpp_macro_producing_a_gas_macro_invocation_and_variants():
    f = scan("""
.macro idtentry vector asmsym cfunc has_error_code:req
SYM_CODE_START(\\asmsym)
_ASM_NOKPROBE(\\asmsym)
SYM_CODE_END(\\asmsym)
.endm
#ifdef CONFIG_X86_64
# define DECLARE_DF(vector, func) idtentry vector asm_##func func has_error_code=1
#else
# define DECLARE_DF(vector, func)
#endif
#define DECLARE(vector, func) idtentry vector asm_##func func has_error_code=0
	.section .entry.text, "ax"
DECLARE(X86_TRAP_DE, exc_divide_error);
DECLARE_DF(X86_TRAP_DF, exc_double_fault);
#ifndef CONFIG_X86_64
DECLARE_DF(X86_TRAP_DF, exc_never);
#endif
""")
    de = one(f, "asm_exc_divide_error")
    assert (de.section, de.via_macro, de.conditions) == (".entry.text", "DECLARE", ())
    df = one(f, "asm_exc_double_fault")
    assert df.conditions == ("defined(CONFIG_X86_64)",)
    assert "asm_exc_never" not in syms(f)  # the only definition contradicts the use site
    assert set(regs(f)) == {"asm_exc_divide_error", "asm_exc_double_fault"}


def test_cpp_macro_that_holds_the_endm():
    f = scan("""
#define INT_DEFINE_BEGIN(n) .macro int_define_ ## n name
#define INT_DEFINE_END(n) .endm ; int_define_ ## n n
INT_DEFINE_BEGIN(system_reset)
	IVEC=0x100
INT_DEFINE_END(system_reset)
later:
""", path="arch/powerpc/kernel/t.S")
    assert set(syms(f)) == {"later"} and f.parse_errors == 0


def test_macro_call_spanning_lines_and_label_macro():
    f = scan("""
#define L(name) .L_ ## name
#define SYM(x) x ## _sym
SYM_FUNC_START(SYM(
	multi))
L(local):
SYM(named):
""")
    assert set(syms(f)) == {"multi_sym", "named_sym"}


def test_object_like_rename_of_label():
    f = scan("""
#define memmove __memmove
SYM_FUNC_START(memmove)
""")
    assert set(syms(f)) == {"__memmove"}


# --------------------------------------------------------------------------- headers

HEADERS = {
    "arch/x86/include/asm/idt.h": """
#ifndef _ASM_IDT_H
#define _ASM_IDT_H
#ifndef __ASSEMBLY__
struct pt_regs;
void c_only(void);
#else
#define DECLARE_IDTENTRY(vector, func) idtentry vector asm_##func func
SYM_CODE_START(irq_entries_start)
SYM_CODE_END(irq_entries_start)
#endif
DECLARE_IDTENTRY(1, exc_one);
#ifdef CONFIG_FOO
DECLARE_IDTENTRY(2, exc_foo);
#endif
#endif
""",
    "include/linux/linkage.h": "#ifndef _LINKAGE_H\n#define _LINKAGE_H\n"
                               "#include <asm/linkage.h>\n#endif\n",
    "arch/x86/include/asm/linkage.h": "#define GEN_SECTION .pushsection .noinstr.text, \"ax\"\n",
    "arch/x86/entry/calling.h": ".macro local_helper\nhelper_\\@:\n.endm\n",
}

ENTRY_S = """
#include <linux/linkage.h>
#include "calling.h"
.section .entry.text, "ax"
.macro idtentry vector asmsym cfunc
SYM_CODE_START(\\asmsym)
_ASM_NOKPROBE(\\asmsym)
SYM_CODE_END(\\asmsym)
.endm
#include <asm/idt.h>
#include <asm/idt.h>
GEN_SECTION
noinstr_fn:
"""


def test_headers_through_context():
    f = scan(ENTRY_S, path="arch/x86/entry/entry_64.S", headers=HEADERS)
    s = syms(f)
    one_ = one(f, "asm_exc_one")  # guard: the second #include adds nothing
    assert (one_.path, one_.line, one_.section, one_.via_macro) == (
        "arch/x86/include/asm/idt.h", 12, ".entry.text", "DECLARE_IDTENTRY")
    assert one(f, "asm_exc_foo").conditions == ("defined(CONFIG_FOO)",)
    assert one(f, "irq_entries_start").path == "arch/x86/include/asm/idt.h"
    assert one(f, "noinstr_fn").section == ".noinstr.text"  # object-like macro from a header
    assert "c_only" not in s
    assert set(regs(f)) == {"asm_exc_one", "asm_exc_foo"}


def test_without_context_header_macros_are_unknown():
    f = scan(ENTRY_S, path="arch/x86/entry/entry_64.S")
    assert set(syms(f)) == {"noinstr_fn"} and one(f, "noinstr_fn").section == ".entry.text"


def test_build_asm_context_resolution_digest_and_memo():
    files = {p: t.encode() for p, t in HEADERS.items()}
    data = ENTRY_S.encode()
    cache: dict = {}
    ctx = build_asm_context("arch/x86/entry/entry_64.S", data, "x86", files.get, cache)
    assert isinstance(ctx, AsmMacros)
    assert set(ctx.headers) == set(HEADERS)
    assert ctx.resolved[("arch/x86/entry/entry_64.S", '"calling.h"')] == "arch/x86/entry/calling.h"
    assert ctx.resolved[("include/linux/linkage.h", "<asm/linkage.h>")] == (
        "arch/x86/include/asm/linkage.h")
    first = extract_asm("arch/x86/entry/entry_64.S", data, ctx)
    again = extract_asm("arch/x86/entry/entry_64.S", data, ctx)  # served from the memo
    assert first.asm_symbols == again.asm_symbols and first.registrations == again.registrations
    changed = dict(files)
    changed["arch/x86/include/asm/idt.h"] += b"\n"
    ctx2 = build_asm_context("arch/x86/entry/entry_64.S", data, "x86", changed.get)
    assert ctx2.digest != ctx.digest
    # same paths, other contents: the leading-#include memo must not serve old state
    changed["arch/x86/include/asm/linkage.h"] = b"#define GEN_SECTION .pushsection .text..x\n"
    ctx3 = build_asm_context("arch/x86/entry/entry_64.S", data, "x86", changed.get)
    f3 = extract_asm("arch/x86/entry/entry_64.S", data, ctx3)
    assert one(f3, "noinstr_fn").section == ".text..x"
    assert one(first, "noinstr_fn").section == ".noinstr.text"


def test_include_candidates():
    c = include_candidates("<asm/idtentry.h>", "arch/x86/entry/entry_64.S", "x86")
    assert c[0] == "arch/x86/include/asm/idtentry.h"
    assert "include/asm-generic/idtentry.h" in c
    c = include_candidates('"calling.h"', "arch/x86/entry/entry_64.S", "x86")
    assert c[0] == "arch/x86/entry/calling.h"
    c = include_candidates("<../entry/calling.h>", "arch/x86/xen/xen-asm.S", "x86")
    assert "arch/x86/entry/calling.h" in c


# --------------------------------------------------------------------------- real tree

def _real(tree: Path, rel: str, arch: str = ""):
    def read(p):
        f = tree / p
        return f.read_bytes() if f.is_file() else None
    data = (tree / rel).read_bytes()
    return extract_asm(rel, data, build_asm_context(rel, data, arch, read))


@pytest.mark.kernel
def test_real_x86_entry_64(real_tree):
    f = _real(real_tree, "arch/x86/entry/entry_64.S")
    s = syms(f)
    de = [x for x in s["asm_exc_divide_error"]]
    assert de[0].section == ".entry.text" and de[0].via_macro == "DECLARE_IDTENTRY"
    assert de[0].path == "arch/x86/include/asm/idtentry.h"
    assert {x.section for x in s["asm_sysvec_apic_timer_interrupt"]} == {".entry.text"}
    assert {x.section for x in s["__switch_to_asm"]} == {".text"}
    assert {x.section for x in s["entry_SYSCALL_64_after_hwframe"]} == {".entry.text"}
    r = regs(f)
    assert "common_interrupt_return" in r and "asm_exc_page_fault" in r
    assert f.parse_errors == 0


@pytest.mark.kernel
def test_real_x86_thunks_retpoline_xen(real_tree):
    f = _real(real_tree, "arch/x86/entry/thunk_64.S")
    assert regs(f)["preempt_schedule_thunk"][0].via_macro == "THUNK"
    f = _real(real_tree, "arch/x86/lib/retpoline.S")
    r11 = one(f, "__x86_indirect_thunk_r11")
    assert r11.section == ".text..__x86.indirect_thunk" and r11.conditions == (
        "defined(CONFIG_64BIT)",)
    assert "__x86_indirect_thunk_r11" in regs(f) and "srso_untrain_ret" in regs(f)
    f = _real(real_tree, "arch/x86/xen/xen-asm.S")
    assert one(f, "xen_irq_disable_direct").section == ".noinstr.text"
    assert regs(f)["xen_asm_exc_int3"][0].via_macro == "xen_pv_trap"


@pytest.mark.kernel
def test_real_other_arches(real_tree):
    f = _real(real_tree, "arch/arm/kernel/entry-armv.S")
    assert one(f, "__dabt_svc").section == ".entry.text"
    f = _real(real_tree, "arch/arm64/kernel/entry.S")
    assert one(f, "cpu_switch_to").section == ".text"
    assert regs(f)["cpu_switch_to"][0].macro == "NOKPROBE"
    assert one(f, "vectors").section == ".entry.text"
    assert one(f, "el1h_64_sync").via_macro == "entry_handler"
    assert one(f, "ret_to_user").section == ".entry.text"
    f = _real(real_tree, "arch/riscv/kernel/entry.S")
    assert one(f, "handle_exception").section == ".text"
    f = _real(real_tree, "arch/powerpc/kernel/exceptions-64s.S", "powerpc")
    assert regs(f)["system_reset_common"][0].via_macro == "EXC_COMMON_BEGIN"
    assert one(f, "exc_real_0x100_system_reset").section == ".head.text.real_vectors"


@pytest.mark.kernel
def test_real_x86_blacklist_entry_text_and_asm_registrations(real_tree, groundtruth):
    """Every name of the x86_64 debugfs blacklist that .S files put in .entry.text, and
    the asm `_ASM_NOKPROBE` names, come out of a scan of arch/x86 with that section or
    a registration."""
    files = subprocess.run(["find", "arch/x86", "-name", "*.S"], cwd=real_tree,
                           capture_output=True, text=True, check=True).stdout.split()
    cache: dict = {}

    def read(p):
        f = real_tree / p
        return f.read_bytes() if f.is_file() else None

    found: dict[str, set] = {}
    registered: set[str] = set()
    for rel in files:
        data = (real_tree / rel).read_bytes()
        facts = extract_asm(rel, data, build_asm_context(rel, data, "x86", read, cache))
        for s in facts.asm_symbols:
            found.setdefault(s.name, set()).add(s.section)
        registered |= {r.name for r in facts.registrations}
    names = [ln.split("\t")[1] for ln in (groundtruth / "x86_64" / "blacklist.txt")
             .read_text().splitlines()]
    entry = names[names.index("__entry_text_start") + 1:]
    from_c = {"_paravirt_nop", "paravirt_ret0", "__entry_text_end"}  # paravirt.c asm()
    missing = [n for n in entry if n not in from_c and ".entry.text" not in found.get(n, ())]
    assert missing == []
    asm_registered = ["preempt_schedule_thunk", "__thunk_restore", "common_interrupt_return",
                      "asm_exc_page_fault", "xen_asm_exc_int3", "__x86_indirect_thunk_r15",
                      "srso_alias_untrain_ret", "entry_untrain_ret"]
    assert [n for n in asm_registered if n not in registered] == []
    noinstr = ["native_save_fl", "__memcpy", "memcpy_orig", "entry_ibpb", "xen_read_cr2",
               "xen_hypercall_intel"]
    assert [n for n in noinstr if ".noinstr.text" not in found.get(n, ())] == []


def test_expansion_budget_bounds_alternative_explosion(monkeypatch):
    import kpanalyze.parsing.asm_extract as mod
    monkeypatch.setattr(mod, "_MAX_EXPANSIONS", 500)
    lines = []
    for lvl in range(8):
        for k in range(4):
            body = f"M{lvl + 1}(x)" if lvl < 7 else "x##_lbl:"
            lines += [f"#if V{lvl}_{k}", f"#define M{lvl}(x) {body}", "#endif"]
    f = extract_asm("arch/x86/a.S", ("\n".join(lines) + "\nM0(foo)\n").encode())
    assert any("budget" in w for w in f.warnings)
    assert 0 < len(f.asm_symbols) <= 500
