"""report.json, schema ``kch-report/1`` (ARCHITECTURE.md, "Contracts"), and reading it back."""

from __future__ import annotations

import json
from pathlib import Path

from harness.judge.results import RunResult

SCHEMA = "kch-report/1"


def render_json(run: RunResult) -> str:
    """The run as pretty-printed JSON with sorted keys, so equal runs give equal bytes."""
    data = run.to_dict()
    assert data["schema"] == SCHEMA, data["schema"]
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


def load_run(path: str | Path) -> RunResult:
    """The RunResult stored in a report.json; ValueError if it is not ``kch-report/1``."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    schema = data.get("schema") if isinstance(data, dict) else None
    if schema != SCHEMA:
        raise ValueError(f"{path}: schema is {schema!r}, expected {SCHEMA!r}")
    return RunResult.from_dict(data)
