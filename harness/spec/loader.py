"""Loading specs: a YAML file (read by :func:`read_yaml`, which refuses anything but bounded,
plain data) to a validated :class:`Spec`; every error is one line, ``file:line: field: what``."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from harness.spec.checks import (
    check_spec,  # checks.py: whole-spec checks, after the model's
)
from harness.spec.model import Spec
from harness.spec.yamlfile import (
    Lines,
    SpecError,
    dotted,
    line_of,
    read_yaml,
    show_path,
    spec_error,
)
from harness.vocab.words import did_you_mean

__all__ = ["LoadedSpec", "SpecError", "find_specs", "json_schema", "load_spec", "model_error", "spec_id"]

MAX_ENTRIES = 20_000        # files and directories looked at under one directory given


@dataclass(frozen=True)
class LoadedSpec:
    id: str            # path below the specs root without .yaml, e.g. producer/idempotent-failover
    path: Path
    spec: Spec
    line: int = 1


def _field(loc: tuple, data: Any) -> tuple:
    """`loc` of a pydantic error as far as it names the file's data: a key the file has or
    lacks, an index it has; not pydantic's own labels below a value (``str``, ``[key]``)."""
    out: list = []
    here = data
    for part in loc:
        if isinstance(part, str) and "[" in part:
            continue
        if isinstance(here, dict):
            out.append(part)
            if part not in here:
                break                   # a missing or an extra key: named, nothing below it
            here = here[part]
        elif isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here):
            out.append(part)
            here = here[part]
        else:
            break
    return tuple(out)


def model_error(path: Path, exc: ValidationError, data: Any, lines: Lines, whole: str) -> SpecError:
    """The first error of a pydantic validation as ``file:line: field: what`` (one line);
    `whole` is the field shown for an error about the whole document, e.g. ``(spec)``."""
    err = exc.errors(include_url=False)[0]
    loc = _field(tuple(err["loc"]), data)
    message = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if err["type"] == "literal_error" and isinstance(err.get("input"), str):
        message += did_you_mean(err["input"], re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", ""))))
    return spec_error(path, line_of(lines, loc), dotted(loc) if loc else whole, message)


def validate(path: Path, model: type[BaseModel], data: Any, lines: Lines, whole: str) -> Any:
    """`data` validated into `model`; any failure (a bug in a validator included) a SpecError."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise model_error(path, exc, data, lines, whole) from None
    except RecursionError:
        raise spec_error(path, 1, whole, "nested too deep to validate") from None
    except Exception as exc:  # noqa: BLE001 - a file must not end in a traceback
        raise spec_error(path, 1, whole, f"cannot be validated ({type(exc).__name__}: {exc}); "
                                         "this is a bug in kch, please report it") from None


def _check(path: Path, spec: Spec, lines: Lines) -> None:
    """Whole-spec checks (node numbers, links, toxic attributes, config keys): the first
    problem as ``file:line: field: what``."""
    try:
        problems = check_spec(spec)
    except Exception as exc:  # noqa: BLE001 - a file must not end in a traceback
        raise spec_error(path, 1, "(spec)", f"cannot be checked ({type(exc).__name__}: {exc}); "
                                            "this is a bug in kch, please report it") from None
    if problems:
        keys, message = problems[0]
        keys = tuple(keys)
        raise spec_error(path, line_of(lines, keys), dotted(keys) if keys else "(spec)", message)


def load_spec(path: Path, *, root: Path | None = None) -> LoadedSpec:
    """Read and validate one spec file. Raises :class:`SpecError` naming file, line and field."""
    path = Path(path)
    data, lines = read_yaml(path, what="spec")
    if not isinstance(data, dict):
        found = "nothing" if data is None else "a list" if isinstance(data, list) else "a single value"
        raise spec_error(path, lines.get((), 1), "(file)", "a spec is a mapping of fields (title, cluster, "
                                                          f"workload, expect, ...), this file holds {found}")
    spec = validate(path, Spec, data, lines, "(spec)")
    _check(path, spec, lines)
    return LoadedSpec(spec_id(path, root), path, spec)


def spec_id(path: Path, root: Path | None = None) -> str:
    """A spec's id: its path below the nearest ``specs`` directory (else below `root`),
    without ``.yaml``: ``producer/idempotent-leader-failover``."""
    resolved = _resolve(path)
    for parent in resolved.parents:
        if parent.name == "specs":
            return str(resolved.relative_to(parent).with_suffix(""))
    if root is not None:
        for base, below in ((_resolve(root), resolved), (root.absolute(), path.absolute())):
            try:
                return str(below.relative_to(base).with_suffix(""))
            except ValueError:          # a symlink to a file elsewhere
                continue
    return path.stem


def _resolve(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):     # a symlink loop (it appeared after the file was read)
        return path.absolute()


def _stat(path: Path) -> os.stat_result:
    try:
        return os.stat(path)
    except FileNotFoundError:
        raise SpecError(f"{show_path(path)}: no such spec file or directory") from None
    except (OSError, ValueError) as exc:
        raise spec_error(path, 1, "(file)", f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None


def _spec_files(top: Path) -> list[Path]:
    """Every ``*.yaml`` entry under the directory `top`, sorted, as ``Path.rglob`` finds them
    (symlinked directories are not entered); an unreadable directory is an error, and so is
    a tree of more than MAX_ENTRIES entries (bounded: a spec directory is not a disk)."""
    found: list[Path] = []
    pending, seen = [top], 0
    while pending:
        directory = pending.pop()
        try:
            with os.scandir(directory) as entries:
                listed = list(entries)
        except OSError as exc:
            raise SpecError(f"{show_path(directory)}: cannot list the directory: {exc.strerror or exc}") from None
        seen += len(listed)
        if seen > MAX_ENTRIES:
            raise SpecError(f"{show_path(top)}: more than {MAX_ENTRIES} entries below it: "
                            "name the directory of the specs")
        for entry in listed:
            child = directory / entry.name
            if entry.name.endswith(".yaml"):
                found.append(child)
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(child)
            except OSError:
                continue
    return sorted(found)


def find_specs(paths: list[Path]) -> list[LoadedSpec]:
    """Every spec under the given files and directories (``*.yaml``, sorted), all validated first."""
    found: list[LoadedSpec] = []
    for path in map(Path, paths):
        if stat.S_ISDIR(_stat(path).st_mode) and path.suffix != ".yaml":
            found += [load_spec(p, root=path) for p in _spec_files(path)]
        else:                           # read_yaml refuses what is not a regular file (dir.yaml too)
            found.append(load_spec(path, root=path.parent))
    return found


def json_schema() -> dict:
    """The JSON Schema of a spec, for editors."""
    return Spec.model_json_schema(by_alias=True)
