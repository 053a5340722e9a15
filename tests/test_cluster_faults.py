"""The foundation against a real 3-node KRaft cluster and a real toxiproxy."""

from __future__ import annotations

import statistics
import time

import pytest

from harness.cluster import make_cluster, tuning
from harness.errors import UsageError
from harness.faults import Down, Isolate, Kill, Pause, Toxic
from harness.faults.targets import RESOLVE_TIMEOUT_S, resolve_target
from harness.wait import wait_until
from tests.kafka_helpers import read_all, send

pytestmark = pytest.mark.cluster

# A kill is detected after the broker session timeout; a KRaft election may come first if the
# killed node was the active controller; then the new leader's metadata must spread.
FAILOVER_BOUND_S = (tuning.BROKER_SESSION_TIMEOUT_MS + 2 * tuning.QUORUM_FETCH_TIMEOUT_MS) / 1000 + 10


def test_broker_config_reaches_the_broker_and_reserved_keys_are_refused():
    from confluent_kafka.admin import AdminClient, ConfigResource

    with pytest.raises(UsageError, match="controller.listener.names"):
        make_cluster("local", brokers=1, broker_config={"controller.listener.names": "X"})
    config = {"message.max.bytes": 2_000_000, "log.retention.bytes": "123456789",
              "unclean.leader.election.enable": True}
    with make_cluster("local", brokers=1, broker_config=config) as cluster:
        admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
        resource = ConfigResource(ConfigResource.Type.BROKER, "1")
        entries = admin.describe_configs([resource], request_timeout=10)[resource].result(timeout=20)
        assert entries["message.max.bytes"].value == "2000000"
        assert entries["log.retention.bytes"].value == "123456789"
        assert entries["unclean.leader.election.enable"].value == "true"
        assert entries["broker.session.timeout.ms"].value == str(tuning.BROKER_SESSION_TIMEOUT_MS)
        assert cluster.status()["broker_config"] == {"message.max.bytes": "2000000",
                                                     "log.retention.bytes": "123456789",
                                                     "unclean.leader.election.enable": "true"}


def test_produce_and_consume_through_the_proxies(kch_cluster, kch_topic):
    topic = kch_topic(partitions=1)
    sent = send(kch_cluster.bootstrap, topic, range(50))
    assert [s.error for s in sent] == [None] * 50
    assert read_all(kch_cluster.bootstrap, topic) == list(range(50))
    # Every broker advertises its proxy: with every client link down, nothing gets through.
    proxied = {l.listen for l in kch_cluster.layout.links if l.kind == "client"}
    assert set(kch_cluster.bootstrap.split(",")) == proxied


def test_clients_cannot_bypass_a_downed_client_link(kch_cluster, kch_nemesis, kch_topic):
    topic = kch_topic(partitions=1)
    assert send(kch_cluster.bootstrap, topic, [0])[0].error is None
    active = kch_nemesis.apply(Down(f"client->leader:{topic}/0"))
    failed = send(kch_cluster.bootstrap, topic, [1], timeout_ms=3000)
    assert failed[0].error == "_MSG_TIMED_OUT"
    kch_nemesis.heal(active)
    assert send(kch_cluster.bootstrap, topic, [2])[0].error is None
    assert read_all(kch_cluster.bootstrap, topic) == [0, 2]


def test_latency_on_the_leaders_client_link_delays_acks(kch_cluster, kch_nemesis, kch_topic):
    topic = kch_topic(partitions=1)
    base = statistics.median(s.seconds for s in send(kch_cluster.bootstrap, topic, range(10)))
    kch_nemesis.apply(Toxic("latency", f"client->leader:{topic}/0", {"latency": 400}))
    slow = send(kch_cluster.bootstrap, topic, range(10, 15))
    assert all(s.error is None for s in slow)
    assert statistics.median(s.seconds for s in slow) >= 0.4 > base


def test_timeout_toxic_makes_sends_time_out(kch_cluster, kch_nemesis, kch_topic):
    topic = kch_topic(partitions=1)
    assert send(kch_cluster.bootstrap, topic, [0])[0].error is None
    kch_nemesis.apply(Toxic("timeout", f"client->leader:{topic}/0", {"timeout": 0}, stream="both"))
    assert send(kch_cluster.bootstrap, topic, [1], timeout_ms=3000)[0].error == "_MSG_TIMED_OUT"


def test_kill_the_leader_fails_over_and_keeps_acknowledged_writes(kch_cluster, kch_nemesis, kch_topic):
    topic = kch_topic(partitions=1, replication_factor=3, config={"min.insync.replicas": "2"})
    acked = [s.value for s in send(kch_cluster.bootstrap, topic, range(200)) if s.error is None]
    assert len(acked) == 200
    old = kch_cluster.leader(topic, 0)
    kch_nemesis.apply(Kill(f"node:{old}"))
    new = kch_nemesis.wait_for_new_leader(topic, 0, old=old, timeout=FAILOVER_BOUND_S)
    assert new != old
    after = send(kch_cluster.bootstrap, topic, range(200, 220))
    assert all(s.error is None for s in after)
    values = read_all(kch_cluster.bootstrap, topic)
    assert set(acked) | {s.value for s in after} <= set(values)
    events = [(e.phase, e.detail.get("fault"), e.detail.get("node")) for e in kch_nemesis.history.of_type("fault")]
    assert events == [("start", "kill", old)]
    assert kch_nemesis.heal_all() > 0
    assert kch_cluster.healthy()


