"""Helpers shared by the renderers: ordering, one-line summaries, evidence truncation, and
the neutral :class:`Detail` that both summary.md and index.html format."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from harness.judge.results import ERROR, FAIL, PASS, SKIPPED, UNKNOWN, RunResult, SpecResult

ORDER = (FAIL, ERROR, UNKNOWN, PASS, SKIPPED)   # worst first, as results.merge ranks them
EVIDENCE_LIMIT = 5      # evidence items shown per anomaly
LIST_LIMIT = 10         # items kept of any list inside an evidence item
STR_LIMIT = 200         # characters kept of any string inside an evidence item
NONE = "—"


def ordered(results: Iterable[SpecResult]) -> list[SpecResult]:
    """Results worst verdict first; the run's own order within a verdict."""
    return sorted(results, key=lambda r: ORDER.index(r.verdict) if r.verdict in ORDER else 0)


def more(n: int) -> str:
    return f"… {n} more"


def anomaly_summary(anomalies: dict[str, int]) -> str:
    """``"duplicate ×3, unseen ×1"``: observed anomalies by name; empty if none."""
    return ", ".join(f"{name} ×{n}" for name, n in sorted(anomalies.items()) if n)


def one_line(text: str, limit: int = 0) -> str:
    """`text` with whitespace collapsed, cut to `limit` characters when given."""
    line = " ".join(str(text).split())
    return line[: limit - 1] + "…" if limit and len(line) > limit else line


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s"


def compact(value: Any) -> Any:
    """`value` with long lists and strings cut (at any depth), marked with "… N more"."""
    if isinstance(value, dict):
        return {str(k): compact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        kept = [compact(v) for v in value[:LIST_LIMIT]]
        return kept + [more(len(value) - LIST_LIMIT)] if len(value) > LIST_LIMIT else kept
    if isinstance(value, str) and len(value) > STR_LIMIT:
        return value[:STR_LIMIT] + more(len(value) - STR_LIMIT)
    return value


def json_line(value: Any) -> str:
    """One compact, key-sorted JSON line (non-JSON values via str)."""
    return json.dumps(compact(value), sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), default=str)


def evidence_lines(items: list[Any], limit: int = EVIDENCE_LIMIT) -> tuple[list[str], int]:
    """The first `limit` items as JSON lines, and how many were left out."""
    return [json_line(i) for i in items[:limit]], max(0, len(items) - limit)


def is_reproduction(r: SpecResult) -> bool:
    """A pass that carries a counterexample: a `required` anomaly was observed."""
    return r.verdict == PASS and r.counterexample is not None


def replay_command(r: SpecResult) -> str | None:
    if r.replay:
        return r.replay
    return f"kch replay {r.counterexample}" if r.counterexample else None


@dataclass
class Detail:
    """What a per-spec section shows, independent of the output format."""

    heading: str
    result: SpecResult
    expect: list[tuple[str, str, int]] = field(default_factory=list)   # anomaly, expectation, count
    evidence: list[tuple[str, list[str], int]] = field(default_factory=list)  # anomaly, lines, left out
    undecided: list[tuple[str, str]] = field(default_factory=list)     # anomaly, why
    faults: list[str] = field(default_factory=list)
    replay: str | None = None
    reproduction: bool = False


def is_matrix(run: RunResult) -> bool:
    return len(run.clients) > 1


def label(r: SpecResult, matrix: bool) -> str:
    """A result's name: its spec id, with its client in a matrix run."""
    return f"{r.spec} [{r.client}]" if matrix and r.client else r.spec


@dataclass
class Cell:
    verdict: str
    anomalies: str
    counterexample: str | None
    message: str


def matrix(run: RunResult) -> tuple[list[str], list[tuple[str, list[Cell | None]]]]:
    """The client x spec table: client names, and per spec (in run order) one cell per client."""
    clients = [c["name"] for c in run.clients]
    rows: dict[str, list[Cell | None]] = {}
    for r in run.results:
        cells = rows.setdefault(r.spec, [None] * len(clients))
        if r.client in clients:
            cells[clients.index(r.client)] = Cell(
                r.verdict, anomaly_summary({a: n for a, n in r.anomalies.items() if n}),
                r.counterexample, r.message if r.verdict == SKIPPED else "")
    return clients, list(rows.items())


def detail(r: SpecResult, matrix: bool = False) -> Detail:
    names = list(r.expect) + sorted((set(r.anomalies) | set(r.evidence)) - set(r.expect))
    undecided: dict[str, str] = {}
    for ex in r.example_results:
        for name, why in ex.unknown.items():
            undecided.setdefault(name, why)
    kind = "Reproduction" if is_reproduction(r) else r.verdict.upper()
    return Detail(
        heading=f"{kind}: {label(r, matrix)}",
        result=r,
        expect=[(n, r.expect.get(n, "not listed"), r.anomalies.get(n, 0)) for n in names],
        evidence=[(n, *evidence_lines(items)) for n, items in sorted(r.evidence.items()) if items],
        undecided=sorted(undecided.items()),
        faults=[json_line(f) for f in r.faults],
        replay=replay_command(r),
        reproduction=is_reproduction(r),
    )


def details(run: RunResult) -> list[Detail]:
    """Sections for every non-pass spec and every reproduction, worst first."""
    return [detail(r, is_matrix(run)) for r in ordered(run.results)
            if r.verdict != PASS or is_reproduction(r)]


def totals_line(run: RunResult) -> str:
    return ", ".join(f"{v} {n}" for v, n in run.totals.items() if n) or "no specs"


def atomic_write(path: Path, text: str) -> Path:
    """Write `text` to `path` via a temporary file in the same directory and os.replace."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)    # mkstemp creates 0600; reports are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
