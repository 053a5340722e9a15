"""The nemesis: applies faults to a cluster, heals them, and records both in the History.

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
from harness.faults.kinds import (TRUE_CUTS, Bounce, Down, Fault, Isolate, Kill, Pause, Restart,
                                  Split, Terminate, Toxic)
from harness.faults.targets import resolve_links, resolve_target
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
            resolved, undo = self._apply(fault, fid)
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

    def _apply(self, fault: Fault, fid: int) -> tuple[dict[str, Any], Callable[[], None] | None]:
        c = self.cluster
        if isinstance(fault, Toxic):
            links = resolve_links(c, fault.links)
            streams = ["downstream", "upstream"] if fault.stream == "both" else [fault.stream]
            return {"links": [l.name for l in links]}, self._toxics(links, fault.type, fault.attributes, streams, fid)
        if isinstance(fault, Down):
            links = resolve_links(c, fault.links)
            return {"links": [l.name for l in links]}, self._disable(links)
        if isinstance(fault, Isolate):
            node = resolve_target(c, fault.target)
            if fault.cut in TRUE_CUTS:
                others = [n.id for n in c.layout.nodes if n.id != node]
                pairs = [(node, o) for o in others] + ([(node, "clients")] if fault.clients else [])
                return {"node": node, "cut": fault.cut}, self._true_cut(fault.cut, pairs, node)
            kinds = ("client", "replication", "controller") if fault.clients else ("replication", "controller")
            links = c.layout.links_touching(node, kinds)
            return {"node": node, "links": [l.name for l in links]}, self._cut(links, fault.cut, fid)
        if isinstance(fault, Split):
            if fault.cut in TRUE_CUTS:
                pairs = [(a, b) for a in fault.side_a for b in fault.side_b]
                return {"cut": fault.cut}, self._true_cut(fault.cut, pairs, None)
            links = c.layout.links_between(fault.side_a, fault.side_b)
            if not links:
                raise FaultError(f"split {list(fault.side_a)}|{list(fault.side_b)} cuts no link of this cluster")
            return {"links": [l.name for l in links]}, self._cut(links, fault.cut, fid)
        if isinstance(fault, Pause):
            node = resolve_target(c, fault.target)
            c.pause(node)
            return {"node": node}, lambda: c.resume(node)
        if isinstance(fault, Kill):
            node = resolve_target(c, fault.target)
            c.kill(node)
            return {"node": node}, None
        if isinstance(fault, Terminate):
            node = resolve_target(c, fault.target)
            c.terminate(node)
            return {"node": node}, None
        if isinstance(fault, Restart):
            node = resolve_target(c, fault.target)
            c.terminate(node) if fault.clean else c.kill(node)
            c.start_node(node)
            return {"node": node}, None
        if isinstance(fault, Bounce):
            order = [n.id for n in c.layout.brokers]
            for node in order:
                c.terminate(node)
                c.start_node(node)
                c.wait_healthy(timeout=90)
            return {"nodes": order}, None
        raise FaultError(f"unknown fault {fault!r}")

    # --- links ---------------------------------------------------------------------------------
    def _toxics(self, links, type: str, attributes: dict, streams: list[str], fid: int) -> Callable[[], None]:
        tp = self.cluster.toxiproxy
        added: list[tuple[str, str]] = []
        try:
            for link in links:
                for stream in streams:
                    name = f"kch-{fid}-{type}-{stream}"
                    tp.add_toxic(link.proxy, type, name=name, stream=stream, **attributes)
                    added.append((link.proxy, name))
        except KchError:
            self._remove(added)
            raise
        return lambda: self._remove(added)

    def _remove(self, added: list[tuple[str, str]]) -> None:
        tp = self.cluster.toxiproxy
        for proxy, name in added:
            try:
                tp.remove_toxic(proxy, name)
            except FaultError as exc:
                if "HTTP 404" in str(exc):
                    continue          # already gone (e.g. a reset by heal_all)
                self._cycle(proxy, lambda: tp.remove_toxic(proxy, name))
            except ClusterError:
                self._cycle(proxy, lambda: tp.remove_toxic(proxy, name))

    def _cycle(self, proxy: str, action: Callable[[], None]) -> None:
        """Retry `action` with the proxy's connections closed: toxiproxy cannot remove a toxic
        while a stalled connection holds its output (it answers 503 after 5 s); closing the
        connections (disable) frees it. Clients reconnect once it is enabled again."""
        tp = self.cluster.toxiproxy
        tp.set_enabled(proxy, False)
        try:
            action()
        except FaultError as exc:
            if "HTTP 404" not in str(exc):
                raise
        finally:
            tp.set_enabled(proxy, True)

    def _disable(self, links) -> Callable[[], None]:
        tp = self.cluster.toxiproxy
        for link in links:
            tp.set_enabled(link.proxy, False)
        return lambda: [tp.set_enabled(link.proxy, True) for link in links]

    def _cut(self, links, cut: str, fid: int) -> Callable[[], None]:
        if cut == "down":
            return self._disable(links)
        return self._toxics(links, "timeout", {"timeout": 0}, ["downstream", "upstream"], fid)

    def _true_cut(self, cut: str, pairs: list, node: int | None) -> Callable[[], None]:
        c = self.cluster
        if c.cuts is None:
            raise FaultError(f"cut {cut}: a true partition needs --cluster docker (this cluster is {c.provider})")
        if cut == "disconnect":
            c.disconnect(node)
            return lambda: c.reconnect(node)
        return c.cuts.drop(pairs)

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
