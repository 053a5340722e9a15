"""The cluster layout and link selectors, as pure data."""

from __future__ import annotations

import itertools

import pytest

from harness.cluster.docker_layout import container_properties, plan_docker_layout
from harness.cluster.layout import (RESERVED_BROKER_KEYS, check_broker_config, node_properties, plan_layout,
                                    reserved_broker_key)
from harness.errors import FaultError, UsageError
from harness.faults import Isolate, Kill, Split, Toxic
from harness.faults import targets
from harness.faults.targets import check_links, check_target, resolve_links, resolve_target


def layout(brokers=3, controllers=0):
    return plan_layout(brokers=brokers, controllers=controllers, ports=itertools.count(20000))


def test_three_combined_nodes_have_every_link_proxied_per_pair():
    lay = layout()
    names = {l.name for l in lay.links}
    assert {f"client->node:{i}" for i in (1, 2, 3)} <= names
    assert "node:1->node:2" in names and "node:2->node:1" in names
    assert "controller:3->controller:1" in names
    assert len(lay.links) == 3 + 6 + 6
    assert len({l.listen for l in lay.links}) == len(lay.links), "every proxy listens on its own address"


def test_each_node_resolves_peers_to_its_own_pair_addresses():
    lay = layout()
    hosts = lay.hosts_file(2)
    assert "127.1.2.1 kch-node-1" in hosts and "127.0.0.1 kch-node-2" in hosts
    link = lay.link("node:2->node:1")
    assert link.listen.startswith("127.1.2.1:") and link.upstream.startswith("127.0.0.1:")


def test_node_properties_advertise_proxies_and_names():
    lay = layout()
    node = lay.node(1)
    props = node_properties(lay, node, data_dir="/d", tuned={})
    assert f"CLIENT://127.0.0.1:{node.client_proxy_port}" in props["advertised.listeners"]
    assert "INTERNAL://kch-node-1:" in props["advertised.listeners"]
    assert props["controller.quorum.voters"].count("@kch-node-") == 3
    assert all(f"127.0.0.1:" in part for part in props["listeners"].split(","))


def test_dedicated_controllers_are_separate_nodes():
    lay = layout(brokers=2, controllers=3)
    assert [n.id for n in lay.brokers] == [1, 2] and [n.id for n in lay.controllers] == [3, 4, 5]
    assert "node:1->controller:3" in {l.name for l in lay.links}
    assert not any(l.kind == "replication" and l.dst >= 3 for l in lay.links)


def test_links_between_sides_are_both_directions():
    lay = layout()
    cut = {l.name for l in lay.links_between([1], [2, 3])}
    assert cut == {"node:1->node:2", "node:2->node:1", "node:1->node:3", "node:3->node:1",
                   "controller:1->controller:2", "controller:2->controller:1",
                   "controller:1->controller:3", "controller:3->controller:1"}


@pytest.mark.parametrize("bad", ["node:x", "leader:t", "leader", "controller:1", "", "follower:t",
                                 "follower:t/0#", "follower:t/0#x", "follower:t/x", "follower:t/0#1#2"])
def test_bad_targets_are_rejected(bad):
    with pytest.raises(UsageError):
        check_target(bad)


@pytest.mark.parametrize("good", ["node:3", "leader:t/0", "follower:t/0", "follower:my.topic-1/12#2",
                                  "controller", "coordinator:g-1"])
def test_good_targets(good):
    assert check_target(good) == good


@pytest.mark.parametrize("good", ["client->node:1", "node:1->node:2", "client->leader:t/0",
                                  "links-of:controller", "controller-links-of:node:2", "clients",
                                  "node:1->controller:3", "controller:1->controller:3",
                                  "client->follower:t/0", "client->follower:t/0#1",
                                  "replication-of:follower:t/0", "links-of:follower:t/2#3",
                                  "controller-links-of:coordinator:g", "leader:t/0->follower:t/0#1",
                                  "follower:t/0->controller", "client->coordinator:g"])
