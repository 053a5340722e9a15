"""Run one consumer-group example: producers write while member processes join, leave,
crash, stall and pause on a schedule, beside the fault timeline; then heal, let the group
settle and read everything, record that the group was observed stable, close the members,
and drain. The History is sorted by time at the end: member events arrive through pipes.
"""

from __future__ import annotations

import threading
import time

from harness.clients import Client
from harness.clients.needs import translate
from harness.errors import ClusterError
from harness.faults import Nemesis
from harness.group.members import MemberProcess
from harness.history import History
from harness.procs import ProcessGroup
from harness.spec.model import Spec
from harness.wait import wait_until
from harness.workload.plan import Plan, PlannedAction
from harness.workload.roles import ProducerRole, drain
from harness.workload.runner import _bootstrap, _config, create_topic
from harness.workload.timeline import Timeline

SETTLE_S = 60.0


class Membership:
    """The members of one example's group, and the actions the plan applies to them."""

    def __init__(self, spec: Spec, topic: str, bootstrap: str, history: History, client: Client) -> None:
        g = spec.group
        self.cfg = {"bootstrap": bootstrap, "topic": topic, "group": f"kch-group-{topic}",
                    "mode": g.mode, "process_ms": g.process_ms, "protocol": g.protocol,
                    "config": translate({"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000,
                                         **g.config}, client.dialect)}
        self.static = g.static
        self.history, self.client = history, client
        self.procs = ProcessGroup(f"members-{topic}")
        self.members: list[MemberProcess] = []

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

    def apply(self, action: PlannedAction) -> None:
        if action.op == "join":
            self.join()
            return
        alive = self.alive()
        if not alive:
            self.history.record("runner", "action", "fail", detail={"op": action.op, "error": "no live member"})
            return
        member = alive[action.member % len(alive)]
        self.history.record("runner", "action", "ok", detail={"op": action.op, "member": member.process,
                                                              "duration": action.duration})
        if action.op == "leave":
            member.close()
        elif action.op == "crash":
            member.crash()
        elif action.op == "bounce":          # crash and start again at once (same static id)
            member.crash()
            self.join(self.members.index(member))
        elif action.op == "stall":
            member.stall(action.duration or 1.0)
        elif action.op == "pause":
            member.pause()
            threading.Timer(action.duration or 1.0, _unpause, args=(member,)).start()

    def close(self) -> None:
        for m in self.alive():
            m.close()
        self.procs.close()


def _unpause(member: MemberProcess) -> None:
    if member.alive:
        member.unpause()


def _stable(bootstrap: str, group: str) -> tuple[list[str], set[tuple]] | None:
    """If the coordinator says the group is stable now: its members' client ids and every
    partition it has assigned to them; else None."""
    from confluent_kafka import ConsumerGroupState, KafkaException
    from confluent_kafka.admin import AdminClient

    from harness.cluster.observe import harness_client

    admin = AdminClient(harness_client(bootstrap))
    try:
        desc = admin.describe_consumer_groups([group], request_timeout=5)[group].result(timeout=10)
    except KafkaException:
        return None
    if desc.state != ConsumerGroupState.STABLE:
        return None
    given = {(tp.topic, tp.partition) for m in desc.members if m.assignment is not None
             for tp in m.assignment.topic_partitions}
    return sorted(m.client_id for m in desc.members), given


