"""Judging: checker results against a spec's ``expect``, per example and per spec.

Per example: ``fail`` if a forbidden anomaly was found; else ``unknown`` if a checker for a
forbidden or required anomaly could not decide; else ``pass``. An example *reproduces* when
every required anomaly was found in it. Per spec (see :func:`spec_verdict`): a violation
fails it; a required anomaly never reproduced fails it; errors and unknowns merge as
fail > error > unknown > pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.checkers import FOUND, UNKNOWN, CheckResult, get_checker
from harness.judge.results import ERROR, FAIL, PASS
from harness.judge.results import UNKNOWN as VERDICT_UNKNOWN

EVIDENCE_KEPT = 20   # evidence items kept per anomaly in results (the history has them all)


@dataclass
class Judgement:
    verdict: str
    violations: list[str] = field(default_factory=list)    # forbidden anomalies found
    reproduced: bool = False                                # every required anomaly found
    undecided: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    evidence: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def interesting(self) -> bool:
        """Worth shrinking: a violation, or a reproduction."""
        return bool(self.violations) or self.reproduced

    def message(self, expect: dict[str, str]) -> str:
        if self.violations:
            return "forbidden: " + ", ".join(f"{a} ×{self.counts[a]}" for a in self.violations)
        if self.reproduced:
            required = [a for a, e in expect.items() if e == "required"]
            return "reproduced: " + ", ".join(f"{a} ×{self.counts[a]}" for a in required)
        if self.undecided:
            return "undecided: " + "; ".join(f"{a}: {why}" for a, why in self.undecided.items())
        return ""


def check_expect(expect: dict[str, str]) -> None:
    """Raise a UsageError for an expected anomaly that has no checker (before any run)."""
    for name in expect:
        get_checker(name)


def judge(results: dict[str, CheckResult], expect: dict[str, str]) -> Judgement:
    """One example's checker results against `expect`."""
    j = Judgement(PASS)
    for name, how in expect.items():
        r = results[name]
        j.counts[name] = r.count
        if r.evidence:
            j.evidence[name] = r.evidence[:EVIDENCE_KEPT]
        if r.status == FOUND and how == "forbidden":
            j.violations.append(name)
        elif r.status == UNKNOWN and how != "allowed":
            j.undecided[name] = r.reason or "undecided"
    required = [a for a, e in expect.items() if e == "required"]
    j.reproduced = bool(required) and all(results[a].status == FOUND for a in required)
    j.verdict = FAIL if j.violations else VERDICT_UNKNOWN if j.undecided and not j.reproduced else PASS
    return j


def spec_verdict(expect: dict[str, str], *, violated: bool, reproduced: bool,
                 example_verdicts: list[str]) -> tuple[str, str]:
    """The spec's verdict and a one-line reason, from what its examples showed."""
    required = [a for a, e in expect.items() if e == "required"]
    if violated:
        return FAIL, "a forbidden anomaly was observed"
    if ERROR in example_verdicts:
        return ERROR, "an example could not be run"
    if required and not reproduced:
        return FAIL, (f"required {', '.join(required)} not observed in "
                      f"{len(example_verdicts)} example(s)")
    if required and reproduced:
        return PASS, f"reproduced {', '.join(required)}"
    if VERDICT_UNKNOWN in example_verdicts:
        return VERDICT_UNKNOWN, "a checker could not decide in some example"
    return PASS, "no forbidden anomaly observed"
