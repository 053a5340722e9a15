"""A consumer group's stability, observed: the coordinator says the group is stable with
exactly the live members, and every member reports holding what it was given. Recorded as
one ``group`` event that the group checkers rely on; then the members read to the end."""

from __future__ import annotations

from harness.clients import Client
from harness.history import History
from harness.run.group import Membership
from harness.wait import wait_until

SETTLE_S = 60.0


def _coordinator_view(bootstrap: str, group: str) -> tuple[list[str], set[tuple]] | None:
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


def held(history: History, process: str) -> set[tuple] | None:
    """What a member's current incarnation reports holding (None: no assignment yet)."""
    got: set[tuple] | None = None
    for e in history:
        if e.process == process:
            if e.type == "member" and e.phase == "start":
                got = None
            elif e.type == "assigned":
                got = (got or set()) | {tuple(p) for p in e.detail.get("partitions", [])}
            elif e.type == "revoked" and got is not None:
                got -= {tuple(p) for p in e.detail.get("partitions", [])}
    return got


def observe_stable(group: Membership, history: History, partitions: int, bootstrap: str,
                   notes: list[str]) -> bool:
    """Wait until the group is stable with exactly the live members, each holding what the
    coordinator gave it; record that observation. False (with a note) if it never was."""
    topic = group.cfg["topic"]

    def stable() -> list[str] | None:
        alive = group.alive()
        holdings = [held(history, m.process) for m in alive]
        if any(h is None for h in holdings):
            return None
        seen = _coordinator_view(bootstrap, group.cfg["group"])
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
        "static": group.static, "session_timeout_s": group.session_timeout_s})
    return True


def read_to_end(client: Client, bootstrap: str, history: History, topic: str, partitions: int,
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
