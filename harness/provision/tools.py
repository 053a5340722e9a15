"""Finding the external tools kch needs, with the fix in the error when one is missing."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sys
from pathlib import Path
from typing import Iterator

from harness.errors import ToolMissing

FIXES = {
    "java": "install a Java 17+ runtime (e.g. apt-get install -y openjdk-17-jre-headless) or set JAVA_HOME",
    "mvn": "install Maven (e.g. apt-get install -y maven), or set KAFKA_HOME to an unpacked Kafka distribution",
    "go": "install Go >= 1.23 (e.g. from go.dev or apt), or set TOXIPROXY_BIN to a toxiproxy-server binary",
}


def require_tool(name: str) -> str:
    """Return the path of executable ``name`` on PATH, or raise ToolMissing with the fix."""
    path = shutil.which(name)
    if not path:
        raise ToolMissing(f"{name} not found on PATH: {FIXES.get(name, 'install it')}")
    return path


def java_bin() -> str:
    """The java executable: ``$JAVA_HOME/bin/java`` when set, else ``java`` on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        if candidate.is_file():
            return str(candidate)
        raise ToolMissing(f"JAVA_HOME={home} has no bin/java: {FIXES['java']}")
    return require_tool("java")


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (so two runs do not provision the same thing at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def progress(description: str) -> Iterator[None]:
    """Show a spinner on a terminal; print one line in CI logs."""
    if sys.stderr.isatty():
        from rich.console import Console

        with Console(stderr=True).status(description):
            yield
    else:
        print(f"kch: {description}", file=sys.stderr, flush=True)
        yield
