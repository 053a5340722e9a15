"""index.html: the same content as summary.md, from ``templates/index.html``."""

from __future__ import annotations

from html import escape
from importlib import resources
from string import Template

from harness.results import VERDICTS, RunResult, SpecResult

from .common import NONE, Detail, anomaly_summary, details, duration, more, ordered, totals_line


def template() -> Template:
    return Template(resources.files(__package__).joinpath("templates/index.html")
                    .read_text(encoding="utf-8"))


def e(value: object) -> str:
    return escape(str(value), quote=True)


def badge(verdict: str) -> str:
    cls = verdict if verdict in VERDICTS else "unknown"
    return f'<span class="v v-{cls}">{e(verdict)}</span>'


def pre(lines: list[str]) -> str:
    return "<pre>" + e("\n".join(lines)) + "</pre>"


def row(r: SpecResult) -> str:
    title = f" {e(r.title)}" if r.title else ""
    return (f"<tr><td>{badge(r.verdict)}</td><td><code>{e(r.spec)}</code>{title}</td>"
            f'<td class="num">{r.examples}</td><td class="num">{e(duration(r.duration_s))}</td>'
            f"<td>{e(anomaly_summary(r.anomalies) or NONE)}</td></tr>")


def section(d: Detail) -> str:
    r = d.result
    kind = "Reproduction: " if d.reproduction else ""
    out = [f"<section><h2>{badge(r.verdict)} {kind}<code>{e(r.spec)}</code></h2>"]
    if r.title:
        out.append(f"<p><em>{e(r.title)}</em></p>")
    if r.message:
        out.append(pre(r.message.strip().splitlines()))
    if d.expect:
        out.append("<table><tr><th>Anomaly</th><th>Expectation</th><th>Count</th></tr>")
        out += [f'<tr><td>{e(n)}</td><td>{e(x)}</td><td class="num">{c}</td></tr>'
                for n, x, c in d.expect]
        out.append("</table>")
    if d.undecided:
        out.append("<p>Undecided:</p><ul>")
        out += [f"<li>{e(n)}: {e(why)}</li>" for n, why in d.undecided] + ["</ul>"]
    for name, lines, left_out in d.evidence:
        out.append(f"<p>Evidence of <code>{e(name)}</code> ({r.anomalies.get(name, 0)} found):</p>")
        out.append(pre(lines) + (f"<p>{e(more(left_out))}</p>" if left_out else ""))
    if d.faults:
        out += ["<p>Faults active in the counterexample:</p>", pre(d.faults)]
    if r.counterexample:
        out.append(f"<p>Counterexample: <code>{e(r.counterexample)}</code></p>")
    if d.replay:
        out += ["<p>Replay:</p>", pre([d.replay])]
    return "\n".join(out + ["</section>"])


def render_html(run: RunResult) -> str:
    """index.html as a string; every value from the run is HTML-escaped."""
    meta = [f"started {run.started_at}, finished {run.finished_at}",
            f"profile {run.profile}, seed {run.seed}, harness {run.harness_version}",
            "cluster: " + ", ".join(f"{k} {v}" for k, v in run.cluster.items()),
            "client: " + ", ".join(f"{k} {v}" for k, v in run.client.items())]
    return template().substitute(
        run_id=e(run.run_id), verdict=e(run.verdict), totals=e(totals_line(run)),
        exit_code=run.exit_code(), meta="\n".join(f"<li>{e(m)}</li>" for m in meta),
        rows="\n".join(row(r) for r in ordered(run.results)),
        sections="\n".join(section(d) for d in details(run)))
