"""Counterexamples: a failing (or reproducing) example saved so that it can be replayed.

A counterexample holds the spec itself (so a later edit of the YAML file does not change
what is replayed), the shrunk plan, the seed, the versions it ran on, the anomalies with
their evidence, the faults as applied, and an excerpt of the history around the evidence.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.history import History

SCHEMA = "kch-counterexample/1"
EXCERPT = 200   # events kept in the excerpt


def _values(evidence: dict[str, list[dict]]) -> set:
    out = set()
    for items in evidence.values():
        for item in items:
            for key in ("value", "previous_value", "values"):
                v = item.get(key)
                if isinstance(v, list):
                    out.update(x for x in v if isinstance(x, (str, int)))
                elif isinstance(v, (str, int)):
                    out.add(v)
    return out


def excerpt(history: History, evidence: dict[str, list[dict]], limit: int = EXCERPT) -> list[dict]:
    """Faults, heals, drains and the sends of the values the evidence names (as JSON dicts)."""
    values = _values(evidence)
    keep = [e for e in history
            if e.type in ("fault", "heal-all", "drain") or (e.type == "send" and e.value in values)]
    return [json.loads(e.to_json()) for e in keep[:limit]]


def save(path: Path, *, spec_id: str, spec_path: str, spec_data: dict, plan: dict, seed: int,
         versions: dict, verdict: str, message: str, expect: dict, anomalies: dict[str, int],
         evidence: dict[str, list[dict]], faults: list[dict], history: History,
         history_file: str | None) -> Path:
    data = {"schema": SCHEMA, "spec": spec_id, "spec_path": spec_path, "spec_data": spec_data,
            "plan": plan, "seed": seed, "versions": versions, "verdict": verdict,
            "message": message, "expect": expect, "anomalies": anomalies, "evidence": evidence,
            "faults": faults, "history_file": history_file,
            "history_excerpt": excerpt(history, evidence)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str))
    os.replace(tmp, path)
    return path


def load(path: Path) -> dict[str, Any]:
    """Read a counterexample; a UsageError (exit 2) naming the file if it is not one."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise UsageError(f"{path}:1: schema: not a kch counterexample (expected {SCHEMA!r})")
    for key in ("spec", "spec_data", "plan"):
        if key not in data:
            raise UsageError(f"{path}:1: {key}: missing")
    return data
