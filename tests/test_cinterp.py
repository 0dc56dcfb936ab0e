"""The mini C interpreter on small snippets written here (no kernel code)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpanalyze.config import KernelConfig
from kpanalyze.decoders.cinterp import CProgram, CPointer, CStruct, Memory, Unsupported


class FakeTree:
    def __init__(self, files: dict[str, str]):
        self.files = {k: v.encode() for k, v in files.items()}
        self.root = Path("/nonexistent")

    def read(self, relpath):
        return self.files.get(relpath)


def prog(src: str, *, path="a.c", config=None, arch="arm64", **kw) -> CProgram:
    return CProgram.load(FakeTree({path: src}), [path], config=config, arch=arch, **kw)


PREDICATES = """\
#define MAKE_IS(nm, msk, v)					\\
static inline bool my_is_##nm(u32 code)				\\
{								\\
	BUILD_BUG_ON(~(msk) & (v));				\\
	return (code & (msk)) == (v);				\\
}								\\
static inline u32 my_##nm##_value(void) { return (v); }

MAKE_IS(foo,	0xFF000000, 0x12000000)
MAKE_IS(bar,	0x0000FFFF, 0x00001234)

static bool __kprobes either(u32 insn)
{
	return my_is_foo(insn) || my_is_bar(insn);
}
"""


def test_generated_functions_point_at_the_macro_use():
    p = prog(PREDICATES)
    assert p.call("my_is_foo", 0x12345678).value == 1
    assert p.call("my_is_foo", 0x13345678).value == 0
    assert p.call("my_bar_value").value == 0x1234
    ev = p.where("my_is_bar")
    assert (ev.path, ev.line) == ("a.c", 10)
    assert "0x0000FFFF" in ev.text
    assert p.macro_use("my_is_foo") == ("MAKE_IS", ("foo", "0xFF000000", "0x12000000"))
    out = p.call("either", 0x00001234)
    assert out.value == 1
    assert out.decisive.line == 14
    called = [s.name for s in out.trace if s.kind == "call"]
    assert called == ["either", "my_is_foo", "my_is_bar"]


def test_integer_semantics():
    p = prog("""
static u32 neg(u32 x) { return ~x; }
static int sext(u32 x) { return *(s16 *)&x; }
static u8 trunc(u32 x) { return (u8)x + 1; }
static long div(long a, long b) { return a / b + a % b * 100; }
static int cmp(void) { u32 a = 0xffffffff; int b = -1; return a == b; }
static unsigned long wrap(void) { unsigned long v = 0; v -= 1; return v >> 60; }
static int sh(u32 insn) { return (insn >> 25) & 0xf; }
static bool b(u32 x) { bool r = x & 0x100; return r; }
static u64 big(void) { return 1UL << 40 | 0x80000000; }
""")
    assert p.call("neg", 0).value == 0xFFFFFFFF
    assert p.call("sext", 0x1FFFF).value == -1
    assert p.call("trunc", 0x1FF).value == 0  # 0xff + 1 in int, then returned as u8
    assert p.call("div", -7, 2).value == -3 - 100
    assert p.call("cmp").value == 1
    assert p.call("wrap").value == 0xF
    assert p.call("sh", 0xD4000000).value == 0xA
    assert p.call("b", 0x100).value == 1
    assert p.call("big").value == (1 << 40) | 0x80000000


def test_control_flow_switch_ranges_loops():
    p = prog("""
enum kind { K_A, K_B = 5, K_C };
static int classify(u32 x)
{
	switch (x & 0xff) {
	case 1 ... 3:
		return K_A;
	case 4:
	case K_B:
		x++;
		fallthrough;
	case 7:
		return K_C + x;
	default:
		break;
	}
	return -1;
}
static int loops(int n)
{
	int i, s = 0;
	for (i = 0; i < n; i++) {
		if (i == 2)
			continue;
		s += i;
	}
	while (s > 100)
		s -= 100;
	do { s++; } while (0);
	return s;
}
static int tern(int x) { return x > 2 ? 10 : (x, 20); }
static int spin(void) { while (1) { } return 0; }
""")
    assert p.call("classify", 2).value == 0
    assert p.call("classify", 4).value == 6 + 5
    assert p.call("classify", 7).value == 6 + 7
    assert p.call("classify", 9).value == -1
    assert p.constant("K_C") == 6
    assert p.call("loops", 5).value == 0 + 1 + 3 + 4 + 1
    assert p.call("tern", 3).value == 10 and p.call("tern", 1).value == 20
    with pytest.raises(Unsupported, match="step limit"):
        p.call("spin", limit=1000)


def test_macros_in_bodies_stringify_paste_and_statement_expressions():
    p = prog("""
