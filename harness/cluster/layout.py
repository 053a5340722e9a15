"""The shape of a local cluster: nodes, ports, and every link that can be cut. Pure data.

Each node listens on 127.0.0.1 only, on three listeners: ``CLIENT`` (clients), ``INTERNAL``
(replication) and ``CONTROLLER`` (KRaft, on controller nodes). Every path between two parties
is a named :class:`Link` with its own toxiproxy proxy:

- ``client->node:N``: all client traffic to node N. The node *advertises* the proxy address on
  its CLIENT listener, so after the first metadata response no client can bypass it.
- ``node:S->node:D``: replication (followers on S fetching from leader D) and every other
  broker-to-broker request from S to D. One proxy per ordered pair.
- ``controller:S->controller:D`` (S a controller) or ``node:S->controller:D`` (S a broker only):
  KRaft traffic from S to controller D (votes, metadata fetches) and, from a broker on S,
  registration and heartbeats to D when D is the active controller. One proxy per ordered pair.

Per-pair proxies work because each node's JVM resolves its peers' names from its *own* hosts
file (``-Djdk.net.hosts.file``): on node S the name ``kch-node-D`` means ``127.1.S.D``, where
the proxy for S->D listens on D's port; on node D it means 127.0.0.1, itself. Nodes advertise
INTERNAL and CONTROLLER listeners under these names, so whichever way Kafka learns an
endpoint (static ``controller.quorum.voters``, endpoints carried in KRaft responses, broker
registrations), the connection from S to D goes through proxy S->D. A node's traffic to itself
is never proxied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Mapping

from harness.errors import UsageError
from harness.vocab.cluster import RESERVED_BROKER_KEYS, RESERVED_BROKER_PREFIXES, reserved_broker_key  # noqa: F401 (re-exported)

MAX_NODES = 200

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def host_name(node: int) -> str:
    return f"kch-node-{node}"


def pair_address(src: int, dst: int) -> str:
    """The loopback address where node ``src`` reaches node ``dst``."""
    return "127.0.0.1" if src == dst else f"127.1.{src}.{dst}"


@dataclass(frozen=True)
class Node:
    id: int
    broker: bool
    controller: bool
    client_port: int | None      # real CLIENT listener (brokers)
    client_proxy_port: int | None  # advertised CLIENT address, a toxiproxy proxy
    internal_port: int | None    # real INTERNAL listener (brokers)
    controller_port: int | None  # real CONTROLLER listener (controllers)

    @property
    def roles(self) -> str:
        return ",".join(r for r, on in (("broker", self.broker), ("controller", self.controller)) if on)


@dataclass(frozen=True)
class Link:
    """A cuttable path: traffic from ``src`` (None: clients) to node ``dst`` of one ``kind``."""

    name: str
    kind: str          # "client" | "replication" | "controller"
    src: int | None
    dst: int
    listen: str        # host:port the proxy listens on
    upstream: str      # host:port of the real listener

    @property
    def proxy(self) -> str:
        """The toxiproxy proxy name for this link (toxiproxy names allow no '>' or ':')."""
        src = "client" if self.src is None else str(self.src)
        return f"{self.kind}-{src}-to-{self.dst}"


@dataclass(frozen=True)
class Layout:
    nodes: tuple[Node, ...]
    links: tuple[Link, ...]

    @property
    def brokers(self) -> list[Node]:
        return [n for n in self.nodes if n.broker]

    @property
    def controllers(self) -> list[Node]:
        return [n for n in self.nodes if n.controller]

    def node(self, node_id: int) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    @property
    def bootstrap(self) -> str:
        """Bootstrap servers for clients: every broker's proxied client address."""
        return ",".join(f"127.0.0.1:{n.client_proxy_port}" for n in self.brokers)

    def link(self, name: str) -> Link:
        for link in self.links:
            if link.name == name:
                return link
        raise KeyError(name)

    def links_touching(self, node_id: int, kinds: Iterable[str] = ("client", "replication", "controller")) -> list[Link]:
        kinds = set(kinds)
        return [l for l in self.links if l.kind in kinds and node_id in (l.src, l.dst)]

    def links_between(self, side_a: Iterable[int], side_b: Iterable[int]) -> list[Link]:
        """Every node-to-node link crossing between the two sides, both directions."""
        a, b = set(side_a), set(side_b)
        return [l for l in self.links if l.src is not None
                and ((l.src in a and l.dst in b) or (l.src in b and l.dst in a))]

    def voters(self) -> str:
        return ",".join(f"{n.id}@{host_name(n.id)}:{n.controller_port}" for n in self.controllers)

    def hosts_file(self, node_id: int) -> str:
        lines = ["127.0.0.1 localhost"]
        lines += [f"{pair_address(node_id, n.id)} {host_name(n.id)}" for n in self.nodes]
        return "\n".join(lines) + "\n"


def plan_layout(*, brokers: int, controllers: int = 0, ports: Iterator[int],
                client_proxies: bool = True) -> Layout:
    """Lay out ``brokers`` brokers; ``controllers=0`` makes every broker also a controller
    (combined mode, at most the first 3 vote), otherwise adds that many dedicated controllers
    with ids after the brokers'. ``ports`` yields free loopback ports. ``client_proxies=False``
    (for benchmarks only) lets clients talk to brokers directly: no client links."""
    if brokers < 1 or brokers + controllers > MAX_NODES:
        raise ValueError(f"brokers must be 1..{MAX_NODES}")
    nodes: list[Node] = []
    combined_voters = min(3, brokers) if controllers == 0 else 0
    for i in range(1, brokers + 1):
        is_controller = i <= combined_voters
        client_port = next(ports)
        proxy_port = next(ports) if client_proxies else client_port
        nodes.append(Node(i, True, is_controller, client_port, proxy_port, next(ports),
                          next(ports) if is_controller else None))
    for j in range(controllers):
        nodes.append(Node(brokers + j + 1, False, True, None, None, None, next(ports)))
    links = [Link(f"client->node:{n.id}", "client", None, n.id,
                  f"127.0.0.1:{n.client_proxy_port}", f"127.0.0.1:{n.client_port}")
             for n in nodes if n.broker and client_proxies]
    links += peer_links(nodes, lambda dst, kind: dst.internal_port if kind == "replication" else dst.controller_port,
                        lambda dst: "127.0.0.1")
    return Layout(tuple(nodes), tuple(links))


