"""Client manifests: what a client is, how to install it and run its driver, what it can do.

A manifest is a small YAML file (``harness/clients/manifests/NAME.yaml``, or any path given to
``--client``). ``NAME@VERSION`` picks another version than the manifest's default; each
version is installed into its own environment (see :mod:`harness.clients.install`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import UsageError

CAPABILITIES = ("assign", "idempotence", "group:classic-eager", "group:classic-cooperative",
                "group:consumer", "group:static", "commit:sync", "commit:async", "commit:auto", "stall",
                "pause-partitions", "resubscribe")


class Install(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    pip: str | None = None          # a requirement, "{version}" filled in
    go: str | None = None           # a directory (relative to harness/drivers) with go.mod
    go_module: str | None = None    # the module whose version is pinned, for NAME@VERSION
    maven: bool = False             # the Kafka classpath of that version (kafka-clients)
    java_source: str | None = None  # a .java file (relative to harness/drivers) compiled against it


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    version: str
    language: str
    library: str = ""
    in_process: bool = False        # the default version runs inside kch (confluent-kafka)
    install: Install = Install()
    command: list[str]
    config: Literal["java", "librdkafka"] = "java"
    capabilities: list[Literal[CAPABILITIES]] = Field(default_factory=list)  # type: ignore[valid-type]
    notes: dict[str, str] = Field(default_factory=dict)   # capability -> why it is missing
    path: str = ""


def builtin_names() -> list[str]:
    root = resources.files("harness.clients").joinpath("manifests")
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".yaml"))


def load_manifest(ref: str) -> tuple[Manifest, str]:
    """The manifest `ref` names (``NAME``, ``NAME@VERSION`` or a file path) and the version
    chosen. Raises UsageError naming the file and field when it is malformed."""
    name, _, version = ref.partition("@")
    if name.endswith((".yaml", ".yml")):
        path = Path(name)
        if not path.is_file():
            raise UsageError(f"--client {ref}: no such manifest file")
        text = path.read_text()
    else:
        if name not in builtin_names():
            raise UsageError(f"--client {name!r}: unknown client; known: {', '.join(builtin_names())} "
                             "(or a path to a manifest .yaml)")
        res = resources.files("harness.clients").joinpath("manifests", f"{name}.yaml")
        path, text = Path(str(res)), res.read_text()
    try:
        data = yaml.safe_load(text)
        manifest = Manifest(**{**data, "path": str(path)})
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not YAML: {exc}".splitlines()[0]) from None
    except (ValidationError, TypeError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else {"loc": (), "msg": str(exc)}
        field = ".".join(str(x) for x in first["loc"])
        raise UsageError(f"{path}: {field}: {first['msg']}") from None
    return manifest, version or manifest.version
