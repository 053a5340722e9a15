"""Spec loading: good specs validate; bad ones fail with file:line: field, exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.spec import SpecError, find_specs, load_spec
from harness.spec.values import DurationRange, IntRange, parse_rate

GOOD = """\
title: A spec
cluster: {brokers: 3}
workload: {messages: 10..20, rate: 50/s}
faults:
  pick: 1..2
  from:
    - {kill: leader}
    - {toxic: latency, link: client->leader, attributes: {latency: 100}, for: 1s..2s}
expect: {duplicate: forbidden}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def test_shipped_specs_are_valid():
    assert find_specs([Path("specs")])


def test_a_good_spec_loads_typed_values(tmp_path):
    spec = load_spec(write(tmp_path, GOOD)).spec
    assert spec.workload.messages == IntRange(10, 20) and spec.workload.rate == 50.0
    assert [c.kind for c in spec.faults.from_] == ["kill", "toxic"]
    assert spec.faults.from_[1].duration == DurationRange(1.0, 2.0)


@pytest.mark.parametrize("change, line, field", [
    (("expect: {duplicate: forbidden}", "expect: {duplicated: forbidden}"), 9, "expect.duplicated"),
    (("messages: 10..20", "messages: 20..10"), 3, "workload.messages"),
    (("- {kill: leader}", "- {kill: leaderr}"), 7, "faults.from.0.kill"),
    (("- {kill: leader}", "- {explode: leader}"), 7, "faults.from.0.explode"),
    (("brokers: 3", "brokers: 3, zookeeper: true"), 2, "cluster.zookeeper"),
    (("rate: 50/s", "rate: fast"), 3, "workload.rate"),
    (("- {kill: leader}", "- {isolate: leader, cut: unplug}"), 7, "faults.from.0.cut"),
    (("- {kill: leader}", "- {kill: leader, cut: drop}"), 7, "faults.from.0"),
])
def test_bad_specs_name_file_line_and_field(tmp_path, change, line, field):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert str(err.value).startswith(f"{path}:{line}: {field}")


def test_true_partitions_make_a_spec_docker_only(tmp_path):
    from harness.plan.plan import FaultStep, PlannedFault
    from harness.run.faults import to_fault

    assert load_spec(write(tmp_path, GOOD)).spec.providers() == ("local", "docker")
    spec = load_spec(write(tmp_path, GOOD.replace("- {kill: leader}", "- {isolate: leader, cut: drop}"))).spec
    assert spec.providers() == ("docker",)
    step = FaultStep("isolate", target="leader", cut="disconnect")
    fault = to_fault(step, PlannedFault(at=1.0, steps=(step,), partition=0), "t")
    assert (fault.target, fault.cut) == ("leader:t/0", "disconnect")


def test_malformed_yaml_names_the_line(tmp_path):
    with pytest.raises(SpecError, match=r"s\.yaml:3: \(file\): not valid YAML"):
        load_spec(write(tmp_path, "title: x\nexpect: {a: b}\n  bad: [\n"))


def test_values():
    assert IntRange.parse(5) == IntRange(5, 5)
    assert parse_rate("400/s") == 400.0
    assert DurationRange.parse("500ms..2s") == DurationRange(0.5, 2.0)


def test_cli_validate_exit_codes(tmp_path):
    bad = write(tmp_path, GOOD.replace("brokers: 3", "brokers: 0"))
    res = subprocess.run([sys.executable, "-m", "harness", "specs", "validate", str(bad)],
                         capture_output=True, text=True)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and f"{bad}:2: cluster.brokers" in res.stderr
    ok = subprocess.run([sys.executable, "-m", "harness", "specs", "schema"], capture_output=True, text=True)
    assert ok.returncode == 0 and "expect" in json.loads(ok.stdout)["properties"]
