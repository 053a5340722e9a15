"""A driver's main loop as a class, on :mod:`harness.drivers.common`: the start handshake,
commands queued from stdin, stalls. A driver subclasses :class:`Driver`, names its ``client``
and ``version()``, and implements ``run_producer``, ``run_consumer`` and ``run_member`` (each
returns on ``shutdown``). Standard library only.
"""

from __future__ import annotations

import queue
import time
from typing import Callable, NamedTuple

from harness.drivers.common import Unsupported, claim_stdout, emit, start_reader


class Rec(NamedTuple):
    """A record as :func:`harness.drivers.common.emit_batch` reads it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes


class Driver:
    client = "unknown"

    def __init__(self) -> None:
        self.commands: "queue.Queue[dict]" = queue.Queue()
        self.start_cmd: dict = {}
        self.emit = emit
        self._started = False

    def version(self) -> str:
        raise NotImplementedError

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
        claim_stdout()
        start_reader(self.commands.put)
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

