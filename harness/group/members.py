"""Group members as processes, seen from the runner: start, crash, stall, pause, close.

Each member's stdout (JSON lines, see :mod:`harness.group.member`) streams into the History
as events of process ``member-N``, with the member's own monotonic times. The runner records
what it does to a member (``crash``, ``pause``/``unpause``) itself, at the moment it does it.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path

from harness.history import Event, History
from harness.procs import ProcessGroup


class MemberProcess:
    def __init__(self, n: int, cfg: dict, history: History, procs: ProcessGroup, log_dir: Path) -> None:
        self.process = f"member-{n}"
        self.cfg, self.history, self.procs = cfg, history, procs
        self.log = log_dir / f"{self.process}.log"
        self.proc = None
        self._reader: threading.Thread | None = None

    def start(self) -> "MemberProcess":
        cmd = [sys.executable, "-m", "harness.group.member", json.dumps(self.cfg)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]),
                                                                        os.environ.get("PYTHONPATH")]))}
        self.proc = self.procs.spawn(cmd, log_path=self.log, env=env, label=self.process, pipes=True)
        self._reader = threading.Thread(target=self._read, name=f"{self.process}-events", daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        for raw in self.proc.stdout:
            try:
                data = json.loads(raw)
            except ValueError:
                continue
            self.history.append(Event(process=self.process, type=data["type"], phase=data["phase"],
                                      mono=data["mono"], wall=data["wall"], topic=data.get("topic"),
                                      detail=data.get("detail", {})))

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _send(self, command: dict) -> None:
        try:
            self.proc.stdin.write((json.dumps(command) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass

    def stall(self, seconds: float) -> None:
        """Stop polling for `seconds` (beyond max.poll.interval.ms the member leaves)."""
        self._send({"op": "stall", "seconds": seconds})

    def crash(self) -> None:
        """SIGKILL: no leave, no close; the group notices after its session timeout."""
        self.procs.kill(self.proc)          # recorded after the kill: every event the member
        self._drain_reader()                # wrote is earlier than the crash
        pending = self._pending_commit()
        if pending is not None:             # killed mid-commit: it may or may not have applied
            self.history.record(self.process, "commit", "info", detail={
                "offsets": pending.detail.get("offsets", {}), "error": "member crashed during the commit"})
        self.history.record(self.process, "member", "crash")

    def _pending_commit(self):
        """The member's last commit invoke if no completion followed it (else None)."""
        last = None
        for e in self.history:
            if e.process == self.process and e.type == "commit":
                last = e
        return last if last is not None and last.phase == "invoke" else None

    def pause(self) -> None:
        os.kill(self.proc.pid, signal.SIGSTOP)
        self.history.record(self.process, "member", "pause")

    def unpause(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)
        self.history.record(self.process, "member", "unpause")

    def close(self, timeout: float = 30.0) -> None:
        """Leave the group cleanly (the member commits nothing more); kill it if it hangs."""
        if not self.alive:
            return
        os.kill(self.proc.pid, signal.SIGCONT)
        self._send({"op": "close"})
        try:
            self.proc.wait(timeout=timeout)
        except Exception:
            self.history.record(self.process, "member", "crash", detail={"reason": "did not close in time"})
        self.procs.kill(self.proc)
        self._drain_reader()

    def _drain_reader(self) -> None:
        if self._reader is not None:
            self._reader.join(5)
