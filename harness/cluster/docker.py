"""The ``docker`` provider: KRaft nodes as containers on a private network, every link proxied.

Example::

    with DockerCluster(brokers=3) as cluster:
        cluster.create_topic("t", partitions=3, replication_factor=3)
        cluster.disconnect(2)          # a true partition: node 2 leaves the network

Containers are started with testcontainers (Ryuk disabled, see :mod:`harness.cluster.engine`)
on a bridge network of their own with fixed addresses, so a node keeps its name
(``kch-node-N``, a network alias) and its address across restarts and reconnections.
Links are proxied as on the local provider (same link and proxy names, same selectors):

- client links by a toxiproxy container; node N advertises ``127.0.0.1:P``, P a host port
  published by that container;
- node-to-node links by a toxiproxy inside each node's container, for that node's outgoing
  links: the JVM of node S resolves ``kch-node-D`` (its own hosts file) to ``127.1.S.D``, where
  S's toxiproxy listens and forwards to D over the network.

The harness observes each node on host ports published from the node's real listeners.
"""

from __future__ import annotations

import atexit
import ipaddress
import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness.cluster import tuning
from harness.cluster.engine import engine, engine_errors, labels, reap_containers, remove_cluster
from harness.cluster.images import Images, resolve
from harness.cluster.docker_layout import (API, CLIENT, CONTROLLER, NODE_SCRIPT, container_properties,
                                           hosts_file, plan_docker_layout)
from harness.cluster.layout import Layout, Link, Node, host_name
from harness.cluster.local import new_cluster_id, free_ports
from harness.cluster.netcut import NetCuts
from harness.cluster.observe import Observer
from harness.errors import ClusterError, UsageError
from harness.provision import DEFAULT_KAFKA_VERSION, kafka_dist, toxiproxy_bin
from harness.toxiproxy import Proxy, ToxiproxyClient
from harness.toxiproxy.fleet import ToxiproxyFleet
from harness.wait import wait_until

PROXY_KEY = "clients"
_LIVE: "set[DockerCluster]" = set()


@atexit.register
def _close_all() -> None:
    """Remove what a runner leaves open when it exits without closing (a crash, an early exit)."""
    for cluster in list(_LIVE):
        cluster.close()


