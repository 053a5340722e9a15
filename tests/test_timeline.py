"""The timeline: steps apply at their time, lasting ones are undone after their duration,
held steps wait for go(), and a step that raises is an error recorded, not a silent skip."""

from __future__ import annotations

import time

from harness.errors import FaultError
from harness.run.timeline import Step, Timeline


def test_steps_apply_in_time_order_and_lasting_ones_are_undone():
    log: list[tuple[str, float]] = []
    began = time.monotonic()

    def act(name):
        def apply():
            log.append((name, time.monotonic() - began))
            return lambda: log.append((f"undo {name}", time.monotonic() - began))
        return apply

    t = Timeline([Step(0.3, "b", act("b")), Step(0.1, "a", act("a"), duration=0.4), Step(0.2, "c", act("c"))])
    t.start()
    t.join(5)
    assert [n for n, _ in log] == ["a", "c", "b", "undo a"]
    assert abs(dict(log)["undo a"] - 0.5) < 0.2 and t.errors == []


def test_a_held_timeline_applies_steps_at_zero_then_waits_for_go():
    seen: list[str] = []
    t = Timeline([Step(0, "first", lambda: seen.append("first")), Step(0.1, "later", lambda: seen.append("later"))])
    t.start(hold=True)
    assert t.ready.wait(5)
    time.sleep(0.3)
    assert seen == ["first"]
    t.go()
    t.join(5)
    assert seen == ["first", "later"]


def test_a_step_that_raises_is_an_error_and_the_timeline_goes_on():
    seen: list[str] = []

    def broken():
        raise FaultError("target leader:t/0: the partition has no leader now")

    t = Timeline([Step(0.05, "at 0.05s kill leader", broken), Step(0.1, "next", lambda: seen.append("next")),
                  Step(0.15, "odd", lambda: 1 / 0)])
    t.start()
    t.join(5)
    assert seen == ["next"]
    assert t.errors[0] == "at 0.05s kill leader: target leader:t/0: the partition has no leader now"
    assert t.errors[1].startswith("odd: ZeroDivisionError")