def test_good_link_selectors(good):
    assert check_links(good) == good


@pytest.mark.parametrize("bad", ["client", "links-of:", "replication-of:follower:t", "client->follower:t/0#",
                                 "client->", "nodes", "leader:t/0", "client->node:1->node:2"])
def test_bad_link_selectors(bad):
    with pytest.raises(UsageError):
        check_links(bad)


# --- broker config -----------------------------------------------------------------------------
def test_broker_config_overrides_tuned_defaults_on_both_providers():
    lay = layout()
    config = {"unclean.leader.election.enable": True, "log.flush.interval.messages": 1,
              "log.segment.bytes": "1048576"}
    props = node_properties(lay, lay.node(1), data_dir="/d", config=config,
                            tuned={"unclean.leader.election.enable": "false", "log.segment.bytes": 16})
    assert props["unclean.leader.election.enable"] == "true"
    assert props["log.flush.interval.messages"] == "1"
    assert props["log.segment.bytes"] == "1048576"
    assert props["node.id"] == 1 and props["log.dirs"] == "/d"
    dlay = plan_docker_layout(brokers=3, controllers=0, ports=itertools.count(21000))
    dprops = container_properties(dlay, dlay.node(2), "10.1.1.12", {"log.segment.bytes": 16}, config)
    assert dprops["log.segment.bytes"] == "1048576" and dprops["unclean.leader.election.enable"] == "true"
    assert node_properties(lay, lay.node(1), data_dir="/d", tuned={}) == \
        node_properties(lay, lay.node(1), data_dir="/d", tuned={}, config={})


@pytest.mark.parametrize("key", ["node.id", "process.roles", "listeners", "advertised.listeners",
                                 "controller.quorum.voters", "controller.quorum.bootstrap.servers",
                                 "controller.quorum.election.timeout.ms", "log.dirs",
                                 "listener.security.protocol.map", "inter.broker.listener.name",
                                 "controller.listener.names", "controller.quorum.some.future.key"])
def test_reserved_broker_keys_are_refused_naming_the_key(key):
    assert reserved_broker_key(key)
    assert key in RESERVED_BROKER_KEYS or key == "controller.quorum.some.future.key"
    with pytest.raises(UsageError, match=key.replace(".", r"\.")) as err:
        check_broker_config({"log.retention.bytes": 1, key: "x"})
    assert err.value.exit_code == 2
    lay = layout()
    with pytest.raises(UsageError, match=key.replace(".", r"\.")):
        node_properties(lay, lay.node(1), data_dir="/d", tuned={}, config={key: "x"})


def test_reserved_keys_are_refused_before_a_cluster_starts():
    from harness.cluster import make_cluster

    for provider in ("local", "docker"):
        with pytest.raises(UsageError, match="advertised.listeners"):
            make_cluster(provider, brokers=1, broker_config={"advertised.listeners": "CLIENT://x:1"})


def test_every_key_kch_sets_from_the_layout_is_reserved_and_tuned_keys_are_not():
    from harness.cluster import tuning

    lay = layout(brokers=2, controllers=1)
    for node in lay.nodes:
        own = node_properties(lay, node, data_dir="/d", tuned={})
        assert all(reserved_broker_key(k) for k in own)
    tunable = [k for k in tuning.properties(brokers=3) if not k.startswith("controller.quorum.")]
    assert tunable and not any(reserved_broker_key(k) for k in tunable)
    assert not reserved_broker_key("controller.quorum") and not reserved_broker_key("log.dirs.extra")


@pytest.mark.parametrize("config", [{"a b": "1"}, {"": "1"}, {"log.retention.bytes": "1\nnode.id=9"},
                                    {"log.retention.bytes": [1]}, {"log.retention.bytes": None}])
def test_malformed_broker_config_is_refused(config):
    with pytest.raises(UsageError):
        check_broker_config(config)


