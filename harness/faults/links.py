"""Breaking links: toxics on links' proxies, disabled proxies, cuts through the proxies and
true cuts (iptables, or a container off the network). Each function breaks now and returns
what undoes it; the fault kinds (:mod:`harness.faults.kinds`) call them when they apply.
"""

from __future__ import annotations

from typing import Callable

from harness.errors import ClusterError, FaultError, KchError

BOTH_WAYS = ["downstream", "upstream"]


def add_toxics(cluster, links, type: str, attributes: dict, streams: list[str], fid: int) -> Callable[[], None]:
    """Add a toxic on every stream of every link (named after fault ``fid``); all or none."""
    tp = cluster.toxiproxy
    added: list[tuple[str, str]] = []
    try:
        for link in links:
            for stream in streams:
                name = f"kch-{fid}-{type}-{stream}"
                tp.add_toxic(link.proxy, type, name=name, stream=stream, **attributes)
                added.append((link.proxy, name))
    except KchError:
        remove_toxics(cluster, added)
        raise
    return lambda: remove_toxics(cluster, added)


def remove_toxics(cluster, added: list[tuple[str, str]]) -> None:
    """Remove the ``(proxy, toxic)`` pairs; one already gone is no error."""
    tp = cluster.toxiproxy
    for proxy, name in added:
        try:
            tp.remove_toxic(proxy, name)
        except FaultError as exc:
            if "HTTP 404" in str(exc):
                continue          # already gone (e.g. a reset by heal_all)
            _cycle(tp, proxy, lambda: tp.remove_toxic(proxy, name))
        except ClusterError:
            _cycle(tp, proxy, lambda: tp.remove_toxic(proxy, name))


def _cycle(tp, proxy: str, action: Callable[[], None]) -> None:
    """Retry `action` with the proxy's connections closed: toxiproxy cannot remove a toxic
    while a stalled connection holds its output (it answers 503 after 5 s); closing the
    connections (disable) frees it. Clients reconnect once it is enabled again."""
    tp.set_enabled(proxy, False)
    try:
        action()
    except FaultError as exc:
        if "HTTP 404" not in str(exc):
            raise
    finally:
        tp.set_enabled(proxy, True)


def disable_links(cluster, links) -> Callable[[], None]:
    """Disable the links' proxies: connections close and new ones are refused."""
    tp = cluster.toxiproxy
    for link in links:
        tp.set_enabled(link.proxy, False)
    return lambda: [tp.set_enabled(link.proxy, True) for link in links]


def cut_links(cluster, links, how: str, fid: int) -> Callable[[], None]:
    """Cut the links through their proxies: ``down`` disables them, ``blackhole`` drops every
    byte both ways (a timeout toxic of 0)."""
    if how == "down":
        return disable_links(cluster, links)
    return add_toxics(cluster, links, "timeout", {"timeout": 0}, BOTH_WAYS, fid)


def true_cut(cluster, how: str, pairs: list, node: int | None) -> Callable[[], None]:
    """A true partition (docker provider): ``drop`` the packets between each pair of nodes
    (a node or ``"clients"``), or ``disconnect`` ``node``'s container from the network."""
    if cluster.cuts is None:
        raise FaultError(f"cut {how}: a true partition needs --cluster docker (this cluster is {cluster.provider})")
    if how == "disconnect":
        cluster.disconnect(node)
        return lambda: cluster.reconnect(node)
    return cluster.cuts.drop(pairs)
