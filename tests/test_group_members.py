"""Consumer-group members as real processes against the real cluster: their events stream into
the History, a crash and a rebalance are seen, and the group checkers judge the result."""

from __future__ import annotations

import time

import pytest

from harness.checkers import check_all
from harness.clients import get_client
from harness.run.members import MemberProcess
from harness.history import History
from harness.procs import ProcessGroup
from harness.wait import wait_until
from harness.plan.plan import Plan
from harness.run.roles import ProducerRole, drain

pytestmark = pytest.mark.cluster

GROUP_CHECKERS = ["split-ownership", "orphaned-partition", "commit-regression", "resume-mismatch",
                  "lost-on-rebalance", "redelivery", "unrevoked-read"]
MEMBER_CONFIG = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}


def _read_by(history: History, process: str) -> set[tuple[int, int]]:
    return {(r["partition"], r["offset"]) for e in history
            if e.process == process and e.type == "poll" for r in e.detail["records"]}


def test_a_crashed_member_hands_its_partitions_over_without_loss(kch_cluster, kch_topic, tmp_path):
    topic = kch_topic(partitions=3)
    history = History()
    client = get_client()
    producer = ProducerRole(0, Plan(messages=600, rate=60.0), client, kch_cluster.bootstrap,
                            {"acks": "all", "enable.idempotence": "true"}, topic, 3, history, block_s=5)
    procs = ProcessGroup(f"members-{topic}")
    cfg = {"bootstrap": kch_cluster.bootstrap, "topic": topic, "group": f"g-{topic}",
           "mode": "commit-after-process", "process_ms": 2, "config": MEMBER_CONFIG,
           "protocol": "classic-eager"}
    try:
        producer.start()
        first = MemberProcess(0, cfg, history, procs, client).start()
        wait_until(lambda: len(_read_by(history, "member-0")) >= 50, timeout=60, message="member-0 read nothing")
        second = MemberProcess(1, cfg, history, procs, client).start()
        wait_until(lambda: _read_by(history, "member-1"), timeout=60, message="member-1 got nothing")
        first.crash()
        assert producer.join(90) and producer.finish(30) == 0
        wait_until(lambda: len(_read_by(history, "member-1") | _read_by(history, "member-0")) >= 600,
                   timeout=60, message="the survivor did not take over the crashed member's partitions")
        history.record("runner", "group", "ok", detail={
            "stable": True, "partitions": [[topic, p] for p in range(3)], "members": ["member-1"]})
        second.close()
    finally:
        procs.close()
    assert drain(client, kch_cluster.bootstrap, {}, topic, 3, history, timeout=60)
    ordered = History(sorted(history, key=lambda e: e.mono))
    results = check_all(ordered, GROUP_CHECKERS + ["unseen"])
    found = {name: (r.status, r.evidence[:2], r.reason) for name, r in results.items()
             if r.status != "ok" and name != "redelivery"}
    assert found == {}
    kinds = {(e.process, e.type, e.phase) for e in ordered}
    assert {("member-0", "member", "start"), ("member-0", "member", "crash"),
            ("member-1", "member", "stop"), ("member-1", "assigned", "ok"),
            ("member-0", "revoked", "ok"), ("member-1", "commit", "ok")} <= kinds
    # every redelivery is of records the crashed member had read but not committed
    assert all(item["within_uncommitted"] for item in results["redelivery"].evidence)
