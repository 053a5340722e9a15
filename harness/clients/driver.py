"""Out-of-process clients: a driver process per producer, consumer or member, spoken to with
the driver protocol (docs/driver-protocol.md). :class:`DriverClient` gives the runner the same
interface as an in-process adapter (:mod:`harness.clients.base`).
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from harness.clients.base import FAIL, INFO, OK, Outcome, Record, Rejected, Unsupported
from harness.clients.needs import translate
from harness.clients.protocol import ProtocolError, parse
from harness.errors import ClusterError
from harness.procs import ProcessGroup

START_TIMEOUT_S = 60.0      # a JVM on a busy 2-core machine
# Events that answer a request (waited for by DriverProcess.request).
REPLIES = frozenset({"startup_complete", "startup_failed", "flushed", "end_offsets", "shutdown_complete",
                     "partitions_assigned", "partitions_paused", "partitions_resumed", "error"})


class DriverProcess:
    """One driver process: commands in, events out. Every event goes to `on_event` (on the
    reader thread) with the time it was received; replies to requests are waited for."""

    def __init__(self, command: list[str], env: dict, *, procs: ProcessGroup, label: str,
                 log_path: Path, on_event: Callable[[dict, float, float], None] | None = None,
                 keep: bool = False) -> None:
        self.label, self.on_event = label, on_event
        self.events: list[dict] = [] if keep else None      # raw stream, for conformance tests
        self.violations: list[str] = []
        self.procs = procs
        self.proc = procs.spawn(command, log_path=log_path, env=env, label=label, pipes=True)
        self._replies: "queue.Queue[dict]" = queue.Queue()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, name=f"{label}-events", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for raw in self.proc.stdout:
            mono, wall = time.monotonic(), time.time()
            try:
                ev = parse(raw)
            except ProtocolError as exc:
                self.violations.append(f"rule 8: {exc}")
                continue
            if self.events is not None:
                self.events.append(ev)
            mono = ev.get("mono", mono)
            if ev["name"] in REPLIES:
                self._replies.put(ev)
            if self.on_event is not None:
                self.on_event(ev, mono, wall)
        self._replies.put({"name": "exited"})

    def send(self, command: dict) -> None:
        line = (json.dumps(command, separators=(",", ":")) + "\n").encode()
        with self._lock:
            try:
                self.proc.stdin.write(line)
                self.proc.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass                                   # it died; its outcomes will say so

    def request(self, command: dict, reply: str | tuple[str, ...], timeout: float) -> dict:
        """Send `command`; the first reply event named `reply` (or exited/startup_failed)."""
        names = (reply,) if isinstance(reply, str) else reply
        self.send(command)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ClusterError(f"{self.label}: no {'/'.join(names)} within {timeout:.0f} s")
            try:
                ev = self._replies.get(timeout=left)
            except queue.Empty:
                continue
            if ev["name"] in names or ev["name"] in ("exited", "startup_failed"):
                return ev
            if ev["name"] == "error" and ev.get("op") in (None, command.get("op")):
                raise ClusterError(f"{self.label}: {command.get('op')} failed: {ev.get('message')}")

    def start(self, **start: object) -> dict:
        ev = self.request({"op": "start", **start}, "startup_complete", START_TIMEOUT_S)
        if ev["name"] == "startup_failed":
            self.close()
            if ev.get("unsupported"):
                raise Unsupported(f"{', '.join(map(str, ev['unsupported']))}: {ev['message']}")
            raise ClusterError(f"{self.label}: driver failed to start: {ev['message']}")
        if ev["name"] == "exited":
            raise ClusterError(f"{self.label}: driver exited at start (see its log)")
        return ev

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self, timeout: float = 10.0) -> None:
        if self.alive:
            self.send({"op": "shutdown"})
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except Exception:  # noqa: BLE001 - it hangs: kill it
                pass
        self.procs.kill(self.proc)
        self._reader.join(5)


class DriverProducer:
    def __init__(self, driver: DriverProcess) -> None:
        self.driver = driver
        self._ids = itertools.count()
        self._pending: dict[int, Callable[[Outcome], None]] = {}
        self._plock = threading.Lock()
        driver.on_event = self._event

    def _event(self, ev: dict, mono: float, wall: float) -> None:
        name = ev["name"]
        if name == "producer_send_success":
            outcome = Outcome(OK, ev["partition"], ev["offset"])
        elif name == "producer_send_error":
            outcome = Outcome(FAIL if ev.get("definite") else INFO,
                              error=f"{ev['exception']}: {ev.get('message', '')}")
        else:
            return
        with self._plock:
            done = self._pending.pop(ev.get("id"), None)
        if done is not None:
            done(outcome)

    def send(self, topic: str, value: str, *, key: str | None, partition: int | None,
             done: Callable[[Outcome], None]) -> None:
        if not self.driver.alive:
            raise Rejected("the driver process is not running")
        i = next(self._ids)
        with self._plock:
            self._pending[i] = done
        self.driver.send({"op": "send", "id": i, "topic": topic, "key": key,
                          "partition": partition, "value": value})

    def serve(self, timeout: float = 0.0) -> None:
        if timeout > 0:
            time.sleep(timeout)            # outcomes arrive on the reader thread

    def flush(self, timeout: float) -> int:
        self.driver.request({"op": "flush", "timeout_ms": int(timeout * 1000)}, "flushed", timeout + 15)
        return len(self._pending)        # outcomes before `flushed` have been handled

    def close(self) -> None:
        self.driver.close()


class DriverConsumer:
    def __init__(self, driver: DriverProcess) -> None:
        self.driver = driver
        self._batches: "queue.Queue[tuple[int, list[Record]]]" = queue.Queue()
        self._batch: list[Record] = []
        self._assignments = 0            # partitions_assigned events seen: batches carry it
        driver.on_event = self._event

    def _event(self, ev: dict, mono: float, wall: float) -> None:
        if ev["name"] == "record_data":
            self._batch.append(Record(ev["topic"], ev["partition"], ev["offset"], ev.get("key"), ev["value"]))
        elif ev["name"] == "records_consumed":
            batch, self._batch = self._batch, []
            self._batches.put((self._assignments, batch))
        elif ev["name"] == "partitions_assigned":
            self._batch = []
            self._assignments += 1

    def assign(self, topic: str, partitions: list[int], offsets: dict[int, int] | None = None) -> None:
        """Records the driver read under an earlier assignment and :meth:`poll` has not
        returned yet are dropped, as a client drops its buffer: the new assignment's
        positions say where reading goes on."""
        cmd: dict = {"op": "assign", "topic": topic, "partitions": partitions}
        if offsets is not None:
            cmd["offsets"] = {str(p): int(o) for p, o in offsets.items()}
        want = self._assignments + 1
        self._ask(cmd, "partitions_assigned")
        deadline = time.monotonic() + 5          # the reply is queued just before its event is seen
        while self._assignments < want and time.monotonic() < deadline:
            time.sleep(0.001)

    def pause(self, topic: str, partitions: list[int]) -> None:
        self._ask({"op": "pause", "topic": topic, "partitions": partitions}, "partitions_paused")

    def resume(self, topic: str, partitions: list[int]) -> None:
        self._ask({"op": "resume", "topic": topic, "partitions": partitions}, "partitions_resumed")

    def _ask(self, cmd: dict, reply: str) -> None:
        ev = self.driver.request(cmd, reply, 30)
        if ev["name"] != reply:
            raise ClusterError(f"{self.driver.label}: {cmd['op']} was not answered")

    def poll(self, timeout: float) -> list[Record]:
        out: list[Record] = []
        batches: list[tuple[int, list[Record]]] = []
        try:
            batches.append(self._batches.get(timeout=timeout))
            while True:
                batches.append(self._batches.get_nowait())
        except queue.Empty:
            pass
        for assignment, batch in batches:
            if assignment == self._assignments:
                out += batch
        return out

    def end_offsets(self, topic: str, partitions: list[int], timeout: float) -> dict[int, int]:
        ev = self.driver.request({"op": "end_offsets", "topic": topic, "partitions": partitions,
                                  "timeout_ms": int(timeout * 1000)}, "end_offsets", timeout + 15)
        if ev["name"] != "end_offsets":
            raise ClusterError(f"{self.driver.label}: end_offsets was not answered")
        return {int(p): int(o) for p, o in ev["offsets"].items()}

    def close(self) -> None:
        self.driver.close()


class DriverClient:
    """A client whose producers, consumers and members are driver processes, installed from
    its manifest at the chosen version (see :mod:`harness.clients.manifest`)."""

    def __init__(self, manifest, version: str) -> None:
        self.manifest = manifest
        self.name = manifest.name if version == manifest.version else f"{manifest.name}@{version}"
        self.version, self.library = version, manifest.library or manifest.name
        self.capabilities, self.dialect = set(manifest.capabilities), manifest.config
        self.log_path = Path(tempfile.gettempdir()) / f"kch-driver-{manifest.name}.log"
        self._env = None
        self._labels = itertools.count()
        self._procs: ProcessGroup | None = None

    def environment(self):
        """The installed driver command (installing it on first use)."""
        if self._env is None:
            from harness.clients.install import environment

            self._env = environment(self.manifest, self.version)
        return self._env

    def driver(self, role: str, *, on_event=None, keep: bool = False, procs: ProcessGroup | None = None,
               label: str | None = None) -> DriverProcess:
        env = self.environment()
        if procs is None:
            if self._procs is None:
                self._procs = ProcessGroup(f"drivers-{self.manifest.name}-{os.getpid()}")
            procs = self._procs
        label = label or f"{self.manifest.name}-{role}-{next(self._labels)}"
        return DriverProcess(env.command, env.env, procs=procs, label=label, log_path=self.log_path,
                             on_event=on_event, keep=keep)

    def producer(self, bootstrap: str, config: dict, *, block_s: float) -> DriverProducer:
        driver = self.driver("producer")
        producer = DriverProducer(driver)
        driver.start(role="producer", bootstrap=bootstrap, max_block_ms=int(block_s * 1000),
                     config=translate(config, self.dialect, producer=True))
        return producer

    def consumer(self, bootstrap: str, config: dict, *, group: str) -> DriverConsumer:
        driver = self.driver("consumer")
        consumer = DriverConsumer(driver)
        driver.start(role="consumer", bootstrap=bootstrap, group=group, config=translate(config, self.dialect))
        return consumer

    def send_bound(self, config: dict, block_s: float) -> float:
        return send_bound(translate(config, self.dialect, producer=True), self.dialect, block_s)

    def close(self) -> None:
        if self._procs is not None:
            self._procs.close()
            self._procs = None


def send_bound(config: dict, dialect: str, block_s: float) -> float:
    """Seconds within which a client promises a send's outcome: its block bound plus its
    delivery timeout (the Java client's default 120 s, librdkafka's 300 s)."""
    if dialect == "java":
        return block_s + float(config.get("delivery.timeout.ms", 120000)) / 1000
    return block_s + float(config.get("message.timeout.ms", config.get("delivery.timeout.ms", 300000))) / 1000
