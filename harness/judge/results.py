"""Results of a run: per example, per spec, per run. Plain data that reporters render.

Verdicts merge as ``fail > error > unknown > pass`` (ARCHITECTURE.md, "Verdicts"); the run's
exit code follows the contracts: 0 all pass, 1 any fail, 3 any error (no fail), 4 only
unknowns besides passes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

PASS, FAIL, UNKNOWN, ERROR, SKIPPED = "pass", "fail", "unknown", "error", "skipped"
VERDICTS = (PASS, FAIL, UNKNOWN, ERROR, SKIPPED)
_RANK = {SKIPPED: 0, PASS: 1, UNKNOWN: 2, ERROR: 3, FAIL: 4}


def merge(verdicts: Iterable[str]) -> str:
    """The worst of `verdicts` (fail > error > unknown > pass > skipped); pass if none."""
    return max(verdicts, key=_RANK.__getitem__, default=PASS)


@dataclass
class ExampleResult:
    """One example: the plan it ran, what the checkers found, and how it was judged."""

    index: int
    plan: dict[str, Any]
    verdict: str
    anomalies: dict[str, int] = field(default_factory=dict)     # name -> confirmed count
    unknown: dict[str, str] = field(default_factory=dict)       # name -> why undecided
    evidence: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # name -> first items
    faults: list[dict[str, Any]] = field(default_factory=list)  # faults applied (start events)
    duration_s: float = 0.0
    message: str = ""
    history: str | None = None                                  # path relative to the report dir
    phase: str = "generate"                                     # generate | shrink | replay

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ExampleResult":
        return cls(**data)


@dataclass
class SpecResult:
    """One spec's outcome over all its examples."""

    spec: str                       # id, e.g. producer/idempotent-leader-failover
    title: str
    verdict: str
    path: str = ""
    client: str = ""                # the client it ran with (NAME or NAME@VERSION)
    covers: list[str] = field(default_factory=list)
    examples: int = 0
    duration_s: float = 0.0
    expect: dict[str, str] = field(default_factory=dict)
    anomalies: dict[str, int] = field(default_factory=dict)   # summed over examples
    counterexample: str | None = None   # path relative to the report dir
    replay: str | None = None           # the command that replays the counterexample
    message: str = ""
    evidence: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # of the counterexample
    faults: list[dict[str, Any]] = field(default_factory=list)              # of the counterexample
    example_results: list[ExampleResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["example_results"] = [e.to_dict() for e in self.example_results]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SpecResult":
        data = dict(data)
        data["example_results"] = [ExampleResult.from_dict(e) for e in data.get("example_results", [])]
        return cls(**data)


@dataclass
class RunResult:
    """A whole run: what ran, on what, and each spec's result."""

    run_id: str
    started_at: str
    finished_at: str
    harness_version: str
    profile: str
    seed: int
    cluster: dict[str, Any]
    client: dict[str, Any]          # the first client; `clients` lists every one of a matrix
    results: list[SpecResult] = field(default_factory=list)
    clients: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.clients:
            self.clients = [self.client]

    @property
    def totals(self) -> dict[str, int]:
        out = {PASS: 0, FAIL: 0, UNKNOWN: 0, ERROR: 0, SKIPPED: 0}
        for r in self.results:
            out[r.verdict] += 1
        return out

    @property
    def verdict(self) -> str:
        return merge(r.verdict for r in self.results)

    def exit_code(self) -> int:
        return {PASS: 0, SKIPPED: 0, FAIL: 1, ERROR: 3, UNKNOWN: 4}[self.verdict]

    def to_dict(self) -> dict[str, Any]:
        return {"schema": "kch-report/1", "run_id": self.run_id, "started_at": self.started_at,
                "finished_at": self.finished_at, "harness_version": self.harness_version,
                "profile": self.profile, "seed": self.seed, "cluster": self.cluster,
                "client": self.client, "clients": self.clients,
                "results": [r.to_dict() for r in self.results],
                "totals": self.totals}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunResult":
        fields = {k: v for k, v in data.items() if k not in ("schema", "totals", "results")}
        return cls(**fields, results=[SpecResult.from_dict(r) for r in data.get("results", [])])
