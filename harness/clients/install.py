"""Installing a client version into its own environment, once, under the cache:
``clients/NAME-VERSION/`` holds a virtualenv (pip), a built Go binary (go) or compiled Java
classes (maven), plus a stamp naming what was installed from which driver sources.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from harness.clients.manifest import Manifest
from harness.errors import ToolMissing, UsageError
from harness.home import cache_dir
from harness.provision.tools import file_lock, progress, require_tool

DRIVERS = Path(__file__).resolve().parents[1] / "drivers"
ROOT = Path(__file__).resolve().parents[2]        # the directory holding the harness package


@dataclass(frozen=True)
class Environment:
    """What a driver's command needs: placeholders and environment variables."""

    command: list[str]
    env: dict[str, str]


def _stamp(parts: list[str | Path]) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(Path(p).read_bytes() if isinstance(p, Path) else p.encode())
    return h.hexdigest()[:16]


def _run(cmd: list[str], *, cwd: Path | None = None, what: str, env: dict | None = None) -> None:
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        tail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
        if "No matching distribution" in out.stderr or "unknown revision" in out.stderr:
            raise UsageError(f"--client: {what}: that version is not served ({tail[0]})")
        raise ToolMissing(f"{what} failed: {tail[0]}")


def environment(manifest: Manifest, version: str) -> Environment:
    """Install `manifest` at `version` if needed; the driver command with placeholders filled."""
    home = cache_dir() / "clients" / f"{manifest.name}-{version}"
    values = {"drivers": str(DRIVERS), "python": sys.executable}
    inst = manifest.install
    with file_lock(cache_dir() / "clients" / f".{manifest.name}-{version}.lock"):
        if inst.pip:
            values["python"] = _pip(home, inst.pip.format(version=version))
        if inst.go:
            values["binary"] = _go(home, DRIVERS / inst.go, inst.go_module, version, manifest.version)
        if inst.maven:
            values.update(_java(home, version, inst.java_source))
    command = [part.format(**values) for part in manifest.command]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return Environment(command, env)


def _pip(home: Path, requirement: str) -> str:
    python = home / "venv" / "bin" / "python"
    stamp = home / "installed"
    if stamp.exists() and stamp.read_text() == requirement and python.exists():
        return str(python)
    shutil.rmtree(home / "venv", ignore_errors=True)
    home.mkdir(parents=True, exist_ok=True)
    with progress(f"installing {requirement} into its own virtualenv"):
        _run([sys.executable, "-m", "venv", str(home / "venv")], what="python -m venv")
        _run([str(python), "-m", "pip", "install", "-q", requirement], what=f"pip install {requirement}")
    stamp.write_text(requirement)
    return str(python)


def _go(home: Path, source: Path, module: str | None, version: str, default: str) -> str:
    binary = home / "driver"
    files = sorted(p for p in source.iterdir() if p.suffix in (".go", ".mod", ".sum"))
    want = _stamp([*files, version])
    stamp = home / "installed"
    if stamp.exists() and stamp.read_text() == want and binary.exists():
        return str(binary)
    go = require_tool("go")
    build = home / "src"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    for f in files:
        shutil.copy(f, build / f.name)
    with progress(f"building the {source.name} driver ({module or 'go'} {version}) with go build"):
        if module and version != default:
            _run([go, "get", f"{module}@{version}"], cwd=build, what=f"go get {module}@{version}")
            _run([go, "mod", "tidy"], cwd=build, what="go mod tidy")
        _run([go, "build", "-o", str(binary), "."], cwd=build, what="go build")
    stamp.write_text(want)
    return str(binary)


def _java(home: Path, version: str, source: str | None) -> dict[str, str]:
    from harness.provision import kafka_dist

    try:
        dist = kafka_dist(version)
    except UsageError as exc:
        raise UsageError(f"--client java@{version}: the Java client's version is a Kafka release: {exc}") from None
    values = {"classpath": dist.classpath, "java": dist.java, "log4j": str(dist.log4j2_config)}
    if source is None:
        return values
    src = DRIVERS / source                 # a .java file, or a directory of them
    files = sorted(src.glob("*.java")) if src.is_dir() else [src]
    classes = home / "classes"
    want = _stamp([*files, version])
    stamp = home / "installed"
    if not (stamp.exists() and stamp.read_text() == want):
        javac = shutil.which("javac")
        if not javac:
            raise ToolMissing("javac not found: install a JDK (e.g. apt-get install -y openjdk-17-jdk-headless)")
        shutil.rmtree(classes, ignore_errors=True)
        classes.mkdir(parents=True)
        with progress(f"compiling the {src.name} driver against kafka-clients {version}"):
            _run([javac, "-nowarn", "-cp", dist.classpath, "-d", str(classes), *map(str, files)], what="javac")
        stamp.write_text(want)
    values["classpath"] = f"{classes}{os.pathsep}{dist.classpath}"
    return values
