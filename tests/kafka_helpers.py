"""Small produce/consume helpers for the harness's own cluster tests."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from confluent_kafka import Consumer, Producer, TopicPartition

LOG = logging.getLogger("kch.client")


@dataclass
class Sent:
    value: int
    error: str | None
    offset: int | None
    seconds: float


def send(bootstrap: str, topic: str, values, *, partition: int = 0, timeout_ms: int = 30000,
         **config) -> list[Sent]:
    """Send each value synchronously (acks=all by default); return each outcome."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 0,
                         "message.timeout.ms": timeout_ms, "logger": LOG, **config})
    results: list[Sent] = []
    for value in values:
        started = time.monotonic()
        box: list = []
        producer.produce(topic, str(value).encode(), partition=partition,
                         on_delivery=lambda err, msg: box.append((err, msg)))
        producer.flush(timeout_ms / 1000 + 5)
        err, msg = box[0]
        results.append(Sent(value, err.name() if err else None, None if err else msg.offset(),
                            time.monotonic() - started))
    return results


def read_all(bootstrap: str, topic: str, *, partition: int = 0, timeout: float = 30) -> list[int]:
    """Every value in the partition from its beginning to its current end."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "kch-tests-read",
                         "enable.auto.commit": False, "logger": LOG})
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
        consumer.assign([TopicPartition(topic, partition, low)])
        values: list[int] = []
        last = low - 1
        deadline = time.monotonic() + timeout
        while last < high - 1 and time.monotonic() < deadline:
            for msg in consumer.consume(500, timeout=1):
                if msg.error() is None:
                    values.append(int(msg.value()))
                    last = msg.offset()
        return values
    finally:
        consumer.close()
