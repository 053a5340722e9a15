"""The driver protocol's conformance checks (docs/driver-protocol.md), on every driver against
the real cluster: a producer, an assigned consumer and two group members each keep the
protocol's ordering rules; an assigned consumer pauses, resumes and is re-assigned at offsets;
a member pauses its partitions and resubscribes; a setting the client cannot map is refused
as unsupported.

``pytest tests/test_drivers.py --kch-drivers NAME[,NAME...]`` checks a new driver (default:
every built-in client)."""

from __future__ import annotations

import time

import pytest

from harness.clients import Unsupported, builtin_names, get_client
from harness.clients.driver import DriverConsumer
from harness.clients.protocol import MemberTranslator, check_stream
from harness.errors import ClusterError
from harness.run.members import MemberProcess
from harness.history import History
from harness.procs import ProcessGroup
from harness.wait import wait_until

pytestmark = pytest.mark.cluster
N = 300


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "client" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--kch-drivers")
        names = [n.strip() for n in chosen.split(",")] if chosen and chosen != "all" else builtin_names()
        metafunc.parametrize("client", names, indirect=True)


@pytest.fixture(scope="module")
def client(request):
    c = get_client(request.param)
    yield c
    c.close()


def _producer(client, bootstrap: str):
    driver = client.driver("producer", keep=True)
    driver.start(role="producer", bootstrap=bootstrap, max_block_ms=10000,
                 config={"acks": "all", "enable.idempotence": "true"})
    return driver


def _send(driver, topic: str, first: int = 0) -> tuple[dict[int, dict], dict]:
    """N records (ids and values from `first`), a third keyed, the rest spread over 3
    partitions; flushed."""
    sent = {}
    for i in range(first, first + N):
        keyed = i % 3 == 0
        cmd = {"op": "send", "id": i, "topic": topic, "key": f"k{i % 7}" if keyed else None,
               "partition": None if keyed else i % 3, "value": f"v{i} pad"}
        sent[i] = cmd
        driver.send(cmd)
    return sent, driver.request({"op": "flush", "timeout_ms": 30000}, "flushed", 60)


def _produce(client, bootstrap: str, topic: str) -> tuple[list[dict], dict[int, dict], object]:
    driver = _producer(client, bootstrap)
    sent, flushed = _send(driver, topic)
    driver.close()
    return driver.events, sent, flushed


def test_producer_keeps_the_protocol(client, kch_cluster, kch_topic):
    topic = kch_topic(partitions=3)
    events, sent, flushed = _produce(client, kch_cluster.bootstrap, topic)
    assert check_stream(events, role="producer", sent=sent) == []
    assert flushed["outstanding"] == 0
    ok = [e for e in events if e["name"] == "producer_send_success"]
    assert len(ok) == N, [e for e in events if e["name"] == "producer_send_error"][:3]
    assert events[0].get("client") and events[-1]["name"] == "shutdown_complete"


def test_consumer_reads_everything_in_order(client, kch_cluster, kch_topic):
    topic = kch_topic(partitions=3)
    _produce(client, kch_cluster.bootstrap, topic)
    driver = client.driver("consumer", keep=True)
    driver.start(role="consumer", bootstrap=kch_cluster.bootstrap, group=f"g-{topic}", config={})
    driver.request({"op": "assign", "topic": topic, "partitions": [0, 1, 2]}, "partitions_assigned", 30)

    def read() -> int:
        return sum(1 for e in list(driver.events) if e["name"] == "record_data")

    wait_until(lambda: read() >= N, timeout=60, message="the consumer did not read every record")
    ends = driver.request({"op": "end_offsets", "topic": topic, "partitions": [0, 1, 2], "timeout_ms": 10000},
                          "end_offsets", 30)
    driver.close()
    assert check_stream(driver.events, role="consumer") == []
    assert sum(int(v) for v in ends["offsets"].values()) == N
    values = {e["value"] for e in driver.events if e["name"] == "record_data"}
    assert values == {f"v{i} pad" for i in range(N)}


