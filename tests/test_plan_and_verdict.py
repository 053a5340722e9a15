"""Pure parts of the spec runner: plans drawn from specs, fault translation, judging,
exploration (with a fake runner), suites and counterexample files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import find, given, settings

from harness.checkers import CheckResult
from harness.run.counterexample import load as load_counterexample
from harness.errors import UsageError
from harness.faults import Down, Fault, Isolate, Kill, Toxic
from harness.judge.results import ERROR, FAIL, PASS, UNKNOWN, merge
from harness.spec import load_spec
from harness.spec.model import Spec
from harness.plan.strategies import plans
from harness.spec.suite import load_suite, resolve_targets
from harness.judge.verdict import check_expect, judge, spec_verdict
from harness.plan.explore import Profile, explore
from harness.plan.plan import FaultStep, Plan, PlannedFault
from harness.run.faults import to_fault

ROOT = Path(__file__).resolve().parent.parent
MENU_SPEC = Spec.model_validate({
    "title": "menu", "cluster": {"brokers": 3}, "topic": {"partitions": 4},
    "workload": {"messages": "100..900", "rate": "100/s", "producers": "1..3", "consumers": "0..2"},
    "faults": {"pick": "1..3", "from": [{"kill": "leader"}, {"pause": "random", "for": "1s..2s"},
                                        {"toxic": "latency", "link": "client->leader",
                                         "attributes": {"latency": 100}}]},
    "expect": {"duplicate": "forbidden"}})


@settings(max_examples=60, database=None)
@given(plans(MENU_SPEC))
def test_plans_stay_inside_the_spec_ranges(plan: Plan):
    assert 100 <= plan.messages <= 900 and 1 <= plan.producers <= 3 and 0 <= plan.consumers <= 2
    assert 1 <= len(plan.faults) <= 3
    assert [f.at for f in plan.faults] == sorted(f.at for f in plan.faults)
    for f in plan.faults:
        assert 0.5 <= f.at <= max(0.5, plan.horizon() * 0.8) + 0.05   # tenths of a second and 0 <= f.partition < 4
        kinds = [s.kind for s in f.steps]
        if "pause" in kinds:
            assert 1.0 <= f.duration <= 2.0 and 1 <= f.node <= 3
        if "kill" in kinds:
            assert f.duration is None
        if "toxic" in kinds:
            assert f.duration == 3.0          # default for a recoverable fault without `for`
    assert Plan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


def test_a_timeline_is_taken_as_written():
    spec = load_spec(ROOT / "specs/producer/acks1-loss-on-leader-kill.yaml").spec
    plan = find(plans(spec), lambda p: True)
    assert [(f.at, f.duration) for f in plan.faults] == [(1.0, 6.0), (2.5, None)]
    assert plan.faults[1].steps == (FaultStep("kill", target="leader"),)


def test_planned_faults_become_nemesis_faults_on_the_example_topic():
    def pf(**c) -> Fault:
        step = FaultStep(**c)
        return to_fault(step, PlannedFault(at=0, steps=(step,), partition=2, node=3), "t")

    assert pf(kind="kill", target="leader") == Kill("leader:t/2")
    assert pf(kind="isolate", target="random") == Isolate("node:3")
    assert pf(kind="toxic", toxic="down", link="client->node:2") == Down("client->node:2")
    got = pf(kind="toxic", toxic="timeout", link="replication-of:leader", stream="both",
             attributes=(("timeout", 0),))
    assert got == Toxic("timeout", "replication-of:leader:t/2", {"timeout": 0}, "both")


def _res(**status) -> dict[str, CheckResult]:
    out = {}
    for name, st in status.items():
        name = name.replace("_", "-")
        if st == "found":
            out[name] = CheckResult.judge(name, [{"value": "p0-1"}])
        elif st == "unknown":
            out[name] = CheckResult.unknown(name, "no drain")
        else:
            out[name] = CheckResult.judge(name, [])
    return out


def test_judging_forbidden_allowed_required_and_unknown():
    expect = {"duplicate": "forbidden", "nonmonotonic-send": "allowed", "unseen": "required"}
    j = judge(_res(duplicate="found", nonmonotonic_send="found", unseen="ok"), expect)
    assert (j.verdict, j.violations, j.reproduced) == (FAIL, ["duplicate"], False)
    j = judge(_res(duplicate="ok", nonmonotonic_send="found", unseen="found"), expect)
    assert (j.verdict, j.reproduced, j.interesting) == (PASS, True, True)
    assert j.counts == {"duplicate": 0, "nonmonotonic-send": 1, "unseen": 1}
    j = judge(_res(duplicate="unknown", nonmonotonic_send="unknown", unseen="ok"), expect)
    assert (j.verdict, list(j.undecided), j.interesting) == (UNKNOWN, ["duplicate"], False)


def test_spec_verdicts_merge_as_the_contract_says():
    req = {"duplicate": "required"}
    forb = {"duplicate": "forbidden"}
    assert spec_verdict(req, violated=False, reproduced=False, example_verdicts=[PASS, PASS])[0] == FAIL
    assert spec_verdict(req, violated=False, reproduced=True, example_verdicts=[PASS])[0] == PASS
    assert spec_verdict(forb, violated=True, reproduced=False, example_verdicts=[FAIL, ERROR])[0] == FAIL
    assert spec_verdict(forb, violated=False, reproduced=False, example_verdicts=[PASS, ERROR])[0] == ERROR
    assert spec_verdict(forb, violated=False, reproduced=False, example_verdicts=[UNKNOWN, PASS])[0] == UNKNOWN
    assert merge([PASS, UNKNOWN, ERROR]) == ERROR and merge([]) == PASS


def test_an_expected_anomaly_without_checker_is_a_usage_error():
    with pytest.raises(UsageError, match="G1c"):
        check_expect({"G1c": "forbidden"})


def test_exploration_shrinks_within_its_budget_and_reuses_runs():
    calls: list[tuple[str, int]] = []

    def run(plan: Plan, phase: str) -> bool:
        calls.append((phase, plan.messages))
        return plan.messages >= 300

    found = explore(MENU_SPEC, run, bool, profile=Profile("t", 30, 6, 60), seed=5)
    assert found.minimal is not None and found.minimal[0].messages >= 300
    assert found.first is not None and found.minimal[0].messages <= found.first[0].messages
    shrinks = [c for c in calls if c[0] == "shrink"]
    assert len(shrinks) <= 6 and len(calls) == len(found.runs)
    assert len({p.key() for p, _ in found.runs}) == len(found.runs)   # never the same plan twice


def test_exploration_without_anything_interesting_runs_the_budget_and_finds_nothing():
    calls = []
    found = explore(MENU_SPEC, lambda p, ph: calls.append(ph) or False, bool,
                    profile=Profile("t", 4, 6, 60), seed=1)
    assert found.minimal is None and 1 <= len(calls) <= 4 and set(calls) == {"generate"}


def test_exploration_stops_at_a_fatal_result():
    calls = []
    found = explore(MENU_SPEC, lambda p, ph: calls.append(ph) or "broken", lambda r: False,
                    profile=Profile("t", 10, 6, 60), seed=1, fatal=lambda r: r == "broken")
    assert len(calls) == 1 and found.stopped and found.minimal is None


def test_the_ci_suite_names_every_shipped_spec():
    suite = load_suite(ROOT / "suites/ci.yaml")
    ids = {s.id for s in suite.specs}
    assert {"producer/retry-duplication", "producer/idempotent-no-retry-duplication",
            "producer/acks1-loss-on-leader-kill", "producer/acks-all-no-loss-on-leader-kill",
            "producer/idempotent-leader-failover", "producer/reordering-without-idempotence",
            "producer/bounded-memory", "consumer/fetch-ordering", "bootstrap/first-brokers-down"} <= ids
    assert suite.model.profile == "ci"


def test_a_bad_suite_names_file_line_and_field(tmp_path):
    bad = tmp_path / "suites" / "x.yaml"
    bad.parent.mkdir()
    bad.write_text("title: x\nspecs: [../specs]\nprofile: fast\n")
    with pytest.raises(UsageError, match=r"x.yaml:3: profile:"):
        load_suite(bad)
    with pytest.raises(UsageError, match="no such spec"):
        resolve_targets([str(tmp_path / "missing.yaml")])


def test_a_file_that_is_not_a_counterexample_is_rejected_with_its_name(tmp_path):
    f = tmp_path / "c.json"
    f.write_text('{"schema": "other"}')
    with pytest.raises(UsageError, match=r"c.json:1: schema"):
        load_counterexample(f)
    f.write_text("{nope")
    with pytest.raises(UsageError, match=r"c.json:1: not JSON"):
        load_counterexample(f)
