"""A consumer group's members in one example: they join, and the timeline's member actions
(join, leave, crash, bounce, stall, pause, pause-partitions, resubscribe) apply to them.

Each member is a driver process of the spec's client (:mod:`harness.run.members`); its
events stream into the History. The runner records what it does to a member itself.
"""

from __future__ import annotations

from typing import Callable

from harness.clients import Client
from harness.clients.needs import translate
from harness.run.members import MemberProcess
from harness.history import History
from harness.plan.plan import PlannedAction
from harness.procs import ProcessGroup
from harness.run.faults import group_name
from harness.spec.model import Spec

MEMBER_DEFAULTS = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}


class Membership:
    """The members of one example's group, and the actions the plan applies to them."""

    def __init__(self, spec: Spec, topic: str, bootstrap: str, history: History, client: Client) -> None:
        g = spec.group
        self.cfg = {"bootstrap": bootstrap, "topic": topic, "group": group_name(topic),
                    "mode": g.mode, "process_ms": g.process_ms, "protocol": g.protocol,
                    "config": translate({**MEMBER_DEFAULTS, **g.config}, client.dialect)}
        self.static = g.static
        self.history, self.client = history, client
        self.procs = ProcessGroup(f"members-{topic}")
        self.members: list[MemberProcess] = []

    @property
    def session_timeout_s(self) -> float:
        return int(self.cfg["config"].get("session.timeout.ms", 6000)) / 1000

    def join(self, n: int | None = None) -> MemberProcess:
        """Start member `n` (a new one by default; an old index restarts that member)."""
        n = len(self.members) if n is None else n
        cfg = self.cfg
        if self.static:
            cfg = {**cfg, "config": {**cfg["config"], "group.instance.id": f"kch-static-{n}"}}
        member = MemberProcess(n, cfg, self.history, self.procs, self.client).start()
        if n < len(self.members):
            self.members[n] = member
        else:
            self.members.append(member)
        return member

    def alive(self) -> list[MemberProcess]:
        return [m for m in self.members if m.alive]

    def apply(self, action: PlannedAction) -> Callable[[], None] | None:
        """Do `action` now; return what ends it (a SIGSTOP's SIGCONT), else None."""
        if action.op == "join":
            self.join()
            return None
        alive = self.alive()
        if not alive:
            self.history.record("runner", "action", "fail", detail={"op": action.op, "error": "no live member"})
            return None
        member = alive[action.index % len(alive)]
        self.history.record("runner", "action", "ok", detail={"op": action.op, "member": member.process,
                                                              "duration": action.duration})
        seconds = action.duration or 1.0
        if action.op == "leave":
            member.close()
        elif action.op == "crash":
            member.crash()
        elif action.op == "bounce":          # crash and start again at once (same static id)
            member.crash()
            self.join(self.members.index(member))
        elif action.op == "stall":
            member.stall(seconds)
        elif action.op == "pause-partitions":
            member.pause_partitions(seconds)
        elif action.op == "resubscribe":
            member.resubscribe()
        elif action.op == "pause":
            member.pause()
            return lambda: _unpause(member)
        return None

    def close(self) -> None:
        for m in self.alive():
            m.close()
        self.procs.close()


def _unpause(member: MemberProcess) -> None:
    if member.alive:
        member.unpause()


