"""The cluster layout and link selectors, as pure data."""

from __future__ import annotations

import itertools

import pytest

from harness.cluster.layout import node_properties, plan_layout
from harness.errors import UsageError
from harness.faults import Isolate, Split, Toxic
from harness.faults.targets import check_links, check_target


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


@pytest.mark.parametrize("bad", ["node:x", "leader:t", "leader", "controller:1", ""])
def test_bad_targets_are_rejected(bad):
    with pytest.raises(UsageError):
        check_target(bad)


@pytest.mark.parametrize("good", ["client->node:1", "node:1->node:2", "client->leader:t/0",
                                  "links-of:controller", "controller-links-of:node:2", "clients",
                                  "node:1->controller:3"])
def test_good_link_selectors(good):
    assert check_links(good) == good


def test_faults_reject_bad_definitions_at_once():
    with pytest.raises(UsageError, match="unknown toxic type"):
        Toxic("jitterbug", "clients")
    with pytest.raises(UsageError, match="no attribute"):
        Toxic("latency", "clients", {"lantency": 5})
    with pytest.raises(UsageError):
        Isolate("node:1", cut="sideways")
    with pytest.raises(UsageError):
        Split((1,), (1, 2))
