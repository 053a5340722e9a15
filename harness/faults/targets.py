"""Fault targets and link selectors, resolved against the cluster when a fault is applied.

Targets: ``node:N``, ``leader:TOPIC/P`` (the partition's leader at that moment),
``controller`` (the active KRaft controller at that moment), ``coordinator:GROUP`` (the
broker coordinating the consumer group at that moment).

Link selectors:
- a link's name: ``client->node:2``, ``node:1->node:2``, ``controller:1->controller:3``;
- ``client->T``: the client link of target T (e.g. ``client->leader:t/0``);
- ``S->D`` with targets: every node-to-node link from S to D (replication and KRaft);
- ``links-of:T``: every link touching T, both directions, clients included;
- ``replication-of:T``, ``controller-links-of:T``: only that kind, both directions;
- ``clients``: every client link.
"""

from __future__ import annotations

import re

from harness.cluster.layout import Layout, Link
from harness.errors import FaultError, UsageError

_TARGET = re.compile(r"node:(\d+)|leader:([^/\s]+)/(\d+)|controller|coordinator:(\S+)")


def check_target(text: str) -> str:
    """Reject a malformed target at definition time."""
    if not _TARGET.fullmatch(text):
        raise UsageError(f"target {text!r}: expected node:N, leader:TOPIC/P, controller or coordinator:GROUP")
    return text


def resolve_target(cluster, text: str) -> int:
    """The node id ``text`` names right now."""
    match = _TARGET.fullmatch(check_target(text))
    if match.group(1):
        node_id = int(match.group(1))
        if node_id not in {n.id for n in cluster.layout.nodes}:
            raise FaultError(f"target {text}: no such node (nodes: {[n.id for n in cluster.layout.nodes]})")
        return node_id
    if match.group(2):
        leader = cluster.leader(match.group(2), int(match.group(3)))
        if leader is None:
            raise FaultError(f"target {text}: the partition has no leader now")
        return leader
    if match.group(4):
        coordinator = cluster.coordinator(match.group(4))
        if coordinator is None:
            raise FaultError(f"target {text}: the group has no coordinator now")
        return coordinator
    controller = cluster.active_controller()
    if controller is None:
        raise FaultError("target controller: no active controller now")
    return controller


_KIND_PREFIX = {"links-of:": None, "replication-of:": "replication", "controller-links-of:": "controller"}


def check_links(selector: str) -> str:
    """Reject a malformed link selector at definition time."""
    for prefix in _KIND_PREFIX:
        if selector.startswith(prefix):
            check_target(selector[len(prefix):])
            return selector
    if selector == "clients":
        return selector
    if "->" not in selector:
        raise UsageError(f"link {selector!r}: expected client->T, S->D, links-of:T, replication-of:T, "
                         "controller-links-of:T or clients")
    src, dst = selector.split("->", 1)
    if src != "client" and not re.fullmatch(r"controller:\d+", src):
        check_target(src)
    if not re.fullmatch(r"controller:\d+", dst):
        check_target(dst)
    return selector


def resolve_links(cluster, selector: str) -> list[Link]:
    """The links ``selector`` names right now (never empty)."""
    layout: Layout = cluster.layout
    check_links(selector)
    links: list[Link]
    if selector == "clients":
        links = [l for l in layout.links if l.kind == "client"]
    elif any(selector.startswith(p) for p in _KIND_PREFIX):
        prefix = next(p for p in _KIND_PREFIX if selector.startswith(p))
        node = resolve_target(cluster, selector[len(prefix):])
        kind = _KIND_PREFIX[prefix]
        links = layout.links_touching(node, [kind] if kind else ("client", "replication", "controller"))
    else:
        try:
            return [layout.link(selector)]
        except KeyError:
            pass
        src, dst = selector.split("->", 1)
        dst_id = _endpoint(cluster, dst)
        if src == "client":
            links = [l for l in layout.links if l.kind == "client" and l.dst == dst_id]
        else:
            src_id = _endpoint(cluster, src)
            links = [l for l in layout.links if l.src == src_id and l.dst == dst_id]
    if not links:
        raise FaultError(f"link {selector!r} names no link of this cluster")
    return links


def _endpoint(cluster, text: str) -> int:
    if text.startswith("controller:"):
        return int(text.split(":", 1)[1])
    return resolve_target(cluster, text)
