"""summary.md: a table of every spec, then a section per non-pass spec and per reproduction."""

from __future__ import annotations

import re

from harness.judge.results import RunResult, SpecResult

from .common import (NONE, Detail, anomaly_summary, details, duration, is_matrix, label, matrix, more, one_line,
                     ordered, totals_line)

_SPECIAL = re.compile(r"([\\`*<>&\[\]|])")


def text(value: object) -> str:
    """`value` on one line, markdown and inline-HTML characters backslash-escaped."""
    return _SPECIAL.sub(r"\\\1", one_line(str(value)))


def cell(value: object) -> str:
    """`value` fit for one table cell (never empty)."""
    return text(value) or NONE


def fence(lang: str, lines: list[str]) -> list[str]:
    """A fenced block longer than any backtick run inside it."""
    longest = max((len(m) for line in lines for m in re.findall("`+", line)), default=0)
    ticks = "`" * max(3, longest + 1)
    return [ticks + lang, *lines, ticks]


def row(r: SpecResult, in_matrix: bool = False) -> str:
    title = f" {cell(r.title)}" if r.title else ""
    note = cell(r.message) if r.verdict == "skipped" else cell(anomaly_summary(r.anomalies))
    return (f"| {r.verdict} | `{label(r, in_matrix)}`{title} | {r.examples} | {duration(r.duration_s)} "
            f"| {note} |")


def matrix_table(run: RunResult) -> list[str]:
    """Client x spec: each cell a verdict, the anomalies found and a link to the counterexample."""
    clients, rows = matrix(run)
    out = ["## Client × spec", "", "| Spec | " + " | ".join(cell(c) for c in clients) + " |",
           "|---|" + "---|" * len(clients)]
    for spec, cells in rows:
        shown = []
        for c in cells:
            if c is None:
                shown.append(NONE)
                continue
            parts = [f"**{c.verdict}**"] + ([text(c.anomalies)] if c.anomalies else [])
            if c.counterexample:
                parts.append(f"[counterexample]({c.counterexample})")
            if c.message:
                parts.append(text(c.message.split(": ", 1)[-1]))
            shown.append("<br>".join(parts))
        out.append(f"| `{spec}` | " + " | ".join(shown) + " |")
    return out + [""]


def section(d: Detail) -> list[str]:
    r = d.result
    out = [f"## {text(d.heading)}", ""]
    if r.title:
        out += [f"*{text(r.title)}*", ""]
    message = r.message.strip().splitlines()
    if len(message) > 1:
        out += fence("text", [line.rstrip() for line in message]) + [""]
    elif message:
        out += [text(message[0]), ""]
    if d.expect:
        out += ["| Anomaly | Expectation | Count |", "|---|---|---:|"]
        out += [f"| {cell(n)} | {cell(e)} | {c} |" for n, e, c in d.expect] + [""]
    if d.undecided:
        out += ["Undecided:", ""] + [f"- {text(n)}: {text(why)}" for n, why in d.undecided] + [""]
    for name, lines, left_out in d.evidence:
        out += [f"Evidence of `{name}` ({r.anomalies.get(name, 0)} found):", ""] + fence("json", lines)
        out += [more(left_out), ""] if left_out else [""]
    if d.faults:
        out += ["Faults active in the counterexample:", ""] + fence("json", d.faults) + [""]
    if r.counterexample:
        out += [f"Counterexample: `{r.counterexample}`", ""]
    if d.replay:
        out += ["Replay:", ""] + fence("shell", [d.replay]) + [""]
    return out


def render_markdown(run: RunResult) -> str:
    """summary.md as a string (GitHub-flavoured; fit for a CI job summary)."""
    out = [f"# kch run {text(run.run_id)}: {run.verdict.upper()}", "",
           f"{totals_line(run)}; exit code {run.exit_code()}.", "",
           f"- started {text(run.started_at)}, finished {text(run.finished_at)}",
           f"- profile {text(run.profile)}, seed {run.seed}, harness {text(run.harness_version)}",
           f"- cluster: {cell(', '.join(f'{k} {v}' for k, v in run.cluster.items()))}",
           *[f"- client: {cell(', '.join(f'{k} {v}' for k, v in c.items()))}" for c in run.clients], ""]
    if is_matrix(run):
        out += matrix_table(run)
    out += ["| Verdict | Spec | Examples | Duration | Anomalies found |", "|---|---|---:|---:|---|"]
    out += [row(r, is_matrix(run)) for r in ordered(run.results)] + [""]
    for d in details(run):
        out += section(d)
    return "\n".join(out).rstrip() + "\n"
