"""Reading a spec or suite file that may hold anything: plain YAML data, or a one-line error.

A spec is plain data: mappings with text keys, lists, and scalars (text, integers, finite
numbers, booleans, null). :func:`read_yaml` reads at most :data:`MAX_BYTES` of a regular
file, decodes it as strict UTF-8, composes the YAML node tree once (with limits checked as
the nodes arrive, so nesting, node count and scalar size stay bounded), checks every node,
and constructs the data itself. It refuses what would make a file mean more, or other,
than it shows: anchors, aliases and merge keys, duplicate keys, tags other than the standard
scalar ones, several documents, control and bidirectional-override characters, integers of
more than :data:`MAX_DIGITS` digits and numbers that are not finite.

Every refusal is a :class:`SpecError` of one line, ``file:line: field: what``, where field
is the dotted key path (``faults.from.2.link``) or ``(file)``.
"""

from __future__ import annotations

import math
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    NodeEvent,
    ScalarEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from harness.spec.errors import (Lines, SpecError, dotted, escaped, line_of, one_line,  # noqa: F401
                                  show_path, spec_error)

MAX_BYTES = 256 * 1024      # a spec is a page or two; the largest shipped one is under 2 KiB
MAX_DEPTH = 32              # nested mappings and lists; a spec needs about 7
MAX_NODES = 20_000          # keys, values and list items together
MAX_SCALAR = 10_000         # characters of one scalar (key or value)
MAX_DIGITS = 18             # digits of an integer (an int64 holds 18 for sure)


_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null")}
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# Characters a spec file may not hold: tabs (YAML allows them in some places only, and
# YAML parsers disagree on which), other C0 controls but line feed and carriage return, DEL,
# C1 controls (NEL included: YAML counts it as a line break, editors do not), the Unicode
# line and paragraph separators (the same), bidirectional controls (text that reads
# otherwise than it shows), a byte order mark past the start, and noncharacters.
_BAD_TEXT = re.compile(f"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\ufeff\ufffe\uffff]")
# In a value (after escapes such as "\x00" are read), a tab and a line feed only.
_BAD_VALUE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\ufeff\ufffe\uffff]")
_BREAKS = re.compile(r"\r\n|\r|\n")
_NAMES = {0: "NUL", 0x1b: "ESC", 0x7f: "DEL", 0x85: "NEL", 0x2028: "LINE SEPARATOR",
          0x2029: "PARAGRAPH SEPARATOR", 0xfeff: "BYTE ORDER MARK", 0x202e: "RIGHT-TO-LEFT OVERRIDE"}
_BOMS = ((b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"),
         (b"\xfe\xff", "UTF-16"), (b"\xff\xfe", "UTF-16"))
_KINDS = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}
_TYPES = {"str": "text", "int": "an integer", "float": "a number", "bool": "a boolean", "null": "null",
          "timestamp": "a date", "merge": "a merge key (<<)", "value": "the YAML value key (=)"}


