"""Loading specs: YAML (safe) to a validated :class:`Spec`, errors as ``file:line: field: what``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from harness.errors import UsageError
from harness.spec.model import Spec


class SpecError(UsageError):
    """A spec that cannot be used; the message is ``file:line: field: what is wrong``."""


@dataclass(frozen=True)
class LoadedSpec:
    id: str            # path below the specs root without .yaml, e.g. producer/idempotent-failover
    path: Path
    spec: Spec
    line: int = 1


def _lines(node: yaml.Node, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    """Map every key path of a composed YAML document to its 1-based line."""
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = path + (key.value,)
            out[sub] = key.start_mark.line + 1
            _lines(value, sub, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, path + (i,), out)
    return out


def _line_of(lines: dict[tuple, int], loc: tuple) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def load_spec(path: Path, *, root: Path | None = None) -> LoadedSpec:
    """Read and validate one spec file. Raises :class:`SpecError` naming file, line and field."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise SpecError(f"{path}:{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}:1: a spec is a mapping of fields (title, cluster, workload, expect, ...)")
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        line = _line_of(_lines(node), loc)
        field = ".".join(str(p) for p in loc) or "(spec)"
        message = err["msg"].removeprefix("Value error, ")
        raise SpecError(f"{path}:{line}: {field}: {message}") from None
    return LoadedSpec(spec_id(path, root), path, spec)


def spec_id(path: Path, root: Path | None = None) -> str:
    """A spec's id: its path below the nearest ``specs`` directory (else below `root`),
    without ``.yaml``: ``producer/idempotent-leader-failover``."""
    resolved = path.resolve()
    for parent in resolved.parents:
        if parent.name == "specs":
            return str(resolved.relative_to(parent).with_suffix(""))
    if root is not None:
        return str(resolved.relative_to(root.resolve()).with_suffix(""))
    return path.stem


def find_specs(paths: list[Path]) -> list[LoadedSpec]:
    """Every spec under the given files and directories (``*.yaml``, sorted), all validated first."""
    found: list[LoadedSpec] = []
    for path in paths:
        if path.is_dir():
            found += [load_spec(p, root=path) for p in sorted(path.rglob("*.yaml"))]
        elif path.is_file():
            found.append(load_spec(path, root=path.parent))
        else:
            raise SpecError(f"{path}: no such spec file or directory")
    return found


def json_schema() -> dict:
    """The JSON Schema of a spec, for editors."""
    return Spec.model_json_schema(by_alias=True)
