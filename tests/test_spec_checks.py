"""Specs are checked whole at load: what a run would trip over, `kch specs validate` rejects
first, naming file, line and field (exit 2), with a "did you mean" where a near name exists."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings

from harness.plan.strategies import plans
from harness.spec import SpecError, load_spec

ROOT = Path(__file__).resolve().parent.parent

BASE = """\
title: A spec of every kind of fault
cluster: {brokers: 3}
topic: {partitions: 2, replication_factor: 3}
producer: {config: {acks: all, enable.idempotence: true}}
consumer: {actions: [pause-partitions], pick: 0..1}
workload: {messages: 10..20, rate: 50/s, consumers: 1}
group: {members: 2, actions: [crash, stall], pick: 0..1, for: 1s..2s}
faults:
  pick: 1..2
  from:
    - {kill: leader}
    - {toxic: latency, link: client->leader, attributes: {latency: 100..200}, for: 1s..2s}
    - {pause: follower, for: 1s}
    - {split: "1|2,3", for: 1s}
    - {bounce: brokers}
    - together: [{kill: random}, {toxic: latency, link: clients, attributes: {latency: 50}}]
      for: 1s..2s
expect: {duplicate: forbidden}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def test_the_base_spec_loads(tmp_path):
    spec = load_spec(write(tmp_path, BASE)).spec
    assert [c.kind for c in spec.faults.from_] == ["kill", "toxic", "pause", "split", "bounce", "together"]


@pytest.mark.parametrize("old, new, line, field, words", [
    ("link: client->leader,", "link: client->leaderr,", 12, "faults.from.1.link", "did you mean 'leader'"),
    ("{kill: leader}", "{kill: leaderr}", 11, "faults.from.0.kill", "did you mean 'leader'"),
    ("attributes: {latency: 100..200}", "attributes: {latncy: 100..200}", 12,
     "faults.from.1.attributes.latncy", "did you mean 'latency'"),
    ("attributes: {latency: 100..200}", "attributes: {latency: 100..99999999}", 12,
     "faults.from.1.attributes.latency", "out of range"),
    ("actions: [crash, stall]", "actions: [crash, stal]", 7, "group.actions.1", "did you mean 'stall'"),
    ("enable.idempotence: true", "enable.idempotency: true", 4, "producer.config.enable.idempotency",
     "did you mean 'enable.idempotence'"),
    ("acks: all,", "acks: all, socket.timeout.ms: 1000, request.timeout.ms: 1000,", 4,
     "producer.config", "one setting"),
    ("{kill: leader}", "{kill: leader, for: 2s}", 11, "faults.from.0.for", "happens once"),
    ("{bounce: brokers}", "{bounce: brokers, for: 2s}", 15, "faults.from.4.for", "happens once"),
    ("{kill: leader}", "{kill: node:7}", 11, "faults.from.0.kill", "no such node"),
    ('{split: "1|2,3", for: 1s}', '{split: "1|1,3", for: 1s}', 14, "faults.from.3.split", "share"),
    ("{pause: follower, for: 1s}", "{pause: follower, cut: drop, for: 1s}", 13, "faults.from.2.cut", "isolate"),
    ("consumer: {actions: [pause-partitions]", "consumer: {actions: [crash]", 5, "consumer.actions.0",
     "not an action of an assigned consumer"),
    ("cluster: {brokers: 3}", "cluster: {brokers: 3, config: {listeners: x}}", 2,
     "cluster.config.listeners", "kch's to set"),
    ("group: {members: 2, actions: [crash, stall]", "group: {members: 2, actions: [crash]", 7,
     "group.for", "last"),
])
def test_what_a_run_would_trip_over_is_rejected_at_load(tmp_path, old, new, line, field, words):
    assert old in BASE
    path = write(tmp_path, BASE.replace(old, new))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    message = str(err.value)
    assert message.startswith(f"{path}:{line}: {field}"), message
    assert words in message and "\n" not in message


@pytest.mark.parametrize("old, new, words", [
    ("link: client->leader,", "link: client->leaderr,", "did you mean 'leader'"),
    ("{kill: leader}", "{kill: leaderr}", "did you mean 'leader'"),
    ("attributes: {latency: 100..200}", "attributes: {latncy: 100..200}", "did you mean 'latency'"),
    ("actions: [crash, stall]", "actions: [crash, stal]", "did you mean 'stall'"),
    ("enable.idempotence: true", "enable.idempotency: true", "did you mean 'enable.idempotence'"),
])
def test_kch_specs_validate_rejects_misspellings_with_exit_2_and_the_line(tmp_path, old, new, words):
    path = write(tmp_path, BASE.replace(old, new))
    out = subprocess.run([sys.executable, "-m", "harness", "specs", "validate", str(path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{path}:" in lines[0] and words in lines[0] and "Traceback" not in out.stderr


def test_a_client_default_is_accepted(tmp_path):
    spec = load_spec(write(tmp_path, BASE.replace("enable.idempotence: true", "enable.idempotence: default"))).spec
    assert spec.producer.config["enable.idempotence"] == "default"


TIMELINE = """\
title: A timeline that draws
topic: {partitions: 4, replication_factor: 3}
workload: {messages: 10}
timeline:
  - {at: 1s, pause: random, for: 1s..3s}
  - {at: 2s, toxic: latency, link: client->leader, attributes: {latency: 10..500}, for: 2s}
expect: {duplicate: forbidden}
"""


@settings(max_examples=40, deadline=None)
@given(data=__import__("hypothesis").strategies.data())
def test_a_timeline_draws_its_ranges_and_words(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("t") / "t.yaml"
    path.write_text(TIMELINE)
    plan = data.draw(plans(load_spec(path).spec))
    pause, latency = plan.faults
    assert (pause.at, latency.at) == (1.0, 2.0)
    assert 1.0 <= pause.duration <= 3.0 and 1 <= pause.node <= 3
    assert 10 <= dict(latency.steps[0].attributes)["latency"] <= 500
    assert 0 <= latency.partition <= 3


def test_timeline_draws_vary_the_random_node_the_partition_and_the_duration(tmp_path):
    from hypothesis import find

    spec = load_spec(write(tmp_path, TIMELINE)).spec
    for want in (lambda p: p.faults[0].node == 3, lambda p: p.faults[1].partition == 3,
                 lambda p: p.faults[0].duration == 3.0):
        assert want(find(plans(spec), want))


def test_consumer_actions_are_drawn_only_when_the_plan_has_consumers(tmp_path):
    from hypothesis import find

    spec = load_spec(write(tmp_path, BASE.replace("consumers: 1}", "consumers: 0..2}")
                           .replace("pick: 0..1}\nworkload", "pick: 1..2}\nworkload"))).spec
    assert spec.consumer.pick.low == 1
    none = find(plans(spec), lambda p: p.consumers == 0)
    assert not [a for a in none.actions if a.reader == "consumer"]
    some = find(plans(spec), lambda p: p.consumers > 0)
    assert [a for a in some.actions if a.reader == "consumer"]
