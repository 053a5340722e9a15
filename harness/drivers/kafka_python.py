"""The kafka-python driver: ``python -m harness.drivers.kafka_python`` (docs/driver-protocol.md).

Every role, with kafka-python 3.x (and 2.2.x, which lacks static membership, the
cooperative-sticky assignor and lost-partition callbacks: asking for those is unsupported).
Config keys arrive as Java client properties and are mapped through explicit tables; a key
that is not in the table, or whose keyword argument the installed version lacks, is answered
with ``startup_failed``/``unsupported``.

Threads: a producer reads its commands on the main thread (sends are the hot path). For the
consumer roles a daemon thread reads stdin into a queue and everything that touches the
KafkaConsumer (which is not thread-safe) runs on the main thread between polls. kafka-python runs rebalance
listeners and producer callbacks on its own I/O thread while the caller waits in ``poll`` or
``send``; ``emit`` serializes stdout.

Imports nothing of kch but :mod:`harness.drivers.common`.
"""

from __future__ import annotations

import inspect
import logging
import os
import queue
import sys
import threading
import time

from harness.drivers.common import (
    COMMIT_DEFINITE, CONSUMER_KEYS, DEFAULT_API_TIMEOUT_MS, MODES, PROTOCOLS, PRODUCE_DEFINITE, BadValue, Unsupported,
    PartitionPause, check_assigned, claim_stdout, role_failed, role_runner, emit, emit_batch, error_name,
    error_text, map_config, offsets_list, read_commands, setup_logging, start_offsets, start_reader, to_acks,
    to_bool, to_compression, to_int, to_str, tp_list, tps,
)

import kafka
import kafka.errors as Errors
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

try:
    from kafka import ConsumerRebalanceListener
except ImportError:  # pragma: no cover - older layouts
    from kafka.consumer.subscription_state import ConsumerRebalanceListener

CLIENT = "kafka-python"
LOG = logging.getLogger("kch.driver")

# Java property → (KafkaProducer kwarg, converter). A kwarg the installed version lacks
# (buffer_memory is gone since 2.1: the accumulator is unbounded) makes the key unsupported.
PRODUCER_KEYS = {
    "acks": ("acks", to_acks),
    "enable.idempotence": ("enable_idempotence", to_bool),
    "retries": ("retries", to_int),
    "retry.backoff.ms": ("retry_backoff_ms", to_int),
    "request.timeout.ms": ("request_timeout_ms", to_int),
    "delivery.timeout.ms": ("delivery_timeout_ms", to_int),
    "linger.ms": ("linger_ms", to_int),
    "max.in.flight.requests.per.connection": ("max_in_flight_requests_per_connection", to_int),
    "batch.size": ("batch_size", to_int),
    "buffer.memory": ("buffer_memory", to_int),
    "max.block.ms": ("max_block_ms", to_int),
    "max.request.size": ("max_request_size", to_int),
    "compression.type": ("compression_type", to_compression),
    "client.id": ("client_id", to_str),
    "metadata.max.age.ms": ("metadata_max_age_ms", to_int),
    "reconnect.backoff.ms": ("reconnect_backoff_ms", to_int),
    "reconnect.backoff.max.ms": ("reconnect_backoff_max_ms", to_int),
    "connections.max.idle.ms": ("connections_max_idle_ms", to_int),
}

# Java property -> (KafkaConsumer kwarg | DRIVER, converter): the shared keys, and more.
CONSUMER_KEYS = {
    **CONSUMER_KEYS,
    "allow.auto.create.topics": ("allow_auto_create_topics", to_bool),
    "reconnect.backoff.ms": ("reconnect_backoff_ms", to_int),
    "reconnect.backoff.max.ms": ("reconnect_backoff_max_ms", to_int),
}



def assignor_classes(names: list[str]) -> list:
    """Short assignor names as kafka-python's assignor classes."""
    out = []
    for name in names:
        try:
            if name == "range":
                from kafka.coordinator.assignors.range import RangePartitionAssignor as cls
            elif name == "roundrobin":
                from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor as cls
            elif name == "sticky":
                from kafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor as cls
            elif name == "cooperative-sticky":
                from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor as cls
            else:
                raise ImportError(name)
        except ImportError:
            raise Unsupported([f"partition.assignment.strategy={name}"]) from None
        out.append(cls)
    return out


