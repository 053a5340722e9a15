"""junit.xml: one <testsuite name="kch">, one <testcase> per spec."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from harness.judge.results import ERROR, FAIL, SKIPPED, UNKNOWN, ExampleResult, RunResult, SpecResult

from .common import anomaly_summary, detail, duration, is_matrix, label, more, one_line, totals_line

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: object) -> str:
    """`value` as text XML 1.0 can carry (control characters become U+FFFD)."""
    return _XML_BAD.sub("\ufffd", str(value))


def _secs(seconds: float) -> str:
    return f"{seconds:.3f}"


def classname(spec: str) -> str:
    """``kch.<spec dir with dots>``: producer/idempotent -> kch.producer."""
    folder = spec.rpartition("/")[0].replace("/", ".")
    return f"kch.{folder}" if folder else "kch"


def failure_text(r: SpecResult) -> str:
    """The body of a <failure>: message, evidence per anomaly, faults, replay command."""
    d = detail(r)
    lines = [one_line(r.message)] if r.message else []
    evidence = {name: (ev_lines, left_out) for name, ev_lines, left_out in d.evidence}
    for name, expectation, count in d.expect:
        if count or name in evidence:
            ev_lines, left_out = evidence.get(name, ([], 0))
            lines.append(f"{name} ×{count} ({expectation}):")
            lines += [f"  {x}" for x in ev_lines] + ([f"  {more(left_out)}"] if left_out else [])
    if d.faults:
        lines += ["faults in the counterexample:"] + [f"  {f}" for f in d.faults]
    if r.counterexample:
        lines.append(f"counterexample: {r.counterexample}")
    if d.replay:
        lines.append(f"replay: {d.replay}")
    return "\n".join(lines)


def example_line(e: ExampleResult) -> str:
    found = anomaly_summary(e.anomalies)
    undecided = ", ".join(f"{n}: {why}" for n, why in sorted(e.unknown.items()))
    parts = [f"example {e.index} [{e.phase}] {e.verdict}", duration(e.duration_s)]
    parts += [p for p in (found, f"undecided {undecided}" if undecided else "", one_line(e.message)) if p]
    return "  ".join(parts)


def _testcase(suite: ET.Element, r: SpecResult, in_matrix: bool) -> None:
    case = ET.SubElement(suite, "testcase", classname=classname(r.spec), name=_text(label(r, in_matrix)),
                         time=_secs(r.duration_s))
    message = one_line(r.message, 300)
    if r.verdict == FAIL:
        head = anomaly_summary(r.anomalies) or message or "expectations not met"
        ET.SubElement(case, "failure", message=_text(head), type="non-conformance").text = \
            _text(failure_text(r))
    elif r.verdict == ERROR:
        ET.SubElement(case, "error", message=_text(message or "infrastructure error"),
                      type="infrastructure").text = _text(r.message)
    elif r.verdict == UNKNOWN:
        # JUnit has no "unknown" outcome (only failure, error, skipped): an undecided check is
        # reported as an <error type="unknown"> so that CI never shows it as passed.
        why = "; ".join(f"{n}: {w}" for n, w in detail(r).undecided)
        ET.SubElement(case, "error", message=_text(message or why or "a checker could not decide"),
                      type="unknown").text = _text("\n".join(p for p in (r.message, why) if p))
    elif r.verdict == SKIPPED:
        ET.SubElement(case, "skipped", message=_text(message or "skipped"))
    if r.example_results:
        ET.SubElement(case, "system-out").text = _text(
            "\n".join(example_line(e) for e in r.example_results))


def render_junit(run: RunResult) -> str:
    """junit.xml as a string; unknown verdicts count as errors."""
    t = run.totals
    counts = {"tests": str(len(run.results)), "failures": str(t[FAIL]),
              "errors": str(t[ERROR] + t[UNKNOWN]), "skipped": str(t[SKIPPED]),
              "time": _secs(sum(r.duration_s for r in run.results))}
    root = ET.Element("testsuites", name="kch", **counts)
    suite = ET.SubElement(root, "testsuite", name="kch", **counts, timestamp=_text(run.started_at))
    props = ET.SubElement(suite, "properties")
    for key, value in (("run_id", run.run_id), ("verdict", run.verdict), ("totals", totals_line(run)),
                       ("seed", run.seed), ("profile", run.profile),
                       ("harness_version", run.harness_version),
                       ("cluster", ", ".join(f"{k}={v}" for k, v in sorted(run.cluster.items()))),
                       ("client", "; ".join(", ".join(f"{k}={v}" for k, v in sorted(c.items()))
                                            for c in run.clients))):
        ET.SubElement(props, "property", name=key, value=_text(value))
    for r in run.results:
        _testcase(suite, r, is_matrix(run))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
