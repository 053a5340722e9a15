"""Observing a cluster's topology over the nodes' real listeners (never through the proxies).

Faults cut the links clients and peers use; the harness must still see the truth. Each query
asks every running, unpaused node directly and merges the answers: for a partition the answer
with the highest leader epoch wins; a broker counts as unfenced only if every answering broker
says so (an isolated broker's own stale view cannot make it look healthy).
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable, TypeVar

from harness.cluster import wire
from harness.cluster.layout import Layout, check_broker_config, check_shape
from harness.home import state_dir
from harness.errors import ClusterError
from harness.wait import wait_until

T = TypeVar("T")
ASK_TIMEOUT = 1.5
READY_TOPIC = "__kch_ready"
# librdkafka's own log lines of the harness's helper clients (probes, admin): into a run's
# client.log when one is being written (a child of kch.client), never onto the terminal.
HARNESS_CLIENT_LOG = logging.getLogger("kch.client.harness")
HARNESS_CLIENT_LOG.addHandler(logging.NullHandler())


def harness_client(bootstrap: str, **config: object) -> dict:
    """Config of a confluent-kafka client the harness itself uses (not a client under test)."""
    return {"bootstrap.servers": bootstrap, "logger": HARNESS_CLIENT_LOG, **config}


class Observer:
    """Topology queries and the context-manager protocol, for a cluster provider that has
    ``layout``, ``paused``, ``is_running``, ``check_alive``, ``start`` and ``close``."""

    layout: Layout
    paused: set[int]

    def own(self, *, brokers: int, controllers: int, broker_config: dict[str, str] | None,
            kafka_version: str, name: str | None, detached: bool, workdir: Path | None) -> None:
        """The fields every provider has: shape, broker settings, version, name, workdir."""
        check_shape(brokers, controllers)
        self.brokers_count, self.controllers_count = brokers, controllers
        self.broker_config = check_broker_config(broker_config)
        self.kafka_version = kafka_version
        self.name = name or f"cluster-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.detached = detached
        self.owns_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="kch-", dir=state_dir()))

    def start(self):  # pragma: no cover - provided by the cluster
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - provided by the cluster
        raise NotImplementedError

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def is_running(self, node_id: int) -> bool:  # pragma: no cover - provided by the cluster
        raise NotImplementedError

    def check_alive(self) -> None:  # pragma: no cover - provided by the cluster
        """Raise :class:`ClusterError` naming the log of any node that exited on its own."""
        raise NotImplementedError

    def wait_ready(self, *, timeout: float = 60.0) -> None:
        """Wait until every broker is registered and unfenced and a replicated topic takes writes."""
        def brokers_up() -> bool:
            self.check_alive()
            return self.unfenced_brokers() == {n.id for n in self.layout.brokers}

        deadline = time.monotonic() + timeout
        wait_until(brokers_up, timeout=timeout, message="brokers did not all register unfenced")
        rf = min(3, len(self.layout.brokers))
        self.create_topic(READY_TOPIC, partitions=1, replication_factor=rf,
                          config={"min.insync.replicas": str(min(2, rf))}, exist_ok=True)
        wait_until(lambda: self._probe_write(READY_TOPIC), timeout=max(5.0, deadline - time.monotonic()),
                   message="a replicated topic did not accept an acks=all write")

    def _probe_write(self, topic: str) -> bool:
        from confluent_kafka import Producer

        producer = Producer(harness_client(self.layout.bootstrap, **{"acks": "all", "message.timeout.ms": 3000,
                                                                     "enable.idempotence": False}))
        result: list = []
        producer.produce(topic, b"ready", on_delivery=lambda err, msg: result.append(err))
        producer.flush(5)
        return bool(result) and result[0] is None

    def _reachable(self, role: str) -> list:
        nodes = self.layout.brokers if role == "broker" else self.layout.controllers
        return [n for n in nodes if self.is_running(n.id) and n.id not in self.paused]

    def _ask_brokers(self, ask: Callable[[str, int], T]) -> dict[int, T]:
        answers: dict[int, T] = {}
        for node in self._reachable("broker"):
            try:
                answers[node.id] = ask("127.0.0.1", node.client_port)
            except wire.WireError:
                continue
        return answers

    def metadata(self, topics: list[str] | None = None) -> wire.Metadata:
        """Every partition's freshest state across all reachable brokers."""
        merged = wire.Metadata()
        answers = self._ask_brokers(lambda h, p: wire.metadata(h, p, topics, timeout=ASK_TIMEOUT))
        if not answers:
            raise ClusterError("no broker answered a metadata request")
        for md in answers.values():
            merged.brokers.update(md.brokers)
            for key, state in md.partitions.items():
                if state.error == 0 and (key not in merged.partitions
                                         or state.leader_epoch > merged.partitions[key].leader_epoch):
                    merged.partitions[key] = state
        return merged

    def partition(self, topic: str, partition: int) -> wire.PartitionState:
        state = self.metadata([topic]).partitions.get((topic, partition))
        if state is None:
            raise ClusterError(f"partition {topic}/{partition} is unknown to every reachable broker")
        return state

    def leader(self, topic: str, partition: int) -> int | None:
        """The leader of ``topic/partition`` (None while it has none)."""
        leader = self.partition(topic, partition).leader
        return leader if leader >= 0 else None

    def replicas(self, topic: str, partition: int) -> list[int]:
        """The replicas of ``topic/partition``, in Kafka's order (the first is the preferred leader)."""
        return list(self.partition(topic, partition).replicas)

    def isr(self, topic: str, partition: int) -> list[int]:
        """The in-sync replicas of ``topic/partition`` (leader included), in Kafka's order."""
        return list(self.partition(topic, partition).isr)

    def followers(self, topic: str, partition: int) -> list[int]:
        """The in-sync replicas of ``topic/partition`` other than its leader whose node is
        running, sorted by node id (empty while the partition has no leader)."""
        state = self.partition(topic, partition)
        if state.leader < 0:
            return []
        return sorted(n for n in state.isr if n != state.leader and self.is_running(n))

    def unfenced_brokers(self, *, views: dict | None = None) -> set[int]:
        """Brokers every reachable broker sees registered and unfenced."""
        if views is None:
            views = self._ask_brokers(lambda h, p: wire.describe_brokers(h, p, timeout=ASK_TIMEOUT))
        if not views:
            return set()
        sets = [{b.node_id for b in view if not b.fenced} for view in views.values()]
        return set.intersection(*sets)

    def active_controller(self) -> int | None:
        """The KRaft leader: the highest-epoch leader any reachable controller reports."""
        best: wire.Quorum | None = None
        for node in self._reachable("controller"):
            try:
                quorum = wire.describe_quorum("127.0.0.1", node.controller_port, timeout=ASK_TIMEOUT)
            except wire.WireError:
                continue
            if quorum and (best is None or quorum.leader_epoch > best.leader_epoch):
                best = quorum
        return best.leader_id if best else None

    def coordinator(self, group: str) -> int | None:
        """The broker coordinating consumer group `group` now (None if it cannot be told)."""
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import AdminClient

        admin = AdminClient(harness_client(self.layout.bootstrap))
        try:
            desc = admin.describe_consumer_groups([group], request_timeout=5)[group].result(timeout=10)
        except KafkaException:
            return None
        return desc.coordinator.id if desc.coordinator is not None else None

    def healthy(self) -> bool:
        """All nodes up and unpaused, every broker answering and unfenced in every broker's view,
        a controller, every ISR complete."""
        if self.paused or not all(self.is_running(n.id) for n in self.layout.nodes):
            return False
        brokers = {n.id for n in self.layout.brokers}
        views = self._ask_brokers(lambda h, p: wire.describe_brokers(h, p, timeout=ASK_TIMEOUT))
        if set(views) != brokers:      # a restarted broker must answer itself, not only be
            return False               # still registered in the others' (stale) view
        if self.unfenced_brokers(views=views) != brokers:
            return False
        if self.active_controller() is None:
            return False
        return all(s.leader >= 0 and set(s.isr) == set(s.replicas)
                   for s in self.metadata().partitions.values())

    def wait_healthy(self, *, timeout: float = 60.0) -> float:
        """Wait until :meth:`healthy`; return the seconds it took."""
        began = time.monotonic()
        wait_until(self.healthy, timeout=timeout, message="cluster did not return to full health")
        return time.monotonic() - began

    def create_topic(self, name: str, *, partitions: int = 1, replication_factor: int | None = None,
                     config: dict[str, str] | None = None, exist_ok: bool = False,
                     timeout: float = 30.0) -> None:
        """Create a topic through the client links and wait until every partition has a leader."""
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import AdminClient, NewTopic

        rf = replication_factor or min(3, len(self.layout.brokers))
        admin = AdminClient(harness_client(self.layout.bootstrap))
        futures = admin.create_topics([NewTopic(name, partitions, rf, config=dict(config or {}))],
                                      operation_timeout=timeout, request_timeout=timeout)
        try:
            futures[name].result(timeout=timeout)
        except KafkaException as exc:
            if not (exist_ok and "TOPIC_ALREADY_EXISTS" in str(exc)):
                raise ClusterError(f"creating topic {name}: {exc}") from exc

        def leaders() -> bool:
            parts = self.metadata([name]).partitions
            return len(parts) == partitions and all(s.leader >= 0 for s in parts.values())

        wait_until(leaders, timeout=timeout, message=f"topic {name} has no leader for every partition")