def test_group_members_share_read_and_commit(client, kch_cluster, kch_topic):
    topic = kch_topic(partitions=4)
    _produce(client, kch_cluster.bootstrap, topic)
    procs = ProcessGroup(f"driver-test-{topic}")
    start = {"role": "member", "bootstrap": kch_cluster.bootstrap, "topic": topic, "group": f"g-{topic}",
             "mode": "commit-after-process", "protocol": "classic-eager", "process_ms": 1,
             "config": {"session.timeout.ms": "6000", "heartbeat.interval.ms": "1000"}}
    members = []
    try:
        for n in range(2):
            m = client.driver("member", keep=True, procs=procs, label=f"member-{n}")
            m.start(**start)
            members.append(m)

        def held() -> list[set]:
            out = []
            for m in members:
                mine: set = set()
                for e in list(m.events):
                    tps = {(p["topic"], p["partition"]) for p in e.get("partitions", [])}
                    if e["name"] == "partitions_assigned":
                        mine |= tps
                    elif e["name"] == "partitions_revoked":
                        mine -= tps
                out.append(mine)
            return out

        def read() -> set:
            return {(e["partition"], e["offset"]) for m in members for e in list(m.events)
                    if e["name"] == "record_data"}

        wait_until(lambda: all(held()) and len(read()) >= N, timeout=90,
                   message="two members did not share the partitions and read everything")
        m0, m1 = held()
        assert not (m0 & m1) and len(m0 | m1) == 4
        members[0].send({"op": "stall", "ms": 300})
        wait_until(lambda: any(e["name"] == "resumed" for e in list(members[0].events)), timeout=30,
                   message="a stall was not reported")
    finally:
        for m in members:
            m.close(timeout=30)
        procs.close()
    for m in members:
        assert check_stream(m.events, role="member") == []
        commits = [e for e in m.events if e["name"] == "offsets_committed"]
        assert all(e["success"] for e in commits)
        if any(e["name"] == "record_data" for e in m.events):
            assert commits, f"{m.label} read records and committed none"


def _pause_resume_reassign(consumer, topic: str, produce) -> None:
    """The Consumer API on an empty 3-partition topic: partition 1 paused while `produce()`
    writes, the others flow and it does not; resumed, it is read from its beginning; a
    re-assignment with offsets starts each partition at its offset."""
    parts = [0, 1, 2]
    consumer.assign(topic, parts)
    consumer.pause(topic, [1])
    produce()
    ends = consumer.end_offsets(topic, parts, 15)
    got: dict[int, list[int]] = {p: [] for p in parts}

    def read_to(want: dict[int, int]) -> bool:
        for r in consumer.poll(0.2):
            got[r.partition].append(r.offset)
        return all(len(got[p]) >= n for p, n in want.items())

    wait_until(lambda: read_to({0: ends[0], 2: ends[2]}), timeout=60,
               message="partitions 0 and 2 did not flow while partition 1 was paused")
    deadline = time.monotonic() + 1.5                  # time for a paused partition to leak
    while time.monotonic() < deadline:
        read_to({})
    assert got[1] == [], f"read {len(got[1])} records of paused partition 1"
    consumer.resume(topic, [1])
    wait_until(lambda: read_to(ends), timeout=60, message="partition 1 did not flow again after resume")
    assert got == {p: list(range(ends[p])) for p in parts}

    start = {0: 5, 1: ends[1] - 3}                     # partition 2: from its beginning
    got = {p: [] for p in parts}
    consumer.assign(topic, parts, offsets=start)
    wait_until(lambda: read_to({p: ends[p] - start.get(p, 0) for p in parts}), timeout=60,
               message="the re-assignment with offsets did not read to the ends")
    assert got == {p: list(range(start.get(p, 0), ends[p])) for p in parts}


def test_consumer_pauses_resumes_and_reassigns_at_offsets(client, kch_cluster, kch_topic):
    topic = kch_topic(partitions=3)
    driver = client.driver("consumer", keep=True)
    consumer = DriverConsumer(driver)
    driver.start(role="consumer", bootstrap=kch_cluster.bootstrap, group=f"g-{topic}", config={})
    try:
        _pause_resume_reassign(consumer, topic, lambda: _produce(client, kch_cluster.bootstrap, topic))
        with pytest.raises(ClusterError, match="pause failed"):
            consumer.pause(topic, [7])                 # not assigned: an error for the op
    finally:
        consumer.close()
    assert check_stream(driver.events, role="consumer") == []
    names = [e["name"] for e in driver.events]
    assert names.count("partitions_paused") == 1 and names.count("partitions_resumed") == 1


