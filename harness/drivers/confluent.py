"""The confluent-kafka (librdkafka) driver: ``python -m harness.drivers.confluent``.

Speaks docs/driver-protocol.md for every role. kch runs confluent-kafka's producers and
consumers in its own process and uses this driver for group members, and for every role when
another confluent-kafka version is pinned (in a virtualenv of its own). Config keys arrive in
librdkafka's names. Imports nothing of kch but :mod:`harness.drivers.kit`.
"""

from __future__ import annotations

import logging
import re
import sys
import time

from harness.drivers.common import (
    PartitionPause, Unsupported, check_assigned, emit_batch, offsets_list, owned, start_offsets, tp_list,
)
from harness.drivers.kit import Driver, Rec

# Errors after which the record was certainly not appended (see harness.clients.confluent).
DEFINITE = {"_QUEUE_FULL", "_MSG_SIZE_TOO_LARGE", "MSG_SIZE_TOO_LARGE", "_UNKNOWN_PARTITION",
            "_UNKNOWN_TOPIC", "UNKNOWN_TOPIC_OR_PART", "TOPIC_AUTHORIZATION_FAILED", "INVALID_RECORD",
            "RECORD_LIST_TOO_LARGE", "NOT_ENOUGH_REPLICAS", "INVALID_REQUIRED_ACKS",
            "CLUSTER_AUTHORIZATION_FAILED", "_INVALID_ARG", "_PURGE_QUEUE", "_FATAL"}


