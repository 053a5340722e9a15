"""The shape of a docker cluster: nodes, host ports, links, and each node's config. Pure data.

Inside the network a node listens on fixed ports (CLIENT 9092, INTERNAL 9093, CONTROLLER
9094) bound to its own address; its toxiproxy (API 8474) holds its outgoing links on
``127.1.S.D`` with the same ports. Link and proxy names are the local provider's
(:mod:`harness.cluster.layout`), so every selector means the same on both.
"""

from __future__ import annotations

from harness.cluster.layout import Layout, Link, Node, host_name, pair_address, peer_links, server_properties

CLIENT, INTERNAL, CONTROLLER, API = 9092, 9093, 9094, 8474

NODE_SCRIPT = """set -ef
mkdir -p /kch/conf /var/lib/kch
printf '%s' "$KCH_PROPERTIES" > /kch/conf/server.properties
printf '%s' "$KCH_HOSTS" > /kch/conf/hosts
printf '%s' "$KCH_LOG4J2" > /kch/conf/log4j2.xml
/kch/bin/toxiproxy-server -host 0.0.0.0 -port 8474 > /kch/toxiproxy.log 2>&1 &
J="java $KCH_JVM -Djdk.net.hosts.file=/kch/conf/hosts -Dlog4j2.configurationFile=/kch/conf/log4j2.xml"
J="$J -Dkch.log.file=/dev/stdout -cp /opt/kafka/libs/*"
[ -f /var/lib/kch/data/meta.properties ] || $J kafka.tools.StorageTool format -t "$KCH_CLUSTER_ID" -c /kch/conf/server.properties
exec $J kafka.Kafka /kch/conf/server.properties
"""


def plan_docker_layout(*, brokers: int, controllers: int, ports) -> Layout:
    """Nodes and links of a docker cluster. A node's ``client_port`` and ``controller_port``
    are host ports published from its real listeners (for observing); ``client_proxy_port``
    is the host port of its client link."""
    nodes: list[Node] = []
    voters = min(3, brokers) if controllers == 0 else 0
    for i in range(1, brokers + 1):
        nodes.append(Node(i, True, i <= voters, next(ports), next(ports), INTERNAL,
                          next(ports) if i <= voters else None))
    for j in range(controllers):
        nodes.append(Node(brokers + j + 1, False, True, None, None, None, next(ports)))
    links = [Link(f"client->node:{n.id}", "client", None, n.id, f"0.0.0.0:{9000 + n.id}",
                  f"{host_name(n.id)}:{CLIENT}") for n in nodes if n.broker]
    links += peer_links(nodes, lambda dst, kind: INTERNAL if kind == "replication" else CONTROLLER,
                        lambda dst: host_name(dst.id))
    return Layout(tuple(nodes), tuple(links))


def container_properties(layout: Layout, node: Node, address: str, tuned: dict,
                         config: dict | None = None) -> dict[str, object]:
    """server.properties of ``node``: its listeners bind the node's network address (its own
    toxiproxy listens on loopback addresses with the same ports); ``config`` as for
    :func:`~harness.cluster.layout.server_properties`."""
    voters = ",".join(f"{n.id}@{host_name(n.id)}:{CONTROLLER}" for n in layout.controllers)
    return server_properties(node, bind=address, ports=(CLIENT, INTERNAL, CONTROLLER), voters=voters,
                             data_dir="/var/lib/kch/data", tuned=tuned, config=config)


def hosts_file(layout: Layout, node_id: int, address: str) -> str:
    """The JVM's hosts file on node ``node_id``: itself at its address, each peer at the
    loopback address where its own toxiproxy holds the link to that peer."""
    lines = ["127.0.0.1 localhost", f"{address} {host_name(node_id)}"]
    lines += [f"{pair_address(node_id, n.id)} {host_name(n.id)}" for n in layout.nodes if n.id != node_id]
    return "\n".join(lines) + "\n"
