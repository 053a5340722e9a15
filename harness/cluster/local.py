"""The ``local`` provider: a KRaft cluster of JVM processes on loopback, every link proxied.

Example::

    with LocalCluster(brokers=3) as cluster:
        cluster.create_topic("t", partitions=3, replication_factor=3)
        print(cluster.bootstrap, cluster.leader("t", 0))
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

from harness.cluster import tuning
from harness.cluster.layout import Layout, Node, node_properties, plan_layout
from harness.cluster.observe import Observer
from harness.errors import ClusterError, UsageError
from harness.procs import ProcessGroup, reap_orphans
from harness.provision import DEFAULT_KAFKA_VERSION, kafka_dist
from harness.toxiproxy import Proxy, ToxiproxyClient
from harness.toxiproxy.server import ToxiproxyServer, free_port

def new_cluster_id() -> str:
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def free_ports() -> Iterator[int]:
    seen: set[int] = set()
    while True:
        port = free_port()
        if port not in seen:
            seen.add(port)
            yield port


class LocalCluster(Observer):
    """An N-node KRaft cluster of local JVMs behind a toxiproxy; ``close()`` stops everything.

    ``brokers`` nodes are brokers; with ``controllers=0`` the first three are also the KRaft
    controllers (combined mode), otherwise ``controllers`` dedicated controller nodes are
    added. Node data, configs and logs live under ``workdir`` (a fresh temporary directory by
    default). ``detached=True`` keeps the cluster alive after this process exits
    (``kch cluster up``). ``broker_config`` (server.properties entries) goes into every node's
    config over kch's tuned defaults; a key kch needs to set itself
    (:data:`~harness.cluster.layout.RESERVED_BROKER_KEYS`) is a :class:`UsageError`.
    """

    provider = "local"
    cuts = None            # no true partitions here: every cut is a proxy's

    def __init__(self, *, brokers: int = 3, controllers: int = 0,
                 kafka_version: str = DEFAULT_KAFKA_VERSION, workdir: Path | None = None,
                 name: str | None = None, detached: bool = False, client_proxies: bool = True,
                 broker_config: dict[str, str] | None = None) -> None:
        self.own(brokers=brokers, controllers=controllers, broker_config=broker_config,
                 kafka_version=kafka_version, name=name, detached=detached, workdir=workdir)
        self.client_proxies = client_proxies
        self.layout: Layout | None = None
        self.group: ProcessGroup | None = None
        self.toxiproxy_server: ToxiproxyServer | None = None
        self.procs: dict[int, subprocess.Popen] = {}
        self.paused: set[int] = set()
        self.ready_seconds: float | None = None
        self._dist = None

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self, *, timeout: float = 90.0) -> "LocalCluster":
        """Provision, configure, format and start every node; return when the cluster is ready."""
        reap_orphans()
        began = time.monotonic()
        self._dist = kafka_dist(self.kafka_version)
        self.group = ProcessGroup(self.name, detached=self.detached)
        self.layout = plan_layout(brokers=self.brokers_count, controllers=self.controllers_count,
                                  ports=free_ports(), client_proxies=self.client_proxies)
        cluster_id = new_cluster_id()
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "logs").mkdir(exist_ok=True)
        self.toxiproxy_server = ToxiproxyServer(self.group, log_path=self.workdir / "logs" / "toxiproxy.log")
        self.toxiproxy_server.start()
        self.toxiproxy.populate([Proxy(name=l.proxy, listen=l.listen, upstream=l.upstream, enabled=True)
                                 for l in self.layout.links])
        tuned = tuning.properties(brokers=self.brokers_count)
        for node in self.layout.nodes:
            self._write_config(node, tuned)
        with ThreadPoolExecutor(max_workers=len(self.layout.nodes)) as pool:
            list(pool.map(lambda n: self._format(n, cluster_id), self.layout.nodes))
        for node in self.layout.nodes:
            self.start_node(node.id)
        self.wait_ready(timeout=max(5.0, timeout - (time.monotonic() - began)))
        self.ready_seconds = time.monotonic() - began
        self.write_status()
        return self

    def close(self) -> None:
        """Stop every node and the proxy (nodes first, all at once); remove a temporary workdir's data."""
        if self.group is not None:
            self.group.close()
            self.group = None
        self.procs.clear()
        if self.owns_workdir and not self.detached and self.workdir.exists():
            for node_dir in self.workdir.glob("node-*/data"):
                shutil.rmtree(node_dir, ignore_errors=True)

    # --- configuration -----------------------------------------------------------------------
    def node_dir(self, node_id: int) -> Path:
        return self.workdir / f"node-{node_id}"

    def log_path(self, node_id: int) -> Path:
        return self.workdir / "logs" / f"node-{node_id}.log"

    def reset_network(self) -> None:
        """Nothing to do: every cut here is a proxy's, and ``toxiproxy.reset()`` undoes it."""

    def save_logs(self) -> None:
        """Nothing to do: every node already logs to a file under ``workdir/logs``."""

    def _write_config(self, node: Node, tuned: dict) -> None:
        d = self.node_dir(node.id)
        d.mkdir(parents=True, exist_ok=True)
        props = node_properties(self.layout, node, data_dir=str(d / "data"), tuned=tuned,
                                config=self.broker_config)
        (d / "server.properties").write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        (d / "hosts").write_text(self.layout.hosts_file(node.id))

    def _java(self, node_id: int, main: list[str], log: Path) -> list[str]:
        d = self.node_dir(node_id)
        return [self._dist.java, *tuning.HEAP.split(), *tuning.JVM_FLAGS,
                f"-Djdk.net.hosts.file={d / 'hosts'}",
                f"-Dlog4j2.configurationFile={self._dist.log4j2_config}",
                f"-Dkch.log.file={log}", "-cp", self._dist.classpath, *main]

    def _format(self, node: Node, cluster_id: str) -> None:
        d = self.node_dir(node.id)
        log = self.workdir / "logs" / f"format-{node.id}.log"
        cmd = self._java(node.id, ["kafka.tools.StorageTool", "format", "-t", cluster_id,
                                   "-c", str(d / "server.properties")], log)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise ClusterError(f"formatting node {node.id} failed: {(proc.stderr or proc.stdout).strip()[-300:]}")

    # --- node processes ----------------------------------------------------------------------
    def start_node(self, node_id: int) -> None:
        """Start node ``node_id`` (again) on its existing data."""
        if self.is_running(node_id):
            return
        cmd = self._java(node_id, ["kafka.Kafka", str(self.node_dir(node_id) / "server.properties")],
                         self.log_path(node_id))
        self.procs[node_id] = self.group.spawn(cmd, log_path=self.workdir / "logs" / f"node-{node_id}.out",
                                               label=f"kafka node {node_id}")
        self.paused.discard(node_id)
        self.write_status()

    def is_running(self, node_id: int) -> bool:
        proc = self.procs.get(node_id)
        return proc is not None and proc.poll() is None

    def pid(self, node_id: int) -> int | None:
        return self.procs[node_id].pid if self.is_running(node_id) else None

    def kill(self, node_id: int) -> None:
        """SIGKILL the node: no shutdown, no leadership hand-over."""
        proc = self._proc(node_id)
        self.group.kill(proc)
        self.paused.discard(node_id)

    def terminate(self, node_id: int, *, timeout: float = 30.0) -> None:
        """SIGTERM the node: a controlled shutdown that hands leadership over first."""
        proc = self._proc(node_id)
        self.group.stop(proc, timeout=timeout)
        self.paused.discard(node_id)

    def pause(self, node_id: int) -> None:
        os.kill(self._proc(node_id).pid, signal.SIGSTOP)
        self.paused.add(node_id)

    def resume(self, node_id: int) -> None:
        if node_id in self.paused and self.is_running(node_id):
            os.kill(self.procs[node_id].pid, signal.SIGCONT)
        self.paused.discard(node_id)

    def _proc(self, node_id: int) -> subprocess.Popen:
        if node_id not in {n.id for n in self.layout.nodes}:
            raise UsageError(f"node {node_id} does not exist (nodes: {[n.id for n in self.layout.nodes]})")
        if not self.is_running(node_id):
            raise ClusterError(f"node {node_id} is not running")
        return self.procs[node_id]

    # --- readiness ---------------------------------------------------------------------------
    @property
    def toxiproxy(self) -> ToxiproxyClient:
        return self.toxiproxy_server.client

    @property
    def bootstrap(self) -> str:
        return self.layout.bootstrap

    def check_alive(self) -> None:
        for node_id, proc in self.procs.items():
            if proc.poll() is not None:
                raise ClusterError(f"node {node_id} exited with {proc.returncode}; see {self.log_path(node_id)}")

    # --- status --------------------------------------------------------------------------------
    def status(self) -> dict:
        """What a person reproducing a bug by hand needs: addresses, proxies, pids, logs."""
        return {
            "name": self.name,
            "provider": "local",
            "kafka_version": self._dist.version if self._dist else self.kafka_version,
            "workdir": str(self.workdir),
            "bootstrap_servers": self.bootstrap,
            "toxiproxy_api": f"127.0.0.1:{self.toxiproxy_server.port}",
            "toxiproxy_pid": self.toxiproxy_server.pid,
            "broker_config": dict(self.broker_config),
            "nodes": [{"id": n.id, "roles": n.roles, "pid": self.pid(n.id),
                       "paused": n.id in self.paused,
                       "client_address": f"127.0.0.1:{n.client_proxy_port}" if n.broker else None,
                       "log": str(self.log_path(n.id)),
                       "config": str(self.node_dir(n.id) / "server.properties")}
                      for n in self.layout.nodes],
            "links": [{"name": l.name, "proxy": l.proxy, "listen": l.listen, "upstream": l.upstream}
                      for l in self.layout.links],
        }

    def write_status(self) -> None:
        if self.layout is not None and self.toxiproxy_server is not None:
            (self.workdir / "cluster.json").write_text(json.dumps(self.status(), indent=2))
