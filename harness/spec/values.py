"""Small value types of the spec language: ranges, durations and rates, written as text.

``500..3000`` (an integer range hypothesis draws from), ``2s``, ``500ms``, ``1s..5s``
(a duration range), ``400/s`` (a rate). A plain number is a range of one value.

Each type comes with the JSON Schema of what a spec *writes* (a string pattern or a number),
so that ``kch specs schema`` describes the language as written, not the parsed objects.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

_DUR = re.compile(r"(\d{1,9}(?:\.\d{1,6})?)(ms|s|m)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0}
MAX_INT = 10**12            # no spec needs a larger integer; bigger ones are typos or attacks
MAX_SECONDS = 24 * 3600.0   # no duration in a spec is longer than a day

INT_PATTERN = r"^\s*\d{1,12}\s*(\.\.\s*\d{1,12}\s*)?$"
DURATION_PATTERN = r"^\d{1,9}(\.\d{1,6})?(ms|s|m)$"
DURATION_RANGE_PATTERN = r"^\s*\d{1,9}(\.\d{1,6})?(ms|s|m)?\s*(\.\.\s*\d{1,9}(\.\d{1,6})?(ms|s|m)?\s*)?$"
RATE_PATTERN = r"^\s*\d{1,9}(\.\d{1,6})?\s*/\s*s\s*$"


def _int(value: object) -> int:
    """An integer written as a number or as digits, 0..MAX_INT."""
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,12}\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{str(value)[:40]!r} is not an integer or a range like 1..3")
    if not 0 <= value <= MAX_INT:
        raise ValueError(f"{value} is out of range (0 to {MAX_INT})")
    return value


def _range(cls, value: object, one, example: str):
    """``a..b`` (or a single value) of `cls`, each end parsed by `one`."""
    if isinstance(value, cls):
        return value
    parts = str(value)[:64].split("..") if isinstance(value, str) else [value]
    if len(parts) > 2:
        raise ValueError(f"{str(value)[:40]!r} is not a value or a range like {example}")
    low, high = one(parts[0]), one(parts[-1])
    if low > high:
        raise ValueError(f"range {value!r} is empty (low > high)")
    return cls(low, high)


@dataclass(frozen=True)
class IntRange:
    low: int
    high: int

    @classmethod
    def parse(cls, value: object) -> "IntRange":
        return _range(cls, value, _int, "1..3")

    def __str__(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}..{self.high}"


def parse_duration(text: object) -> float:
    """Seconds in ``text`` (``250ms``, ``2s``, ``1.5m``; a bare number is seconds)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = _DUR.fullmatch(str(text).strip()[:40])
        if not match:
            raise ValueError(f"{str(text)[:40]!r} is not a duration like 500ms, 2s or 1m")
        seconds = float(match.group(1)) * _UNIT[match.group(2)]
    if not (math.isfinite(seconds) and 0 <= seconds <= MAX_SECONDS):
        raise ValueError(f"{text!r} is out of range (0 to {MAX_SECONDS:g} s)")
    return seconds


@dataclass(frozen=True)
class DurationRange:
    low: float
    high: float

    @classmethod
    def parse(cls, value: object) -> "DurationRange":
        return _range(cls, value, parse_duration, "1s..5s")

    def __str__(self) -> str:
        return f"{self.low:g}s" if self.low == self.high else f"{self.low:g}s..{self.high:g}s"


def parse_rate(value: object) -> float:
    """Messages per second in ``400/s`` (or a bare number); more than zero."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        rate = float(value)
    else:
        match = re.fullmatch(r"\s*(\d{1,9}(?:\.\d{1,6})?)\s*/\s*s\s*", str(value)[:40])
        if not match:
            raise ValueError(f"{str(value)[:40]!r} is not a rate like 400/s")
        rate = float(match.group(1))
    if not (math.isfinite(rate) and 0 < rate <= 1_000_000):
        raise ValueError(f"rate {value!r} is out of range (more than 0, at most 1000000/s)")
    return rate


def _schema(*alternatives: dict, description: str) -> WithJsonSchema:
    return WithJsonSchema({"anyOf": list(alternatives), "description": description})


_INT = {"type": "integer", "minimum": 0, "maximum": MAX_INT}
_NUM = {"type": "number", "minimum": 0, "maximum": MAX_SECONDS}

Range = Annotated[IntRange, PlainValidator(IntRange.parse), PlainSerializer(str),
                  _schema(_INT, {"type": "string", "pattern": INT_PATTERN},
                          description="an integer or a range drawn from, e.g. 3 or 1..3")]


def range_up_to(high: int, what: str) -> object:
    """The type of a range whose values are at most `high` (`what` names them in errors)."""
    def parse(value: object) -> IntRange:
        r = IntRange.parse(value)
        if r.high > high:
            raise ValueError(f"at most {high} {what} ({r} asked)")
        return r

    return Annotated[IntRange, PlainValidator(parse), PlainSerializer(str),
                     _schema({**_INT, "maximum": high}, {"type": "string", "pattern": INT_PATTERN},
                             description=f"{what}: an integer or a range drawn from, at most {high}")]


Duration = Annotated[float, PlainValidator(parse_duration),
                     _schema(_NUM, {"type": "string", "pattern": DURATION_PATTERN},
                             description="a duration: 500ms, 2s, 1.5m (a bare number is seconds)")]
Durations = Annotated[DurationRange, PlainValidator(DurationRange.parse), PlainSerializer(str),
                      _schema(_NUM, {"type": "string", "pattern": DURATION_RANGE_PATTERN},
                              description="a duration or a range drawn from, e.g. 2s or 1s..5s")]
Rate = Annotated[float, PlainValidator(parse_rate),
                 _schema({"type": "number", "exclusiveMinimum": 0},
                         {"type": "string", "pattern": RATE_PATTERN},
                         description="messages per second, e.g. 400/s")]

