"""The result every checker returns, and the error for asking after an unknown anomaly.

A checker is a pure function ``History -> CheckResult``. ``status`` is ``ok`` (no occurrence),
``found`` (``evidence`` lists each occurrence as a plain, JSON-ready dict) or ``unknown`` (the
history cannot decide, e.g. the final drain did not finish; ``reason`` says why, and
``evidence`` stays empty so that ``count`` only ever counts confirmed occurrences).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from harness.errors import UsageError

OK = "ok"
FOUND = "found"
UNKNOWN = "unknown"
STATUSES = (OK, FOUND, UNKNOWN)


@dataclass(frozen=True)
class CheckResult:
    """One checker's verdict on one history: status, evidence per occurrence, and why if unknown."""

    anomaly: str
    status: str
    evidence: list[dict[str, Any]] = field(default_factory=list)
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")
        if self.status == OK and self.evidence:
            raise ValueError("an ok result carries no evidence")
        if self.status == FOUND and not self.evidence:
            raise ValueError("a found result needs evidence")

    @property
    def count(self) -> int:
        """How many occurrences were confirmed (0 for ``ok`` and ``unknown``)."""
        return len(self.evidence)

    @classmethod
    def judge(cls, anomaly: str, evidence: Iterable[dict[str, Any]],
              reason: str | None = None) -> "CheckResult":
        """``found`` with the evidence if there is any, else ``ok``."""
        evidence = list(evidence)
        return cls(anomaly, FOUND if evidence else OK, evidence, reason)

    @classmethod
    def unknown(cls, anomaly: str, reason: str) -> "CheckResult":
        """The history cannot decide; ``reason`` says what is missing."""
        return cls(anomaly, UNKNOWN, [], reason)

    def to_dict(self) -> dict[str, Any]:
        return {"anomaly": self.anomaly, "status": self.status, "count": self.count,
                "evidence": self.evidence, "reason": self.reason}


class UnknownAnomaly(UsageError):
    """A checker was asked for by a name that is not in the registry."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = tuple(known)
        super().__init__(f"unknown anomaly {name!r}; known anomalies: {', '.join(self.known)}")
