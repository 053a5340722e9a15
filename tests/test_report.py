"""The report package on hand-built results: json round trip, junit, markdown, html, console."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harness.report import load_run, render_console, render_html, write_report
from harness.report import common
from harness.judge.results import ERROR, FAIL, PASS, SKIPPED, UNKNOWN, ExampleResult, RunResult, SpecResult

FAIL_ID = "consumer/group/rebalance-commit"
REPLAY = "kch replay reports/r1/counterexamples/consumer/group/rebalance-commit.json"
SCRIPT = "<script>alert('x')</script>"


def dup(i: int) -> dict:
    return {"partition": 0, "value": f"p0-{17 + i}", "offsets": [100 + i, 200 + i]}


def failing() -> SpecResult:
    evidence = [dup(i) for i in range(7)]
    evidence[0]["offsets"] = list(range(50))
    return SpecResult(
        spec=FAIL_ID, title=f"Commits survive rebalance {SCRIPT}", verdict=FAIL,
        path="specs/consumer/group/rebalance-commit.yaml", examples=2, duration_s=12.5,
        expect={"duplicate": "forbidden", "unseen": "forbidden", "redelivery": "allowed"},
        anomalies={"duplicate": 3, "unseen": 1, "redelivery": 0},
        counterexample="counterexamples/consumer/group/rebalance-commit.json", replay=REPLAY,
        message="forbidden anomalies observed after shrinking",
        evidence={"duplicate": evidence, "unseen": [{"value": "p1-4", "partition": 1}]},
        faults=[{"at": 1.5, "fault": "kill", "target": "leader-of(t/0)", "duration": None}],
        example_results=[
            ExampleResult(index=0, plan={"messages": 500}, verdict=PASS, duration_s=4.0),
            ExampleResult(index=1, plan={"messages": 900}, verdict=FAIL, duration_s=8.5,
                          anomalies={"duplicate": 3, "unseen": 1}, phase="shrink")])


def make_run() -> RunResult:
    results = [
        SpecResult(spec="producer/idempotent-leader-failover", title="Idempotent producer",
                   verdict=PASS, examples=5, duration_s=42.0, expect={"duplicate": "forbidden"},
                   anomalies={"duplicate": 0}),
        failing(),
        SpecResult(spec="cluster/startup", title="Startup", verdict=ERROR, examples=0,
                   message="broker 2 did not start: port 9092 in use"),
        SpecResult(spec="producer/drain", title="Drain", verdict=UNKNOWN, examples=1,
                   expect={"lost-write": "forbidden"},
                   example_results=[ExampleResult(index=0, plan={}, verdict=UNKNOWN,
                                                  unknown={"lost-write": "drain did not finish"})]),
        SpecResult(spec="transactions/g1c", title="G1c", verdict=SKIPPED,
                   message="needs Kafka 4.1 or later"),
        SpecResult(spec="repro/kafka-12345", title="KAFKA-12345 loses a write", verdict=PASS,
                   examples=3, duration_s=70.0, expect={"lost-write": "required"},
                   anomalies={"lost-write": 1}, counterexample="counterexamples/repro/kafka-12345.json",
                   replay="kch replay reports/r1/counterexamples/repro/kafka-12345.json",
                   evidence={"lost-write": [{"value": "p2-99", "offset": 41}]}),
    ]
    return RunResult(run_id="r1", started_at="2025-01-01T00:00:00Z", finished_at="2025-01-01T00:03:00Z",
                     harness_version="0.1.0", profile="ci", seed=1234,
                     cluster={"provider": "local", "kafka_version": "4.1.0", "brokers": 3},
                     client={"name": "confluent-kafka", "version": "2.6.0"}, results=results)


@pytest.fixture
def written(tmp_path):
    run = make_run()
    return run, write_report(run, tmp_path / "reports" / "r1")


def test_report_json_round_trips_and_follows_the_contract(written):
    run, paths = written
    data = json.loads(paths["report.json"].read_text())
    assert data["schema"] == "kch-report/1"
    assert data["totals"] == {"pass": 2, "fail": 1, "error": 1, "unknown": 1, "skipped": 1}
    first = data["results"][1]
    assert {"spec", "title", "verdict", "examples", "duration_s", "expect", "anomalies",
            "counterexample", "message"} <= set(first)
    assert first["spec"] == FAIL_ID and first["anomalies"]["duplicate"] == 3
    assert load_run(paths["report.json"]) == run
    assert list(data) == sorted(data), "keys are sorted"
    assert paths["report.json"].read_text().startswith("{\n  "), "pretty-printed"


def test_load_run_rejects_another_schema(tmp_path):
    path = tmp_path / "report.json"
    path.write_text(json.dumps({**make_run().to_dict(), "schema": "kch-report/0"}))
    with pytest.raises(ValueError, match="kch-report/0"):
        load_run(path)


def test_junit_counts_and_failure_text(written):
    _, paths = written
    root = ET.parse(paths["junit.xml"]).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    for el in (root, suite):
        assert (el.get("tests"), el.get("failures"), el.get("errors"), el.get("skipped")) == \
            ("6", "1", "2", "1")
    assert float(suite.get("time")) == pytest.approx(124.5)
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert len(cases) == 6
    case = cases[FAIL_ID]
    assert case.get("classname") == "kch.consumer.group" and case.get("time") == "12.500"
    failure = case.find("failure")
    assert failure.get("type") == "non-conformance"
    assert failure.get("message") == "duplicate ×3, unseen ×1"
    body = failure.text
    for needle in ("duplicate ×3 (forbidden):", "p0-17", "p0-21", "… 2 more", "… 40 more",
                   '"fault":"kill"', REPLAY, "forbidden anomalies observed"):
        assert needle in body, needle
    assert "p0-22" not in body, "at most 5 evidence items per anomaly"
    assert "example 1 [shrink] fail" in case.find("system-out").text
    assert cases["cluster/startup"].find("error").get("type") == "infrastructure"
    unknown = cases["producer/drain"].find("error")
    assert unknown.get("type") == "unknown" and "drain did not finish" in unknown.text
    assert cases["transactions/g1c"].find("skipped").get("message") == "needs Kafka 4.1 or later"
    ok = cases["producer/idempotent-leader-failover"]
    assert ok.get("classname") == "kch.producer" and len(ok) == 0


def test_summary_markdown_has_rows_sections_and_replay(written):
    _, paths = written
    md = paths["summary.md"].read_text()
    assert md.startswith("# kch run r1: FAIL\n")
    assert "| fail | `consumer/group/rebalance-commit` " in md
    assert "| 2 | 12.5s | duplicate ×3, unseen ×1 |" in md
    assert "| pass | `producer/idempotent-leader-failover` Idempotent producer | 5 | 42.0s | — |" in md
    assert f"```shell\n{REPLAY}\n```" in md
    assert "| duplicate | forbidden | 3 |" in md and "| redelivery | allowed | 0 |" in md
    assert "## FAIL: consumer/group/rebalance-commit" in md
    assert "## ERROR: cluster/startup" in md and "port 9092 in use" in md
    assert "## UNKNOWN: producer/drain" in md and "lost-write: drain did not finish" in md
    assert "## SKIPPED: transactions/g1c" in md
    assert "## Reproduction: repro/kafka-12345" in md and "p2-99" in md
    assert "## PASS" not in md, "a plain pass gets no section"
    assert "<script>" not in md and r"\<script\>" in md, "inline HTML is escaped"
    assert "p0-21" in md and "p0-22" not in md and "… 2 more" in md
    assert md.index("## FAIL") < md.index("## ERROR") < md.index("## UNKNOWN")


class Collect(HTMLParser):
    VOID = {"meta", "br", "hr", "img", "input", "link"}

    def __init__(self):
        super().__init__()
        self.stack, self.tags, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"

    def handle_data(self, data):
        self.text.append(data)


def test_index_html_parses_and_escapes(written):
    _, paths = written
    page = paths["index.html"].read_text()
    parser = Collect()
    parser.feed(page)
    parser.close()
    assert parser.stack == []
    assert "script" not in parser.tags
    text = "".join(parser.text)
    assert SCRIPT in text, "the title is shown, as text"
    assert "&lt;script&gt;" in page
    for needle in (REPLAY, "duplicate ×3, unseen ×1", "p0-17", "… 2 more", "drain did not finish",
                   "Reproduction:", "kch run r1:"):
        assert needle in text, needle
    assert 'class="v v-fail"' in page and ".v-fail" in page


def test_template_is_package_data():
    text = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    assert '"report/templates/*"' in text


def test_write_report_is_atomic_and_leaves_no_temp_files(tmp_path, monkeypatch):
    out = tmp_path / "a" / "b"
    paths = write_report(make_run(), out)
    assert set(paths) == {"report.json", "junit.xml", "summary.md", "index.html"}
    assert sorted(p.name for p in out.iterdir()) == sorted(paths)
    assert all(p.parent == out and p.stat().st_size > 0 for p in paths.values())
    before = {p: p.read_text() for p in paths.values()}

    import harness.report as report
    def broken(run):
        raise RuntimeError("renderer broke")
    monkeypatch.setitem(report.RENDERERS, "index.html", broken)
    with pytest.raises(RuntimeError):
        write_report(make_run(), out)
    assert sorted(p.name for p in out.iterdir()) == sorted(paths), "no temp files left"
    assert {p: p.read_text() for p in paths.values()} == before


def test_atomic_write_removes_its_temp_file_when_replace_fails(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise OSError("no")
    monkeypatch.setattr(common.os, "replace", refuse)
    with pytest.raises(OSError):
        common.atomic_write(tmp_path / "x.json", "{}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("verdicts, code", [
    ((FAIL, ERROR), 1), ((ERROR, UNKNOWN), 3), ((UNKNOWN, PASS), 4), ((PASS, SKIPPED), 0),
    ((PASS,), 0), ((UNKNOWN, ERROR, FAIL, PASS), 1)])
def test_exit_codes(verdicts, code):
    run = make_run()
    run.results = [SpecResult(spec=f"s/{i}", title="", verdict=v) for i, v in enumerate(verdicts)]
    assert run.exit_code() == code


def test_render_console_one_line_per_spec():
    out = render_console(make_run()).splitlines()
    assert out[0].startswith("kch run r1: FAIL") and "exit 1" in out[0]
    assert len(out) == 7
    fail_line = next(l for l in out if FAIL_ID in l)
    assert fail_line.startswith("FAIL") and "duplicate ×3, unseen ×1" in fail_line
    assert f"replay: {REPLAY}" in fail_line and "2 examples" in fail_line and "12.5s" in fail_line
    assert "port 9092 in use" in next(l for l in out if "cluster/startup" in l)
    assert "drain did not finish" in next(l for l in out if "producer/drain" in l)
    assert "reproduced" in next(l for l in out if "repro/kafka-12345" in l)
    assert "replay" not in next(l for l in out if "idempotent-leader-failover" in l)


def test_common_helpers():
    assert common.anomaly_summary({"unseen": 1, "duplicate": 3, "lost-write": 0}) == \
        "duplicate ×3, unseen ×1"
    assert common.compact({"a": list(range(12)), "s": "x" * 250}) == \
        {"a": list(range(10)) + ["… 2 more"], "s": "x" * 200 + "… 50 more"}
    lines, left = common.evidence_lines([{"i": i} for i in range(8)])
    assert lines == ['{"i":0}', '{"i":1}', '{"i":2}', '{"i":3}', '{"i":4}'] and left == 3
    assert [r.verdict for r in common.ordered(make_run().results)] == \
        [FAIL, ERROR, UNKNOWN, PASS, PASS, SKIPPED]
    assert "<" not in render_html(make_run()).split("<title>")[1].split("</title>")[0]
