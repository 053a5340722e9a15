"""What every Python driver shares: events out, commands in, the start handshake, stalls.

Standard library only: a driver runs in a virtualenv holding nothing but its client library.
A driver subclasses :class:`Driver`, names its ``client`` and ``version()``, and implements
``run_producer``, ``run_consumer`` and ``run_member`` (each returns on ``shutdown``).
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
from typing import Callable

_OUT = threading.Lock()


def emit(name: str, **fields) -> None:
    """Write one event line (with ``timestamp`` and ``mono``) and flush."""
    line = json.dumps({"name": name, "timestamp": int(time.time() * 1000), "mono": time.monotonic(),
                       **{k: v for k, v in fields.items() if v is not None}}, separators=(",", ":"))
    with _OUT:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def offsets_list(offsets) -> list[dict]:
    """``(topic, partition, offset)`` triples as the protocol's offset objects."""
    return [{"topic": t, "partition": p, "offset": o} for t, p, o in offsets]


def batch_events(out: Callable[..., None], records) -> None:
    """One batch of ``(topic, partition, offset, key, value)``: a ``record_data`` per record,
    then its ``records_consumed`` summary."""
    if not records:
        return
    summary: dict[tuple, list[int]] = {}
    for topic, partition, offset, key, value in records:
        out("record_data", topic=topic, partition=partition, offset=offset, key=key, value=value)
        summary.setdefault((topic, partition), []).append(offset)
    out("records_consumed", count=len(records), partitions=[
        {"topic": t, "partition": p, "count": len(o), "minOffset": min(o), "maxOffset": max(o)}
        for (t, p), o in summary.items()])


class Driver:
    client = "unknown"

    def __init__(self) -> None:
        self.commands: "queue.Queue[dict]" = queue.Queue()
        self.start_cmd: dict = {}
        self.emit = emit
        self._started = False

    def version(self) -> str:
        raise NotImplementedError

    def _read_stdin(self) -> None:
        for line in sys.stdin:
            line = line.strip()
            if line:
                try:
                    self.commands.put(json.loads(line))
                except ValueError:
                    emit("error", message=f"not JSON: {line[:100]}")
        self.commands.put({"op": "shutdown"})        # kch went away: shut down

    def next_command(self, idle: Callable[[], None] | None, wait: float = 0.05) -> dict | None:
        """The next command; while none is there, run `idle` (or wait up to `wait` seconds)."""
        while True:
            try:
                return self.commands.get(timeout=wait) if idle is None else self.commands.get_nowait()
            except queue.Empty:
                if idle is None:
                    return None
                idle()

    def started(self) -> None:
        self._started = True
        emit("startup_complete", client=self.client, version=self.version())

    def send_error(self, cmd: dict, exception: str, message: str, definite: bool) -> None:
        emit("producer_send_error", id=cmd["id"], topic=cmd["topic"], key=cmd.get("key"), value=cmd["value"],
             exception=exception, message=message, definite=definite)

    def unknown(self, cmd: dict) -> None:
        emit("error", message=f"unknown op {cmd.get('op')!r} for role {self.start_cmd.get('role')}")

    def stall(self, cmd: dict) -> None:
        emit("stalled", ms=cmd.get("ms", 0))
        time.sleep(cmd.get("ms", 0) / 1000)
        emit("resumed")

    def main(self) -> int:
        threading.Thread(target=self._read_stdin, daemon=True).start()
        self.start_cmd = self.commands.get()
        role = self.start_cmd.get("role")
        if self.start_cmd.get("op") != "start" or role not in ("producer", "consumer", "member"):
            emit("startup_failed", message=f"the first command must be start with a role, got {self.start_cmd}")
            return 0
        try:
            getattr(self, f"run_{role}")()
        except Unsupported as exc:
            emit("startup_failed", message=str(exc), unsupported=exc.keys)
            return 0
        except Exception as exc:  # noqa: BLE001 - reported on the protocol, then exit 1
            emit("error" if self._started else "startup_failed", message=f"{type(exc).__name__}: {exc}")
            return 1
        emit("shutdown_complete")
        return 0


class Unsupported(Exception):
    """Raised before ``started()`` when the start command asks for what the client cannot do."""

    def __init__(self, keys: list[str], message: str) -> None:
        super().__init__(message)
        self.keys = keys
