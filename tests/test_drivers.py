"""The driver protocol's conformance checks (docs/driver-protocol.md), on every driver against
the real cluster: a producer, an assigned consumer and two group members each keep the
protocol's ordering rules, and a setting the client cannot map is refused as unsupported.

``pytest tests/test_drivers.py --kch-drivers NAME[,NAME...]`` checks a new driver (default:
every built-in client)."""

from __future__ import annotations

import pytest

from harness.clients import Unsupported, builtin_names, get_client
from harness.clients.protocol import check_stream
from harness.procs import ProcessGroup
from harness.wait import wait_until

pytestmark = pytest.mark.cluster
N = 300


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "client" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--kch-drivers")
        names = [n.strip() for n in chosen.split(",")] if chosen else builtin_names()
        metafunc.parametrize("client", names, indirect=True)


@pytest.fixture(scope="module")
def client(request):
    c = get_client(request.param)
    yield c
    c.close()


def _produce(client, bootstrap: str, topic: str) -> tuple[list[dict], dict[int, dict], object]:
    driver = client.driver("producer", keep=True)
    driver.start(role="producer", bootstrap=bootstrap, max_block_ms=10000,
                 config={"acks": "all", "enable.idempotence": "true"})
    sent = {}
    for i in range(N):
        keyed = i % 3 == 0
        cmd = {"op": "send", "id": i, "topic": topic, "key": f"k{i % 7}" if keyed else None,
               "partition": None if keyed else i % 3, "value": f"v{i} pad"}
        sent[i] = cmd
        driver.send(cmd)
    flushed = driver.request({"op": "flush", "timeout_ms": 30000}, "flushed", 60)
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
