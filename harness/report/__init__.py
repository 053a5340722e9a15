"""Reports of a run: report.json, junit.xml, summary.md, index.html, and a console summary.

Renderers read a :class:`~harness.judge.results.RunResult` and nothing else, so a stored
report.json can be re-rendered with ``write_report(load_run(path), out_dir)``.
"""

from __future__ import annotations

from pathlib import Path

from harness.judge.results import FAIL, PASS, RunResult

from .common import (anomaly_summary, atomic_write, detail, duration, is_matrix, is_reproduction, label, one_line,
                     ordered, replay_command, totals_line)
from .html import render_html
from .json_report import SCHEMA, load_run, render_json
from .junit import render_junit
from .markdown import render_markdown

RENDERERS = {"report.json": render_json, "junit.xml": render_junit,
             "summary.md": render_markdown, "index.html": render_html}

__all__ = ["SCHEMA", "load_run", "render_console", "render_html", "render_json", "render_junit",
           "render_markdown", "write_report"]


def write_report(run: RunResult, out_dir: Path) -> dict[str, Path]:
    """Write the four report files into `out_dir` (created), each atomically; name -> path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rendered = {name: render(run) for name, render in RENDERERS.items()}   # all or none
    return {name: atomic_write(out_dir / name, text) for name, text in rendered.items()}


def render_console(run: RunResult) -> str:
    """A few plain lines for the terminal: the run, then one line per spec, worst first."""
    lines = [f"kch run {run.run_id}: {run.verdict.upper()} ({totals_line(run)}; "
             f"exit {run.exit_code()})"]
    names = {id(r): label(r, is_matrix(run)) for r in run.results}
    width = max((len(n) for n in names.values()), default=0)
    for r in ordered(run.results):
        line = (f"{r.verdict.upper():<8} {names[id(r)]:<{width}}  {r.examples:>3} examples  "
                f"{duration(r.duration_s):>7}  {anomaly_summary(r.anomalies) or 'no anomalies'}")
        replay = replay_command(r)
        if r.verdict == FAIL and replay:
            line += f"  replay: {replay}"
        elif r.verdict != PASS and (why := r.message or "; ".join(
                f"{n}: {w}" for n, w in detail(r).undecided)):
            line += f"  ({one_line(why, 100)})"
        elif is_reproduction(r):
            line += "  reproduced" + (f"; replay: {replay}" if replay else "")
        lines.append(line)
    return "\n".join(lines) + "\n"
