"""The fault timeline of one example: planned faults become nemesis faults, applied at
their time and healed when their duration ends, on a thread beside the workload.

Spec targets are words (``leader``, ``controller``, ``random``, ``node:N``); here they become
nemesis targets: ``leader`` is ``leader:TOPIC/P`` of the plan's partition, ``random`` the
plan's node. A fault that cannot be applied at its moment (no leader while a previous fault
holds) is recorded as ``fail`` by the nemesis and the timeline goes on.
"""

from __future__ import annotations

import re
import threading
import time

from harness.errors import KchError, UsageError
from harness.faults import Down, Isolate, Kill, Nemesis, Pause, Restart, Terminate, Toxic
from harness.faults.kinds import Fault
from harness.workload.plan import PlannedFault

_KINDS = {"kill": Kill, "terminate": Terminate, "pause": Pause, "restart": Restart, "isolate": Isolate}


def _target(word: str, planned: PlannedFault, topic: str) -> str:
    if word == "leader":
        return f"leader:{topic}/{planned.partition}"
    if word == "random":
        return f"node:{planned.node or 1}"
    if word == "coordinator":             # the group of a group spec is named after its topic
        return f"coordinator:kch-group-{topic}"
    return word


def to_fault(planned: PlannedFault, topic: str) -> Fault:
    """The nemesis fault a planned fault means for `topic`."""
    choice = planned.choice
    if "isolate" in choice:
        return Isolate(_target(choice["isolate"], planned, topic), cut=choice.get("cut", "blackhole"))
    for kind, cls in _KINDS.items():
        if kind in choice:
            return cls(_target(choice[kind], planned, topic))
    if "toxic" in choice:
        link = re.sub(r"\b(leader|random|coordinator)\b(?!:)", lambda m: _target(m.group(1), planned, topic),
                      choice["link"])
        if choice["toxic"] == "down":
            return Down(link)
        return Toxic(choice["toxic"], link, dict(choice.get("attributes", {})),
                     choice.get("stream", "downstream"))
    raise UsageError(f"fault {choice!r}: no known kind")


class Timeline:
    """Applies `faults` (sorted by ``at``) relative to :meth:`start`; heals each after its
    duration. :meth:`join` waits for the last planned action; faults still in force (and
    one-off kills) are left to ``heal_all``."""

    def __init__(self, nemesis: Nemesis, faults: tuple[PlannedFault, ...], topic: str) -> None:
        self.nemesis = nemesis
        self.actions: list[tuple[float, str, PlannedFault]] = []
        for f in faults:
            self.actions.append((f.at, "apply", f))
        self.actions.sort(key=lambda a: a[0])
        self.topic = topic
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kch-timeline", daemon=True)
        self.errors: list[str] = []
        self.began = 0.0
        self.ready = threading.Event()   # set once every fault planned at 0 s is in force
        self._go = threading.Event()

    def start(self, *, hold: bool = False) -> None:
        """Start applying faults. With `hold`, only those planned at 0 s are applied until
        :meth:`go`, and the rest of the schedule counts from then (so that clients that take
        a while to start, such as a JVM, meet the faults when the plan says)."""
        self.began = time.monotonic()
        if not hold:
            self._go.set()
        self._thread.start()

    def go(self) -> None:
        self._go.set()

    def _run(self) -> None:
        pending = list(self.actions)
        heals: list[tuple[float, object]] = []
        while (pending or heals) and not self._stop.is_set():
            now = time.monotonic() - self.began
            if not pending or pending[0][0] > 0:
                self.ready.set()
                if not self._go.is_set():
                    while not self._go.wait(0.05) and not self._stop.is_set():
                        pass
                    self.began = time.monotonic() - now     # the clock resumes where it was held
                    continue
            if pending and pending[0][0] <= now:
                _, _, planned = pending.pop(0)
                try:
                    active = self.nemesis.apply(to_fault(planned, self.topic))
                except KchError as exc:
                    self.errors.append(f"{planned.describe()}: {exc}")
                    continue
                if active is not None and planned.duration:
                    heals.append((now + planned.duration, active))
                    heals.sort(key=lambda h: h[0])
                continue
            if heals and heals[0][0] <= now:
                _, active = heals.pop(0)
                try:
                    self.nemesis.heal(active)
                except KchError as exc:
                    self.errors.append(f"healing {active.fault.describe()}: {exc}")
                continue
            upcoming = [t for t, *_ in pending[:1]] + [t for t, _ in heals[:1]]
            self._stop.wait(max(0.0, min(upcoming) - now) if upcoming else 0.05)
        self.ready.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
