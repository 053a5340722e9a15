"""A driver's main loop as a class, on :mod:`harness.drivers.common`: the start handshake,
commands queued from stdin, stalls. A driver subclasses :class:`Driver`, names its ``client``
and ``version()``, and implements ``run_producer``, ``run_consumer`` and ``run_member`` (each
returns on ``shutdown``). Standard library only.
"""

from __future__ import annotations

import queue
import time
from typing import Callable, NamedTuple

from harness.drivers.common import claim_stdout, emit, role_failed, role_runner, start_reader, unknown_op


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
        unknown_op(cmd, self.start_cmd.get("role"))

    def stall(self, cmd: dict) -> None:
        emit("stalled", ms=cmd.get("ms", 0))
        time.sleep(cmd.get("ms", 0) / 1000)
        emit("resumed")

    def main(self) -> int:
        claim_stdout()
        start_reader(self.commands.put)
        self.start_cmd = self.commands.get()
        if self.start_cmd.get("op") != "start":
            emit("startup_failed", message=f"the first command must be start, got {self.start_cmd}")
            return 0
        runner = role_runner(self.start_cmd, {"producer": self.run_producer, "consumer": self.run_consumer,
                                              "member": self.run_member})
        if runner is None:
            return 0
        try:
            runner()
        except Exception as exc:  # noqa: BLE001 - reported on the protocol
            return role_failed(exc, self._started)
        emit("shutdown_complete")
        return 0
