"""Run one example: a Plan against a cluster, everything recorded into one History.

The one runner for every spec. Order: create a fresh topic; form the group (group specs:
members join and the group is observed stable); apply the steps planned at 0 s (so that
clients start into them); create the producers and assigned consumers (a driver process may
take a second or two); then start them and the rest of the timeline (faults and reader
actions) together; when every send was issued and the timeline is done, heal everything;
collect every send's outcome; let the group settle and its members read to the end; let
consumers catch up; close the readers; the final drain reads every partition from its
beginning. A step of the timeline that did not apply is returned in ``errors``.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from dataclasses import dataclass, field

from harness.clients import Client
from harness.errors import ClusterError
from harness.faults import Nemesis
from harness.history import History
from harness.plan.plan import Plan, PlannedAction
from harness.run import faults as planned_faults
from harness.run.group import Membership
from harness.run.roles import ConsumerRole, ProducerRole, drain
from harness.run.settle import observe_stable, read_to_end
from harness.run.timeline import Step, Timeline, Undo
from harness.spec.model import Spec

_topics = itertools.count()
DRAIN_S = 60.0


def topic_name(spec_id: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]", ".", spec_id)[-120:]
    return f"kch.{slug}.{os.getpid()}.{next(_topics)}"


def bootstrap_of(cluster, nodes: list[str] | None) -> str:
    """The bootstrap list of a role: the cluster's, or the spec's nodes in the spec's order."""
    if not nodes:
        return cluster.bootstrap
    ports = [cluster.layout.node(int(n.split(":")[1])).client_proxy_port for n in nodes]
    return ",".join(f"127.0.0.1:{p}" for p in ports)


def create_topic(cluster, spec: Spec, topic: str) -> None:
    """The example's fresh topic, as the spec's ``topic`` section says."""
    t = spec.topic
    cluster.create_topic(topic, partitions=t.partitions, replication_factor=t.replication_factor,
                         config=config_strings(t.config))


def config_strings(values: dict) -> dict:
    return {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in values.items()}


@dataclass
class ExampleRun:
    history: History
    notes: list[str] = field(default_factory=list)    # what the checkers should know about
    errors: list[str] = field(default_factory=list)   # steps that did not apply: an `error`


class Example:
    """One example's parts: the topic, the readers, the producers and the timeline."""

    def __init__(self, spec: Spec, plan: Plan, cluster, client: Client, topic: str, history: History) -> None:
        self.spec, self.plan, self.cluster, self.client, self.topic = spec, plan, cluster, client, topic
        self.out = ExampleRun(history)
        self.nemesis = Nemesis(cluster, history)
        self.group = Membership(spec, topic, cluster.bootstrap, history, client) if spec.group else None
        self.consumers: list[ConsumerRole] = []
        self.producers: list[ProducerRole] = []
        self.timeline = Timeline(self.steps())

    # --- the schedule ---------------------------------------------------------------------------
    def steps(self) -> list[Step]:
        out = [Step(f.at, f.describe(), lambda f=f: planned_faults.apply(self.nemesis, f, self.topic), f.duration)
               for f in self.plan.faults]
        out += [Step(a.at, a.describe(), lambda a=a: self.act(a), a.duration) for a in self.plan.actions]
        return out

    def act(self, action: PlannedAction) -> Undo | None:
        if action.reader == "member":
            return self.group.apply(action)
        if not self.consumers:
            raise ClusterError(f"{action.op}: the example has no assigned consumer")
        consumer = self.consumers[action.index % len(self.consumers)]
        if action.op == "pause-partitions":
            return consumer.pause_partitions()
        consumer.resubscribe()
        return None

    # --- phases -----------------------------------------------------------------------------------
    def form_group(self) -> None:
        if self.group is None or not self.plan.members:
            return
        for _ in range(self.plan.members):
            self.group.join()
        if not observe_stable(self.group, self.out.history, self.spec.topic.partitions,
                              self.cluster.bootstrap, self.out.notes):
            raise ClusterError("the group did not form: " + "; ".join(self.out.notes[-1:]))

    def start_clients(self) -> None:
        spec, plan, client, history = self.spec, self.plan, self.client, self.out.history
        parts = spec.topic.partitions
        cconf, pconf = config_strings(spec.consumer.config), config_strings(spec.producer.config)
        consumer_boot, producer_boot = (bootstrap_of(self.cluster, spec.consumer.bootstrap),
                                        bootstrap_of(self.cluster, spec.producer.bootstrap))
        self.consumers = [ConsumerRole(n, client, consumer_boot, cconf, self.topic, parts, history)
                          for n in range(plan.consumers)]
        self.producers = [ProducerRole(n, plan, client, producer_boot, pconf, self.topic, parts, history,
                                       block_s=spec.producer.max_block) for n in range(plan.producers)]
        self.timeline.go()
        for role in (*self.consumers, *self.producers):
            role.start()

    def send_all(self) -> None:
        """Wait for every send to be issued and the timeline to end; heal; collect outcomes."""
        plan = self.plan
        budget = plan.horizon() * 3 + self.spec.producer.max_block * plan.messages + 120
        for p in self.producers:
            if not p.join(budget):
                raise ClusterError(f"{p.process} was still sending after {budget:.0f} s")
        self.timeline.join()
        self.out.errors += self.timeline.errors
        self.nemesis.heal_all()
        for p in self.producers:
            left = p.finish(min(p.bound_s, 120) + 5)
            if left:
                self.out.notes.append(f"{p.process}: {left} send(s) still unresolved after flushing")
            if p.error:
                raise ClusterError(f"{p.process} crashed: {p.error!r}")

    def settle_readers(self) -> None:
        """The group settles and reads to the end; consumers catch up and stop."""
        if self.group is not None:
            if not self.group.alive():
                self.group.join()            # someone must read what is left
            if observe_stable(self.group, self.out.history, self.spec.topic.partitions,
                              self.cluster.bootstrap, self.out.notes):
                read_to_end(self.client, self.cluster.bootstrap, self.out.history, self.topic,
                            self.spec.topic.partitions, self.out.notes)
        _catch_up(self.consumers)
        consumers, self.consumers = self.consumers, []
        for c in consumers:
            c.stop()
            if c.error:
                raise ClusterError(f"{c.process} crashed: {c.error!r}")

    def close(self) -> None:
        self.timeline.stop()
        for c in self.consumers:
            c.stop()
        if self.group is not None:
            self.group.close()

    def drain(self) -> None:
        if not drain(self.client, self.cluster.bootstrap, config_strings(self.spec.consumer.config),
                     self.topic, self.spec.topic.partitions, self.out.history, timeout=DRAIN_S):
            self.out.notes.append(f"the final drain did not reach the end of every partition within {DRAIN_S:g} s")


def run_example(spec: Spec, plan: Plan, *, cluster, client: Client, topic: str,
                history: History | None = None) -> ExampleRun:
    """Run `plan` on `cluster`; return its History, notes and the steps that did not apply.
    Raises :class:`ClusterError` if the cluster or a client broke."""
    history = history if history is not None else History()
    create_topic(cluster, spec, topic)
    ex = Example(spec, plan, cluster, client, topic, history)
    try:
        ex.form_group()
        ex.timeline.start(hold=True)
        ex.timeline.ready.wait(60)
        ex.start_clients()
        ex.send_all()
        ex.settle_readers()
    finally:
        ex.close()
    ex.drain()
    ex.out.history = History(sorted(history, key=lambda e: e.mono))   # drivers' events come through pipes
    return ex.out


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
