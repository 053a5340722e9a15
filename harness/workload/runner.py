"""Run one example: a Plan against a cluster, everything recorded into one History.

Order: create a fresh topic; apply the faults planned at 0 s (so that clients start into
them); create the clients (a driver process may take a second or two); then start consumers,
producers and the rest of the fault timeline together; when every
send was issued and the timeline is done, heal everything; collect every send's outcome;
let consumers catch up; then the final drain reads every partition from its beginning.
"""

from __future__ import annotations

import itertools
import os
import re
import time

from harness.clients import Client
from harness.errors import ClusterError
from harness.faults import Nemesis
from harness.history import History
from harness.spec.model import Spec
from harness.workload.plan import Plan
from harness.workload.roles import ConsumerRole, ProducerRole, drain
from harness.workload.timeline import Timeline

_topics = itertools.count()


def topic_name(spec_id: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]", ".", spec_id)[-120:]
    return f"kch.{slug}.{os.getpid()}.{next(_topics)}"


def _bootstrap(cluster, nodes: list[str] | None) -> str:
    if not nodes:
        return cluster.bootstrap
    ports = [cluster.layout.node(int(n.split(":")[1])).client_proxy_port for n in nodes]
    return ",".join(f"127.0.0.1:{p}" for p in ports)


def create_topic(cluster, spec: Spec, topic: str) -> None:
    """The example's fresh topic, as the spec's ``topic`` section says."""
    t = spec.topic
    cluster.create_topic(topic, partitions=t.partitions, replication_factor=t.replication_factor,
                         config={k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in t.config.items()})


def _config(values: dict) -> dict:
    return {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in values.items()}


def run_example(spec: Spec, plan: Plan, *, cluster, client: Client, topic: str,
                history: History | None = None) -> tuple[History, list[str]]:
    """Run `plan` on `cluster`; return its History and notes (faults that could not apply,
    sends unresolved after flushing). Raises :class:`ClusterError` if the cluster broke."""
    history = history if history is not None else History()
    notes: list[str] = []
    t = spec.topic
    create_topic(cluster, spec, topic)
    nemesis = Nemesis(cluster, history)
    timeline = Timeline(nemesis, plan.faults, topic)
    pconf, cconf = _config(spec.producer.config), _config(spec.consumer.config)
    producers: list[ProducerRole] = []
    consumers: list[ConsumerRole] = []
    try:
        timeline.start(hold=True)
        timeline.ready.wait(60)
        consumers = [ConsumerRole(n, client, _bootstrap(cluster, spec.consumer.bootstrap), cconf, topic,
                                  t.partitions, history) for n in range(plan.consumers)]
        producers = [ProducerRole(n, plan, client, _bootstrap(cluster, spec.producer.bootstrap), pconf,
                                  topic, t.partitions, history, block_s=spec.producer.max_block)
                     for n in range(plan.producers)]
        timeline.go()
        for role in (*consumers, *producers):
            role.start()
        budget = plan.horizon() * 3 + spec.producer.max_block * plan.messages + 60
        for p in producers:
            if not p.join(budget):
                raise ClusterError(f"{p.process} was still sending after {budget:.0f} s")
        timeline.join()
        notes += timeline.errors
        nemesis.heal_all()
        for p in producers:
            left = p.finish(min(p.bound_s, 120) + 5)
            if left:
                notes.append(f"{p.process}: {left} send(s) still unresolved after flushing")
            if p.error:
                raise ClusterError(f"{p.process} crashed: {p.error!r}")
        _catch_up(consumers)
        for c in consumers:
            c.stop()
            if c.error:
                raise ClusterError(f"{c.process} crashed: {c.error!r}")
        consumers = []
        if not drain(client, cluster.bootstrap, cconf, topic, t.partitions, history, timeout=60):
            notes.append("the final drain did not reach the end of every partition within 60 s")
    finally:
        timeline.stop()
        for c in consumers:
            c.stop()
    return history, notes


def _catch_up(consumers: list[ConsumerRole], *, quiet: float = 1.5, timeout: float = 10.0) -> None:
    """Give consumers a moment to read what was written last: until none has read anything
    for `quiet` seconds (they are not the drain; the drain reads everything)."""
    deadline = time.monotonic() + timeout
    seen = None
    while consumers and time.monotonic() < deadline:
        now = [dict(c.positions) for c in consumers]
        if now == seen:
            return
        seen = now
        time.sleep(quiet)
