"""Hypothesis strategies derived from a spec: its ranges, fault menu or timeline, and reader
action menus become a typed Plan.

Every choice is drawn so that hypothesis shrinks towards the simplest example: fewer
messages, producers and consumers, fewer faults, earlier menu entries, shorter durations,
smaller toxic attributes, the first partition and node. A timeline keeps its times and
faults; its ranges (``for``, attributes) and its words (``random``, ``leader``) are drawn as
a menu's are.
"""

from __future__ import annotations

from hypothesis import strategies as st

from harness.plan.plan import FaultStep, Plan, PlannedAction, PlannedFault
from harness.spec.model import Fault, FaultChoice, Spec
from harness.vocab.actions import ACTIONS, DEFAULT_ACTION_FOR
from harness.vocab.faults import DEFAULT_FOR

EARLIEST = 0.5      # a menu fault starts once clients have connected (a timeline says its own)


def _tenths(low: float, high: float) -> st.SearchStrategy[float]:
    return st.integers(round(low * 10), round(high * 10)).map(lambda n: n / 10)


def _words(fault: Fault) -> str:
    return f"{fault.target or ''} {fault.link or ''}"


@st.composite
def _step(draw, fault: Fault) -> FaultStep:
    attributes = tuple((name, draw(st.integers(r.low, r.high))) for name, r in fault.attributes.items())
    return FaultStep(kind=fault.kind, target=fault.target, link=fault.link, toxic=fault.toxic,
                     attributes=attributes, stream=fault.stream, cut=fault.cut,
                     sides=fault.sides() if fault.split else None, clean=fault.clean)


@st.composite
def _planned(draw, spec: Spec, choice: FaultChoice, at: float) -> PlannedFault:
    steps = tuple(draw(_step(p)) for p in choice.parts)
    duration = None
    if choice.duration is not None:
        duration = draw(_tenths(choice.duration.low, choice.duration.high))
    elif choice.lasting:
        duration = DEFAULT_FOR
    words = " ".join(_words(p) for p in choice.parts)
    node = draw(st.integers(1, spec.cluster.brokers)) if "random" in words else None
    follower = draw(st.integers(0, max(0, spec.topic.replication_factor - 2))) if "follower" in words else 0
    partition = draw(st.integers(0, spec.topic.partitions - 1)) if ("leader" in words or "follower" in words) else 0
    return PlannedFault(at=at, steps=steps, duration=duration, partition=partition, node=node,
                        follower=follower)


@st.composite
def _menu_fault(draw, spec: Spec, horizon: float) -> PlannedFault:
    menu = spec.faults.from_
    choice = menu[draw(st.integers(0, len(menu) - 1))]
    at = draw(_tenths(EARLIEST, max(EARLIEST, horizon * 0.8)))
    return draw(_planned(spec, choice, at))


@st.composite
def _actions(draw, spec: Spec, horizon: float, consumers: int) -> tuple[PlannedAction, ...]:
    """Reader actions; none for assigned consumers when the plan has none."""
    menus = ([("consumer", spec.consumer)] if consumers else []) + ([("member", spec.group)] if spec.group else [])
    out = []
    for reader, menu in menus:
        if not menu.actions:
            continue
        for _ in range(draw(st.integers(menu.pick.low, menu.pick.high))):
            op = menu.actions[draw(st.integers(0, len(menu.actions) - 1))]
            duration = None
            if ACTIONS[op].lasting:
                duration = draw(_tenths(menu.duration.low, menu.duration.high)) if menu.duration \
                    else DEFAULT_ACTION_FOR
            at = draw(_tenths(EARLIEST + 1.0, max(EARLIEST + 1.0, horizon * 0.8)))
            out.append(PlannedAction(at=at, op=op, reader=reader, index=draw(st.integers(0, 4)),
                                     duration=duration))
    return tuple(sorted(out, key=lambda a: a.at))


def plans(spec: Spec, *, max_attempts: int = 100) -> st.SearchStrategy[Plan]:
    """Plans for `spec`: draws from its ranges, its fault menu (or timeline) and action menus."""
    w = spec.workload

    @st.composite
    def plan(draw) -> Plan:
        messages = draw(st.integers(w.messages.low, w.messages.high))
        producers = draw(st.integers(w.producers.low, w.producers.high))
        consumers = draw(st.integers(w.consumers.low, w.consumers.high))
        keys = draw(st.integers(w.keys.low, w.keys.high)) if w.keys else None
        horizon = messages / w.rate if w.rate else messages / 2000
        if spec.faults is not None:
            n = draw(st.integers(spec.faults.pick.low, spec.faults.pick.high))
            faults = [draw(_menu_fault(spec, horizon)) for _ in range(n)]
        else:
            faults = [draw(_planned(spec, f, f.at)) for f in spec.timeline or []]
        members = draw(st.integers(spec.group.members.low, spec.group.members.high)) if spec.group else 0
        return Plan(messages=messages, producers=producers, consumers=consumers, rate=w.rate, keys=keys,
                    value_bytes=w.value_bytes, faults=tuple(sorted(faults, key=lambda f: f.at)),
                    attempt=draw(st.integers(0, max_attempts)), members=members,
                    actions=draw(_actions(spec, horizon, consumers)))

    return plan()
