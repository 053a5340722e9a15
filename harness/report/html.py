"""index.html: the same content as summary.md, from ``templates/index.html``."""

from __future__ import annotations

from html import escape
from importlib import resources
from string import Template

from harness.judge.results import VERDICTS, RunResult, SpecResult

from .common import NONE, Detail, anomaly_summary, details, duration, is_matrix, label, matrix, more, ordered, totals_line


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


def row(r: SpecResult, in_matrix: bool = False) -> str:
    title = f" {e(r.title)}" if r.title else ""
    note = r.message if r.verdict == "skipped" else (anomaly_summary(r.anomalies) or NONE)
    return (f"<tr><td>{badge(r.verdict)}</td><td><code>{e(label(r, in_matrix))}</code>{title}</td>"
            f'<td class="num">{r.examples}</td><td class="num">{e(duration(r.duration_s))}</td>'
            f"<td>{e(note)}</td></tr>")


def matrix_table(run: RunResult) -> str:
    """Client x spec, as in summary.md; empty for a run with one client."""
    if not is_matrix(run):
        return ""
    clients, rows = matrix(run)
    out = ["<h2>Client × spec</h2><table><tr><th>Spec</th>" + "".join(f"<th>{e(c)}</th>" for c in clients) + "</tr>"]
    for spec, cells in rows:
        tds = []
        for c in cells:
            if c is None:
                tds.append(f"<td>{NONE}</td>")
                continue
            bits = [badge(c.verdict)] + ([e(c.anomalies)] if c.anomalies else [])
            if c.counterexample:
                bits.append(f'<a href="{e(c.counterexample)}">counterexample</a>')
            if c.message:
                bits.append(f"<small>{e(c.message.split(': ', 1)[-1])}</small>")
            tds.append("<td>" + "<br>".join(bits) + "</td>")
        out.append(f"<tr><td><code>{e(spec)}</code></td>{''.join(tds)}</tr>")
    return "\n".join(out + ["</table>"])


def section(d: Detail) -> str:
    r = d.result
    kind = "Reproduction: " if d.reproduction else ""
    out = [f"<section><h2>{badge(r.verdict)} {kind}<code>{e(d.heading.split(': ', 1)[-1])}</code></h2>"]
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
            *["client: " + ", ".join(f"{k} {v}" for k, v in c.items()) for c in run.clients]]
    return template().substitute(
        run_id=e(run.run_id), verdict=e(run.verdict), totals=e(totals_line(run)),
        exit_code=run.exit_code(), meta="\n".join(f"<li>{e(m)}</li>" for m in meta),
        rows="\n".join(row(r, is_matrix(run)) for r in ordered(run.results)),
        matrix=matrix_table(run),
        sections="\n".join(section(d) for d in details(run)))
