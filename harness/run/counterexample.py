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

SCHEMA = "kch-counterexample/2"      # 2: typed plans (fault steps, reader actions)
MAX_BYTES = 64 * 1024 * 1024
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
        if not Path(path).is_file():
            raise UsageError(f"{path}: not a file")
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise UsageError(f"{path}:1: larger than {MAX_BYTES // 2**20} MiB: not a kch counterexample")
        data = json.loads(raw.decode("utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, RecursionError) as exc:
        raise UsageError(f"{path}:1: not UTF-8 JSON: {type(exc).__name__}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else None
        raise UsageError(f"{path}:1: schema: not a counterexample this kch can run (expected {SCHEMA!r}, "
                         f"found {str(found)[:40]!r})")
    for key in ("spec", "spec_data", "plan"):
        if key not in data:
            raise UsageError(f"{path}:1: {key}: missing")
    return data
