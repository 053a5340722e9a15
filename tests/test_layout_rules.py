"""The code's own layout rules (docs/architecture.md): small modules, short functions, no
private name imported across modules, the vocabulary a leaf, and the JSON Schema true to the
language as written."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "harness"
EXEMPT = HARNESS / "drivers"          # client drivers: one file per client library, by design
MODULES = sorted(p for p in HARNESS.rglob("*.py") if EXEMPT not in p.parents)


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_outside_the_drivers_is_over_400_lines(path):
    assert len(path.read_text().splitlines()) <= 400


def test_no_function_outside_the_drivers_is_over_80_lines():
    long = [f"{p.relative_to(ROOT)}:{n.lineno} {n.name} ({n.end_lineno - n.lineno + 1} lines)"
            for p in MODULES for n in ast.walk(_tree(p))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > 80]
    assert long == []


def test_no_private_name_is_imported_across_modules():
    private = [f"{p.relative_to(ROOT)}:{n.lineno} {n.module}.{a.name}"
               for p in MODULES for n in ast.walk(_tree(p))
               if isinstance(n, ast.ImportFrom) and n.module and n.module.startswith("harness")
               for a in n.names if a.name.startswith("_") and not a.name.startswith("__")]
    assert private == []


def test_the_vocabulary_is_a_leaf():
    for path in sorted((HARNESS / "vocab").glob("*.py")):
        for n in ast.walk(_tree(path)):
            if isinstance(n, ast.ImportFrom) and n.module:
                assert not n.module.startswith("harness") or n.module.startswith("harness.vocab"), \
                    f"{path.name} imports {n.module}"


def test_the_root_package_holds_only_cross_cutting_modules():
    root = sorted(p.name for p in HARNESS.glob("*.py"))
    assert root == ["__init__.py", "__main__.py", "errors.py", "history.py", "home.py", "procs.py",
                    "pytest_plugin.py", "wait.py"]


def test_every_shipped_and_test_spec_validates_against_the_published_schema():
    out = subprocess.run([sys.executable, "-m", "harness", "specs", "schema"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    validator = jsonschema.Draft202012Validator(json.loads(out.stdout))
    files = sorted((ROOT / "specs").rglob("*.yaml"))
    assert len(files) >= 20
    for path in files:
        errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
        assert errors == [], path


def test_the_schema_describes_ranges_durations_and_rates_as_written():
    validator = jsonschema.Draft202012Validator(json.loads(subprocess.run(
        [sys.executable, "-m", "harness", "specs", "schema"], cwd=ROOT, capture_output=True,
        text=True, timeout=60).stdout))
    good = {"title": "abc", "workload": {"messages": "500..2000", "rate": "400/s"},
            "producer": {"max_block": "300ms"},
            "faults": {"pick": "1..2", "from": [{"pause": "leader", "for": "1s..5s"}]},
            "expect": {"duplicate": "forbidden"}}
    assert list(validator.iter_errors(good)) == []
    for bad in ({**good, "workload": {"messages": {"low": 1, "high": 2}}},
                {**good, "workload": {"rate": "fast"}},
                {**good, "expect": {"duplicated": "forbidden"}}):
        assert list(validator.iter_errors(bad)), bad
