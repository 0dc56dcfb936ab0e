"""BPF C: libbpf section names and libbpf attach calls (tree-sitter C).

* ``SEC("kprobe/NAME[+OFF]")``, ``SEC("kretprobe/NAME")``: one probe point;
* ``SEC("ksyscall/NAME")``, ``SEC("kretsyscall/NAME")``: the syscall's entry symbol, which
  libbpf names per arch (``__x64_sys_NAME``, ``__arm64_sys_NAME``, ``sys_NAME``...);
* ``SEC("kprobe.multi/PATTERN")``, ``SEC("kretprobe.multi/PATTERN")``: a glob (``*``, ``?``);
* ``bpf_program__attach_kprobe(prog, retprobe, "NAME")``,
  ``bpf_program__attach_kprobe_opts(prog, "NAME", &opts)`` (``.retprobe``/``.offset`` read
  from ``LIBBPF_OPTS(bpf_kprobe_opts, opts, ...)`` or an initializer of ``opts``) and
  ``bpf_program__attach_kprobe_multi_opts(prog, "PATTERN", &opts)`` with literal names.

``SEC("kprobe")`` without a name (attached by hand) and names that are not literals are
not probe points of the file. A ``SEC(`` that does not parse is a problem, then skipped.
"""

from __future__ import annotations

import re

from ..verdict import Origin
from .grammars import captures, one_line, position, query, text
from .model import GLOB, NAME, SYSCALL, Finding, FileScan, Problem

_QUERY = """
(call_expression function: (identifier) @fn arguments: (argument_list) @args) @call
(init_declarator declarator: (identifier) @iname value: (initializer_list) @init)
(ERROR) @error
"""

SEC_MACROS = ("SEC", "section", "__section__", "__section")
# libbpf section prefix -> (kind, how the rest names the target)
SECTIONS = {
    "kprobe": ("kprobe", NAME),
    "kretprobe": ("kretprobe", NAME),
    "kprobe.multi": ("kprobe", GLOB),
    "kretprobe.multi": ("kretprobe", GLOB),
    "kprobe.session": ("kprobe", GLOB),
    "ksyscall": ("kprobe", SYSCALL),
    "kretsyscall": ("kretprobe", SYSCALL),
}
ATTACH = ("bpf_program__attach_kprobe", "bpf_program__attach_kprobe_opts",
          "bpf_program__attach_kprobe_multi_opts")
OPTS_MACROS = ("LIBBPF_OPTS", "DECLARE_LIBBPF_OPTS")

POINT_RE = re.compile(r"^([A-Za-z_.$][A-Za-z0-9_.$]*)(?:\+(0[xX][0-9a-fA-F]+|[0-9]+))?$")
SYMBOL_RE = re.compile(r"^[A-Za-z_.$][A-Za-z0-9_.$]*$")
SYSCALL_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
GLOB_CHARS = "*?["
_SEC_IN_TEXT = re.compile(rb"\b(?:SEC|__section)\s*\(")


def _args(args_node) -> list:
    return [c for c in args_node.named_children if c.type != "comment"]


def parse_section(sec: str):
    """(kind, match, target, offset) for a libbpf kprobe section name; None if the section
    is not a kprobe one or names no function; ValueError if libbpf could not parse it."""
    prefix, slash, rest = sec.partition("/")
    if prefix not in SECTIONS:
        return None
    kind, match = SECTIONS[prefix]
    rest = rest.strip()
    if not slash or not rest:
        return None  # SEC("kprobe"): attached by hand, the name is given at run time
    if match == SYSCALL:
        if not SYSCALL_RE.match(rest):
            raise ValueError(f"{rest!r} is not a syscall name")
        return kind, SYSCALL, rest, 0
    if match == GLOB:
        if ":" in rest:  # MODULE:PATTERN (newer libbpf): the pattern is what the tree can judge
            rest = rest.rpartition(":")[2]
        if not any(c in rest for c in GLOB_CHARS):
            if not POINT_RE.match(rest) or "+" in rest:
                raise ValueError(f"{rest!r} is not a function name or pattern")
            return kind, NAME, rest, 0
        if not re.fullmatch(r"[A-Za-z0-9_.$*?\[\]!-]+", rest):
            raise ValueError(f"{rest!r} is not a function-name pattern")
        return kind, GLOB, rest, 0
    m = POINT_RE.match(rest)
    if not m:
        raise ValueError(f"{rest!r} is not NAME or NAME+OFFSET")
    return kind, NAME, m.group(1), int(m.group(2), 0) if m.group(2) else 0