def test_the_in_process_consumer_pauses_resumes_and_reassigns_at_offsets(kch_cluster, kch_topic):
    """confluent-kafka's consumer runs inside kch (not as a driver): the same through its API."""
    topic = kch_topic(partitions=3)
    client = get_client("confluent-kafka")
    consumer = client.consumer(kch_cluster.bootstrap, {}, group=f"g-{topic}")
    try:
        _pause_resume_reassign(consumer, topic, lambda: _produce(client, kch_cluster.bootstrap, topic))
    finally:
        consumer.close()
        client.close()


def test_a_member_pauses_its_partitions_and_resubscribes(client, kch_cluster, kch_topic):
    """pause_partitions: the member reads nothing while paused, stays in the group and reads
    on after; resubscribe: revoked, assigned again, and it reads on."""
    topic = kch_topic(partitions=3)
    producer = _producer(client, kch_cluster.bootstrap)
    procs = ProcessGroup(f"driver-test-{topic}")
    member = client.driver("member", keep=True, procs=procs, label="member-0")
    try:
        _send(producer, topic)
        member.start(role="member", bootstrap=kch_cluster.bootstrap, topic=topic, group=f"g-{topic}",
                     mode="commit-after-process", protocol="classic-eager", process_ms=0,
                     config={"session.timeout.ms": "6000", "heartbeat.interval.ms": "1000"})

        def events(name: str, after: int = 0) -> list[dict]:
            return [e for e in list(member.events)[after:] if e["name"] == name]

        def read() -> set:
            return {(e["partition"], e["offset"]) for e in events("record_data")}

        wait_until(lambda: len(read()) >= N, timeout=90, message="the member did not read the first records")
        member.send({"op": "pause_partitions", "ms": 6000})
        wait_until(lambda: events("partitions_paused"), timeout=30, message="no partitions_paused")
        _send(producer, topic, first=N)
        assert not events("partitions_resumed"), "the pause ended before the records were written"
        wait_until(lambda: events("partitions_resumed"), timeout=30, message="no partitions_resumed")
        wait_until(lambda: len(read()) >= 2 * N, timeout=60, message="the member did not read on after the pause")
        names = [e["name"] for e in member.events]
        during = names[names.index("partitions_paused"):names.index("partitions_resumed")]
        assert "record_data" not in during and "partitions_revoked" not in during
        assert len(events("partitions_paused")[0]["partitions"]) == 3
        assert events("partitions_resumed")[0]["partitions"] == events("partitions_paused")[0]["partitions"]

        mark = len(member.events)
        member.send({"op": "resubscribe"})
        wait_until(lambda: events("resubscribed", mark) and events("partitions_revoked", mark)
                   and _assigned_after_revoked(list(member.events)[mark:]), timeout=60,
                   message="resubscribe was not reported with a revocation and a new assignment")
        _send(producer, topic, first=2 * N)
        wait_until(lambda: len(read()) >= 3 * N, timeout=60, message="the member did not read on after resubscribing")
    finally:
        producer.close()
        member.close(timeout=30)
        procs.close()
    assert check_stream(member.events, role="member") == []
    translate = MemberTranslator("member-0", topic=topic)
    phases = [ev.phase for ev in (translate(e, 0.0, 0.0) for e in member.events) if ev is not None and ev.type == "member"]
    assert {"pause-partitions", "resume-partitions", "resubscribe"} <= set(phases)


