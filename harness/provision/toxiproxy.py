"""The toxiproxy server binary, built with ``go install`` once and cached."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from harness.errors import ToolMissing
from harness.home import cache_dir
from harness.provision.tools import file_lock, progress, require_tool

TOXIPROXY_VERSION = "v2.12.0"
TOXIPROXY_MODULE = "github.com/Shopify/toxiproxy/v2/cmd/server"


def toxiproxy_bin() -> Path:
    """Path of a toxiproxy server binary: ``TOXIPROXY_BIN`` when set, else built with Go."""
    override = os.environ.get("TOXIPROXY_BIN")
    if override:
        path = Path(override)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise ToolMissing(f"TOXIPROXY_BIN={override} is not an executable file: fix the path or unset it")
        return path
    target = cache_dir() / "bin" / f"toxiproxy-server-{TOXIPROXY_VERSION}"
    with file_lock(cache_dir() / "bin" / ".toxiproxy.lock"):
        if not target.exists():
            _build(target)
    return target


def _build(target: Path) -> None:
    go = require_tool("go")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        env = dict(os.environ, GOBIN=tmp, CGO_ENABLED="0")
        with progress(f"building toxiproxy {TOXIPROXY_VERSION} with go install (once; cached)"):
            proc = subprocess.run([go, "install", f"{TOXIPROXY_MODULE}@{TOXIPROXY_VERSION}"],
                                  capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
            raise ToolMissing(f"go install {TOXIPROXY_MODULE}@{TOXIPROXY_VERSION} failed ({tail[0] if tail else 'no output'}): check the Go module proxy or set TOXIPROXY_BIN")
        shutil.move(str(Path(tmp) / "server"), target)