def extract(path: str, data: bytes, root, out: FileScan) -> None:
    from .clang import problem, string_value

    caps = captures(query("c", _QUERY), root)
    calls = list(zip(caps.get("call", []), caps.get("fn", []), caps.get("args", [])))
    opts = _opts_texts(calls, caps)
    good_secs: set[int] = set()
    for call, fn, args in calls:
        name = text(fn)
        if name in SEC_MACROS:
            a = _args(args)
            value = string_value(a[0]) if a else None
            if call.has_error or (a and a[0].has_error):
                out.problems.append(problem(path, data, call, "warning", "syntax",
                                            f"malformed {name}(...): skipped"))
                continue
            good_secs.add(call.start_byte)
            if value is None:
                continue
            try:
                parsed = parse_section(value)
            except ValueError as e:
                out.problems.append(problem(path, data, a[0], "warning", "syntax",
                                            f"{name}(\"{value}\"): libbpf cannot attach it: {e}"))
                continue
            if parsed is None:
                continue
            kind, match, target, offset = parsed
            line, col = position(data, a[0])
            out.findings.append(Finding(Origin(path, line, col, one_line(text(call)), "bpf-c"),
                                        target, kind, "tracefs", offset, match))
        elif name in ATTACH:
            _attach(path, data, name, call, _args(args), opts, out, string_value)
    for err in caps.get("error", []):
        for m in _SEC_IN_TEXT.finditer(err.text):
            at = err.start_byte + m.start()
            if at in good_secs:
                continue
            good_secs.add(at)
            out.problems.append(problem(path, data, at, "warning", "syntax",
                                        "unterminated or malformed SEC(...): skipped"))


def _opts_texts(calls, caps) -> dict[str, str]:
    """opts variable -> the text that sets its fields (LIBBPF_OPTS(type, var, ...) or an initializer)."""
    out = {}
    for call, fn, args in calls:
        if text(fn) in OPTS_MACROS:
            a = _args(args)
            if len(a) >= 2:
                out[text(a[1])] = text(args)
    for name, init in zip(caps.get("iname", []), caps.get("init", [])):
        out.setdefault(text(name), text(init))
    return out


_RETPROBE = re.compile(r"\.retprobe\s*=\s*(\w+)")
_OFFSET = re.compile(r"\.offset\s*=\s*(0[xX][0-9a-fA-F]+|[0-9]+)[uUlL]*\b")


def _opts_of(node, opts: dict[str, str]) -> tuple[bool | None, int]:
    """(retprobe, offset) set in the opts passed as `&var` (None: cannot tell)."""
    if node is None or text(node) in ("NULL", "0", "nullptr"):
        return False, 0
    name = text(node).lstrip("&").strip()
    body = opts.get(name)
    if body is None:
        return False, 0
    ret = _RETPROBE.search(body)
    off = _OFFSET.search(body)
    retprobe = None if ret and ret.group(1) not in ("true", "false", "0", "1") else \
        bool(ret and ret.group(1) in ("true", "1"))
    return retprobe, int(off.group(1), 0) if off else 0


def _attach(path, data, name, call, a, opts, out: FileScan, string_value) -> None:
    if name == "bpf_program__attach_kprobe":
        if len(a) < 3:
            return
        lit, flag = a[2], a[1]
        ftxt = text(flag)
        retprobe = True if ftxt in ("true", "1") else False if ftxt in ("false", "0") else None
        offset, match = 0, NAME
    else:
        if len(a) < 2:
            return
        lit = a[1]
        retprobe, offset = _opts_of(a[2] if len(a) > 2 else None, opts)
        match = GLOB if name.endswith("multi_opts") else NAME
    value = string_value(lit)
    if value is None:
        return  # a name computed at run time
    if match == GLOB and not any(c in value for c in GLOB_CHARS):
        match = NAME
    if match == NAME and not SYMBOL_RE.match(value):
        out.problems.append(_bad_name(path, data, lit, name, value))
        return
    line, col = position(data, lit)
    origin = Origin(path, line, col, one_line(text(call)), "libbpf")
    kinds = ("kprobe", "kretprobe") if retprobe is None else ("kretprobe",) if retprobe else ("kprobe",)
    for kind in kinds:
        out.findings.append(Finding(origin, value, kind, "tracefs", offset, match))


def _bad_name(path, data, node, fn, value):
    line, col = position(data, node)
    return Problem(path, line, col, "warning", "syntax", f"{fn}: {value!r} is not a function name: skipped")
