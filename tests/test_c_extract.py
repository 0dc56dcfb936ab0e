"""C fact extraction: snippet -> expected facts (pyflakes style)."""

from __future__ import annotations

import textwrap

import pytest

from kpanalyze.facts import FileFacts
from kpanalyze.parsing.c_extract import (
    blank_attributes,
    decl_keywords,
    extract_c,
    macro_defines_something,
    split_args,
)



@pytest.fixture
def record_edges(monkeypatch):
    """Call-graph edges are off by default (cost); these tests switch them on."""
    from kpanalyze.parsing import c_extract

    monkeypatch.setattr(c_extract, "RECORD_CALL_EDGES", True)


def facts(src: str, path: str = "t.c") -> FileFacts:
    return extract_c(path, textwrap.dedent(src).lstrip("\n").encode())


def func(src: str, name: str, path: str = "t.c"):
    found = [f for f in facts(src, path).functions if f.name == name]
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def kw(src: str, name: str) -> tuple[str, ...]:
    return func(src, name).keywords


# ---------------------------------------------------------------------------
# Attribute positions (KPROBE_RULES.md §2.3)

@pytest.mark.parametrize(
    "src, name, keywords",
    [
        ("static int __kprobes\ndo_page_fault(struct pt_regs *regs)\n{\n\treturn 0;\n}\n",
         "do_page_fault", ("static", "__kprobes")),
        ("void noinstr foo(void) { }\n", "foo", ("noinstr",)),
        ("noinstr void foo(void) { }\n", "foo", ("noinstr",)),
        ("asmlinkage void noinstr foo(void) { }\n", "foo", ("asmlinkage", "noinstr")),
        ("__visible noinstr void foo(struct pt_regs *regs) { }\n", "foo", ("__visible", "noinstr")),
        ("static noinstr bool foo(void) { return true; }\n", "foo", ("static", "noinstr")),
        ("static int __init noinline xx(int a) { return a; }\n", "xx", ("static", "__init", "noinline")),
    ],
)
def test_attribute_positions(src, name, keywords):
    assert kw(src, name) == keywords


@pytest.mark.parametrize(
    "word",
    """inline __inline__ __always_inline noinline noinline_for_stack notrace noinstr __kprobes
    __init __exit __meminit __ref __weak __naked __irq_entry __exception_irq_entry __idmap
    nokprobe_inline __visible asmlinkage __notrace_funcgraph __cpuidle __sched
    __always_unused""".split(),
)
def test_every_listed_keyword_is_recorded(word):
    f = func(f"static {word} int f(int a)\n{{\n\treturn a;\n}}\n", "f")
    assert f.keywords == ("static", word)
    assert f.storage == "static"


def test_keywords_in_source_order_and_line_of_the_name():
    f = func("""
        static __always_inline
        unsigned long
        helper(void)
        {
        	return 0;
        }
        """, "helper")
    assert f.keywords == ("static", "__always_inline")
    assert f.line == 3
    assert f.body_lines == 3


def test_types_are_not_keywords():
    src = """
        static struct foo *bar(void) { return 0; }
        unsigned long long baz(void) { return 0; }
        static const u32 qux(void) { return 0; }
        struct foo *__weak quux(void) { return 0; }
        enum e corge(void) { return 0; }
        """
    assert kw(src, "bar") == ("static",)
    assert kw(src, "baz") == ()
    assert kw(src, "qux") == ("static",)
    assert kw(src, "quux") == ("__weak",)
    assert kw(src, "corge") == ()


def test_attribute_syntax_is_reduced():
    src = """
        int __attribute__((section(".foo"), __noinline__)) a(void) { return 0; }
        __section(".entry.text") int b(void) { return 0; }
        static __printf(2, 3) void c(int l, const char *fmt, ...) { }
        """
    assert kw(src, "a") == ('__attribute__(section(".foo"))', "__attribute__(noinline)")
    assert kw(src, "b") == ('__section(".entry.text")',)
    assert kw(src, "c") == ("static", "__printf(2, 3)")


def test_unknown_attribute_macros_are_kept():
    # An all-caps macro next to a lower-case type: the macro is the attribute.
    src = "acpi_status ACPI_INIT_FUNCTION acpi_load_tables(void)\n{\n\treturn 0;\n}\n"
    f = func(src, "acpi_load_tables")
    assert f.keywords == ("ACPI_INIT_FUNCTION",)
    assert f.storage == "extern"
    assert kw("INDIRECT_CALLABLE_SCOPE int f(void) { return 0; }\n", "f") == ("INDIRECT_CALLABLE_SCOPE",)
    assert kw("static __latent_entropy void g(void) { }\n", "g") == ("static", "__latent_entropy")