def bootstrap_list(start: dict) -> list[str]:
    return [s.strip() for s in str(start.get("bootstrap", "")).split(",") if s.strip()]


class Driver:
    def __init__(self) -> None:
        self.stdin = read_commands()
        self.commands: "queue.Queue[dict]" = queue.Queue()
        self.stopping = threading.Event()      # shutdown asked (or stdin closed)
        self.started = False

    # -- commands ---------------------------------------------------------------------------
    def deliver(self, cmd: dict) -> None:       # stdin thread
        if cmd.get("op") == "shutdown":
            self.stopping.set()
        self.commands.put(cmd)

    def next_command(self, timeout: float | None) -> dict | None:
        try:
            return self.commands.get(timeout=timeout) if timeout != 0 else self.commands.get_nowait()
        except queue.Empty:
            return None

    def unknown(self, cmd: dict, role: str) -> None:
        emit("error", op=cmd.get("op"), message=f"unknown op {cmd.get('op')!r} for role {role}")

    def startup_complete(self) -> None:
        self.started = True
        emit("startup_complete", client=CLIENT, version=kafka.__version__)

    def stall(self, cmd: dict) -> None:
        ms = cmd.get("ms", 0) or 0
        emit("stalled", ms=ms)
        interrupted = self.stopping.wait(ms / 1000)
        emit("resumed", interrupted=True if interrupted else None)

    # -- main -------------------------------------------------------------------------------
    def main(self) -> int:
        for start in self.stdin:
            if start.get("op") == "start":
                break
            if start.get("op") == "shutdown":
                return 0
            emit("error", op=start.get("op"), message="the first command must be start")
        runner = role_runner(start, {"producer": self.run_producer, "consumer": self.run_consumer,
                                     "member": self.run_member})
        if runner is None:
            return 0
        if start.get("role") != "producer":
            start_reader(self.deliver, self.stdin)
        try:
            runner(start)
        except Exception as exc:  # noqa: BLE001 - reported on the protocol
            return role_failed(exc, self.started)
        emit("shutdown_complete")
        return 0

    # -- producer ---------------------------------------------------------------------------
    def run_producer(self, start: dict) -> None:
        kwargs, _ = map_config(start.get("config"), PRODUCER_KEYS, KafkaProducer.DEFAULT_CONFIG)
        if "max_block_ms" not in kwargs and start.get("max_block_ms") is not None:
            kwargs["max_block_ms"] = int(start["max_block_ms"])
        producer = KafkaProducer(bootstrap_servers=bootstrap_list(start), **kwargs)
        self.startup_complete()

        pending: dict[int, dict] = {}            # send sequence → send command
        cond = threading.Condition()
        seq = 0

        def finish(n: int, event: str, **fields) -> None:
            with cond:
                cmd = pending.pop(n, None)
                if not pending:
                    cond.notify_all()
            if cmd is None:
                return                           # already reported (at shutdown)
            emit(event, id=cmd.get("id"), topic=cmd.get("topic"), key=cmd.get("key"),
                 value=cmd.get("value"), **fields)

        def failed(n: int, exc: BaseException, definite: bool) -> None:
            finish(n, "producer_send_error", exception=error_name(exc), message=str(exc) or error_name(exc),
                   definite=definite)

        def send(cmd: dict) -> None:
            nonlocal seq
            seq += 1
            n = seq
            with cond:
                pending[n] = cmd
            key = cmd.get("key")
            try:
                future = producer.send(cmd["topic"], value=str(cmd.get("value", "")).encode(),
                                       key=key.encode() if key is not None else None,
                                       partition=cmd.get("partition"))
            except Exception as exc:             # never enqueued: metadata or block bound, size
                failed(n, exc, True)
                return
            future.add_callback(lambda md: finish(n, "producer_send_success", partition=md.partition,
                                                  offset=md.offset))
            future.add_errback(lambda exc: failed(n, exc, error_name(exc) in PRODUCE_DEFINITE))

        def wait_outcomes(timeout: float) -> int:
            deadline = time.monotonic() + timeout
            try:
                producer.flush(timeout=max(timeout, 0))
            except Errors.KafkaTimeoutError:
                pass
            with cond:
                while pending:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    cond.wait(left)
                return len(pending)

        for cmd in self.stdin:
            op = cmd.get("op")
            if op == "send":
                send(cmd)
            elif op == "flush":
                emit("flushed", outstanding=wait_outcomes(cmd.get("timeout_ms", 30000) / 1000))
            elif op == "shutdown":
                break
            else:
                self.unknown(cmd, "producer")
        wait_outcomes(1.0)
        try:
            producer.close(timeout=0.5)
        except Exception as exc:                 # flush inside close times out with sends pending
            LOG.info("close: %s", error_text(exc))
            sender = getattr(producer, "_sender", None)
            if sender is not None:
                sender.force_close()
        wait_outcomes(0.5)
        with cond:
            left = list(pending)
        for n in left:
            finish(n, "producer_send_error", exception="NoOutcomeBeforeClose",
                   message="the client reported no outcome before the driver closed it", definite=False)

    # -- consumers --------------------------------------------------------------------------
    def consumer_kwargs(self, start: dict) -> tuple[dict, dict]:
        return map_config(start.get("config"), CONSUMER_KEYS, KafkaConsumer.DEFAULT_CONFIG)

    @staticmethod
    def poll(consumer) -> list:
        """One poll's records, in partition order. An error the client raises from poll is
        reported (``error`` with op ``poll``) and polling goes on after a pause."""
        try:
            polled = consumer.poll(timeout_ms=100)
        except Exception as exc:
            LOG.warning("poll: %s", error_text(exc), exc_info=True)
            emit("error", op="poll", message=error_text(exc))
            time.sleep(0.5)
            return []
        return [r for tp in sorted(polled, key=lambda tp: (tp.topic, tp.partition)) for r in polled[tp]]

    def run_consumer(self, start: dict) -> None:
        kwargs, drv = self.consumer_kwargs(start)
        for key in ("group_instance_id", "enable_auto_commit"):
            kwargs.pop(key, None)                # no group: no membership, no commits
        kwargs.setdefault("auto_offset_reset", "earliest")
        if start.get("group"):
            kwargs.setdefault("client_id", str(start["group"]))
        consumer = KafkaConsumer(bootstrap_servers=bootstrap_list(start), group_id=None,
                                 enable_auto_commit=False, **kwargs)
        self.startup_complete()
        api_timeout = drv.get("default.api.timeout.ms")
        end_offsets_timeout = "timeout_ms" in inspect.signature(consumer.end_offsets).parameters
        reading = False
        try:
            while True:
                cmd = self.next_command(0 if reading else None)
                if cmd is None:
                    emit_batch(self.poll(consumer))
                    continue
                op = cmd.get("op")
                if op == "assign":
                    parts = [TopicPartition(cmd["topic"], p) for p in cmd.get("partitions", [])]
                    consumer.assign(parts)
                    if parts:
                        consumer.resume(*parts)          # a new assignment starts unpaused
                        self.seek(consumer, parts, start_offsets(cmd))
                    emit("partitions_assigned", partitions=tps(parts))
                    reading = bool(parts)
                elif op in ("pause", "resume"):
                    owned = [(tp.topic, tp.partition) for tp in consumer.assignment()]
                    if check_assigned(op, cmd["topic"], cmd.get("partitions", []), owned):
                        parts = [TopicPartition(cmd["topic"], p) for p in cmd.get("partitions", [])]
                        (consumer.pause if op == "pause" else consumer.resume)(*parts)
                        emit("partitions_paused" if op == "pause" else "partitions_resumed", partitions=tps(parts))
                elif op == "end_offsets":
                    parts = [TopicPartition(cmd["topic"], p) for p in cmd.get("partitions", [])]
                    timeout_ms = cmd.get("timeout_ms", api_timeout or 15000)
                    try:
                        ends = (consumer.end_offsets(parts, timeout_ms=timeout_ms) if end_offsets_timeout
                                else consumer.end_offsets(parts))
                        emit("end_offsets", offsets={str(tp.partition): o for tp, o in ends.items()})
                    except Exception as exc:
                        emit("error", op="end_offsets", message=error_text(exc))
                elif op == "stall":
                    self.stall(cmd)
                elif op == "shutdown":
                    break
                else:
                    self.unknown(cmd, "consumer")
        finally:
            consumer.close(autocommit=False)

    @staticmethod
    def seek(consumer, parts: list, offsets: dict[int, int]) -> None:
        """Each partition from `offsets` where given, else from its beginning."""
        rest = [tp for tp in parts if tp.partition not in offsets]
        for tp in parts:
            if tp.partition in offsets:
                consumer.seek(tp, offsets[tp.partition])
        if rest:
            consumer.seek_to_beginning(*rest)

    # -- members ----------------------------------------------------------------------------
    def member_command(self, consumer, cmd: dict, pause: PartitionPause, subscribe) -> bool:
        """One command to a member; False for shutdown."""
        op = cmd.get("op")
        if op == "shutdown":
            return False
        if op == "stall":
            self.stall(cmd)
        elif op == "pause_partitions":
            owned = pause.begin([(tp.topic, tp.partition) for tp in consumer.assignment()], cmd.get("ms", 0))
            if owned:
                consumer.pause(*[TopicPartition(t, p) for t, p in owned])
        elif op == "resubscribe":
            held = [(tp.topic, tp.partition) for tp in consumer.assignment()]
            if held:       # kafka-python's unsubscribe does not call the rebalance listener
                emit("partitions_revoked", partitions=tp_list(held))
            consumer.unsubscribe()
            subscribe()
            emit("resubscribed")
        else:
            self.unknown(cmd, "member")
        return True

    def run_member(self, start: dict) -> None:
        mode = start.get("mode", "commit-after-process")
        protocol = start.get("protocol", "classic-eager")
        if protocol == "consumer":
            raise Unsupported(["group.protocol=consumer"],
                              "kafka-python speaks only the classic group protocol (no KIP-848)")
        if protocol not in PROTOCOLS:
            raise BadValue(f"unknown protocol {protocol!r}")
        if mode not in MODES:
            raise BadValue(f"unknown mode {mode!r}")
        kwargs, drv = self.consumer_kwargs(start)
        names = drv.get("partition.assignment.strategy", ["range"])
        if protocol == "classic-cooperative":
            if names != ["cooperative-sticky"] and "partition.assignment.strategy" in drv:
                LOG.warning("protocol classic-cooperative overrides partition.assignment.strategy %s", names)
            names = ["cooperative-sticky"]
        kwargs["partition_assignment_strategy"] = assignor_classes(names)
        kwargs.setdefault("enable_auto_commit", mode == "auto-commit")
        kwargs.setdefault("auto_offset_reset", "earliest")
        if kwargs["enable_auto_commit"]:
            def auto_committed(offsets, result) -> None:
                offs = {(tp.topic, tp.partition): om.offset for tp, om in offsets.items()}
                if not offs:
                    return
                if isinstance(result, BaseException):
                    emit("offsets_committed", offsets=offsets_list(offs), success=False, auto=True,
                         error=error_text(result), definite=error_name(result) in COMMIT_DEFINITE)
                else:
                    emit("offsets_committed", offsets=offsets_list(offs), success=True, auto=True)
            kwargs["default_offset_commit_callback"] = auto_committed
        consumer = KafkaConsumer(bootstrap_servers=bootstrap_list(start), group_id=start["group"], **kwargs)

        class Listener(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked):
                if revoked:
                    emit("partitions_revoked", partitions=tps(revoked))

            def on_partitions_assigned(self, assigned):
                emit("partitions_assigned", partitions=tps(assigned))

            def on_partitions_lost(self, lost):      # kafka-python 3.x (KIP-429)
                if lost:
                    emit("partitions_revoked", partitions=tps(lost), lost=True)

        listener = Listener()

        def subscribe() -> None:
            consumer.subscribe(topics=[start["topic"]], listener=listener)

        subscribe()
        self.startup_complete()
        pause = PartitionPause()

        process_s = float(start.get("process_ms", 0) or 0) / 1000
        commit_timeout = drv.get("default.api.timeout.ms", DEFAULT_API_TIMEOUT_MS)
        pending_async: dict[int, dict] = {}
        async_seq = 0

        def async_done(n: int):
            def callback(offsets, result) -> None:
                offs = pending_async.pop(n, None)
                if offs is None:
                    return
                if isinstance(result, BaseException):
                    emit("offsets_committed", offsets=offsets_list(offs), success=False, error=error_text(result),
                         definite=error_name(result) in COMMIT_DEFINITE, **{"async": True})
                else:
                    emit("offsets_committed", offsets=offsets_list(offs), success=True, **{"async": True})
            return callback

        try:
            while True:
                if pause.due():
                    back = pause.end([(tp.topic, tp.partition) for tp in consumer.assignment()])
                    if back:
                        consumer.resume(*[TopicPartition(t, p) for t, p in back])
                cmd = self.next_command(0)
                if cmd is not None:
                    if not self.member_command(consumer, cmd, pause, subscribe):
                        break
                    continue
                records = self.poll(consumer)
                if not records:
                    continue
                if process_s:
                    time.sleep(process_s * len(records))
                emit_batch(records)
                if mode == "auto-commit":
                    continue
                offs: dict[tuple, int] = {}
                for r in records:
                    offs[(r.topic, r.partition)] = r.offset + 1
                commit = {TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in offs.items()}
                if mode == "commit-async":
                    async_seq += 1
                    pending_async[async_seq] = offs
                    emit("offsets_commit_started", offsets=offsets_list(offs), **{"async": True})
                    try:
                        consumer.commit_async(offsets=commit, callback=async_done(async_seq))
                    except Exception as exc:
                        if pending_async.pop(async_seq, None) is not None:
                            emit("offsets_committed", offsets=offsets_list(offs), success=False,
                                 error=error_text(exc), definite=error_name(exc) in COMMIT_DEFINITE,
                                 **{"async": True})
                    continue
                emit("offsets_commit_started", offsets=offsets_list(offs), **{"async": False})
                try:
                    consumer.commit(offsets=commit, timeout_ms=commit_timeout)
                    emit("offsets_committed", offsets=offsets_list(offs), success=True, **{"async": False})
                except Exception as exc:
                    emit("offsets_committed", offsets=offsets_list(offs), success=False, error=error_text(exc),
                         definite=error_name(exc) in COMMIT_DEFINITE, **{"async": False})
        finally:
            self.settle_async_commits(consumer, pending_async)
            consumer.close()

    @staticmethod
    def settle_async_commits(consumer, pending_async: dict, timeout: float = 5.0) -> None:
        """Let outstanding async commits report (every offsets_commit_started gets its
        offsets_committed before shutdown_complete). Polls with every partition paused, so
        nothing more is read; what is still open after ``timeout`` is reported as unknown."""
        if not pending_async:
            return
        deadline = time.monotonic() + timeout
        try:
            consumer.pause(*consumer.assignment())
        except Exception:
            pass
        while pending_async and time.monotonic() < deadline:
            try:
                consumer.poll(timeout_ms=50)     # drives the commit callbacks; partitions paused
                consumer.pause(*consumer.assignment())
            except Exception as exc:
                LOG.info("settling async commits: %s", error_text(exc))
                time.sleep(0.05)
        for n in list(pending_async):
            offs = pending_async.pop(n)
            emit("offsets_committed", offsets=offsets_list(offs), success=False,
                 error="no result before the driver closed the consumer", definite=False, **{"async": True})


def main() -> int:
    claim_stdout()
    setup_logging(CLIENT)
    code = Driver().main()
    sys.stderr.flush()
    os._exit(code)          # the client's threads must not keep the process alive


if __name__ == "__main__":
    main()