def test_pause_fences_a_node_and_resume_brings_it_back(kch_cluster, kch_nemesis):
    victim = max(n.id for n in kch_cluster.layout.brokers if n.id != kch_cluster.active_controller())
    active = kch_nemesis.apply(Pause(f"node:{victim}"))
    wait_until(lambda: victim not in kch_cluster.unfenced_brokers(), timeout=30, message="paused node not fenced")
    kch_nemesis.heal(active)
    wait_until(lambda: victim in kch_cluster.unfenced_brokers(), timeout=30, message="resumed node not unfenced")


def test_cutting_a_nodes_controller_links_fences_it(kch_cluster, kch_nemesis):
    victim = max(n.id for n in kch_cluster.layout.brokers if n.id != kch_cluster.active_controller())
    active = kch_nemesis.apply(Toxic("timeout", f"controller-links-of:node:{victim}", {"timeout": 0}, stream="both"))
    wait_until(lambda: victim not in kch_cluster.unfenced_brokers(), timeout=30, message="cut node not fenced")
    assert kch_cluster.is_running(victim)
    kch_nemesis.heal(active)
    wait_until(lambda: victim in kch_cluster.unfenced_brokers(), timeout=30, message="healed node not unfenced")


def test_isolating_the_leader_moves_leadership(kch_cluster, kch_nemesis, kch_topic):
    topic = kch_topic(partitions=1)
    old = kch_cluster.leader(topic, 0)
    kch_nemesis.apply(Isolate(f"leader:{topic}/0"))
    kch_nemesis.wait_for_new_leader(topic, 0, old=old, timeout=FAILOVER_BOUND_S)
    assert kch_nemesis.heal_all() > 0
    assert kch_cluster.unfenced_brokers() == {n.id for n in kch_cluster.layout.brokers}


def test_active_controller_matches_kafkas_own_quorum_tool(kch_cluster):
    import re
    import subprocess

    node = kch_cluster.layout.controllers[0]
    cmd = kch_cluster._java(node.id, ["org.apache.kafka.tools.MetadataQuorumCommand",
                                      "--bootstrap-controller", f"127.0.0.1:{node.controller_port}",
                                      "describe", "--status"], kch_cluster.workdir / "logs" / "tool.log")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    assert int(re.search(r"LeaderId:\s+(\d+)", out).group(1)) == kch_cluster.active_controller()


def test_kill_a_follower_kills_a_non_leader_replica_and_the_leader_stays(kch_cluster, kch_nemesis, kch_topic):
    topic = kch_topic(partitions=1, replication_factor=3)
    leader = kch_cluster.leader(topic, 0)
    followers = kch_cluster.followers(topic, 0)
    assert followers == sorted(set(kch_cluster.replicas(topic, 0)) - {leader}) and len(followers) == 2
    kch_nemesis.apply(Kill(f"follower:{topic}/0#1"))
    [event] = [e for e in kch_nemesis.history.of_type("fault") if e.phase == "start"]
    victim = event.detail["node"]
    assert victim == followers[1] and not kch_cluster.is_running(victim)
    wait_until(lambda: victim not in kch_cluster.isr(topic, 0), timeout=FAILOVER_BOUND_S,
               message="killed follower stayed in the ISR")
    assert kch_cluster.leader(topic, 0) == leader
    assert kch_cluster.followers(topic, 0) == [followers[0]]
    # One follower left in sync: every index names it.
    assert resolve_target(kch_cluster, f"follower:{topic}/0#1") == followers[0]


def test_a_toxic_on_client_to_follower_touches_only_that_followers_client_link(kch_cluster, kch_nemesis, kch_topic):
    topic = kch_topic(partitions=1, replication_factor=3)
    follower = kch_cluster.followers(topic, 0)[0]
    active = kch_nemesis.apply(Toxic("latency", f"client->follower:{topic}/0", {"latency": 100}))
    assert active.resolved["links"] == [f"client->node:{follower}"]
    toxic = {l.dst: [t.name for t in kch_cluster.toxiproxy.toxics(l.proxy)]
             for l in kch_cluster.layout.links if l.kind == "client"}
    assert {n for n, names in toxic.items() if names} == {follower}
    assert follower != kch_cluster.leader(topic, 0)
    kch_nemesis.heal(active)
    assert not kch_cluster.toxiproxy.toxics(kch_cluster.layout.link(f"client->node:{follower}").proxy)


def test_a_leader_target_right_after_the_leaders_kill_waits_for_the_new_leader(kch_cluster, kch_nemesis, kch_topic):
    topic = kch_topic(partitions=1, replication_factor=3)
    old = kch_cluster.leader(topic, 0)
    kch_nemesis.apply(Kill(f"leader:{topic}/0"))
    began = time.monotonic()
    new = resolve_target(kch_cluster, f"leader:{topic}/0")
    waited = time.monotonic() - began
    assert new != old and kch_cluster.is_running(new)
    assert 0.5 < waited < RESOLVE_TIMEOUT_S         # the dead leader is not returned: it waited
    active = kch_nemesis.apply(Pause(f"leader:{topic}/0"))   # a planned fault on it applies
    assert active.resolved["node"] == new
