"""``kch run`` and ``kch replay`` end to end: bad input before any cluster starts (exit 2),
and a real non-conformance found, shrunk, reported, saved and replayed (exit 1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def kch(*args, cwd=ROOT, timeout=900):
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=timeout)


def run_spec_text(tmp_path: Path, name: str, text: str, seed: int, exit_code: int) -> tuple:
    """`kch run` of a spec written to `tmp_path`/specs/`name`: its run dir and report."""
    spec = tmp_path / "specs" / name
    spec.parent.mkdir()
    spec.write_text(text)
    res = kch("run", str(spec), "--seed", str(seed), "--report-dir", str(tmp_path / "r"))
    assert res.returncode == exit_code, res.stdout + res.stderr
    (run_dir,) = (tmp_path / "r").iterdir()
    return run_dir, json.loads((run_dir / "report.json").read_text()), res


def _one_line_exit_2(res, *needles):
    assert res.returncode == 2, res.stderr
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr, res.stderr
    for needle in needles:
        assert needle in res.stderr


@pytest.mark.parametrize("args,needles", [
    (["run", "no/such/spec.yaml"], ["no such spec"]),
    (["run", "specs", "--profile", "fast"], ["--profile", "fast"]),
    (["run", "specs", "--client", "nope"], ["--client", "nope"]),
    (["run", "specs", "--client", "confluent-kafka,java,nope"], ["--client", "nope"]),
    (["run", "specs", "--client", "java@9.9.9"], ["--client java@9.9.9", "9.9.9"]),
    (["run", "specs", "--cluster", "nowhere"], ["--cluster", "nowhere"]),
    (["run", "specs", "--cluster", "docker", "--images", "bogus"], ["--images", "bogus"]),
    (["replay", "pyproject.toml"], ["pyproject.toml:1", "not JSON"]),
    (["replay", "suites/ci.yaml", "--times", "0"], ["--times"]),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, args, needles):
    res = kch(*args, "--report-dir", str(tmp_path))
    _one_line_exit_2(res, *needles)
    assert list(tmp_path.iterdir()) == []


def test_docker_without_an_engine_is_one_line_exit_3_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    res = kch("run", "specs", "--cluster", "docker", "--report-dir", str(tmp_path / "r"))
    assert res.returncode == 3, res.stderr
    assert res.stderr.count("\n") == 1 and "no Docker engine" in res.stderr and "dockerd" in res.stderr
    assert not (tmp_path / "r").exists()


def test_a_bad_spec_is_rejected_before_any_cluster(tmp_path):
    spec = tmp_path / "specs" / "bad.yaml"
    spec.parent.mkdir()
    spec.write_text("title: bad one\nworkload: {messages: 10}\nexpect:\n  duplicate: sometimes\n")
    res = kch("run", str(spec), "--report-dir", str(tmp_path / "r"))
    _one_line_exit_2(res, "bad.yaml:4: expect.duplicate")
    assert not (tmp_path / "r").exists()


ACKS1_FORBIDDEN = """\
title: acks=1 must not lose writes (it does; this spec exists to fail)
cluster: {brokers: 3}
topic: {partitions: 1, replication_factor: 3, config: {min.insync.replicas: 1}}
producer: {config: {acks: 1, enable.idempotence: false, message.timeout.ms: 30000}}
workload: {messages: 900..1200, rate: 300/s}
timeline:
  - {at: 1s, toxic: timeout, link: replication-of:leader, stream: both, attributes: {timeout: 0}, for: 5s}
  - {at: 2.5s, kill: leader}
expect: {lost-write: forbidden, unseen: forbidden}
"""


@pytest.mark.cluster
def test_a_violation_is_shrunk_reported_saved_and_replayed(tmp_path):
    run_dir, report, res = run_spec_text(tmp_path, "acks1.yaml", ACKS1_FORBIDDEN, 4, 1)
    assert report["schema"] == "kch-report/1" and report["totals"]["fail"] == 1 and report["seed"] == 4
    (result,) = report["results"]
    assert result["spec"] == "acks1" and result["verdict"] == "fail"
    assert result["anomalies"]["lost-write"] > 0 and result["anomalies"]["unseen"] > 0
    lost = result["evidence"]["unseen"][0]
    assert lost["value"].startswith("p0-") and lost["partition"] == 0
    assert {f["fault"] for f in result["faults"]} == {"toxic", "kill"}
    # the counterexample: the plan, the spec as written, versions, and the history it came from
    cx_path = run_dir / result["counterexample"]
    cx = json.loads(cx_path.read_text())
    assert cx["plan"]["messages"] >= 900 and cx["spec_data"]["expect"] == {"lost-write": "forbidden",
                                                                          "unseen": "forbidden"}
    assert cx["versions"]["client"] == "confluent-kafka" and (run_dir / cx["history_file"]).stat().st_size > 0
    assert any(e["type"] == "fault" for e in cx["history_excerpt"])
    failure = ET.parse(run_dir / "junit.xml").getroot().find(".//testcase/failure")
    assert failure is not None and "lost-write" in failure.get("message") and "kch replay" in failure.text
    assert "kch replay" in (run_dir / "summary.md").read_text()
    assert f"replay: kch replay {cx_path}" in res.stdout

    again = kch("replay", str(cx_path), "--report-dir", str(tmp_path / "again"))
    assert again.returncode == 1, again.stdout + again.stderr
    (replay_dir,) = (tmp_path / "again").iterdir()
    replayed = json.loads((replay_dir / "report.json").read_text())["results"][0]
    assert replayed["verdict"] == "fail" and replayed["anomalies"]["lost-write"] > 0


FAULT_CANNOT_APPLY = """\
title: The second follower kill finds no in-sync follower left (the fault cannot apply)
cluster: {brokers: 3}
topic: {partitions: 1, replication_factor: 2, config: {min.insync.replicas: 1}}
producer: {config: {acks: 1, enable.idempotence: false, message.timeout.ms: 30000}}
workload: {messages: 100, rate: 50/s}
timeline:
  - {at: 0.5s, kill: follower}
  - {at: 1s, kill: follower}
expect: {duplicate: allowed, unseen: forbidden}
"""


@pytest.mark.cluster
def test_a_fault_that_does_not_apply_makes_the_example_an_error_never_a_pass(tmp_path):
    _, report, _ = run_spec_text(tmp_path, "no-follower.yaml", FAULT_CANNOT_APPLY, 1, 3)
    (result,) = report["results"]
    assert result["verdict"] == "error"
    first = result["example_results"][0]
    assert first["verdict"] == "error" and "not applied" in first["message"] and "follower" in first["message"]
    assert [f["fault"] for f in first["faults"]] == ["kill", "kill"]     # one start, one fail