def test_decl_keywords_directly():
    assert decl_keywords("\n/* comment */ static inline // x\n u64 ") == ("static", "inline")
    assert decl_keywords("static void __iomem *") == ("static",)
    assert decl_keywords("extern __u32 ") == ("extern",)


def test_storage_and_error_flag():
    src = """
        int a(void) { return 0; }
        static int b(void) { return 0; }
        static int c(void) { return 0 +; }
        """
    assert func(src, "a").storage == "extern"
    assert func(src, "b").storage == "static"
    assert not func(src, "b").error_node
    assert func(src, "c").error_node


def test_blanking_keeps_offsets_and_directives():
    data = b"#define __init __section(\".init.text\")\nstatic int __init f(void) { return 0; }\n"
    out = blank_attributes(data)
    assert len(out) == len(data)
    assert out.startswith(b"#define __init __section")
    assert b"static int        f(void)" in out
    f = facts(data.decode())
    assert "__init" in f.object_macros
    assert [x.keywords for x in f.functions] == [("static", "__init")]


def test_misparsed_statement_is_not_a_function():
    src = """
        unsigned long nr_switches(void)
        {
        	int i;
        	unsigned long sum = 0;

        	for_each_possible_cpu(i)
        		sum += cpu_rq(i)->nr_switches;

        	return sum;
        }
        """
    assert [f.name for f in facts(src).functions] == ["nr_switches"]


# ---------------------------------------------------------------------------
# NOKPROBE_SYMBOL and conditions

def test_nokprobe_with_and_without_semicolon():
    src = """
        static int a(void) { return 0; }
        NOKPROBE_SYMBOL(a);

        int b(void) { return 0; }
        NOKPROBE_SYMBOL(b)

        static int c(void) { return 0; }
        NOKPROBE_SYMBOL(c)
        """
    ff = facts(src)
    assert [(r.name, r.line, r.macro) for r in ff.registrations] == [
        ("a", 2, "NOKPROBE_SYMBOL"), ("b", 5, "NOKPROBE_SYMBOL"), ("c", 8, "NOKPROBE_SYMBOL")]
    assert {f.name: f.keywords for f in ff.functions} == {"a": ("static",), "b": (), "c": ("static",)}
    assert not ff.warnings
    assert {r.name: r.address_taken for r in ff.refs} == {"a": 1, "b": 1, "c": 1}


def test_nokprobe_under_ifdef_and_else():
    src = """
        #ifdef CONFIG_X
        void x(void) { }
        NOKPROBE_SYMBOL(x);
        #else
        void y(void) { }
        NOKPROBE_SYMBOL(y)
        #endif
        #ifndef CONFIG_Z
        NOKPROBE_SYMBOL(z);
        #endif
        """
    ff = facts(src)
    regs = {r.name: r.conditions for r in ff.registrations}
    assert regs == {
        "x": ("defined(CONFIG_X)",),
        "y": ("!(defined(CONFIG_X))",),
        "z": ("!defined(CONFIG_Z)",),
    }
    assert func(src, "y").conditions == ("!(defined(CONFIG_X))",)


def test_conditions_if_elif_else_nested():
    src = """
        #if defined(A) && \\
            B /* why */
        int fa(void) { return 0; }
        #elif C
        int fc(void) { return 0; }
        #else
        # ifdef D
        int fd(void) { return 0; }
        # endif
        #endif
        int top(void) { return 0; }
        """
    assert func(src, "fa").conditions == ("defined(A) && B",)
    assert func(src, "fc").conditions == ("!(defined(A) && B) && (C)",)
    assert func(src, "fd").conditions == ("!(defined(A) && B) && !(C)", "defined(D)")
    assert func(src, "top").conditions == ()


def test_include_guard_is_no_condition():
    src = """
        /* SPDX */
        #ifndef _FOO_H
        #define _FOO_H
        #ifdef CONFIG_FOO
        static inline int foo(void) { return 1; }
        #endif
        #endif
        """
    assert func(src, "foo", "include/foo.h").conditions == ("defined(CONFIG_FOO)",)


def test_conditions_survive_a_broken_initializer():
    # An #ifdef inside an initializer makes tree-sitter wrap the rest in ERROR.
    src = """
        static int table[] = {
        #ifdef CONFIG_A
        	1,
        #endif
        	2,
        };
        #ifdef CONFIG_B
        void after(void) { }
        NOKPROBE_SYMBOL(after);
        #endif
        """
    ff = facts(src)
    assert [(r.name, r.conditions) for r in ff.registrations] == [("after", ("defined(CONFIG_B)",))]
    assert func(src, "after").conditions == ("defined(CONFIG_B)",)


