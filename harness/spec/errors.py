"""Spec errors: one line, ``file:line: field: what``, whatever the file or its name holds."""

from __future__ import annotations

import re
from pathlib import Path

from harness.errors import UsageError

Lines = dict[tuple, int]    # key path -> 1-based line of the key (of the node for list items)


class SpecError(UsageError):
    """A spec or suite that cannot be used; the message is ``file:line: field: what is wrong``."""


def one_line(text: object, limit: int = 300) -> str:
    """`text` on one line of at most `limit` characters: line breaks become spaces, other
    control characters (and undecodable bytes of a file name) are shown escaped."""
    flat = escaped(re.sub(r"[ \t]*[\r\n]+[ \t]*", " ", str(text)))
    return flat if len(flat) <= limit else flat[:limit - 3] + "..."


def escaped(text: str) -> str:
    """`text` with every character that is not printable shown as its escape (\\n, \\x1b)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def show_path(path: Path | str) -> str:
    """A file name as it can be shown on one line (escaped if it holds control characters)."""
    return escaped(str(path))


def dotted(keys: tuple | list) -> str:
    return ".".join(str(k) for k in keys) or "(file)"


def spec_error(path: Path | str, line: int, field: str, what: str) -> SpecError:
    """The one-line error ``file:line: field: what``."""
    field = escaped(field)
    field = field if len(field) <= 120 else field[:117] + "..."
    return SpecError(f"{show_path(path)}:{line}: {field}: {one_line(what)}")


def line_of(lines: Lines, keys: tuple) -> int:
    """The line of the longest prefix of `keys` the file has (1 if none)."""
    for end in range(len(keys), -1, -1):
        if keys[:end] in lines:
            return lines[keys[:end]]
    return 1
