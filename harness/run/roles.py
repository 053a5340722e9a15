"""The workload's roles, each on its own thread, each recording into the History.

Producers send unique values ``p{producer}-{seq}`` (so every check has evidence; padded after
a space to the plan's value size, and read back without the padding), paced to
the plan's rate; each send is an ``invoke`` and exactly one completion (``ok`` with
partition and offset, ``fail`` or ``info``). Consumers read every partition from its
beginning and record each non-empty batch as one ``poll`` event.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Callable

from harness.clients import Client, Outcome, Rejected
from harness.history import History
from harness.plan.plan import Plan


class ProducerRole:
    """Producer ``n`` of a plan: sends its share of the messages on a thread."""

    def __init__(self, n: int, plan: Plan, client: Client, bootstrap: str, config: dict,
                 topic: str, partitions: int, history: History, *, block_s: float) -> None:
        self.process = f"producer-{n}"
        self.n, self.plan, self.topic, self.partitions = n, plan, topic, partitions
        self.history = history
        self.count = plan.messages // plan.producers + (1 if n < plan.messages % plan.producers else 0)
        self.bound_s = client.send_bound(config, block_s)
        self.producer = client.producer(bootstrap, config, block_s=block_s)
        self.pad = " " + "x" * max(0, plan.value_bytes - len(f"p{n}-{self.count}") - 1)
        self._thread = threading.Thread(target=self._run, name=self.process, daemon=True)
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def _send(self, seq: int) -> None:
        value = f"p{self.n}-{seq}"
        key = f"k{seq % self.plan.keys}" if self.plan.keys else None
        partition = None if self.plan.keys else seq % self.partitions
        record = self.history.record
        proc, topic = self.process, self.topic
        record(proc, "send", "invoke", topic=topic, partition=partition, key=key, value=value,
               detail={"bound_s": self.bound_s})

        def done(o: Outcome) -> None:
            detail = {"error": o.error} if o.error else {}
            record(proc, "send", o.phase, topic=topic,
                   partition=o.partition if o.partition is not None else partition,
                   offset=o.offset, key=key, value=value, detail=detail)

        try:
            self.producer.send(topic, value + self.pad, key=key, partition=partition, done=done)
        except Rejected as exc:
            record(proc, "send", "fail", topic=topic, partition=partition, key=key, value=value,
                   detail={"error": str(exc)})

    def _run(self) -> None:
        try:
            rate = (self.plan.rate / self.plan.producers) if self.plan.rate else None
            began = time.monotonic()
            for seq in range(self.count):
                if rate:
                    wait = began + seq / rate - time.monotonic()
                    if wait > 0:
                        self.producer.serve(wait)
                self._send(seq)
                self.producer.serve(0)
        except BaseException as exc:  # surfaced by the runner as an infrastructure error
            self.error = exc

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def finish(self, timeout: float) -> int:
        """Wait up to `timeout` for every outcome; then close. Returns sends still unresolved."""
        left = self.producer.flush(timeout)
        self.producer.close()
        return left


class ConsumerRole:
    """Consumer ``n``: reads every partition from the beginning until stopped."""

    def __init__(self, n: int, client: Client, bootstrap: str, config: dict, topic: str,
                 partitions: int, history: History, *, process: str | None = None) -> None:
        self.process = process or f"consumer-{n}"
        self.topic, self.partitions, self.history = topic, partitions, history
        self.consumer = client.consumer(bootstrap, config, group=f"kch-{self.process}-{topic}")
        self.positions: dict[int, int] = {}
        self._todo: queue.Queue[Callable[[], None]] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.process, daemon=True)
        self.error: BaseException | None = None

    def start(self) -> None:
        parts = list(range(self.partitions))
        self.consumer.assign(self.topic, parts)
        self.history.record(self.process, "assigned", "ok", topic=self.topic,
                            detail={"partitions": [[self.topic, p] for p in parts]})
        self._thread.start()

    def poll_once(self, timeout: float) -> int:
        records = self.consumer.poll(timeout)
        if records:
            for r in records:
                self.positions[r.partition] = r.offset + 1
            self.history.record(self.process, "poll", "ok", topic=self.topic, detail={"records": [
                {"partition": r.partition, "offset": r.offset, "value": r.value.partition(" ")[0]}
                for r in records]})
        return len(records)

    # --- API actions: queued, and run by the consumer's own thread between polls ----------------
    def pause_partitions(self) -> Callable[[], None]:
        """Pause fetching every partition (client API; polling goes on); returns the resume."""
        self._todo.put(lambda: self._api("pause-partitions", self.consumer.pause))
        return lambda: self._todo.put(lambda: self._api("resume-partitions", self.consumer.resume))

    def resubscribe(self) -> None:
        """Assign the same partitions again, each at this consumer's position: it must go on
        where it was (the read-order checkers see no assignment change)."""
        def again(topic: str, parts: list[int]) -> None:
            self.consumer.assign(topic, parts, offsets=dict(self.positions))
        self._todo.put(lambda: self._api("resubscribe", again))

    def _api(self, op: str, call: Callable[[str, list[int]], None]) -> None:
        parts = list(range(self.partitions))
        try:
            call(self.topic, parts)
        except Exception as exc:  # noqa: BLE001 - recorded: the action did not happen
            self.history.record(self.process, "consumer", "fail", topic=self.topic,
                                detail={"op": op, "error": str(exc)})
            return
        self.history.record(self.process, "consumer", op, topic=self.topic,
                            detail={"partitions": [[self.topic, p] for p in parts]})

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                while not self._todo.empty():
                    self._todo.get_nowait()()
                self.poll_once(0.2)
        except BaseException as exc:
            self.error = exc

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)
        self.consumer.close()


def drain(client: Client, bootstrap: str, config: dict, topic: str, partitions: int,
          history: History, *, timeout: float) -> bool:
    """The final drain: a fresh consumer reads every partition from its beginning to its end
    now. Records a ``drain`` event whose ``complete`` says whether it got there."""
    role = ConsumerRole(0, client, bootstrap, config, topic, partitions, history, process="drain")
    parts = list(range(partitions))
    ends: dict[int, int] = {}
    complete = False
    try:
        ends = role.consumer.end_offsets(topic, parts, timeout=min(timeout, 15))
        role.consumer.assign(topic, parts)
        history.record("drain", "assigned", "ok", topic=topic,
                       detail={"partitions": [[topic, p] for p in parts]})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(role.positions.get(p, 0) >= end for p, end in ends.items()):
                complete = True
                break
            role.poll_once(0.5)
    finally:
        role.consumer.close()
        history.record("drain", "drain", "ok", topic=topic, detail={
            "complete": complete, "end_offsets": {f"{topic}/{p}": e for p, e in ends.items()}})
    return complete
