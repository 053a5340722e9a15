"""Suites (``suites/*.yaml``): named runs saying which specs, client, cluster and profile.

```yaml
title: Default conformance suite, for CI
specs: [../specs/producer, ../specs/consumer]   # files or directories, relative to this file
client: confluent-kafka           # or a list: a client x spec matrix in one report
cluster: local
profile: ci
```
A target of ``kch run`` is a suite file, a suite name (``ci`` means ``suites/ci.yaml``), a spec
file or a directory of specs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.spec.loader import LoadedSpec, SpecError, find_specs


class SuiteModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = ""
    specs: list[str] = Field(min_length=1)
    client: str | list[str] = "confluent-kafka"     # NAME, NAME@VERSION or a manifest path

    @property
    def clients(self) -> list[str]:
        return [self.client] if isinstance(self.client, str) else list(self.client)
    cluster: Literal["local", "docker", "external"] = "local"
    profile: Literal["ci", "thorough"] = "ci"
    seed: int | None = None


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    model: SuiteModel
    specs: list[LoadedSpec]


def is_suite(path: Path) -> bool:
    return path.is_file() and path.parent.name == "suites"


def load_suite(path: Path) -> Suite:
    """Read a suite and every spec it names (all validated); errors as ``file:line: field``."""
    try:
        text = path.read_text()
        data = yaml.safe_load(text)
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SpecError(f"{path}:{mark.line + 1 if mark else 1}: not valid YAML") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}:1: a suite is a mapping (title, specs, client, cluster, profile)")
    try:
        model = SuiteModel.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(suite)"
        line = next((n for n, l in enumerate(text.splitlines(), 1)
                     if l.lstrip().startswith(f"{err['loc'][0]}:")), 1) if err["loc"] else 1
        raise SpecError(f"{path}:{line}: {field}: {err['msg']}") from None
    specs = find_specs([(path.parent / p) for p in model.specs])
    return Suite(path.stem, path, model, specs)


def resolve_targets(targets: list[str], *, root: Path = Path(".")) -> tuple[list[LoadedSpec], Suite | None]:
    """The specs `targets` name, and the suite if exactly one suite was named."""
    specs: list[LoadedSpec] = []
    suites: list[Suite] = []
    for target in targets:
        path = Path(target)
        named = root / "suites" / f"{target}.yaml"
        if not path.exists() and named.is_file():
            path = named
        if is_suite(path):
            suite = load_suite(path)
            suites.append(suite)
            specs += suite.specs
        else:
            specs += find_specs([path])
    seen: set[str] = set()
    unique = [s for s in specs if not (s.id in seen or seen.add(s.id))]
    return unique, suites[0] if len(suites) == 1 else None