# How YAML 1.2 (core schema) reads a plain scalar; the safe loader reads YAML 1.1. Where the
# two disagree (yes/on/off, 010, 1_000, 1:30, 0b1, 1.0e5, 0o17) the file is ambiguous.
_CORE_12 = (("null", re.compile(r"null|Null|NULL|~|")), ("bool", re.compile(r"true|True|TRUE|false|False|FALSE")),
            ("int", re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")),
            ("float", re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")))


def _yaml12(text: str) -> str:
    return next((kind for kind, pattern in _CORE_12 if pattern.fullmatch(text)), "str")


def _int12(text: str) -> int:
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text, 10)


def _line_at(text: str, pos: int) -> int:
    return len(_BREAKS.findall(text, 0, pos)) + 1


def _char(ch: str) -> str:
    name = _NAMES.get(ord(ch))
    return f"U+{ord(ch):04X}" + (f" ({name})" if name else "")


# --- bytes to text -------------------------------------------------------------------------------
def _read(path: Path, what: str) -> bytes:
    """At most MAX_BYTES of a regular file; stat first, so a FIFO or a device is never opened
    for a read that could block or never end."""
    def fail(message: str) -> SpecError:
        return spec_error(path, 1, "(file)", message)

    try:
        info = os.stat(path)
    except OSError as exc:
        raise fail(f"cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:           # a name with a NUL in it
        raise fail(f"cannot read: {exc}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
        raise fail(f"is {kind}, not a {what} file")
    if info.st_size > MAX_BYTES:
        raise fail(f"{info.st_size} bytes is too large: a {what} file holds at most {MAX_BYTES} bytes (256 KiB)")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise fail(f"cannot read: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):      # replaced between stat and open
            raise fail(f"is not a regular file, not a {what} file")
        chunks, size = [], 0
        while size <= MAX_BYTES:
            chunk = os.read(fd, MAX_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise fail(f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if size > MAX_BYTES:
        raise fail(f"more than {MAX_BYTES} bytes: a {what} file holds at most {MAX_BYTES} bytes (256 KiB)")
    return b"".join(chunks)


def _decode(path: Path, raw: bytes, what: str) -> str:
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            raise spec_error(path, 1, "(file)", f"the file is {encoding} (it starts with a {encoding} byte "
                                                f"order mark): a {what} file is UTF-8")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        before = raw[:exc.start]
        line = before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1
        column = exc.start - max(before.rfind(b"\n"), before.rfind(b"\r"))
        raise spec_error(path, line, "(file)", f"not UTF-8: byte 0x{raw[exc.start]:02x} at column {column} "
                                               f"({exc.reason}); a {what} file is UTF-8 text") from None
    bad = _BAD_TEXT.search(text)
    if bad:
        pos = bad.start()
        column = pos - max(text.rfind("\n", 0, pos), text.rfind("\r", 0, pos))
        if bad.group() == "\t":
            raise spec_error(path, _line_at(text, pos), "(file)",
                             f"a tab at column {column}: a {what} file indents and separates with spaces "
                             '(a tab in text is written "\\t" in double quotes)')
        hint = " (a binary or UTF-16 file?)" if bad.group() == "\x00" else ""
        raise spec_error(path, _line_at(text, pos), "(file)",
                         f"control character {_char(bad.group())} at column {column}{hint}: "
                         f"a {what} file is plain text")
    return text


# --- text to nodes -------------------------------------------------------------------------------
# The pure-Python safe parser, not libyaml's (CSafeLoader), though slower: the two disagree on
# corner cases (tabs as separators, "? " inside a flow scalar), and what this module accepts
# must read the same to yaml.safe_load, which the rest of kch and its users' tools use.
_LOADER: Any = yaml.SafeLoader
_RESOLVER = yaml.resolver.Resolver()


def _open_keys(stack: list) -> tuple:
    """The key path of the node being composed, from the open collections."""
    keys: list = []
    for node, key in stack:
        if isinstance(node, SequenceNode):
            keys.append(len(node.value))
        elif key is not None:
            keys.append(key.value if isinstance(key, ScalarNode) else "?")
    return tuple(keys)


def _compose(path: Path, text: str, what: str) -> Any:
    """The one document of `text` as a node tree (None if there is none), composed from the
    safe parser's events without recursion; limits are checked as each event arrives, so
    nothing past a limit is ever parsed."""
    parser = None
    try:
        parser = _LOADER(text)
        parser.get_event()                                  # stream start
        if parser.check_event(StreamEndEvent):
            return None
        parser.get_event()                                  # document start
        root = _nodes(parser, path, what)
        parser.get_event()                                  # document end
        if not parser.check_event(StreamEndEvent):
            event = parser.peek_event()
            raise spec_error(path, event.start_mark.line + 1, "(file)",
                             f"a second YAML document: a {what} file holds one (no second ---)")
        return root
    except SpecError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "unreadable"
        if exc.context and exc.problem and exc.context_mark and exc.problem_mark:
            problem = f"{problem} ({exc.context} at line {exc.context_mark.line + 1})"
        raise spec_error(path, mark.line + 1 if mark else 1, "(file)", f"not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise spec_error(path, 1, "(file)", f"not valid YAML: {exc}") from None
    except (ValueError, TypeError, LookupError, AttributeError) as exc:     # not expected
        raise spec_error(path, 1, "(file)", f"not valid YAML: the parser failed ({type(exc).__name__}: {exc})") from None
    finally:
        if parser is not None:
            parser.dispose()


def _nodes(parser: Any, path: Path, what: str) -> Any:
    stack: list[list] = []          # open collections: [node, pending key (mappings)]
    count = 0

    def fail(event: Any, message: str) -> SpecError:
        return spec_error(path, event.start_mark.line + 1, dotted(_open_keys(stack)), message)

    while True:
        event = parser.get_event()
        if isinstance(event, CollectionEndEvent):
            node = stack.pop()[0]
            node.end_mark = event.end_mark
        elif isinstance(event, AliasEvent):
            raise fail(event, f"alias *{event.anchor} refused: a {what} is plain data "
                              "(no anchors or aliases); write the value out")
        elif not isinstance(event, NodeEvent):
            raise fail(event, f"not valid YAML: unexpected {type(event).__name__}")
        else:
            if event.anchor is not None:
                raise fail(event, f"anchor &{event.anchor} refused: a {what} is plain data "
                                  "(no anchors or aliases); write the value out")
            count += 1
            if count > MAX_NODES:
                raise fail(event, f"more than {MAX_NODES} values: too large for a {what}")
            tag = event.tag
            if tag is not None and not (isinstance(event, ScalarEvent) and tag in _SCALAR_TAGS):
                shown = "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag
                raise fail(event, f"tag {shown} refused: a {what} is plain data "
                                  "(only !!str, !!int, !!float, !!bool and !!null on scalars)")
            if isinstance(event, ScalarEvent):
                if len(event.value) > MAX_SCALAR:
                    raise fail(event, f"a value of {len(event.value)} characters: at most {MAX_SCALAR}")
                node = ScalarNode(tag or _RESOLVER.resolve(ScalarNode, event.value, event.implicit),
                                  event.value, event.start_mark, event.end_mark, style=event.style or None)
            else:
                if len(stack) >= MAX_DEPTH:
                    raise fail(event, f"nested more than {MAX_DEPTH} deep: too deep for a {what}")
                kind = SequenceNode if isinstance(event, SequenceStartEvent) else MappingNode
                stack.append([kind(_RESOLVER.resolve(kind, None, event.implicit), [], event.start_mark,
                                   None, flow_style=event.flow_style), None])
                continue
        if not stack:
            return node
        parent = stack[-1]
        if isinstance(parent[0], SequenceNode):
            parent[0].value.append(node)
        elif parent[1] is None:
            parent[1] = node
        else:
            parent[0].value.append((parent[1], node))
            parent[1] = None


# --- nodes to data -------------------------------------------------------------------------------
class _Builder:
    """Checks each node, then constructs it: dicts, lists, str, int, float, bool, None."""

    def __init__(self, path: Path, what: str) -> None:
        self.path, self.what = path, what
        self.lines: Lines = {}
        self.scalars = yaml.constructor.SafeConstructor()   # construct_yaml_*, on checked nodes

    def fail(self, node: Any, keys: tuple, what: str) -> SpecError:
        return spec_error(self.path, node.start_mark.line + 1, dotted(keys), what)

    def build(self, root: Any) -> Any:
        if root is None:
            self.lines[()] = 1
            return None
        self.lines[()] = root.start_mark.line + 1
        return self.value(root, ())

    def value(self, node: Any, keys: tuple) -> Any:
        self.lines.setdefault(keys, node.start_mark.line + 1)
        if isinstance(node, MappingNode):
            out: dict = {}
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                key = self.key(key_node, keys)
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise spec_error(self.path, line, dotted(keys + (key,)),
                                     f"duplicate key {key!r} (lines {seen[key]} and {line}): "
                                     "which one is meant is ambiguous")
                seen[key] = line
                self.lines[keys + (key,)] = line
                out[key] = self.value(value_node, keys + (key,))
            return out
        if isinstance(node, SequenceNode):
            return [self.value(item, keys + (i,)) for i, item in enumerate(node.value)]
        return self.scalar(node, keys)

    def key(self, node: Any, keys: tuple) -> str:
        if not isinstance(node, ScalarNode):
            kind = "a mapping" if isinstance(node, MappingNode) else "a list"
            raise self.fail(node, keys, f"a key is {kind}: keys are plain text")
        if node.tag == _TAG + "merge":
            raise self.fail(node, keys, f"merge key (<<) refused: a {self.what} is plain data; write the keys out")
        if node.tag != _TAG + "str":
            kind = _TYPES.get(node.tag[len(_TAG):], node.tag)
            raise self.fail(node, keys, f"key {node.value!r} reads as {kind} in YAML; keys are text "
                                        f"(quote it if text is meant)")
        return self.scalar(node, keys)

    def scalar(self, node: Any, keys: tuple) -> Any:
        tag, text = node.tag, node.value
        kind = tag.removeprefix(_TAG)
        if tag not in _SCALAR_TAGS:
            what = _TYPES.get(kind, f"tag {tag}")
            hint = "; quote it if text is meant" if node.style is None else ""
            raise self.fail(node, keys, f"{text!r} reads as {what} in YAML, which a {self.what} "
                                        f"does not use{hint}")
        if tag != _TAG + "str" and _RESOLVER.resolve(ScalarNode, text, (True, False)) != tag:
            raise self.fail(node, keys, f"{text!r} does not read as {_TYPES.get(kind, kind)} "
                                        f"(tag !!{kind})")                         # !!int three
        plain = node.style is None or tag != _TAG + "str"          # not text in quotes
        if plain and _yaml12(text) != kind:
            raise self.fail(node, keys, f"{text!r} reads as {_TYPES.get(kind, 'text')} in YAML 1.1 but as "
                                        f"{_TYPES.get(_yaml12(text), 'text')} in YAML 1.2: write it so that "
                                        "both agree (true/false, plain decimals, or quotes for text)")
        if kind == "str":
            bad = _BAD_VALUE.search(text)
            if bad:
                raise self.fail(node, keys, f"control character {_char(bad.group())} in a value: "
                                            f"a {self.what} is plain text")
            return text
        if kind == "int":
            digits = re.sub(r"^[-+]?(0x|0b|0o)?|[_:]", "", text)
            if len(digits) > MAX_DIGITS:
                raise self.fail(node, keys, f"an integer of {len(digits)} digits: at most {MAX_DIGITS}")
            number = self.scalars.construct_yaml_int(node)
            if plain and _int12(text) != number:
                raise self.fail(node, keys, f"{text!r} is {number} in YAML 1.1 (octal) but {_int12(text)} in "
                                            f"YAML 1.2: write {number} or {_int12(text)}")
            return number
        if kind == "float":
            number = self.scalars.construct_yaml_float(node)
            if not math.isfinite(number):
                raise self.fail(node, keys, f"{text!r} is not a finite number")
            return number
        if kind == "bool":
            return self.scalars.construct_yaml_bool(node)
        return None


def read_yaml(path: Path, *, what: str = "spec") -> tuple[Any, Lines]:
    """The plain data of the YAML file at `path`, and the 1-based line of every key path in
    it (``("faults", "from", 0, "kill")``; ``()`` is the document). `what` names the kind of
    file in errors (``spec``, ``suite``). Raises :class:`SpecError` (one line) for anything
    that is not a bounded, unambiguous, plain YAML document."""
    path = Path(path)
    text = _decode(path, _read(path, what), what)
    builder = _Builder(path, what)
    data = builder.build(_compose(path, text, what))
    return data, builder.lines
