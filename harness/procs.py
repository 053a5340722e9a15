"""Ownership of external processes: every JVM and toxiproxy kch starts, and their reaping.

A :class:`ProcessGroup` starts processes in their own session (so a terminal's Ctrl-C reaches
only the runner, which then stops them in order) and keeps an ownership record in the state
directory: the owner's pid and start time and each child's pid and start time. If the owner
dies without cleaning up (SIGKILL, a crash), :func:`reap_orphans` — called by every start —
finds the record, sees the owner gone, and kills what it left. A *detached* group (``kch
cluster up``) outlives its owner on purpose; only ``kch cluster down`` stops it.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import threading
from pathlib import Path
from typing import Sequence

import psutil

from harness.home import state_dir

_LIVE: "set[ProcessGroup]" = set()
_LOCK = threading.Lock()


def _records_dir() -> Path:
    path = state_dir() / "owned"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _create_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def _same_process(pid: int, create: float) -> bool:
    found = _create_time(pid)
    return found is not None and abs(found - create) < 0.01


def _kill_tree(pid: int, create: float, *, sig: int = signal.SIGKILL) -> bool:
    """Send ``sig`` to ``pid`` (if it is still the process recorded) and its descendants."""
    if not _same_process(pid, create):
        return False
    try:
        proc = psutil.Process(pid)
        victims = proc.children(recursive=True) + [proc]
    except psutil.NoSuchProcess:
        return False
    for victim in victims:
        try:
            victim.send_signal(sig)
        except psutil.NoSuchProcess:
            pass
    if sig == signal.SIGKILL:
        psutil.wait_procs(victims, timeout=5)
    return True


class ProcessGroup:
    """The processes one owner (a cluster) started; ``close()`` stops every one of them.

    Example::

        group = ProcessGroup("cluster-abc")
        proc = group.spawn(["toxiproxy-server", "-port", "8474"], log_path=Path("tp.log"))
        ...
        group.close()
    """

    def __init__(self, name: str, *, detached: bool = False) -> None:
        self.name = name
        self.detached = detached
        self._procs: dict[int, tuple[subprocess.Popen, float, str]] = {}
        self._record = _records_dir() / f"{name}.json"
        with _LOCK:
            _LIVE.add(self)
        self._write()

    def spawn(self, cmd: Sequence[str], *, log_path: Path, env: dict | None = None,
              cwd: Path | None = None, label: str = "", pipes: bool = False) -> subprocess.Popen:
        """Start ``cmd`` with stdout and stderr appended to ``log_path``, and own it.
        With ``pipes``, stdin and stdout are pipes to the caller (stderr still to the log)."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(list(cmd), stdout=subprocess.PIPE if pipes else log,
                                    stderr=log if pipes else subprocess.STDOUT,
                                    stdin=subprocess.PIPE if pipes else subprocess.DEVNULL,
                                    env=env, cwd=cwd, start_new_session=True)
        create = _create_time(proc.pid) or 0.0
        self._procs[proc.pid] = (proc, create, label or os.path.basename(cmd[0]))
        self._write()
        return proc

    def stop(self, proc: subprocess.Popen, *, timeout: float = 15.0) -> int | None:
        """SIGTERM ``proc``, SIGKILL it after ``timeout`` seconds; forget it. Returns its exit code."""
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGCONT)  # a paused process cannot handle SIGTERM
                proc.terminate()
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        self.forget(proc)
        return proc.returncode

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL ``proc`` and wait for it; forget it."""
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
        self.forget(proc)

    def forget(self, proc: subprocess.Popen) -> None:
        self._procs.pop(proc.pid, None)
        self._write()

    def pids(self) -> list[int]:
        return list(self._procs)

    def close(self) -> None:
        """Stop every owned process (all SIGTERM at once, then SIGKILL stragglers); drop the record."""
        procs = [p for p, _, _ in self._procs.values()]
        for proc in procs:
            if proc.poll() is None:
                try:
                    os.kill(proc.pid, signal.SIGCONT)
                    proc.terminate()
                except ProcessLookupError:
                    pass
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self._procs.clear()
        self._record.unlink(missing_ok=True)
        with _LOCK:
            _LIVE.discard(self)

    def _write(self) -> None:
        me = os.getpid()
        data = {
            "name": self.name,
            "detached": self.detached,
            "owner": {"pid": me, "create": _create_time(me)},
            "procs": [{"pid": pid, "create": create, "label": label}
                      for pid, (_, create, label) in self._procs.items()],
        }
        tmp = self._record.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(self._record)


def _owner_alive(record: dict) -> bool:
    owner = record.get("owner") or {}
    return bool(owner.get("pid")) and _same_process(owner["pid"], owner.get("create") or 0.0)


def reap_orphans(*, include_detached: str | None = None) -> list[str]:
    """Kill processes whose owning runner is gone; return what was reaped.

    Detached groups are left alone, except the one named ``include_detached``.
    """
    reaped = []
    for path in sorted(_records_dir().glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            path.unlink(missing_ok=True)
            continue
        name = record.get("name", path.stem)
        if record.get("detached") and name != include_detached:
            continue
        if not record.get("detached") and _owner_alive(record):
            continue
        for proc in record.get("procs", []):
            if _kill_tree(proc["pid"], proc["create"]):
                reaped.append(f"{name}: {proc['label']} pid {proc['pid']}")
        path.unlink(missing_ok=True)
    return reaped


def read_record(name: str) -> dict | None:
    path = _records_dir() / f"{name}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


@atexit.register
def _close_all() -> None:
    for group in list(_LIVE):
        if not group.detached:
            group.close()