class DockerCluster(Observer):
    """An N-node KRaft cluster of containers; ``close()`` removes every container and the network.

    Same interface as :class:`~harness.cluster.local.LocalCluster` (``broker_config`` included),
    plus true partitions:
    :meth:`disconnect` and :attr:`cuts` (iptables inside the nodes' network namespaces).
    """

    provider = "docker"

    def __init__(self, *, brokers: int = 3, controllers: int = 0, kafka_version: str = DEFAULT_KAFKA_VERSION,
                 workdir: Path | None = None, name: str | None = None, detached: bool = False,
                 images: str = "auto", client_proxies: bool = True,
                 broker_config: dict[str, str] | None = None) -> None:
        if not client_proxies:
            raise UsageError("the docker provider always proxies client links")
        self.own(brokers=brokers, controllers=controllers, broker_config=broker_config,
                 kafka_version=kafka_version, name=name, detached=detached, workdir=workdir)
        self.image_choice = images
        self.layout: Layout | None = None
        self.images: Images | None = None
        self.network = None
        self.containers: dict[int | str, object] = {}
        self.addresses: dict[int | str, str] = {}
        self.api_ports: dict[int | str, int] = {}
        self.paused: set[int] = set()
        self.ready_seconds: float | None = None
        self.toxiproxy: ToxiproxyFleet | None = None
        self.cuts: NetCuts | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    @engine_errors()
    def start(self, *, timeout: float = 120.0) -> "DockerCluster":
        began = time.monotonic()
        client = engine()
        reap_containers()
        if not self.detached:
            _LIVE.add(self)
        self.images = resolve(self.kafka_version, self.image_choice)
        self.layout = plan_docker_layout(brokers=self.brokers_count, controllers=self.controllers_count,
                                         ports=free_ports())
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
        self._create_network(client)
        self._start_proxy()
        tuned = tuning.properties(brokers=self.brokers_count)
        cluster_id = new_cluster_id()
        nodes = list(self.layout.nodes)
        with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
            list(pool.map(lambda n: self._start_container(n, tuned, cluster_id), nodes))
        held = {PROXY_KEY: [self._proxy(l) for l in self.layout.links if l.src is None]}
        held.update({n.id: [self._proxy(l) for l in self.layout.links if l.src == n.id] for n in nodes})
        servers = {key: ToxiproxyClient("127.0.0.1", port) for key, port in self.api_ports.items()}
        self.toxiproxy = ToxiproxyFleet(servers, held, self._server_live)
        self.cuts = NetCuts(self)
        for key in servers:
            self._sync(key)
        self.wait_ready(timeout=max(10.0, timeout - (time.monotonic() - began)))
        self.ready_seconds = time.monotonic() - began
        self.write_status()
        return self

    def close(self) -> None:
        """Remove every container and the network (a detached cluster is left running)."""
        _LIVE.discard(self)
        if self.detached or not self.containers and self.network is None:
            return
        self.save_logs()
        remove_cluster(self.name)
        self.containers.clear()
        self.network = None

    def save_logs(self) -> None:
        """Write each container's output (the node's log) to ``workdir/logs``."""
        import docker

        for key, container in list(self.containers.items()):
            name = f"node-{key}.log" if isinstance(key, int) else "toxiproxy.log"
            try:
                (self.workdir / "logs" / name).write_bytes(container.logs())
            except (docker.errors.DockerException, OSError):
                pass

    # --- containers ------------------------------------------------------------------------------
    def _create_network(self, client) -> None:
        import docker
        from docker.types import IPAMConfig, IPAMPool

        for _ in range(20):
            subnet = ipaddress.ip_network(f"10.{random.randint(100, 250)}.{random.randint(0, 255)}.0/24")
            try:
                self.network = client.networks.create(
                    f"kch-{self.name}", driver="bridge", labels=labels(self.name, detached=self.detached),
                    ipam=IPAMConfig(pool_configs=[IPAMPool(subnet=str(subnet),
                                                           iprange=str(list(subnet.subnets(new_prefix=25))[1]))]))
                break
            except docker.errors.APIError as exc:
                if "overlap" not in str(exc).lower():
                    raise ClusterError(f"creating docker network kch-{self.name}: {exc}") from exc
        else:
            raise ClusterError("no free /24 under 10.100-250.x.x for a docker network")
        hosts = list(subnet.hosts())
        self.addresses = {PROXY_KEY: str(hosts[1])}
        self.addresses.update({n.id: str(hosts[9 + n.id]) for n in self.layout.nodes})

    def _container(self, key, image: str, *, ports: dict, command=None, env=None, aliases=(),
                   extra: dict | None = None):
        from docker.types import EndpointConfig
        from testcontainers.core.container import DockerContainer

        suffix = f"node-{key}" if isinstance(key, int) else "proxy"
        tc = DockerContainer(image).with_name(f"kch-{self.name}-{suffix}")
        for inside, outside in ports.items():
            tc.ports[f"{inside}/tcp"] = ("127.0.0.1", outside)   # loopback only
        if command is not None:
            tc.with_command(command)
        for k, v in (env or {}).items():
            tc.with_env(k, v)
        endpoint = EndpointConfig(engine().api._version, aliases=list(aliases),
                                  ipv4_address=self.addresses[key])
        tc.with_kwargs(labels=labels(self.name, detached=self.detached), network=self.network.name,
                       networking_config={self.network.name: endpoint}, **(extra or {}))
        try:
            tc.start()
        except Exception as exc:
            raise ClusterError(f"starting container kch-{self.name}-{suffix} ({image}): {exc}") from exc
        self.containers[key] = tc.get_wrapped_container()
        return self.containers[key]

    def _start_proxy(self) -> None:
        port = next(free_ports())
        self.api_ports[PROXY_KEY] = port
        ports = {API: port, **{9000 + n.id: n.client_proxy_port for n in self.layout.brokers}}
        self._container(PROXY_KEY, self.images.proxy, ports=ports, aliases=["kch-proxy"])

    def _start_container(self, node: Node, tuned: dict, cluster_id: str) -> None:
        address = self.addresses[node.id]
        props = container_properties(self.layout, node, address, tuned, self.broker_config)
        ports = {API: next(free_ports())}
        self.api_ports[node.id] = ports[API]
        if node.broker:
            ports[CLIENT] = node.client_port
        if node.controller:
            ports[CONTROLLER] = node.controller_port
        env = {"KCH_PROPERTIES": "".join(f"{k}={v}\n" for k, v in props.items()),
               "KCH_HOSTS": hosts_file(self.layout, node.id, address),
               "KCH_LOG4J2": kafka_dist(self.kafka_version).log4j2_config.read_text(),
               "KCH_JVM": " ".join([*tuning.HEAP.split(), *tuning.JVM_FLAGS]),
               "KCH_CLUSTER_ID": cluster_id}
        extra = {"cap_add": ["NET_ADMIN"], "user": "0"}
        if self.images.official:      # no toxiproxy in the official image: lend it ours
            extra["volumes"] = {str(toxiproxy_bin()): {"bind": "/kch/bin/toxiproxy-server", "mode": "ro"}}
        self._container(node.id, self.images.kafka, ports=ports, command=["sh", "-c", NODE_SCRIPT], env=env,
                        aliases=[host_name(node.id)], extra=extra)

    def _proxy(self, link: Link) -> Proxy:
        return Proxy(name=link.proxy, listen=link.listen, upstream=link.upstream, enabled=True)

    def _server_live(self, key) -> bool:
        return key == PROXY_KEY or (self.is_running(key) and key not in self.paused)

    def _sync(self, key) -> None:
        server = self.toxiproxy.servers[key]

        def up() -> bool:
            try:
                server.version()
                return True
            except ClusterError:
                if key != PROXY_KEY and not self.is_running(key):
                    raise ClusterError(f"node {key} exited; see {self.workdir / 'logs' / f'node-{key}.log'}")
                return False

        wait_until(up, timeout=30, message=f"toxiproxy of {key} did not answer", error=ClusterError)
        self.toxiproxy.sync(key)

    # --- node processes ----------------------------------------------------------------------
    def _node(self, node_id: int):
        if node_id not in self.containers or not isinstance(node_id, int):
            raise UsageError(f"node {node_id} does not exist (nodes: {[n.id for n in self.layout.nodes]})")
        return self.containers[node_id]

    @engine_errors()
    def state(self, node_id: int) -> str:
        import docker

        container = self._node(node_id)
        try:
            container.reload()
        except docker.errors.NotFound:
            return "removed"
        return container.status

    def is_running(self, node_id: int) -> bool:
        return self.state(node_id) in ("running", "paused")

    @engine_errors()
    def start_node(self, node_id: int) -> None:
        """Start node ``node_id`` (again) on its existing data; its link proxies come back as they were."""
        if self.is_running(node_id):
            return
        self._node(node_id).start()
        self.paused.discard(node_id)
        self._sync(node_id)
        self.write_status()

    @engine_errors()
    def kill(self, node_id: int) -> None:
        """SIGKILL the node's container (JVM and its link proxies)."""
        self._require_running(node_id).kill()
        self.paused.discard(node_id)

    @engine_errors()
    def terminate(self, node_id: int, *, timeout: float = 30.0) -> None:
        """SIGTERM the JVM (a controlled shutdown), SIGKILL after ``timeout``."""
        container = self._require_running(node_id)
        if node_id in self.paused:
            container.unpause()
        container.stop(timeout=int(timeout))
        self.paused.discard(node_id)

    @engine_errors()
    def pause(self, node_id: int) -> None:
        """Freeze the node's container (the cgroup freezer: every process in it stops)."""
        self._require_running(node_id).pause()
        self.paused.add(node_id)

    @engine_errors()
    def resume(self, node_id: int) -> None:
        if node_id in self.paused and self.state(node_id) == "paused":
            self._node(node_id).unpause()
            self.paused.discard(node_id)
            self._sync(node_id)
        self.paused.discard(node_id)

    def _require_running(self, node_id: int):
        if not self.is_running(node_id):
            raise ClusterError(f"node {node_id} is not running")
        return self._node(node_id)

    # --- true partitions ---------------------------------------------------------------------
    @engine_errors()
    def disconnect(self, node_id: int) -> None:
        """Take the node's container off the network: no peer, client or proxy reaches it."""
        self.network.disconnect(self._node(node_id), force=True)

    @engine_errors()
    def reconnect(self, node_id: int) -> None:
        import docker

        try:
            self.network.connect(self._node(node_id), aliases=[host_name(node_id)],
                                 ipv4_address=self.addresses[node_id])
        except docker.errors.APIError as exc:
            if "already exists" not in str(exc):
                raise ClusterError(f"reconnecting node {node_id}: {exc}") from exc

    @engine_errors()
    def reset_network(self) -> None:
        """Undo every true partition: each node on the network at its address, no rule of ours left."""
        for node in self.layout.nodes:
            container = self._node(node.id)
            container.reload()
            if self.network.name not in container.attrs["NetworkSettings"]["Networks"]:
                self.reconnect(node.id)
        self.cuts.flush()

    # --- readiness and status ----------------------------------------------------------------
    @property
    def bootstrap(self) -> str:
        return self.layout.bootstrap

    def log_path(self, node_id: int) -> Path:
        return self.workdir / "logs" / f"node-{node_id}.log"

    def check_alive(self) -> None:
        for node in self.layout.nodes:
            if not self.is_running(node.id):
                self.save_logs()
                raise ClusterError(f"node {node.id} exited; see {self.log_path(node.id)}")

    def status(self) -> dict:
        return {
            "name": self.name, "provider": "docker", "kafka_version": self.kafka_version,
            "images": {"kafka": self.images.kafka, "proxy": self.images.proxy},
            "network": self.network.name if self.network else None,
            "workdir": str(self.workdir), "bootstrap_servers": self.bootstrap,
            "toxiproxy_api": f"127.0.0.1:{self.api_ports.get(PROXY_KEY)}",
            "toxiproxy_pid": None,
            "broker_config": dict(self.broker_config),
            "nodes": [{"id": n.id, "roles": n.roles, "container": f"kch-{self.name}-node-{n.id}",
                       "address": self.addresses.get(n.id), "pid": None, "paused": n.id in self.paused,
                       "client_address": f"127.0.0.1:{n.client_proxy_port}" if n.broker else None,
                       "link_proxy_api": f"127.0.0.1:{self.api_ports.get(n.id)}",
                       "log": f"docker logs kch-{self.name}-node-{n.id}"}
                      for n in self.layout.nodes],
            "links": [{"name": l.name, "proxy": l.proxy, "listen": l.listen, "upstream": l.upstream,
                       "server": "clients" if l.src is None else f"node-{l.src}"} for l in self.layout.links],
        }

    def write_status(self) -> None:
        if self.layout is not None:
            (self.workdir / "cluster.json").write_text(json.dumps(self.status(), indent=2))


__all__ = ["DockerCluster"]