# ---------------------------------------------------------------------------
# Macro uses, exports, definitions

def test_macro_uses_at_file_scope(record_edges):
    src = """
        DEFINE_IDTENTRY_RAW(exc_int3)
        {
        	do_int3(regs);
        }
        UNHANDLED(el1t, 64, sync)
        UNHANDLED(el1t, 64, irq)
        SYSCALL_DEFINE3(openat, int, dfd, const char __user *, filename, int, flags)
        {
        	return do_sys_open(dfd, filename, flags, 0);
        }
        static DEFINE_MUTEX(lock);
        static DECLARE_WORK(w, work_fn);
        EXPORT_SYMBOL_GPL(exc_int3);
        MODULE_LICENSE("GPL");
        """
    ff = facts(src)
    assert [(u.name, u.line, u.args) for u in ff.macro_uses] == [
        ("DEFINE_IDTENTRY_RAW", 1, ("exc_int3",)),
        ("UNHANDLED", 5, ("el1t", "64", "sync")),
        ("UNHANDLED", 6, ("el1t", "64", "irq")),
        ("SYSCALL_DEFINE3", 7, ("openat", "int", "dfd", "const char __user *", "filename", "int", "flags")),
        ("DEFINE_MUTEX", 11, ("lock",)),
        ("DECLARE_WORK", 12, ("w", "work_fn")),
    ]
    assert ff.exports == ["exc_int3"]
    assert ff.functions == []
    # Calls in a macro-use body belong to the entry point named by its first argument.
    assert {(c.caller, c.callee) for c in ff.calls} == {("exc_int3", "do_int3"), ("openat", "do_sys_open")}


def test_syscall_first_in_file_with_body(record_edges):
    src = "SYSCALL_DEFINE0(getpid)\n{\n\treturn task_tgid_vnr(current);\n}\n"
    ff = facts(src)
    assert [(u.name, u.args) for u in ff.macro_uses] == [("SYSCALL_DEFINE0", ("getpid",))]
    assert [(c.caller, c.callee) for c in ff.calls] == [("getpid", "task_tgid_vnr")]


def test_real_all_caps_function_is_a_function():
    ff = facts("static void WRITE_REG(struct dev *d, int v)\n{\n}\n")
    assert [f.name for f in ff.functions] == ["WRITE_REG"]
    assert ff.macro_uses == []


def test_macro_defs_kept_and_dropped():
    src = """
        #define FOO 1
        #define MAX(a, b) ((a) > (b) ? (a) : (b))
        #define GEN(name) static void name##_fn(void) { }
        #define DEFINE_RAW(func) __visible noinstr void func(struct pt_regs *regs)
        #define HANDLER(func)						\\
        interrupt_handler long func(struct pt_regs *regs)	\\
        {							\\
        	return 0; /* comment */				\\
        }							\\
        NOKPROBE_SYMBOL(func);
        #define DEFINE_ALIAS(f) DEFINE_RAW(f)
        #define DEFINE_OBJ_ALIAS DEFINE_RAW
        #define do_thing(x) do { foo(x); } while (0)
        """
    ff = facts(src)
    defs = {d.name: d for d in ff.macro_defs}
    assert set(defs) == {"GEN", "DEFINE_RAW", "HANDLER", "DEFINE_ALIAS", "DEFINE_OBJ_ALIAS"}
    assert defs["HANDLER"].params == ("func",)
    assert defs["HANDLER"].line == 5
    assert defs["HANDLER"].body == (
        "interrupt_handler long func(struct pt_regs *regs) { return 0; } NOKPROBE_SYMBOL(func);")
    assert defs["DEFINE_OBJ_ALIAS"].params == ("...",)
    assert defs["DEFINE_OBJ_ALIAS"].body == "DEFINE_RAW(__VA_ARGS__)"
    assert set(ff.object_macros) == {"do_thing"}  # all-caps names are not indexed


def test_keyword_aliases_are_recorded():
    src = """
        #define interrupt_handler __visible noinline notrace __no_kcsan
        #define get_user __get_user
        #define noinstr noinline notrace __section(".noinstr.text")
        #define my_scope static
        """
    defs = {d.name: d for d in facts(src).macro_defs}
    assert set(defs) == {"interrupt_handler", "my_scope"}
    assert defs["interrupt_handler"].params == ()
    assert defs["interrupt_handler"].body == "__visible noinline notrace __no_kcsan"


