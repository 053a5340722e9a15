"""Progress of a run: a rich progress bar on a terminal, one plain line per step in CI logs."""

from __future__ import annotations

import sys

from harness.judge.results import ExampleResult, SpecResult


class Progress:
    def __init__(self, total_specs: int, *, stream=sys.stderr) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self._bar = None
        if self.live:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeElapsedColumn

            self._bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=Console(file=stream), transient=True)
            self._task = self._bar.add_task("specs", total=total_specs)
            self._bar.start()

    def example(self, spec_id: str, ex: ExampleResult) -> None:
        line = (f"  {spec_id} #{ex.index} [{ex.phase}] {ex.verdict} in {ex.duration_s:.1f}s"
                + (f": {ex.message}" if ex.message else ""))
        if self._bar is not None:
            self._bar.update(self._task, description=f"{spec_id} #{ex.index + 1}")
            self._bar.console.print(line, highlight=False, markup=False)
        else:
            print(line, file=self.stream, flush=True)

    def spec(self, result: SpecResult) -> None:
        client = f" [{result.client}]" if result.client else ""
        line = f"{result.verdict.upper():7} {result.spec}{client} ({result.examples} examples, {result.duration_s:.0f}s)"
        if self._bar is not None:
            self._bar.advance(self._task)
            self._bar.console.print(line, highlight=False, markup=False)
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
