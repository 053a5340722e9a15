"""The fault kinds: one class per kind of the vocabulary, each built from a plan's step and
applying itself; the nemesis records what they resolved. A fake cluster, no network."""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.cluster.layout import plan_layout
from harness.errors import FaultError, UsageError
from harness.faults import KINDS, Bounce, Down, Isolate, Kill, Nemesis, Pause, Restart, Split, Terminate, Toxic
from harness.plan.plan import FaultStep, PlannedFault
from harness.run.faults import to_fault
from harness.vocab.faults import FAULT_KINDS

ROOT = Path(__file__).resolve().parent.parent


class FakeCluster:
    """A 3-node local cluster that records what is done to it; node 2 leads every partition."""

    provider = "local"
    cuts = None

    def __init__(self) -> None:
        self.layout = plan_layout(brokers=3, controllers=0, ports=itertools.count(20000))
        self.calls: list[tuple] = []
        self.toxiproxy = self

    def leader(self, topic: str, partition: int) -> int:
        return 2

    def is_running(self, node: int) -> bool:
        return True

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.calls.append((name, *args, *sorted(kwargs.items())))


def test_every_kind_of_the_vocabulary_has_its_class_and_every_class_its_kind():
    assert set(KINDS) == set(FAULT_KINDS)
    for name, cls in KINDS.items():
        assert (cls.word, cls.recoverable) == (name, FAULT_KINDS[name].lasting)
    assert Down.recoverable and Down not in KINDS.values()    # toxic: down builds it


@pytest.mark.parametrize("step, fault", [
    (FaultStep("kill", target="leader"), Kill("leader:t/2")),
    (FaultStep("terminate", target="controller"), Terminate("controller")),
    (FaultStep("restart", target="random", clean=True), Restart("node:3", clean=True)),
    (FaultStep("pause", target="follower"), Pause("follower:t/2#1")),
    (FaultStep("isolate", target="node:1", cut="drop"), Isolate("node:1", cut="drop")),
    (FaultStep("isolate", target="random"), Isolate("node:3")),
    (FaultStep("toxic", toxic="latency", link="client->leader", attributes=(("latency", 50),)),
     Toxic("latency", "client->leader:t/2", {"latency": 50})),
    (FaultStep("toxic", toxic="down", link="links-of:random"), Down("links-of:node:3")),
    (FaultStep("split", sides=((1,), (2, 3))), Split((1,), (2, 3))),
    (FaultStep("split", sides=((1,), (2, 3)), cut="down"), Split((1,), (2, 3), cut="down")),
    (FaultStep("bounce", target="brokers"), Bounce()),
], ids=lambda v: v.describe() if isinstance(v, FaultStep) else "")
def test_each_kind_builds_itself_from_a_plan_step(step, fault):
    planned = PlannedFault(at=0, steps=(step,), partition=2, node=3, follower=1)
    assert to_fault(step, planned, "t") == fault


def test_an_unknown_kind_is_a_usage_error():
    step = FaultStep("explode", target="leader")
    with pytest.raises(UsageError, match="explode"):
        to_fault(step, PlannedFault(at=0, steps=(step,)), "t")


def test_each_kind_applies_itself_and_the_nemesis_records_what_it_resolved():
    cluster = FakeCluster()
    nemesis = Nemesis(cluster)
    for fault in (Kill("leader:t/0"), Restart("node:3", clean=True), Bounce()):
        assert nemesis.apply(fault) is None
    pause = nemesis.apply(Pause("node:1"))
    split = nemesis.apply(Split((1,), (2, 3), cut="down"))
    toxic = nemesis.apply(Toxic("latency", "client->leader:t/0", {"latency": 5}, "both"))
    assert [c[:2] for c in cluster.calls[:7]] == [("kill", 2), ("terminate", 3), ("start_node", 3),
                                                  ("terminate", 1), ("start_node", 1),
                                                  ("wait_healthy", ("timeout", 90)), ("terminate", 2)]
    for active in (toxic, split, pause):
        nemesis.heal(active)
    assert ("resume", 1) in cluster.calls
    assert ("remove_toxic", "client-client-to-2", "kch-6-latency-upstream") in cluster.calls
    events = [(e.phase, e.detail) for e in nemesis.history.of_type("fault")]
    assert events[0] == ("start", {"id": 1, "fault": "kill", "target": "leader:t/0", "node": 2})
    assert events[1] == ("start", {"id": 2, "fault": "restart", "target": "node:3", "clean": True, "node": 3})
    assert events[2] == ("start", {"id": 3, "fault": "bounce", "nodes": [1, 2, 3]})
    assert events[3] == ("start", {"id": 4, "fault": "pause", "target": "node:1", "node": 1})
    phase, detail = events[4]
    assert (phase, detail["fault"], detail["cut"]) == ("start", "split", "down")
    assert set(detail["links"]) == {"node:1->node:2", "node:2->node:1", "node:1->node:3", "node:3->node:1",
                                    "controller:1->controller:2", "controller:2->controller:1",
                                    "controller:1->controller:3", "controller:3->controller:1"}
    assert events[5] == ("start", {"id": 6, "fault": "toxic", "type": "latency", "links": ["client->node:2"],
                                   "attributes": {"latency": 5}, "stream": "both"})
    assert [p for p, _ in events[6:]] == ["end", "end", "end"]


def test_a_true_cut_on_a_local_cluster_fails_and_is_recorded():
    nemesis = Nemesis(FakeCluster())
    with pytest.raises(FaultError, match="needs --cluster docker"):
        nemesis.apply(Isolate("node:1", cut="drop"))
    (event,) = nemesis.history.of_type("fault")
    assert event.phase == "fail" and event.detail["error"].startswith("cut drop:")


NEW_KIND = textwrap.dedent("""
    from harness.vocab import faults as vocab
    vocab.FAULT_KINDS["freeze"] = vocab.FaultKind("freeze", "target", True, "a test kind")

    from dataclasses import dataclass
    from harness.faults.kinds import Targeted, fault_kind

    @fault_kind("freeze")
    @dataclass(frozen=True)
    class Freeze(Targeted):
        def apply(self, nemesis, fid):
            node = self.node(nemesis)
            return {"node": node}, lambda: None

    from hypothesis import find, settings
    from harness.faults import Nemesis
    from harness.plan.strategies import plans
    from harness.run.faults import apply, to_fault
    from harness.spec.loader import load_spec
    from tests.test_fault_kinds import FakeCluster

    spec = load_spec(PATH).spec
    plan = find(plans(spec), lambda p: True, settings=settings(database=None))
    (planned,) = plan.faults
    assert to_fault(planned.steps[0], planned, "t") == Freeze(f"leader:t/{planned.partition}")
    nemesis = Nemesis(FakeCluster())
    apply(nemesis, planned, "t")()
    print([(e.phase, e.detail) for e in nemesis.history])
""")


def test_a_new_target_kind_needs_only_its_word_and_its_class(tmp_path):
    path = tmp_path / "freeze.yaml"
    path.write_text("title: a new kind\ntimeline:\n  - {at: 1s, freeze: leader, for: 2s}\n"
                    "expect: {duplicate: forbidden}\n")
    out = subprocess.run([sys.executable, "-c", NEW_KIND.replace("PATH", repr(str(path)))], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "('start', {'id': 1, 'fault': 'freeze', 'target': 'leader:t/0', 'node': 2})" in out.stdout
    assert "('end', {'id': 1, 'fault': 'freeze'" in out.stdout