def run_group_example(spec: Spec, plan: Plan, *, cluster, client: Client, topic: str,
                      history: History | None = None) -> tuple[History, list[str]]:
    history = history if history is not None else History()
    notes: list[str] = []
    t = spec.topic
    create_topic(cluster, spec, topic)
    nemesis = Nemesis(cluster, history)
    timeline = Timeline(nemesis, plan.faults, topic)
    group = Membership(spec, topic, cluster.bootstrap, history, client)
    producers = [ProducerRole(n, plan, client, _bootstrap(cluster, spec.producer.bootstrap),
                              _config(spec.producer.config), topic, t.partitions, history,
                              block_s=spec.producer.max_block) for n in range(plan.producers)]
    try:
        for _ in range(plan.members):
            group.join()
        if plan.members and not _observe_stable(group, history, topic, t.partitions, cluster.bootstrap, notes):
            raise ClusterError("the group did not form: " + "; ".join(notes[-1:]))
        timeline.start()
        began = time.monotonic()
        for p in producers:
            p.start()
        for action in plan.actions:
            time.sleep(max(0.0, began + action.at - time.monotonic()))
            group.apply(action)
        for p in producers:
            if not p.join(plan.horizon() * 3 + 120):
                raise ClusterError(f"{p.process} was still sending")
        timeline.join()
        notes += timeline.errors
        nemesis.heal_all()
        for p in producers:
            if p.finish(min(p.bound_s, 120) + 5):
                notes.append(f"{p.process}: sends unresolved after flushing")
        if not group.alive():
            group.join()            # someone must read what is left
        _settle(group, history, topic, t.partitions, cluster.bootstrap, notes, client)
    finally:
        timeline.stop()
        group.close()
    if not drain(client, cluster.bootstrap, {}, topic, t.partitions, history, timeout=60):
        notes.append("the final drain did not reach the end of every partition within 60 s")
    return History(sorted(history, key=lambda e: e.mono)), notes


def _settle(group: Membership, history: History, topic: str, partitions: int, bootstrap: str,
            notes: list[str], client: Client) -> None:
    """At the end: wait for the group to be stable again, record it, let members read to the end."""
    if _observe_stable(group, history, topic, partitions, bootstrap, notes):
        _read_to_end(client, bootstrap, history, topic, partitions, notes)


def _observe_stable(group: Membership, history: History, topic: str, partitions: int,
                    bootstrap: str, notes: list[str]) -> bool:
    """Wait until the coordinator reports the group stable with exactly the live members and
    every live member has reported its assignment; record that observation."""
    cfg_group = group.cfg["group"]

    def held(member: MemberProcess) -> set[tuple] | None:
        """What the member's current incarnation reports holding (None: no assignment yet)."""
        got: set[tuple] | None = None
        for e in history:
            if e.process == member.process:
                if e.type == "member" and e.phase == "start":
                    got = None
                elif e.type == "assigned":
                    got = (got or set()) | {tuple(p) for p in e.detail.get("partitions", [])}
                elif e.type == "revoked" and got is not None:
                    got -= {tuple(p) for p in e.detail.get("partitions", [])}
        return got

    def stable() -> list[str] | None:
        alive = group.alive()
        holdings = [held(m) for m in alive]
        if any(h is None for h in holdings):
            return None
        seen = _stable(bootstrap, cfg_group)
        if seen is None or len(seen[0]) != len(alive):
            return None
        # A member may not have taken what the coordinator gave it yet (a client that runs
        # rebalance callbacks only between polls, stalled): wait until it reports it.
        return seen[0] if seen[1] <= set().union(*holdings) else None

    try:
        members = wait_until(stable, timeout=SETTLE_S, message="the group did not become stable")
    except Exception as exc:  # noqa: BLE001 - reported; the checkers then say unknown
        notes.append(str(exc))
        return False
    history.record("runner", "group", "ok", detail={
        "stable": True, "partitions": [[topic, p] for p in range(partitions)],
        "members": [m.process for m in group.alive()], "client_ids": members,
        "static": group.static,
        "session_timeout_s": int(group.cfg["config"].get("session.timeout.ms", 6000)) / 1000})
    return True


def _read_to_end(client: Client, bootstrap: str, history: History, topic: str, partitions: int,
                 notes: list[str], timeout: float = 30.0) -> None:
    """Let the live members read to the end of every partition before they are closed."""
    probe = client.consumer(bootstrap, {}, group=f"kch-probe-{topic}")
    try:
        ends = probe.end_offsets(topic, list(range(partitions)), timeout=10)
    finally:
        probe.close()

    def done() -> bool:
        top: dict[int, int] = {}
        for e in history:
            if e.type == "poll" and e.process.startswith("member-"):
                for r in e.detail["records"]:
                    top[r["partition"]] = max(top.get(r["partition"], -1), r["offset"])
        return all(top.get(p, -1) + 1 >= end for p, end in ends.items())

    try:
        wait_until(done, timeout=timeout, message="the group's members did not read to the end")
    except Exception as exc:  # noqa: BLE001 - a note; the checkers judge what was read
        notes.append(str(exc))