# --- resolving targets against a fake cluster ---------------------------------------------------
class FakeCluster:
    """Answers like an Observer from scripted partition states; ``script`` advances on each call."""

    def __init__(self, states, *, running=(1, 2, 3)):
        self.layout = layout()
        self.states = list(states)      # each: (leader or None, replicas, isr)
        self.running = set(running)
        self.calls = 0

    def _state(self):
        state = self.states[min(self.calls, len(self.states) - 1)]
        self.calls += 1
        return state

    def is_running(self, node):
        return node in self.running

    def leader(self, topic, partition):
        return self._state()[0]

    def replicas(self, topic, partition):
        return list(self.states[min(self.calls, len(self.states) - 1)][1])

    def followers(self, topic, partition):
        leader, _, isr = self._state()
        return [] if leader is None else sorted(n for n in isr if n != leader and self.is_running(n))

    def active_controller(self):
        return self._state()[0]

    def coordinator(self, group):
        return self._state()[0]


def test_follower_index_counts_in_sync_non_leaders_by_node_id_modulo():
    cluster = FakeCluster([(2, (2, 3, 1), (3, 2, 1))])
    assert [resolve_target(cluster, f"follower:t/0#{i}") for i in range(4)] == [1, 3, 1, 3]
    assert resolve_target(cluster, "follower:t/0") == 1
    out_of_sync = FakeCluster([(2, (2, 3, 1), (2, 3))])
    assert resolve_target(out_of_sync, "follower:t/0#1") == 3


def test_follower_links_select_that_followers_links():
    cluster = FakeCluster([(1, (1, 2, 3), (1, 2, 3))])
    assert [l.name for l in resolve_links(cluster, "client->follower:t/0#1")] == ["client->node:3"]
    assert {l.name for l in resolve_links(cluster, "replication-of:follower:t/0")} == \
        {"node:2->node:1", "node:1->node:2", "node:2->node:3", "node:3->node:2"}
    assert Kill("follower:t/0#1").target == "follower:t/0#1"


def test_role_targets_wait_for_a_running_node(monkeypatch):
    monkeypatch.setattr(targets, "RESOLVE_TIMEOUT_S", 5.0)
    # The killed leader (1) is still reported, then none, then the new leader.
    cluster = FakeCluster([(1, (1, 2, 3), (1, 2, 3))] * 2 + [(None, (1, 2, 3), (2, 3))] * 2
                          + [(2, (1, 2, 3), (2, 3))], running=(2, 3))
    assert resolve_target(cluster, "leader:t/0") == 2
    assert cluster.calls == 5
    for text in ("controller", "coordinator:g"):
        assert resolve_target(FakeCluster([(None, (), ())] * 3 + [(3, (), ())]), text) == 3


def test_role_targets_fail_after_the_bound(monkeypatch):
    monkeypatch.setattr(targets, "RESOLVE_TIMEOUT_S", 0.3)
    for text, states in [("leader:t/0", [(None, (1, 2, 3), ())]), ("controller", [(None, (), ())]),
                         ("coordinator:g", [(None, (), ())]), ("follower:t/0", [(1, (1, 2, 3), (1,))])]:
        with pytest.raises(FaultError, match=f"target {text}"):
            resolve_target(FakeCluster(states), text)
    with pytest.raises(FaultError, match="single replica"):
        resolve_target(FakeCluster([(1, (1,), (1,))]), "follower:t/0", timeout=10)
    with pytest.raises(FaultError, match="no such node"):
        resolve_target(FakeCluster([]), "node:9")


def test_faults_reject_bad_definitions_at_once():
    with pytest.raises(UsageError, match="unknown toxic type"):
        Toxic("jitterbug", "clients")
    with pytest.raises(UsageError, match="no attribute"):
        Toxic("latency", "clients", {"lantency": 5})
    with pytest.raises(UsageError):
        Isolate("node:1", cut="sideways")
    with pytest.raises(UsageError):
        Split((1,), (1, 2))
