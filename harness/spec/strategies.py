"""Hypothesis strategies derived from a spec: its ranges and its fault menu become a Plan.

Every choice is drawn so that hypothesis shrinks towards the simplest example: fewer
messages, producers and consumers, fewer faults, earlier menu entries, shorter durations.
A fixed ``timeline`` is taken as written; only the workload (and ``attempt``) vary.
"""

from __future__ import annotations

from hypothesis import strategies as st

from harness.spec.model import FaultChoice, Spec
from harness.workload.plan import Plan, PlannedAction, PlannedFault

DEFAULT_FOR = 3.0   # seconds a recoverable fault lasts when the spec gives no `for`
EARLIEST = 0.5      # a menu fault starts once clients have connected (a timeline says its own)
RECOVERABLE = ("pause", "isolate", "toxic")


def _choice_dict(choice: FaultChoice) -> dict:
    return choice.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True,
                             exclude={"at", "duration"})


def _tenths(low: float, high: float) -> st.SearchStrategy[float]:
    return st.integers(round(low * 10), round(high * 10)).map(lambda n: n / 10)


@st.composite
def _fault(draw, spec: Spec, horizon: float) -> PlannedFault:
    menu = spec.faults.from_
    choice = menu[draw(st.integers(0, len(menu) - 1))]
    duration = None
    if choice.duration is not None:
        duration = draw(_tenths(choice.duration.low, choice.duration.high))
    elif choice.kind in RECOVERABLE:
        duration = DEFAULT_FOR
    node = None
    if "random" in (choice.kill, choice.pause, choice.isolate, choice.terminate, choice.restart) \
            or "random" in (choice.link or ""):
        node = draw(st.integers(1, spec.cluster.brokers))
    at = draw(_tenths(EARLIEST, max(EARLIEST, horizon * 0.8)))
    return PlannedFault(at=at, choice=_choice_dict(choice),
                        duration=duration, partition=draw(st.integers(0, spec.topic.partitions - 1)),
                        node=node)


@st.composite
def _action(draw, g, horizon: float) -> PlannedAction:
    op = g.actions[draw(st.integers(0, len(g.actions) - 1))]
    duration = draw(_tenths(g.duration.low, g.duration.high)) if op in ("stall", "pause") else None
    return PlannedAction(at=draw(_tenths(EARLIEST + 1.0, max(EARLIEST + 1.0, horizon * 0.8))), op=op,
                         member=draw(st.integers(0, 4)), duration=duration)


def _timeline(spec: Spec) -> tuple[PlannedFault, ...]:
    out = []
    for f in spec.timeline or []:
        duration = f.duration.low if f.duration is not None else (DEFAULT_FOR if f.kind in RECOVERABLE else None)
        out.append(PlannedFault(at=f.at, choice=_choice_dict(f), duration=duration))
    return tuple(sorted(out, key=lambda f: f.at))


def plans(spec: Spec, *, max_attempts: int = 100) -> st.SearchStrategy[Plan]:
    """Plans for `spec`: draws from its ranges and fault menu (or takes its timeline)."""
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
            faults = tuple(sorted(draw(st.lists(_fault(spec, horizon), min_size=n, max_size=n)),
                                  key=lambda f: f.at))
        else:
            faults = _timeline(spec)
        members, actions = 0, ()
        g = spec.group
        if g is not None:
            members = draw(st.integers(g.members.low, g.members.high))
            n = draw(st.integers(g.pick.low, g.pick.high))
            actions = tuple(sorted((draw(_action(g, horizon)) for _ in range(n)), key=lambda a: a.at))
        return Plan(messages=messages, producers=producers, consumers=consumers, rate=w.rate, keys=keys,
                    value_bytes=w.value_bytes, faults=faults, attempt=draw(st.integers(0, max_attempts)),
                    members=members, actions=actions)

    return plan()