#define LEN(insn) ({ unsigned long __l; __l = ((insn) & 3) == 3 ? 4UL : 2UL; __l; })
#define REJECT_IF(nm, code) do { if (is_##nm(code)) return -1; } while (0)
#define NAME(x) #x
#define TWICE(x) ((x) * 2)
#define LIMIT (128 / sizeof(u32))
static bool is_odd(u32 c) { return c & 1; }
static int f(u32 code)
{
	REJECT_IF(odd, code);
	return LEN(code) + TWICE(LIMIT);
}
static unsigned long g(void) { return sizeof(NAME(ab)); }
""")
    assert p.call("f", 3).value == -1
    assert p.call("f", 2).value == 2 + 64
    assert p.constant("LIMIT") == 32
    out = p.call("f", 5)
    assert out.decisive.line == 10  # the return inside REJECT_IF maps to the use line
    with pytest.raises(Unsupported):
        p.call("g")  # sizeof a string literal: not modelled


def test_arrays_with_ranges_and_designators():
    p = prog("""
enum cls { C_NONE, C_ONE, C_TWO };
#define N 8
static const int table[N] = {
	[0 ... 3] = C_ONE,
	[5] = C_TWO,
	C_ONE,
};
static const u8 plain[] = { 1, 2, 3 };
static int get(u32 i) { return table[i & 7] + plain[0]; }
""")
    assert p.array("table") == [1, 1, 1, 1, 0, 2, 1, 0]
    assert p.array_lines("table")[4] == 0 and p.array_lines("table")[5] == 6
    assert p.array("plain") == [1, 2, 3]
    assert p.call("get", 5).value == 3


def test_pointers_structs_and_out_parameters():
    p = prog("""
struct api { int handler; };
struct asi { struct api api; };
static void sim(void);
static int lookup(unsigned long a, unsigned long *size, unsigned long *off);
static int scan(u32 *start, u32 *end)
{
	while (start >= end) {
		if ((le32_to_cpu(*start) & 0xff) == 0x42)
			return 1;
		start--;
	}
	return 0;
}
static int decode(u32 *addr, struct asi *asi)
{
	struct api *api = &asi->api;
	unsigned long size = 0, offset = 0;
	api->handler = sim;
	if (kallsyms_lookup_size_offset((unsigned long)addr, &size, &offset))
		return scan(addr - 1, addr - (offset / sizeof(u32)));
	return -1;
}
static int walk(unsigned long addr, unsigned long start)
{
	unsigned long tmp = start;
	while (tmp < addr)
		tmp += (*(u16 *)tmp & 3) == 3 ? 4 : 2;
	return tmp == addr;
}
""")
    words = [0x11, 0x42, 0x13, 0x14]
    s = CStruct()

    def ks(addr, size, off):
        size.value = 16
        off.value = addr - 0x1000
        return 1
    out = p.call("decode", CPointer(words, 3, base=0x1000), s,
                 builtins={"kallsyms_lookup_size_offset": ks})
    assert out.value == 1
    assert s["api"]["handler"].name == "sim"
    assert p.call("decode", CPointer(words, 1, base=0x1000), CStruct(),
                  builtins={"kallsyms_lookup_size_offset": ks}).value == 0
    mem = Memory(bytes.fromhex("4111 1301 01fe 8280"), base=0x2000)
    assert p.call("walk", 0x2006, 0x2000, memory=[mem]).value == 1
    assert p.call("walk", 0x2004, 0x2000, memory=[mem]).value == 0
    with pytest.raises(Unsupported, match="kallsyms_lookup_size_offset"):
        p.call("decode", CPointer(words, 3), CStruct())


def test_array_elements_local_arrays_and_comma_list_macros():
    p = prog("""\
#define PREFIX 0x0f, 0x0b, 'x'
static const u8 prefix[] = { PREFIX };
struct slot { u32 *insn; };
static int patch(struct slot *asi, u32 insn)
{
	asi->insn[0] = insn | 1;
	((u16 *)asi->insn)[2] = 0xbeef;
	asi->insn[0] ^= 0x100;
	return asi->insn[0];
}
static int sum(void)
{
	u32 buf[4];
	u16 half[] = { PREFIX, 7 };
	int i;
	for (i = 0; i < 4; i++)
		buf[i] = i * 3;
	buf[1]++;
	return buf[1] + *(buf + 3) + half[3] + prefix[2];
}
static int readonly(void)
{
	prefix[0] = 1;
	return 0;
}
""")
    assert p.array("prefix") == [0x0F, 0x0B, ord("x")]
    assert p.array_lines("prefix") == [2, 2, 2]  # the line of the macro use
    s = CStruct()
    s["insn"] = CPointer([0, 0], 0, 4)
    assert p.call("patch", s, 0x40).value == 0x141
    assert [s["insn"].moved(k).load() for k in range(2)] == [0x141, 0xBEEF]
    assert p.call("sum").value == 4 + 9 + 7 + ord("x")
    with pytest.raises(Unsupported, match="element of a const array"):
        p.call("readonly")


def test_conditions_known_unknown_and_assumed():
    src = """
