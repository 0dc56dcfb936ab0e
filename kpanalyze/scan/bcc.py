"""bcc Python programs (tree-sitter Python).

* ``b.attach_kprobe(event="NAME", ...)``, ``b.attach_kretprobe(event=b"NAME", ...)``, the
  event given by keyword or position, ``event_off=N`` for an offset;
* ``event_re="REGEX"``: a Python regex that bcc matches whole (``re.fullmatch``) against
  the traceable functions;
* ``event=b.get_syscall_fnname("NAME")``: the syscall's entry symbol on each arch;
* bcc's auto-attach: functions named ``kprobe__NAME`` / ``kretprobe__NAME`` in the BPF C
  text held by a Python string (``BPF(text=...)``).

Names computed at run time (variables, f-strings) are not probe points of the file.
"""

from __future__ import annotations

import re

from ..verdict import Origin
from .grammars import captures, literal_text, one_line, parse_python, position, query, text
from .model import NAME, REGEX, SYSCALL, Comment, FileScan, Finding, Problem

_HINTS = (b"attach_kprobe", b"attach_kretprobe", b"kprobe__", b"kretprobe__", b"kpanalyze:")
_QUERY = """
(call function: (attribute attribute: (identifier) @fn) arguments: (argument_list) @args) @call
(call function: (identifier) @fn arguments: (argument_list) @args) @call
(string) @string
(comment) @comment
"""
# attach_kprobe(self, event=b"", event_off=0, fn_name=b"", event_re=b"")
# attach_kretprobe(self, event=b"", fn_name=b"", event_re=b"", maxactive=0)
POSITIONAL = {"attach_kprobe": ("event", "event_off", "fn_name", "event_re"),
              "attach_kretprobe": ("event", "fn_name", "event_re", "maxactive")}
_AUTO = re.compile(rb"(?<![A-Za-z0-9_])(kprobe|kretprobe)__([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_C_COMMENT = re.compile(rb"//[^\n]*|/\*.*?\*/", re.S)
_SYMBOL = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


def string_value(node) -> str | None:
    """The value of a Python string/bytes literal (no f-string), adjacent literals joined."""
    return literal_text(node, "string")


def _int(node) -> int | None:
    if node is None or node.type != "integer":
        return None
    try:
        return int(text(node).replace("_", ""), 0)
    except ValueError:
        return None


def scan(path: str, data: bytes) -> FileScan:
    out = FileScan()
    if not any(h in data for h in _HINTS):
        return out
    caps = captures(query("python", _QUERY), parse_python(data).root_node)
    for node in caps.get("comment", []):
        line, col = position(data, node)
        out.comments.append(Comment(line, col, text(node)))
    for call, fn, args in zip(caps.get("call", []), caps.get("fn", []), caps.get("args", [])):
        name = text(fn)
        if name in POSITIONAL:
            _attach(path, data, name, call, args, out)
    for s in caps.get("string", []):
        _embedded(path, data, s, out)
    out.findings.sort(key=lambda f: (f.origin.line, f.origin.col))
    return out


def _attach(path: str, data: bytes, name: str, call, args, out: FileScan) -> None:
    given: dict[str, object] = {}
    positional = [a for a in args.named_children if a.type not in ("keyword_argument", "comment")]
    for i, a in enumerate(positional[:len(POSITIONAL[name])]):
        given[POSITIONAL[name][i]] = a
    for a in args.named_children:
        if a.type == "keyword_argument":
            k = a.child_by_field_name("name")
            if k is not None:
                given[text(k)] = a.child_by_field_name("value")
    kind = "kretprobe" if name == "attach_kretprobe" else "kprobe"
    offset = _int(given.get("event_off")) or 0
    event, regex = given.get("event"), given.get("event_re")
    whole = one_line(text(call))
    value = string_value(regex)  # None when no event_re is given
    if value:
        line, col = position(data, regex)
        try:
            re.compile(value)
        except re.error as e:
            out.problems.append(Problem(path, line, col, "warning", "syntax", f"event_re {value!r}: {e}"))
            return
        out.findings.append(Finding(Origin(path, line, col, whole, "bcc"), value, kind, "tracefs", 0, REGEX))
        return
    if event is None:
        return
    value = string_value(event)
    if value is None and event.type == "call":  # b.get_syscall_fnname("execve")
        f = event.child_by_field_name("function")
        if f is not None and text(f).endswith("get_syscall_fnname"):
            inner = [a for a in event.child_by_field_name("arguments").named_children if a.type != "comment"]
            sc = string_value(inner[0]) if inner else None
            if sc and _SYMBOL.match(sc):
                line, col = position(data, inner[0])
                out.findings.append(Finding(Origin(path, line, col, whole, "bcc"), sc, kind, "tracefs", 0, SYSCALL))
        return
    if not value:
        return  # computed at run time
    line, col = position(data, event)
    if not _SYMBOL.match(value):
        out.problems.append(Problem(path, line, col, "warning", "syntax", f"event {value!r} is not a function name"))
        return
    out.findings.append(Finding(Origin(path, line, col, whole, "bcc"), value, kind, "tracefs", offset, NAME))


def _embedded(path: str, data: bytes, s, out: FileScan) -> None:
    """kprobe__NAME / kretprobe__NAME functions and // comments in BPF C text held by a string."""
    raw = data[s.start_byte:s.end_byte]
    if b"probe__" not in raw and b"kpanalyze:" not in raw:
        return
    for m in _C_COMMENT.finditer(raw):
        if b"kpanalyze:" in m.group():
            line, col = position(data, s.start_byte + m.start())
            out.comments.append(Comment(line, col, m.group().decode("utf-8", "replace")))
    for m in _AUTO.finditer(raw):
        kind, sym = m.group(1).decode(), m.group(2).decode()
        line, col = position(data, s.start_byte + m.start())
        out.findings.append(Finding(Origin(path, line, col, m.group().decode().rstrip("( \t"), "bcc"),
                                    sym, kind, "tracefs", 0, NAME))
