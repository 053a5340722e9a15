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

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.spec.loader import LoadedSpec, find_specs, validate
from harness.spec.yamlfile import line_of, read_yaml, spec_error


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
    """Read a suite and every spec it names (all validated); errors as ``file:line: field: what``."""
    data, lines = read_yaml(path, what="suite")
    if not isinstance(data, dict):
        raise spec_error(path, lines.get((), 1), "(file)",
                         "a suite is a mapping (title, specs, client, cluster, profile)")
    model = validate(path, SuiteModel, data, lines, "(suite)")
    targets = []
    for i, name in enumerate(model.specs):
        target = path.parent / name
        try:
            os.stat(target)
        except (OSError, ValueError) as exc:
            why = "no such spec file or directory" if isinstance(exc, FileNotFoundError) else \
                f"cannot read: {getattr(exc, 'strerror', None) or exc}"
            raise spec_error(path, line_of(lines, ("specs", i)), f"specs.{i}", f"{name}: {why}") from None
        targets.append(target)
    return Suite(path.stem, path, model, find_specs(targets))


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
