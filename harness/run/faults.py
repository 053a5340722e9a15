"""Planned faults become nemesis faults: spec words become targets, steps become faults.

``leader`` is ``leader:TOPIC/P`` of the plan's partition, ``follower`` its in-sync follower
``follower:TOPIC/P#I``, ``random`` the plan's node, ``coordinator`` the coordinator of the
example's group (named after its topic); ``controller`` and ``node:N`` stay as they are.
A compound fault applies its steps in order and heals them together; if one step fails, the
steps already applied are healed and the failure is raised.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable

from harness.errors import KchError, UsageError
from harness.faults import KINDS, Fault, Nemesis
from harness.plan.plan import FaultStep, PlannedFault

_WORDS = re.compile(r"\b(leader|follower|random|coordinator)\b(?![:/])")


def group_name(topic: str) -> str:
    """The consumer group of an example (members and the coordinator target agree on it)."""
    return f"kch-group-{topic}"


def target(word: str, planned: PlannedFault, topic: str) -> str:
    """The nemesis target a spec word means in this planned fault."""
    if word == "leader":
        return f"leader:{topic}/{planned.partition}"
    if word == "follower":
        return f"follower:{topic}/{planned.partition}#{planned.follower}"
    if word == "random":
        return f"node:{planned.node or 1}"
    if word == "coordinator":
        return f"coordinator:{group_name(topic)}"
    return word


def to_fault(step: FaultStep, planned: PlannedFault, topic: str) -> Fault:
    """The nemesis fault one step of a planned fault means for `topic`: its kind's class
    (:data:`harness.faults.KINDS`) builds it, with the words of its link already turned."""
    cls = KINDS.get(step.kind)
    if cls is None:
        raise UsageError(f"fault {step.kind!r}: no such kind")
    if step.link is not None:
        step = replace(step, link=_WORDS.sub(lambda m: target(m.group(1), planned, topic), step.link))
    return cls.from_step(step, lambda word: target(word, planned, topic))


def apply(nemesis: Nemesis, planned: PlannedFault, topic: str) -> Callable[[], None] | None:
    """Apply every step of `planned` now; return what heals its lasting steps (None if none)."""
    active = []
    try:
        for step in planned.steps:
            handle = nemesis.apply(to_fault(step, planned, topic))
            if handle is not None:
                active.append(handle)
    except KchError:
        for handle in reversed(active):
            nemesis.heal(handle)
        raise
    if not active:
        return None
    return lambda: [nemesis.heal(h) for h in reversed(active)]
