"""Pure parts of the client layer: manifests, capabilities and config dialects, the driver
protocol's parser, its History translation and its ordering rules on hand-built streams."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.clients import builtin_names, client_refs, load_manifest
from harness.clients.needs import NoEquivalent, missing, needs, translate
from harness.clients.protocol import MemberTranslator, ProtocolError, check_stream, parse
from harness.errors import UsageError
from harness.spec.model import Spec

BASE = {"title": "t" * 5, "expect": {"duplicate": "forbidden"}}


def spec(**extra) -> Spec:
    return Spec.model_validate({**BASE, **extra})


# --- manifests ---------------------------------------------------------------------------------
def test_every_builtin_manifest_loads_and_names_its_install():
    assert {"confluent-kafka", "java", "franz-go", "kafka-python", "aiokafka"} <= set(builtin_names())
    for name in builtin_names():
        m, version = load_manifest(name)
        assert m.name == name and version == m.version and m.command and m.capabilities


def test_a_version_is_chosen_with_at():
    m, version = load_manifest("kafka-python@2.2.21")
    assert (m.name, version) == ("kafka-python", "2.2.21")


def test_unknown_clients_and_bad_manifests_are_usage_errors(tmp_path: Path):
    with pytest.raises(UsageError, match="'nope': unknown client"):
        client_refs("confluent-kafka,nope")
    bad = tmp_path / "mine.yaml"
    bad.write_text("name: mine\nversion: '1'\nlanguage: rust\ncommand: [x]\ncapabilities: [telepathy]\n")
    with pytest.raises(UsageError, match=r"mine.yaml: capabilities.0"):
        load_manifest(str(bad))
    with pytest.raises(UsageError, match="no such manifest"):
        load_manifest(str(tmp_path / "absent.yaml"))


# --- dialects and needs ------------------------------------------------------------------------
def test_translation_renames_per_dialect_and_makes_defaults_explicit():
    config = {"message.timeout.ms": 30000, "socket.timeout.ms": 1000, "enable.idempotence": True,
              "batch.num.messages": 20}
    java = translate(config, "java", producer=True)
    assert java == {"acks": "all", "enable.idempotence": "true", "delivery.timeout.ms": "30000",
                    "request.timeout.ms": "1000"}
    rdk = translate({"delivery.timeout.ms": 5000, "request.timeout.ms": 900}, "librdkafka")
    assert rdk == {"message.timeout.ms": "5000", "socket.timeout.ms": "900"}
    with pytest.raises(NoEquivalent, match="queue.buffering.max.messages"):
        translate({"queue.buffering.max.messages": 20}, "java")
    assert translate({"buffer.memory": 32768}, "librdkafka") == {"queue.buffering.max.kbytes": "32"}
    assert translate({"queue.buffering.max.kbytes": 32}, "java") == {"buffer.memory": "32768"}


def test_needs_follow_the_spec():
    plain = spec()
    assert [c for c, _ in needs(plain)] == ["assign"]
    grouped = spec(producer={"config": {"enable.idempotence": True}},
                   group={"protocol": "consumer", "static": True, "mode": "commit-async",
                          "actions": ["stall"], "pick": 1})
    assert [c for c, _ in needs(grouped)] == ["assign", "idempotence", "group:consumer", "group:static",
                                              "commit:async", "stall"]


def test_missing_gives_the_reason_or_none():
    s = spec(group={"protocol": "classic-cooperative"})
    why = missing(s, {"assign", "group:classic-eager", "commit:sync"}, "java",
                  {"group:classic-cooperative": "no cooperative assignor"})
    assert "group:classic-cooperative" in why and "no cooperative assignor" in why
    assert missing(s, {"assign", "group:classic-cooperative", "commit:sync"}, "java") is None
    mem = spec(producer={"config": {"queue.buffering.max.messages": 20}})
    assert "producer.config: queue.buffering.max.messages" in missing(mem, {"assign"}, "java")
    assert missing(mem, {"assign"}, "librdkafka") is None


# --- the protocol ------------------------------------------------------------------------------
def test_parse_rejects_what_is_not_an_event():
    assert parse('{"name":"startup_complete"}')["name"] == "startup_complete"
    for line in ("not json", "[1]", '{"name":"teleported"}', '{"name":"record_data","topic":"t"}'):
        with pytest.raises(ProtocolError):
            parse(line)


def _ev(name: str, **f) -> dict:
    return {"name": name, **f}


def _producer_stream():
    sent = {i: {"op": "send", "id": i, "topic": "t", "value": f"v{i}", "partition": 0} for i in range(3)}
    events = [_ev("startup_complete"),
              _ev("producer_send_success", id=0, topic="t", partition=0, offset=0, value="v0"),
              _ev("producer_send_error", id=1, topic="t", value="v1", exception="Timeout"),
              _ev("producer_send_success", id=2, topic="t", partition=0, offset=1, value="v2"),
              _ev("shutdown_complete")]
    return events, sent


def test_a_well_behaved_producer_stream_has_no_violations():
    events, sent = _producer_stream()
    assert check_stream(events, role="producer", sent=sent) == []


@pytest.mark.parametrize("mutate, rule", [
    (lambda ev: ev.pop(0), "rule 1"),                                          # no startup first
    (lambda ev: ev.insert(2, _ev("shutdown_complete")), "rule 1"),             # shutdown not last
    (lambda ev: ev.pop(2), "rule 2"),                                          # a send without outcome
    (lambda ev: ev.insert(2, dict(ev[1])), "rule 2"),                          # two outcomes
    (lambda ev: ev[3].update(offset=0), "rule 3"),                             # one offset twice
    (lambda ev: ev[3].update(partition=2), "rule 2"),                          # wrong partition
    (lambda ev: ev[1].update(value="other"), "rule 2"),                        # wrong value
])
def test_each_producer_rule_catches_its_violation(mutate, rule):
    events, sent = _producer_stream()
    mutate(events)
    found = check_stream(events, role="producer", sent=sent)
    assert any(v.startswith(rule) for v in found), found


def _member_stream():
    tp = {"topic": "t", "partition": 0}
    return [_ev("startup_complete"), _ev("partitions_assigned", partitions=[tp]),
            _ev("record_data", topic="t", partition=0, offset=5, value="a"),
            _ev("record_data", topic="t", partition=0, offset=6, value="b"),
            _ev("records_consumed", count=2, partitions=[{**tp, "count": 2, "minOffset": 5, "maxOffset": 6}]),
            _ev("offsets_commit_started", offsets=[{**tp, "offset": 7}]),
            _ev("offsets_committed", offsets=[{**tp, "offset": 7}], success=True),
            _ev("partitions_revoked", partitions=[tp]), _ev("shutdown_complete")]


@pytest.mark.parametrize("mutate, rule", [
    (lambda ev: ev[4].update(count=3), "rule 4"),                              # summary count
    (lambda ev: ev[4]["partitions"][0].update(maxOffset=9), "rule 4"),         # summary range
    (lambda ev: ev[3].update(offset=5), "rule 5"),                             # read twice
    (lambda ev: ev.insert(2, _ev("partitions_revoked", partitions=[{"topic": "t", "partition": 0}])),
     "rule 6"),                                                                # read after revoke
    (lambda ev: ev.pop(6), "rule 7"),                                          # commit never done
])
def test_each_consumer_rule_catches_its_violation(mutate, rule):
    events = _member_stream()
    assert check_stream(events, role="member") == []
    mutate(events)
    found = check_stream(events, role="member")
    assert any(v.startswith(rule) for v in found), found


def test_member_events_become_history_events():
    t = MemberTranslator("member-3", topic="t", protocol="classic-cooperative")
    out = [t(ev, 10.0 + n, 1.0) for n, ev in enumerate(_member_stream())]
    kinds = [(e.type, e.phase) for e in out if e is not None]
    assert kinds == [("member", "start"), ("assigned", "ok"), ("poll", "ok"), ("commit", "invoke"),
                     ("commit", "ok"), ("revoked", "ok"), ("member", "stop")]
    poll = next(e for e in out if e is not None and e.type == "poll")
    assert poll.detail["records"] == [{"partition": 0, "offset": 5, "value": "a"},
                                      {"partition": 0, "offset": 6, "value": "b"}]
    assigned = next(e for e in out if e is not None and e.type == "assigned")
    assert assigned.detail == {"partitions": [["t", 0]], "generation": 1, "protocol": "classic-cooperative"}
    failed = t(_ev("offsets_committed", offsets=[{"topic": "t", "partition": 0, "offset": 9}], success=False,
                   error="UNKNOWN_MEMBER_ID", definite=True), 20.0, 1.0)
    assert failed.phase == "info" and failed.detail["offsets"] == {"t/0": 9}
    json.dumps(failed.detail)


def test_a_spec_may_expect_otherwise_of_one_client_and_says_why():
    s = spec(expect={"lost-on-rebalance": "required", "split-ownership": "forbidden"},
             clients={"java": {"expect": {"lost-on-rebalance": "forbidden"}, "why": "commits at the next poll"}})
    same, why = s.for_client("confluent-kafka")
    assert same.expect == s.expect and why is None
    java, why = s.for_client("java@4.0.0")
    assert java.expect == {"lost-on-rebalance": "forbidden", "split-ownership": "forbidden"}
    assert why == "commits at the next poll"
    with pytest.raises(ValueError):
        spec(clients={"java": {"expect": {}, "why": "x"}})


# --- consumer API actions: pause, resume, resubscribe ------------------------------------------
def test_a_read_of_a_paused_partition_breaks_rule_9():
    tp = {"topic": "t", "partition": 0}
    paused = _member_stream()
    paused.insert(2, _ev("partitions_paused", partitions=[tp], ms=100))
    assert [v for v in check_stream(paused, role="member") if v.startswith("rule 9")]
    for end in (_ev("partitions_resumed", partitions=[tp]), _ev("partitions_assigned", partitions=[tp])):
        assert check_stream(paused[:3] + [end] + paused[3:], role="member") == []


def test_pause_and_resubscribe_become_neutral_member_events():
    t = MemberTranslator("member-0", topic="t")
    tp = {"topic": "t", "partition": 1}
    paused = t(_ev("partitions_paused", partitions=[tp], ms=2500), 1.0, 1.0)
    resumed = t(_ev("partitions_resumed", partitions=[tp]), 2.0, 2.0)
    again = t(_ev("resubscribed"), 3.0, 3.0)
    assert (paused.type, paused.phase, paused.detail) == ("member", "pause-partitions",
                                                          {"partitions": [["t", 1]], "seconds": 2.5})
    assert (resumed.phase, resumed.detail) == ("resume-partitions", {"partitions": [["t", 1]]})
    assert (again.type, again.phase) == ("member", "resubscribe")

    from harness.checkers import CHECKERS, check_all
    from tests.test_group_checkers import before_rebalance, clean

    def rebalance(b, actions: bool):
        """clean()'s rebalance; with `actions`, member-0 pauses, resumes and resubscribes first."""
        if actions:
            for ev in (paused, resumed, again):
                b.ev("member-0", ev.type, ev.phase, detail=ev.detail)
        b.revoked(0, [0, 1])
        b.assigned(0, [0], 2)
        b.assigned(1, [1], 2)
        b.stable([0, 1], [0, 1])
        b.read(0, 0, 3)
        b.read(1, 1, 3)
        b.commit(0, {0: 6})
        b.commit(1, {1: 6})
        b.drain()
        return b

    names = [n for n in CHECKERS if n != "rebalance"]
    plain = check_all(clean().history(), names)
    acted = check_all(rebalance(before_rebalance(), True).history(), names)
    assert check_all(rebalance(before_rebalance(), False).history(), names) == plain
    assert {n: r.status for n, r in acted.items()} == {n: r.status for n, r in plain.items()}
    assert acted == plain


def test_a_driver_consumer_drops_records_read_under_an_earlier_assignment():
    """Re-assigned at its positions, a consumer must not return records the driver fetched
    before (a client drops its buffer): else a read goes back (nonmonotonic-poll)."""
    from harness.clients.driver import DriverConsumer

    class FakeDriver:
        on_event = None
        label = "fake"

        def request(self, cmd, reply, timeout):
            self.on_event({"name": "partitions_assigned"}, 0.0, 0.0)
            return {"name": reply}

    def batch(*offsets):
        for o in offsets:
            consumer._event({"name": "record_data", "topic": "t", "partition": 0, "offset": o,
                             "value": f"p0-{o}"}, 0.0, 0.0)
        consumer._event({"name": "records_consumed"}, 0.0, 0.0)

    consumer = DriverConsumer(FakeDriver())
    consumer.assign("t", [0])
    batch(0, 1)
    assert [r.offset for r in consumer.poll(0.01)] == [0, 1]
    batch(2, 3)                                  # fetched, not yet polled
    consumer.assign("t", [0], offsets={0: 2})
    batch(2, 3, 4)
    assert [r.offset for r in consumer.poll(0.01)] == [2, 3, 4]
    assert consumer.poll(0.01) == []
