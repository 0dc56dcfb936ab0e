"""Pure pieces of the analysis: probe-point parsing, annotations, the inlining model,
clone names, section markers of the arch hooks."""

from __future__ import annotations

import pytest

from kpanalyze.analysis.inlining import estimate
from kpanalyze.annotations import annotation, section_of
from kpanalyze.archhooks import _kconfig_to_cpp, section_for_identifier
from kpanalyze.arches import canonical_arch
from kpanalyze.errors import InputError
from kpanalyze.facts import FunctionDef
from kpanalyze.model import split_clone
from kpanalyze.verdict import ProbePoint


def fn(storage="static", keywords=(), lines=10):
    return FunctionDef("f", "a.c", 1, storage, tuple(keywords), (), lines)


@pytest.mark.parametrize("text,sym,off", [
    ("tcp_retransmit_skb", "tcp_retransmit_skb", 0),
    ("do_sys_open+0x10", "do_sys_open", 16),
    ("foo+8", "foo", 8),
    ("foo.isra.0", "foo.isra.0", 0),
    (" vfs_read ", "vfs_read", 0),
])
def test_probe_point_parse(text, sym, off):
    p = ProbePoint.parse(text)
    assert (p.symbol, p.offset) == (sym, off)


@pytest.mark.parametrize("bad", ["", "+4", "foo+bar", "foo+-1", "9lives", "foo bar", "foo+0xzz"])
def test_probe_point_malformed(bad):
    with pytest.raises(InputError, match="malformed probe point"):
        ProbePoint.parse(bad)


def test_split_clone():
    assert split_clone("foo.isra.0") == ("foo", ".isra.0")
    assert split_clone("foo.cold") == ("foo", ".cold")
    assert split_clone("foo") == ("foo", "")
    assert split_clone(".E_copy") == (".E_copy", "")


def test_annotations():
    assert annotation("noinstr").section == ".noinstr.text" and annotation("noinstr").notrace
    assert annotation("__kprobes").section == ".kprobes.text"
    assert annotation("inline").notrace and annotation("inline").inline == "hint"
    assert annotation("__always_inline").inline == "always"
    assert annotation("__init").notrace
    assert section_of('__section(".entry.text")') == ".entry.text"
    assert annotation('__attribute__(section(".hyp.text"))').section == ".hyp.text"
    assert annotation("__sched").section == ".sched.text" and not annotation("__sched").notrace
    assert annotation("int") is None


def test_inlining_model_matches_measured_classes():
    assert estimate(fn(keywords=("static", "__always_inline")), 3, 0).p_absent >= 0.99
    assert estimate(fn(keywords=("static", "inline")), 1, 0).reason_id == "static-inline"
    assert estimate(fn(keywords=("static", "inline")), 1, 1).p_absent < 0.5  # address taken
    assert estimate(fn(keywords=("static",)), 1, 0).p_absent > 0.9  # one call site
    assert estimate(fn(keywords=("static",), lines=80), 3, 0).p_absent < 0.05  # big, several callers
    assert estimate(fn(keywords=("static", "noinline")), 1, 0).p_absent == 0
    assert estimate(fn(storage="extern"), 1, 0).p_absent < 0.01
    assert estimate(fn(keywords=("static",)), 0, 0).p_absent < 0.1  # name pasted by a macro


def test_section_markers():
    assert section_for_identifier("__entry_text_start") == ".entry.text"
    assert section_for_identifier("__irqentry_text_end") == ".irqentry.text"
    assert section_for_identifier("__in_irqentry_text") == ".irqentry.text"
    assert section_for_identifier("in_entry_text") == ".entry.text"
    assert section_for_identifier("__hyp_idmap_text_start") == ".hyp.idmap.text"
    assert section_for_identifier("__idmap_text_start") == ".idmap.text"
    assert section_for_identifier("__hyp_text_start") == ".hyp.text"
    assert section_for_identifier("__kprobes_text_start") == ".kprobes.text"
    assert section_for_identifier("addr") == ""


def test_kconfig_condition_translation():
    assert _kconfig_to_cpp("!XIP_KERNEL && !CPU_V7M") == "!IS_ENABLED(CONFIG_XIP_KERNEL) && !IS_ENABLED(CONFIG_CPU_V7M)"


def test_arch_aliases():
    assert canonical_arch("x86_64") == "x86"
    assert canonical_arch("aarch64") == "arm64"
    assert canonical_arch("armhf") == "arm"
    with pytest.raises(InputError, match="unknown arch"):
        canonical_arch("vax")
