"""The confluent-kafka (librdkafka) adapter. Delivery reports give partition and offset.

librdkafka never blocks in ``produce``: a full queue raises ``BufferError`` at once. The
adapter gives it the Java client's shape instead: it serves callbacks and retries until
``block_s`` (our ``max.block.ms``) has passed, then rejects the send.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Callable

from harness.clients.base import FAIL, INFO, OK, Outcome, Record, Rejected
from harness.clients.driver import DriverClient
from harness.clients.install import ROOT, Environment
from harness.clients.needs import translate

LOG = logging.getLogger("kch.client")   # librdkafka's log lines go to logging, not stderr

# Errors after which the record was certainly not appended; any other error leaves the outcome
# unknown (``info``): a timeout or a broken connection may hide an append.
_DEFINITE = {"_QUEUE_FULL", "_MSG_SIZE_TOO_LARGE", "MSG_SIZE_TOO_LARGE", "_UNKNOWN_PARTITION",
             "_UNKNOWN_TOPIC", "UNKNOWN_TOPIC_OR_PART", "TOPIC_AUTHORIZATION_FAILED",
             "INVALID_RECORD", "RECORD_LIST_TOO_LARGE", "NOT_ENOUGH_REPLICAS",
             "INVALID_REQUIRED_ACKS", "CLUSTER_AUTHORIZATION_FAILED", "_INVALID_ARG",
             "_PURGE_QUEUE", "_FATAL"}


def classify(err) -> Outcome:
    """A delivery-report error as ``fail`` (certainly not written) or ``info`` (unknown)."""
    name = err.name()
    return Outcome(FAIL if name in _DEFINITE else INFO, error=f"{name}: {err.str()}")


class ConfluentProducer:
    def __init__(self, bootstrap: str, config: dict, block_s: float) -> None:
        from confluent_kafka import Producer

        self.block_s = block_s
        self._p = Producer({"bootstrap.servers": bootstrap, "logger": LOG, **config})

    def send(self, topic: str, value: str, *, key: str | None, partition: int | None,
             done: Callable[[Outcome], None]) -> None:
        from confluent_kafka import KafkaException

        def report(err, msg) -> None:
            if err is None:
                done(Outcome(OK, msg.partition(), msg.offset()))
            else:
                done(classify(err))

        kwargs = {"on_delivery": report}
        if partition is not None:
            kwargs["partition"] = partition
        deadline = time.monotonic() + self.block_s
        while True:
            try:
                self._p.produce(topic, value.encode(), key.encode() if key is not None else None, **kwargs)
                return
            except BufferError:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Rejected(f"_QUEUE_FULL: buffer still full after blocking {self.block_s:g} s") from None
                self._p.poll(min(0.05, left))
            except KafkaException as exc:
                raise Rejected(str(exc)) from None

    def serve(self, timeout: float = 0.0) -> None:
        self._p.poll(timeout)

    def flush(self, timeout: float) -> int:
        return self._p.flush(timeout)

    def close(self) -> None:
        self._p.flush(0)
        self._p = None


class ConfluentConsumer:
    def __init__(self, bootstrap: str, config: dict, group: str) -> None:
        from confluent_kafka import Consumer

        self._c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "logger": LOG,
                            "enable.auto.commit": False, "auto.offset.reset": "earliest",
                            "enable.partition.eof": False, **config})
        self._paused: set[tuple[str, int]] = set()

    def assign(self, topic: str, partitions: list[int], offsets: dict[int, int] | None = None) -> None:
        from confluent_kafka import OFFSET_BEGINNING, TopicPartition

        if self._paused:                          # a new assignment starts unpaused
            self._c.resume([TopicPartition(t, p) for t, p in sorted(self._paused)])
            self._paused.clear()
        offsets = offsets or {}
        self._c.assign([TopicPartition(topic, p, offsets.get(p, OFFSET_BEGINNING)) for p in partitions])

    def pause(self, topic: str, partitions: list[int]) -> None:
        from confluent_kafka import TopicPartition

        self._c.pause([TopicPartition(topic, p) for p in partitions])
        self._paused.update((topic, p) for p in partitions)

    def resume(self, topic: str, partitions: list[int]) -> None:
        from confluent_kafka import TopicPartition

        self._c.resume([TopicPartition(topic, p) for p in partitions])
        self._paused.difference_update((topic, p) for p in partitions)

    def poll(self, timeout: float) -> list[Record]:
        out = []
        for msg in self._c.consume(500, timeout=timeout):
            if msg.error() is not None:
                continue                          # transient: librdkafka retries by itself
            key = msg.key()
            out.append(Record(msg.topic(), msg.partition(), msg.offset(),
                              key.decode() if key is not None else None, msg.value().decode()))
        return out

    def end_offsets(self, topic: str, partitions: list[int], timeout: float) -> dict[int, int]:
        from confluent_kafka import TopicPartition

        return {p: self._c.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout, cached=False)[1]
                for p in partitions}

    def close(self) -> None:
        self._c.close()


class ConfluentClient(DriverClient):
    """confluent-kafka at the version installed with kch: producers and consumers run in this
    process; group members run as driver processes (:mod:`harness.drivers.confluent`)."""

    def __init__(self, manifest) -> None:
        import confluent_kafka

        version = confluent_kafka.version()
        super().__init__(manifest, version[0] if isinstance(version, tuple) else str(version))
        self.name = manifest.name
        self.library = f"librdkafka {confluent_kafka.libversion()[0]}"

    def environment(self) -> Environment:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        return Environment([part.format(python=sys.executable) for part in self.manifest.command], env)

    def producer(self, bootstrap: str, config: dict, *, block_s: float) -> ConfluentProducer:
        return ConfluentProducer(bootstrap, translate(config, self.dialect, producer=True), block_s)

    def consumer(self, bootstrap: str, config: dict, *, group: str) -> ConfluentConsumer:
        return ConfluentConsumer(bootstrap, translate(config, self.dialect), group)