#ifndef GUARD_H
#define GUARD_H
#ifdef CONFIG_KPROBES
static int kp(void) { return 1; }
#endif
static int f(u32 x)
{
	if (x == 1)
		return 10;
#ifdef CONFIG_FOO
	if (x == 2)
		return 20;
#else
	if (x == 2)
		return 30;
#endif
	return 0;
}
#endif
"""
    p = prog(src)
    out = p.call("f", 2)
    assert out.value == 20 and out.conditions == ("defined(CONFIG_FOO)",)
    assert p.call("f", 1).conditions == ()
    assert p.call("f", 3).conditions == ()
    assert p.condition_of("kp") == ("defined(CONFIG_KPROBES)",)
    assert prog(src, assume=["CONFIG_KPROBES"]).condition_of("kp") == ()
    q = prog(src, config=KernelConfig.parse("CONFIG_KPROBES=y\n"))
    assert q.call("f", 2).value == 30 and q.call("f", 2).conditions == ()
    assert q.condition_of("kp") == ()


def test_unknown_constructs_are_named_with_where():
    p = prog("""
static int f(int x)
{
	if (x)
		return mystery(x);
	return 0;
}
static int g(int x) { goto out; out: return x; }
static int h(int x) { return x + UNKNOWN_THING; }
""")
    assert p.call("f", 0).value == 0  # never executed: no complaint
    with pytest.raises(Unsupported) as e:
        p.call("f", 1)
    assert "mystery" in e.value.construct and (e.value.path, e.value.line) == ("a.c", 5)
    with pytest.raises(Unsupported) as e:
        p.call("g", 1)
    assert "goto" in e.value.construct
    with pytest.raises(Unsupported, match="UNKNOWN_THING"):
        p.call("h", 1)
    with pytest.raises(Unsupported, match="nothere"):
        p.call("nothere")


def test_return_paths_read_guards_from_the_ast():
    p = prog(PREDICATES + """
static int decide(u32 insn)
{
	if (either(insn))
		return 0;
	if (my_is_foo(insn)) {
		return 1;
	} else if (insn == 3) {
		return 2;
	}
	switch (insn & 0xf) {
	case 1:
	case 2:
		return 3;
	default:
		return 4;
	}
}
""")
    paths = p.return_paths("decide")
    assert [rp.value for rp in paths] == ["0", "1", "2", "3", "4"]
    assert [(g.expr, g.holds) for g in paths[0].guards] == [("either(insn)", True)]
    assert [(g.expr, g.holds) for g in paths[2].guards] == [
        ("either(insn)", False), ("my_is_foo(insn)", False), ("insn == 3", True)]
    assert paths[3].guards[-1].case == "1, 2"
    dps = p.decision_paths("decide")
    sw = [dp for dp in dps if dp.value in ("3", "4")]
    assert [str(dp.literals[-1]) for dp in sw] == ["(insn & 0xf) == 1 || (insn & 0xf) == 2",
                                                   "!((insn & 0xf) == 1 || (insn & 0xf) == 2)"]
    f = p.predicate(sw[0].literals[-1].text, ["insn"])
    assert f(0x12) == 1 and f(0x13) == 0


def test_repeated_calls_run():
    import time
    p = prog(PREDICATES)
    p.call("either", 1)
    t = time.perf_counter()
    for i in range(200):
        p.call("either", i)
    print(f"\n{(time.perf_counter() - t) / 200 * 1e6:.0f} us per call")


def test_decision_paths_inline_predicates_and_drop_contradictions():
    p = prog(PREDICATES + """
static bool stepable(u32 insn)
{
	if (either(insn))
		return false;
	if (insn & 1)
		return insn != 7;
	return true;
}
static int decide(u32 insn)
{
	if (stepable(insn))
		return 2;
	if (my_is_foo(insn)) {
		insn = 0;
	} else {
		return 0;
	}
	return 1;
}
""")
    paths = p.decision_paths("decide")
    got = [(dp.value, sorted(str(x) for x in dp.literals)) for dp in paths]
    assert ("0", ["!(my_is_foo(insn))", "my_is_bar(insn)"]) in got
    assert ("0", ["!(insn != 7)", "!(my_is_bar(code))" if False else "!(my_is_bar(insn))",
                  "!(my_is_foo(insn))", "insn & 1"]) in got
    assert ("1", ["my_is_foo(insn)"]) in got
    # my_is_foo true and false at once is never listed
    assert not any("my_is_foo(insn)" in lits and "!(my_is_foo(insn))" in lits for _, lits in got)
    rej = [dp for dp in paths if dp.value == "0"]
    assert all(any(lit.func == "my_is_bar" for lit in dp.literals if lit.holds) or
               any(lit.text == "insn != 7" for lit in dp.literals) for dp in rej)
