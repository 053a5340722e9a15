"""Fault targets and link selectors, resolved against the cluster when a fault is applied.

Targets:
- ``node:N``: node N;
- ``leader:TOPIC/P``: the partition's leader at that moment;
- ``follower:TOPIC/P#I``: the I-th (modulo their count) of the partition's in-sync replicas
  other than its leader, sorted by node id, at that moment (``follower:TOPIC/P`` is ``#0``);
  only running nodes count;
- ``controller``: the active KRaft controller at that moment;
- ``coordinator:GROUP``: the broker coordinating the consumer group at that moment.

A role target (all but ``node:N``) that names no running node now (a leader being elected
after a kill, a coordinator moving, a KRaft election, a follower catching up) is waited for,
up to :data:`RESOLVE_TIMEOUT_S`, before a :class:`FaultError`.

Link selectors:
- a link's name: ``client->node:2``, ``node:1->node:2``, ``controller:1->controller:3``;
- ``client->T``: the client link of target T (e.g. ``client->leader:t/0``);
- ``S->D`` with targets: every node-to-node link from S to D (replication and KRaft);
- ``links-of:T``: every link touching T, both directions, clients included;
- ``replication-of:T``, ``controller-links-of:T``: only that kind, both directions;
- ``clients``: every client link.

:func:`check_target` and :func:`check_links` check a target's or selector's shape without a
cluster (at definition or spec-load time).
"""

from __future__ import annotations

import re

from harness.cluster.layout import Layout, Link
from harness.errors import FaultError, UsageError
from harness.wait import wait_until

# How long a role target may name no running node before applying its fault fails.
RESOLVE_TIMEOUT_S = 15.0

_TARGET = re.compile(r"node:(?P<node>\d+)"
                     r"|leader:(?P<ltopic>[^/\s]+)/(?P<lpart>\d+)"
                     r"|follower:(?P<ftopic>[^/\s#]+)/(?P<fpart>\d+)(?:#(?P<index>\d+))?"
                     r"|controller"
                     r"|coordinator:(?P<group>\S+)")
TARGET_FORMS = "node:N, leader:TOPIC/P, follower:TOPIC/P[#I], controller or coordinator:GROUP"


def check_target(text: str) -> str:
    """Reject a malformed target at definition time."""
    if not isinstance(text, str) or not _TARGET.fullmatch(text):
        raise UsageError(f"target {text!r}: expected {TARGET_FORMS}")
    return text


def resolve_target(cluster, text: str, *, timeout: float | None = None) -> int:
    """The node id ``text`` names right now; a role target is waited for up to ``timeout``
    seconds (default :data:`RESOLVE_TIMEOUT_S`)."""
    match = _TARGET.fullmatch(check_target(text))
    if match["node"]:
        node_id = int(match["node"])
        if node_id not in {n.id for n in cluster.layout.nodes}:
            raise FaultError(f"target {text}: no such node (nodes: {[n.id for n in cluster.layout.nodes]})")
        return node_id
    timeout = RESOLVE_TIMEOUT_S if timeout is None else timeout
    if match["ltopic"]:
        topic, partition = match["ltopic"], int(match["lpart"])
        return _wait(cluster, text, lambda: cluster.leader(topic, partition),
                     "the partition has no running leader", timeout)
    if match["ftopic"]:
        return _follower(cluster, text, match["ftopic"], int(match["fpart"]), int(match["index"] or 0), timeout)
    if match["group"]:
        group = match["group"]
        return _wait(cluster, text, lambda: cluster.coordinator(group),
                     "the group has no running coordinator", timeout)
    return _wait(cluster, text, cluster.active_controller, "no active controller", timeout)


def _wait(cluster, text: str, ask, missing: str, timeout: float) -> int:
    """Wait for ``ask()`` to name a running node."""
    def running() -> int | None:
        node = ask()
        return node if node is not None and cluster.is_running(node) else None

    # wait_until's answer is truthy; node ids start at 1.
    return wait_until(running, timeout=timeout, message=f"target {text}: {missing}", error=FaultError)


def _follower(cluster, text: str, topic: str, partition: int, index: int, timeout: float) -> int:
    never: list[str] = []

    def followers() -> list[int] | bool:
        if len(cluster.replicas(topic, partition)) < 2:
            never.append(f"target {text}: the partition has a single replica, so no follower")
            return True
        return cluster.followers(topic, partition)

    found = wait_until(followers, timeout=timeout, error=FaultError,
                       message=f"target {text}: the partition has no running follower in sync")
    if never:
        raise FaultError(never[-1])
    return found[index % len(found)]


_KIND_PREFIX = {"links-of:": None, "replication-of:": "replication", "controller-links-of:": "controller"}
_SELECTOR_FORMS = "client->T, S->D, links-of:T, replication-of:T, controller-links-of:T or clients"


def check_links(selector: str) -> str:
    """Reject a malformed link selector at definition time (no cluster needed): every form in
    this module's docstring, with any target form in place of T, S and D."""
    if not isinstance(selector, str):
        raise UsageError(f"link {selector!r}: expected {_SELECTOR_FORMS}")
    for prefix in _KIND_PREFIX:
        if selector.startswith(prefix):
            check_target(selector[len(prefix):])
            return selector
    if selector == "clients":
        return selector
    if "->" not in selector:
        raise UsageError(f"link {selector!r}: expected {_SELECTOR_FORMS}")
    src, dst = selector.split("->", 1)
    if src != "client" and not re.fullmatch(r"controller:\d+", src):
        check_target(src)
    if not re.fullmatch(r"controller:\d+", dst):
        check_target(dst)
    return selector


def resolve_links(cluster, selector: str, *, timeout: float | None = None) -> list[Link]:
    """The links ``selector`` names right now (never empty); targets resolve as in
    :func:`resolve_target`."""
    layout: Layout = cluster.layout
    check_links(selector)
    links: list[Link]
    if selector == "clients":
        links = [l for l in layout.links if l.kind == "client"]
    elif any(selector.startswith(p) for p in _KIND_PREFIX):
        prefix = next(p for p in _KIND_PREFIX if selector.startswith(p))
        node = resolve_target(cluster, selector[len(prefix):], timeout=timeout)
        kind = _KIND_PREFIX[prefix]
        links = layout.links_touching(node, [kind] if kind else ("client", "replication", "controller"))
    else:
        try:
            return [layout.link(selector)]
        except KeyError:
            pass
        src, dst = selector.split("->", 1)
        dst_id = _endpoint(cluster, dst, timeout)
        if src == "client":
            links = [l for l in layout.links if l.kind == "client" and l.dst == dst_id]
        else:
            src_id = _endpoint(cluster, src, timeout)
            links = [l for l in layout.links if l.src == src_id and l.dst == dst_id]
    if not links:
        raise FaultError(f"link {selector!r} names no link of this cluster")
    return links


def _endpoint(cluster, text: str, timeout: float | None) -> int:
    if text.startswith("controller:"):
        return int(text.split(":", 1)[1])
    return resolve_target(cluster, text, timeout=timeout)