def test_macro_defines_something():
    assert macro_defines_something("X", "static inline int x##_get(void) { return 0; }")
    assert macro_defines_something("X", "asmlinkage void asm_##func(void); __visible void func(void)")
    assert not macro_defines_something("X", "((a) + (b))")
    assert not macro_defines_something("X", "do { f(x); } while (0)")
    assert not macro_defines_something("X", "({ int __x = (x); __x; })")
    assert not macro_defines_something("X", "foo(a, b)")
    assert not macro_defines_something("enable_icache", "mbc->ie();")


def test_split_args():
    assert split_args(' a, f(b, c), "x,y" , struct s * ') == ("a", "f(b, c)", '"x,y"', "struct s *")
    assert split_args("") == ()


def test_unparsed_header_still_gives_macros():
    src = """
        #ifndef _REGS_H
        #define _REGS_H
        #define mmREG_A 0x1234
        #define REG_FIELD__SHIFT 0x0
        #ifdef CONFIG_X
        #define GEN_FN(n) static inline int n##_get(void)
        #endif
        #endif
        """
    ff = facts(src, "drivers/x/regs.h")
    assert ff.object_macros == []  # constant and register macros are not indexed
    assert [(d.name, d.line, d.conditions) for d in ff.macro_defs] == [("GEN_FN", 6, ("defined(CONFIG_X)",))]
    assert ff.functions == []


# ---------------------------------------------------------------------------
# Calls, references, data

def test_calls_and_refs(record_edges):
    src = """
        static int once(int x) { return x; }
        static int twice(int x) { return x; }
        static int cb(void *p) { return 0; }
        static int op(void) { return 0; }
        static int unused(void) { return 0; }
        static int declared(void);
        static const struct ops o = { .open = op, .cb = &cb };
        int main_fn(void)
        {
        	register_cb(cb, NULL);
        	twice(once(1));
        	return twice(2) + declared();
        }
        """
    ff = facts(src)
    refs = {r.name: (r.calls, r.address_taken) for r in ff.refs}
    assert refs == {"once": (1, 0), "twice": (2, 0), "cb": (0, 2), "op": (0, 1), "declared": (1, 0)}
    edges = [(c.caller, c.callee, c.line) for c in ff.calls]
    assert edges == [("main_fn", "register_cb", 10), ("main_fn", "twice", 11), ("main_fn", "once", 11),
                     ("main_fn", "declared", 12)]


def test_data_symbols():
    src = """
        int x, y = 3, *p, arr[4];
        static int s __read_mostly;
        extern int e;
        int (*fp)(int);
        static int proto(void);
        static const struct file_operations fops = { .open = 0 };
        #ifdef CONFIG_D
        unsigned long d;
        #endif
        """
    data = {(d.name, d.storage, d.conditions) for d in facts(src).data}
    assert data == {
        ("x", "extern", ()), ("y", "extern", ()), ("p", "extern", ()), ("arr", "extern", ()),
        ("s", "static", ()), ("fp", "extern", ()), ("fops", "static", ()),
        ("d", "extern", ("defined(CONFIG_D)",)),
    }


def test_parse_errors_counted():
    assert facts("int a(void) { return 0; }\n").parse_errors == 0
    assert facts("int a(void) { ) }\nint x;\nint b(void) { ] }\n").parse_errors == 2


# ---------------------------------------------------------------------------
# Real tree

@pytest.mark.kernel
def test_real_nokprobe_without_semicolon(real_tree):
    p = "kernel/fail_function.c"
    ff = extract_c(p, (real_tree / p).read_bytes())
    assert "fei_kprobe_handler" in {r.name for r in ff.registrations}
    assert not ff.warnings


@pytest.mark.kernel
def test_real_preempt_count_add_is_conditional(real_tree):
    p = "kernel/sched/core.c"
    ff = extract_c(p, (real_tree / p).read_bytes())
    regs = [r for r in ff.registrations if r.name == "preempt_count_add"]
    assert len(regs) == 1 and regs[0].conditions


@pytest.mark.kernel
def test_real_x86_fault_keywords(real_tree):
    p = "arch/x86/mm/fault.c"
    ff = extract_c(p, (real_tree / p).read_bytes())
    by_name = {f.name: f for f in ff.functions}
    f = by_name["spurious_kernel_fault"]  # `static noinline int\nspurious_kernel_fault(`
    assert f.keywords == ("static", "noinline") and f.line == 990
    assert by_name["handle_page_fault"].keywords == ("static", "__always_inline")
    assert ("DEFINE_IDTENTRY_RAW_ERRORCODE", ("exc_page_fault",)) in {(u.name, u.args) for u in ff.macro_uses}
    assert "exc_page_fault" not in by_name
    regs = {r.name: r for r in ff.registrations}
    assert "spurious_kernel_fault" in regs and regs["vmalloc_fault"].conditions  # x86_32 only
