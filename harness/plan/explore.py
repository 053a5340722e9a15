"""Exploration: hypothesis draws Plans from a spec, each runs once on the real cluster, and the
first *interesting* one (a violation, or a reproduction of every required anomaly) is shrunk.

Runs are memoised by plan, so hypothesis's final replay of the minimal example (and any
repeated draw) reuses the recorded run instead of running the cluster again: a real cluster
is not deterministic, and re-running would make hypothesis call the result flaky. Shrinking
has a budget of real runs; past it, unseen candidates count as not interesting, so hypothesis
keeps the smallest interesting plan found so far.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Callable, Generic, TypeVar

from hypothesis import HealthCheck, Verbosity, find, settings
from hypothesis.errors import NoSuchExample

from harness.spec.model import Spec
from harness.plan.strategies import plans
from harness.plan.plan import Plan

R = TypeVar("R")


@dataclass(frozen=True)
class Profile:
    name: str
    examples: int          # plans drawn (at most) before giving up on finding anything
    shrink_runs: int       # real runs spent shrinking an interesting plan
    seconds: float         # time budget per spec for drawing (shrinking has its own runs)


PROFILES = {
    "ci": Profile("ci", examples=2, shrink_runs=2, seconds=150),
    "thorough": Profile("thorough", examples=25, shrink_runs=25, seconds=1800),
}


@dataclass
class Exploration(Generic[R]):
    runs: list[tuple[Plan, R]] = field(default_factory=list)   # every real run, in order
    minimal: tuple[Plan, R] | None = None                      # the shrunk interesting run
    first: tuple[Plan, R] | None = None                        # the first interesting run
    stopped: str | None = None                                 # why exploration stopped early


def explore(spec: Spec, run: Callable[[Plan, str], R], interesting: Callable[[R], bool], *,
            profile: Profile, seed: int, fatal: Callable[[R], bool] = lambda r: False) -> Exploration[R]:
    """Draw up to ``profile.examples`` plans; shrink the first interesting one.

    ``run(plan, phase)`` runs a plan (phase ``generate`` or ``shrink``); ``fatal(result)`` stops
    the exploration (e.g. the cluster broke)."""
    out: Exploration[R] = Exploration()
    memo: dict[str, R] = {}
    began = time.monotonic()
    shrinks = 0

    def condition(plan: Plan) -> bool:
        nonlocal shrinks
        key = plan.key()
        if key in memo:
            return interesting(memo[key])
        if out.stopped:
            return False
        if out.first is None and time.monotonic() - began > profile.seconds:
            out.stopped = f"time budget of {profile.seconds:g} s spent"
            return False
        if out.first is not None:
            if shrinks >= profile.shrink_runs:
                return False
            shrinks += 1
        result = run(plan, "shrink" if out.first is not None else "generate")
        memo[key] = result
        out.runs.append((plan, result))
        if fatal(result):
            out.stopped = "an example could not be run"
            return False
        if interesting(result) and out.first is None:
            out.first = (plan, result)
        return interesting(result)

    conf = settings(max_examples=profile.examples, database=None, deadline=None, derandomize=False,
                    suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet)
    try:
        found = find(plans(spec), condition, settings=conf, random=random.Random(seed))
    except NoSuchExample:
        return out
    out.minimal = (found, memo[found.key()])
    return out