def test_member_process_pauses_partitions_and_resubscribes_into_the_history(kch_cluster, kch_topic):
    """MemberProcess.pause_partitions and .resubscribe, as the group runner uses them: the
    member's reports land in the History as member events, and it reads on."""
    topic = kch_topic(partitions=3)
    client = get_client("confluent-kafka")
    history = History()
    procs = ProcessGroup(f"members-{topic}")
    producer = _producer(client, kch_cluster.bootstrap)
    cfg = {"bootstrap": kch_cluster.bootstrap, "topic": topic, "group": f"g-{topic}",
           "mode": "commit-after-process", "process_ms": 0, "protocol": "classic-eager",
           "config": {"session.timeout.ms": "6000", "heartbeat.interval.ms": "1000"}}

    def seen(phase: str) -> list:
        return [e for e in list(history) if e.type == "member" and e.phase == phase]

    def read() -> int:
        return len({(r["partition"], r["offset"]) for e in list(history) if e.type == "poll"
                    for r in e.detail["records"]})

    try:
        _send(producer, topic)
        member = MemberProcess(0, cfg, history, procs, client).start()
        wait_until(lambda: read() >= N, timeout=60, message="the member read nothing")
        member.pause_partitions(1.0)
        wait_until(lambda: seen("resume-partitions"), timeout=30, message="no resume-partitions in the History")
        member.resubscribe()
        wait_until(lambda: seen("resubscribe"), timeout=30, message="no resubscribe in the History")
        _send(producer, topic, first=N)
        wait_until(lambda: read() >= 2 * N, timeout=60, message="the member did not read on")
        member.close()
    finally:
        producer.close()
        procs.close()
    paused = seen("pause-partitions")[0]
    assert sorted(map(tuple, paused.detail["partitions"])) == [(topic, p) for p in range(3)]
    assert paused.detail["seconds"] == 1.0
    assert seen("resume-partitions")[0].detail["partitions"] == paused.detail["partitions"]
    kinds = [(e.type, e.phase) for e in sorted(history, key=lambda e: e.mono) if e.type in ("assigned", "revoked")]
    assert kinds.count(("revoked", "ok")) >= 2 and kinds.count(("assigned", "ok")) >= 2


def _assigned_after_revoked(events: list[dict]) -> bool:
    """Whether a partitions_assigned (non-empty) follows the first partitions_revoked."""
    names = [e["name"] for e in events]
    if "partitions_revoked" not in names:
        return False
    return any(e["name"] == "partitions_assigned" and e["partitions"]
               for e in events[names.index("partitions_revoked"):])


def test_an_unmappable_setting_is_refused_as_unsupported(client, kch_cluster):
    driver = client.driver("producer", keep=True)
    with pytest.raises(Unsupported, match="no.such.setting"):
        driver.start(role="producer", bootstrap=kch_cluster.bootstrap, max_block_ms=1000,
                     config={"acks": "all", "no.such.setting": "1"})


def test_apache_verifiable_clients_speak_the_protocol(kch_cluster, kch_topic, tmp_path):
    """Apache's own VerifiableProducer and VerifiableConsumer (kafka-tools), unmodified: their
    output is read by the same parser and keeps the same rules, so existing verifiable
    clients plug in."""
    import subprocess

    from harness.clients.protocol import parse
    from harness.provision import kafka_dist

    topic = kch_topic(partitions=3)
    dist = kafka_dist()

    def tool(name: str, *args: str) -> list[dict]:
        out = subprocess.run([dist.java, "-Xmx256m", f"-Dlog4j2.configurationFile={dist.log4j2_config}",
                              f"-Dkch.log.file={tmp_path / (name + '.log')}",
                              "-cp", dist.classpath, f"org.apache.kafka.tools.{name}",
                              "--topic", topic, "--bootstrap-server", kch_cluster.bootstrap, *args],
                             capture_output=True, text=True, timeout=120)
        return [parse(line) for line in out.stdout.splitlines() if line.startswith("{")]

    produced = tool("VerifiableProducer", "--max-messages", "200", "--acks", "-1")
    assert check_stream(produced, role="producer") == []
    assert sum(e["name"] == "producer_send_success" for e in produced) == 200
    consumed = tool("VerifiableConsumer", "--group-id", f"g-{topic}", "--max-messages", "200", "--verbose")
    assert check_stream(consumed, role="member") == []
    assert sum(e["name"] == "record_data" for e in consumed) == 200
    assert any(e["name"] == "offsets_committed" for e in consumed)


def test_a_pinned_version_runs_in_an_environment_of_its_own(kch_cluster):
    """``NAME@VERSION`` installs that release beside the default one; its driver reports it."""
    old, new = get_client("kafka-python@2.2.21"), get_client("kafka-python")
    try:
        seen = {}
        for c in (old, new):
            driver = c.driver("producer")
            seen[c.name] = driver.start(role="producer", bootstrap=kch_cluster.bootstrap, max_block_ms=1000,
                                        config={"acks": "all"})["version"]
            driver.close()
        assert old.environment().command[0] != new.environment().command[0]
        assert seen == {"kafka-python@2.2.21": "2.2.21", "kafka-python": new.version}
    finally:
        old.close()
        new.close()