class Confluent(Driver):
    client = "confluent-kafka"

    def version(self) -> str:
        import confluent_kafka

        return f"{confluent_kafka.version()[0]} (librdkafka {confluent_kafka.libversion()[0]})"

    def make(self, cls, conf: dict):
        """A librdkafka client; an unknown property is reported as unsupported."""
        from confluent_kafka import KafkaException

        try:
            return cls(conf)
        except KafkaException as exc:
            found = re.search(r'No such configuration property: "([^"]+)"', str(exc))
            if found:
                raise Unsupported([found.group(1)], str(exc)) from None
            raise

    def base(self) -> dict:
        return {"bootstrap.servers": self.start_cmd["bootstrap"], "logger": logging.getLogger("kch.driver"),
                **self.start_cmd.get("config", {})}

    # -- producer ---------------------------------------------------------------------------
    def run_producer(self) -> None:
        from confluent_kafka import KafkaException, Producer

        p = self.make(Producer, self.base())
        self.started()
        outstanding: set[int] = set()
        block_s = self.start_cmd.get("max_block_ms", 60000) / 1000

        def report(cmd: dict):
            def done(err, msg) -> None:
                outstanding.discard(cmd["id"])
                if err is None:
                    self.emit("producer_send_success", id=cmd["id"], topic=cmd["topic"], key=cmd.get("key"),
                              value=cmd["value"], partition=msg.partition(), offset=msg.offset())
                else:
                    self.send_error(cmd, err.name(), err.str(), err.name() in DEFINITE)
            return done

        while True:
            cmd = self.next_command(lambda: p.poll(0.05))
            op = cmd["op"]
            if op == "send":
                kwargs = {"on_delivery": report(cmd)}
                if cmd.get("partition") is not None:
                    kwargs["partition"] = cmd["partition"]
                key = cmd.get("key")
                deadline = time.monotonic() + block_s
                outstanding.add(cmd["id"])
                while True:
                    try:
                        p.produce(cmd["topic"], cmd["value"].encode(), key.encode() if key is not None else None, **kwargs)
                        break
                    except BufferError:
                        if time.monotonic() >= deadline:
                            outstanding.discard(cmd["id"])
                            self.send_error(cmd, "_QUEUE_FULL", f"buffer full after {block_s:g} s", True)
                            break
                        p.poll(0.05)
                    except KafkaException as exc:
                        outstanding.discard(cmd["id"])
                        self.send_error(cmd, "KafkaException", str(exc), True)
                        break
                p.poll(0)
            elif op == "flush":
                p.flush(cmd.get("timeout_ms", 30000) / 1000)
                self.emit("flushed", outstanding=len(outstanding))
            elif op == "shutdown":
                p.flush(1)
                return
            else:
                self.unknown(cmd)

    # -- consumer (assigned partitions) -------------------------------------------------------
    def consumer(self, **extra):
        from confluent_kafka import Consumer

        return self.make(Consumer, {"group.id": self.start_cmd.get("group", "kch-driver"),
                                    "auto.offset.reset": "earliest", "enable.auto.commit": False,
                                    "enable.partition.eof": False, **self.base(), **extra})

    def run_consumer(self) -> None:
        from confluent_kafka import OFFSET_BEGINNING, TopicPartition

        c = self.consumer()
        self.started()
        reading = False
        assigned: set[tuple] = set()
        paused: set[tuple] = set()
        while True:
            cmd = self.next_command(None, wait=0 if reading else 0.2)
            if cmd is None:
                if reading:
                    self.batch([m for m in c.consume(500, timeout=0.2) if m.error() is None])
                continue
            op = cmd["op"]
            if op == "assign":
                if paused:                         # a new assignment starts unpaused
                    c.resume([TopicPartition(t, p) for t, p in sorted(paused)])
                    paused.clear()
                offsets = start_offsets(cmd)
                c.assign([TopicPartition(cmd["topic"], p, offsets.get(p, OFFSET_BEGINNING))
                          for p in cmd["partitions"]])
                assigned = {(cmd["topic"], p) for p in cmd["partitions"]}
                self.emit("partitions_assigned", partitions=tp_list(assigned))
                reading = True
            elif op in ("pause", "resume"):
                if check_assigned(op, cmd["topic"], cmd["partitions"], assigned):
                    tps = [(cmd["topic"], p) for p in cmd["partitions"]]
                    (c.pause if op == "pause" else c.resume)([TopicPartition(t, p) for t, p in tps])
                    if op == "pause":
                        paused.update(tps)
                    else:
                        paused.difference_update(tps)
                    self.emit("partitions_paused" if op == "pause" else "partitions_resumed",
                              partitions=tp_list(tps))
            elif op == "end_offsets":
                timeout = cmd.get("timeout_ms", 15000) / 1000
                self.emit("end_offsets", offsets={
                    str(p): c.get_watermark_offsets(TopicPartition(cmd["topic"], p), timeout=timeout, cached=False)[1]
                    for p in cmd["partitions"]})
            elif op == "shutdown":
                c.close()
                return
            else:
                self.unknown(cmd)

    def subscribe(self, c) -> None:
        tps = lambda ps: [{"topic": p.topic, "partition": p.partition} for p in ps]   # noqa: E731
        c.subscribe([self.start_cmd["topic"]],
                    on_assign=lambda _, ps: self.emit("partitions_assigned", partitions=tps(ps)),
                    on_revoke=lambda _, ps: self.emit("partitions_revoked", partitions=tps(ps)),
                    on_lost=lambda _, ps: self.emit("partitions_revoked", partitions=tps(ps), lost=True))

    def batch(self, msgs) -> None:
        emit_batch([Rec(m.topic(), m.partition(), m.offset(), m.key(), m.value()) for m in msgs])

    # -- member ------------------------------------------------------------------------------
    def run_member(self) -> None:
        from confluent_kafka import KafkaException, TopicPartition

        s = self.start_cmd
        mode, protocol = s["mode"], s.get("protocol", "classic-eager")
        extra: dict = {"enable.auto.commit": mode == "auto-commit"}
        if protocol == "consumer":      # KIP-848: the broker owns session, heartbeat, assignment
            extra["group.protocol"] = "consumer"
        elif protocol == "classic-cooperative":
            extra["partition.assignment.strategy"] = "cooperative-sticky"
        if mode in ("auto-commit", "commit-async"):
            def committed(err, partitions) -> None:
                offs = {(p.topic, p.partition): p.offset for p in partitions if p.offset >= 0}
                if offs:
                    self.emit("offsets_committed", offsets=offsets_list(offs), success=err is None,
                              error=str(err) if err else None, auto=mode == "auto-commit",
                              definite=bool(err) and not err.retriable())
            extra["on_commit"] = committed
        if protocol == "consumer":
            for key in ("session.timeout.ms", "heartbeat.interval.ms", "partition.assignment.strategy"):
                s.get("config", {}).pop(key, None)
        c = self.consumer(**extra)
        self.subscribe(c)
        self.started()
        process_s = s.get("process_ms", 0) / 1000
        pause = PartitionPause()
        while True:
            if pause.due():
                back = pause.end(owned(c))
                if back:
                    c.resume([TopicPartition(t, p) for t, p in back])
            cmd = self.next_command(None, wait=0)
            if cmd is not None:
                if cmd["op"] == "shutdown":
                    break
                if cmd["op"] == "stall":
                    self.stall(cmd)
                elif cmd["op"] == "pause_partitions":
                    paused = pause.begin(owned(c), cmd.get("ms", 0))
                    if paused:
                        c.pause([TopicPartition(t, p) for t, p in paused])
                elif cmd["op"] == "resubscribe":
                    c.unsubscribe()            # revokes through on_revoke at the next consume
                    self.subscribe(c)
                    self.emit("resubscribed")
                else:
                    self.unknown(cmd)
                continue
            msgs = [m for m in c.consume(50, timeout=0.2) if m.error() is None]
            if not msgs:
                continue
            time.sleep(process_s * len(msgs))
            self.batch(msgs)
            if mode == "auto-commit":
                continue
            last: dict[tuple, int] = {}
            for m in msgs:
                last[(m.topic(), m.partition())] = m.offset() + 1
            offs = offsets_list(last)
            self.emit("offsets_commit_started", offsets=offs, **({"async": True} if mode == "commit-async" else {}))
            try:
                c.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in last.items()],
                         asynchronous=mode == "commit-async")
                if mode == "commit-after-process":
                    self.emit("offsets_committed", offsets=offs, success=True)
            except KafkaException as exc:
                err = exc.args[0]
                self.emit("offsets_committed", offsets=offs, success=False, error=str(err),
                          definite=not err.retriable())
        c.close()


if __name__ == "__main__":
    logging.basicConfig(stream=sys.stderr, level=logging.INFO)
    raise SystemExit(Confluent().main())