def peer_links(nodes: list[Node], port: Callable[[Node, str], int], host: Callable[[Node], str]) -> list[Link]:
    """Every node-to-node link: replication between brokers, KRaft traffic to controllers.
    Proxy S->D listens on ``pair_address(S, D):port(D, kind)`` and forwards to
    ``host(D):port(D, kind)``."""
    links: list[Link] = []
    for src in nodes:
        for dst in nodes:
            if src.id == dst.id:
                continue
            kinds = (["replication"] if src.broker and dst.broker else []) + (["controller"] if dst.controller else [])
            for kind in kinds:
                if kind == "replication":
                    name = f"node:{src.id}->node:{dst.id}"
                else:
                    name = f"{'controller' if src.controller else 'node'}:{src.id}->controller:{dst.id}"
                p = port(dst, kind)
                links.append(Link(name, kind, src.id, dst.id, f"{pair_address(src.id, dst.id)}:{p}",
                                  f"{host(dst)}:{p}"))
    return links


def check_shape(brokers: int, controllers: int) -> None:
    """A UsageError unless the cluster's shape is one kch runs: 1..9 brokers, 0 (combined),
    1, 3 or 5 dedicated controllers."""
    if not 1 <= brokers <= 9:
        raise UsageError(f"--brokers: {brokers} is outside 1..9")
    if controllers not in (0, 1, 3, 5):
        raise UsageError(f"--controllers: {controllers} must be 0 (combined), 1, 3 or 5")


def check_broker_config(config: Mapping[str, object] | None) -> dict[str, str]:
    """``config`` as server.properties entries (booleans as ``true``/``false``); a
    :class:`UsageError` naming the key for a reserved key, a malformed key or a value that
    is not a plain one-line scalar."""
    checked: dict[str, str] = {}
    for key, value in (config or {}).items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise UsageError(f"broker config key {key!r}: not a server.properties key")
        if reserved_broker_key(key):
            raise UsageError(f"broker config {key}: reserved, kch sets it itself (reserved: "
                             f"{', '.join(k for k in RESERVED_BROKER_KEYS if not k.startswith(RESERVED_BROKER_PREFIXES))}"
                             f", {', '.join(p + '*' for p in RESERVED_BROKER_PREFIXES)})")
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            text = str(value)
        else:
            raise UsageError(f"broker config {key}: value {value!r} is not a string, number or boolean")
        if "\n" in text or "\r" in text:
            raise UsageError(f"broker config {key}: the value spans lines")
        checked[key] = text
    return checked


def node_properties(layout: Layout, node: Node, *, data_dir: str, tuned: dict[str, object],
                    config: Mapping[str, object] | None = None) -> dict[str, object]:
    """server.properties of a local ``node``: listeners on 127.0.0.1 at its own ports."""
    return server_properties(node, bind="127.0.0.1", voters=layout.voters(),
                             ports=(node.client_port, node.internal_port, node.controller_port),
                             data_dir=data_dir, tuned=tuned, config=config)


def server_properties(node: Node, *, bind: str, ports: tuple, voters: str, data_dir: str,
                      tuned: dict[str, object], config: Mapping[str, object] | None = None) -> dict[str, object]:
    """server.properties of ``node``, its listeners bound to ``bind`` at ``ports`` (CLIENT,
    INTERNAL, CONTROLLER), which peers reach under its name; clients reach it at its proxy.
    ``tuned`` (kch's defaults, :mod:`harness.cluster.tuning`) comes next, then ``config`` (a
    cluster's ``broker_config``, on every node, controllers too), which overrides ``tuned``
    but may not touch :data:`RESERVED_BROKER_KEYS`."""
    client, internal, controller = ports
    listeners, advertised, proto = [], [], []
    if node.broker:
        listeners += [f"CLIENT://{bind}:{client}", f"INTERNAL://{bind}:{internal}"]
        advertised += [f"CLIENT://127.0.0.1:{node.client_proxy_port}", f"INTERNAL://{host_name(node.id)}:{internal}"]
        proto += ["CLIENT:PLAINTEXT", "INTERNAL:PLAINTEXT"]
    if node.controller:
        listeners.append(f"CONTROLLER://{bind}:{controller}")
        advertised.append(f"CONTROLLER://{host_name(node.id)}:{controller}")
    proto.append("CONTROLLER:PLAINTEXT")
    props: dict[str, object] = {
        "process.roles": node.roles,
        "node.id": node.id,
        "controller.quorum.voters": voters,
        "controller.listener.names": "CONTROLLER",
        "listeners": ",".join(listeners),
        "advertised.listeners": ",".join(advertised),
        "listener.security.protocol.map": ",".join(proto),
        "log.dirs": data_dir,
    }
    if node.broker:
        props["inter.broker.listener.name"] = "INTERNAL"
    props.update(tuned)
    props.update(check_broker_config(config))
    return props
