"""The nemesis: applies faults to a cluster, heals them, and records both in the History.

Each fault applies itself (:mod:`harness.faults.kinds`, with the link helpers of
:mod:`harness.faults.links`); the nemesis numbers it, keeps what undoes it, and records its
``fault`` events (``start``, ``end``, ``fail``) and ``heal-all``.

Example::

    nemesis = Nemesis(cluster, history)
    active = nemesis.apply(Toxic("latency", "client->leader:t/0", {"latency": 300}))
    ...
    nemesis.heal(active)
    seconds = nemesis.heal_all()   # every node up and unpaused, every link clean, ISRs full
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from harness.errors import ClusterError, FaultError, KchError
from harness.faults.kinds import Fault
from harness.history import History
from harness.wait import wait_until

PROCESS = "nemesis"


@dataclass
class ActiveFault:
    """A recoverable fault in force: what was applied, to what, and how to undo it."""

    id: int
    fault: Fault
    resolved: dict[str, Any]
    undo: Callable[[], None] = field(repr=False)


class Nemesis:
    """Applies :mod:`harness.faults.kinds` faults to a cluster and records every start and end."""

    def __init__(self, cluster, history: History | None = None) -> None:
        self.cluster = cluster
        self.history = history if history is not None else History()
        self.active: dict[int, ActiveFault] = {}
        self._ids = itertools.count(1)

    # --- applying ------------------------------------------------------------------------------
    def apply(self, fault: Fault) -> ActiveFault | None:
        """Apply ``fault`` now; return its handle if it is recoverable (else None)."""
        fid = next(self._ids)
        try:
            resolved, undo = fault.apply(self, fid)
        except KchError as exc:
            self.history.record(PROCESS, "fault", "fail", detail={"id": fid, **fault.describe(), "error": str(exc)})
            raise
        self.history.record(PROCESS, "fault", "start", detail={"id": fid, **fault.describe(), **resolved})
        if undo is None:
            return None
        active = ActiveFault(fid, fault, resolved, undo)
        self.active[fid] = active
        return active

    def heal(self, active: ActiveFault) -> None:
        """End a recoverable fault."""
        if self.active.pop(active.id, None) is None:
            return
        active.undo()
        self.history.record(PROCESS, "fault", "end", detail={"id": active.id, **active.fault.describe(),
                                                              **active.resolved})

    # --- healing -------------------------------------------------------------------------------
    def heal_all(self, *, timeout: float = 90.0) -> float:
        """End every fault and wait for full health: every node running and unpaused, every
        link clean, every broker unfenced, every ISR complete. Returns the seconds it took."""
        began = time.monotonic()
        for active in list(self.active.values()):
            try:
                self.heal(active)
            except KchError:
                self.active.pop(active.id, None)
        c = self.cluster
        c.reset_network()
        try:
            c.toxiproxy.reset()
        except (FaultError, ClusterError):   # a stalled connection: close them all, then reset
            for proxy in c.toxiproxy.proxies():
                c.toxiproxy.set_enabled(proxy, False)
            c.toxiproxy.reset()
        for node in c.layout.nodes:
            c.resume(node.id)
            if not c.is_running(node.id):
                c.start_node(node.id)
        c.wait_healthy(timeout=max(5.0, timeout - (time.monotonic() - began)))
        seconds = time.monotonic() - began
        self.history.record(PROCESS, "heal-all", "ok", detail={"seconds": round(seconds, 3)})
        return seconds

    def wait_for_new_leader(self, topic: str, partition: int, *, old: int | None,
                            timeout: float = 30.0) -> int:
        """Wait until ``topic/partition`` has a leader other than ``old``; return it."""
        def other() -> int | None:
            leader = self.cluster.leader(topic, partition)
            return leader if leader is not None and leader != old else None

        return wait_until(other, timeout=timeout, message=f"{topic}/{partition} got no new leader",
                          error=FaultError)
