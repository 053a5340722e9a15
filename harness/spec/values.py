"""Small value types of the spec language: ranges, durations and rates, written as text.

``500..3000`` (an integer range hypothesis draws from), ``2s``, ``500ms``, ``1s..5s``
(a duration range), ``400/s`` (a rate). A plain number is a range of one value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DUR = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0}


@dataclass(frozen=True)
class IntRange:
    low: int
    high: int

    @classmethod
    def parse(cls, value: object) -> "IntRange":
        if isinstance(value, bool):
            raise ValueError("expected an integer or a range like 1..3")
        if isinstance(value, int):
            return cls(value, value)
        match = re.fullmatch(r"\s*(\d+)\s*\.\.\s*(\d+)\s*", str(value))
        if not match:
            raise ValueError(f"{value!r} is not an integer or a range like 1..3")
        low, high = int(match.group(1)), int(match.group(2))
        if low > high:
            raise ValueError(f"range {value!r} is empty (low > high)")
        return cls(low, high)

    def __str__(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}..{self.high}"


def parse_duration(text: object) -> float:
    """Seconds in ``text`` (``250ms``, ``2s``, ``1.5m``; a bare number is seconds)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    match = _DUR.fullmatch(str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration like 500ms, 2s or 1m")
    return float(match.group(1)) * _UNIT[match.group(2)]


@dataclass(frozen=True)
class DurationRange:
    low: float
    high: float

    @classmethod
    def parse(cls, value: object) -> "DurationRange":
        parts = str(value).split("..") if isinstance(value, str) else [value]
        if len(parts) > 2:
            raise ValueError(f"{value!r} is not a duration or a range like 1s..5s")
        low = parse_duration(parts[0])
        high = parse_duration(parts[-1])
        if low > high:
            raise ValueError(f"range {value!r} is empty (low > high)")
        return cls(low, high)


def parse_rate(value: object) -> float:
    """Messages per second in ``400/s`` (or a bare number)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*/\s*s\s*", str(value))
    if not match:
        raise ValueError(f"{value!r} is not a rate like 400/s")
    return float(match.group(1))
