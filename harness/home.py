"""Where kch keeps things on this machine: a cache (jars, binaries) and a state directory."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def cache_dir() -> Path:
    """Per-user cache (Kafka classpaths, the toxiproxy binary); ``KCH_CACHE_DIR`` overrides."""
    path = Path(os.environ.get("KCH_CACHE_DIR") or platformdirs.user_cache_dir("kch"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def state_dir() -> Path:
    """Per-user state (ownership records of running processes, the kept-up cluster);
    ``KCH_STATE_DIR`` overrides."""
    path = Path(os.environ.get("KCH_STATE_DIR") or platformdirs.user_state_dir("kch"))
    path.mkdir(parents=True, exist_ok=True)
    return path
