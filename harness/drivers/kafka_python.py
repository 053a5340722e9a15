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
    CONSUMER_KEYS, DEFAULT_API_TIMEOUT_MS, NO_COMMIT_RESULT, NO_OUTCOME, PRODUCE_DEFINITE, PRODUCER_KEYS,
    PartitionPause, assignor_classes, bootstrap_list, claim_stdout, commit_started, committed, consumer_command,
    consumer_defaults, emit, emit_batch, error_name, error_text, map_config, member_command, member_defaults,
    member_settings, next_offsets, poll_records, producer_command, read_commands, record_bytes, resume_due,
    run_sync, send_failure, send_outcome, serve, setup_logging, start_reader, to_bool, to_int, tps,
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

# Java property → (KafkaProducer kwarg, converter): the shared keys, and more. A kwarg the
# installed version lacks (buffer_memory is gone since 2.1: the accumulator is unbounded) makes
# the key unsupported.
PRODUCER_KEYS = {
    **PRODUCER_KEYS,
    "retries": ("retries", to_int),
    "delivery.timeout.ms": ("delivery_timeout_ms", to_int),
    "max.in.flight.requests.per.connection": ("max_in_flight_requests_per_connection", to_int),
    "batch.size": ("batch_size", to_int),
    "buffer.memory": ("buffer_memory", to_int),
    "max.block.ms": ("max_block_ms", to_int),
    "reconnect.backoff.ms": ("reconnect_backoff_ms", to_int),
    "reconnect.backoff.max.ms": ("reconnect_backoff_max_ms", to_int),
}

# Java property -> (KafkaConsumer kwarg | DRIVER, converter): the shared keys, and more.
CONSUMER_KEYS = {
    **CONSUMER_KEYS,
    "allow.auto.create.topics": ("allow_auto_create_topics", to_bool),
    "reconnect.backoff.ms": ("reconnect_backoff_ms", to_int),
    "reconnect.backoff.max.ms": ("reconnect_backoff_max_ms", to_int),
}

# What kafka-python's members refuse: protocol → (unsupported keys, why).
REFUSED = {
    "consumer": (["group.protocol=consumer"], "kafka-python speaks only the classic group protocol (no KIP-848)"),
}


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

    def startup_complete(self) -> None:
        self.started = True
        emit("startup_complete", client=CLIENT, version=kafka.__version__)

    # -- main -------------------------------------------------------------------------------
    def main(self) -> int:
        def read_on(start: dict) -> None:        # a producer reads its commands on this thread
            if start.get("role") != "producer":
                start_reader(self.deliver, self.stdin)

        runners = {"producer": self.run_producer, "consumer": self.run_consumer, "member": self.run_member}
        return run_sync(serve(lambda: next(self.stdin), runners, lambda: self.started, read_on))

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
            send_outcome(cmd, event, **fields)

        def failed(n: int, exc: BaseException, definite: bool) -> None:
            finish(n, "producer_send_error", **send_failure(exc, definite))

        def send(cmd: dict) -> None:
            nonlocal seq
            seq += 1
            n = seq
            with cond:
                pending[n] = cmd
            key, value = record_bytes(cmd)
            try:
                future = producer.send(cmd["topic"], value=value, key=key, partition=cmd.get("partition"))
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
            if not run_sync(producer_command(cmd, send, wait_outcomes)):
                break
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
            finish(n, "producer_send_error", **NO_OUTCOME)

    # -- consumers --------------------------------------------------------------------------
    def consumer_kwargs(self, start: dict) -> tuple[dict, dict]:
        return map_config(start.get("config"), CONSUMER_KEYS, KafkaConsumer.DEFAULT_CONFIG)

    @staticmethod
    def poll(consumer) -> list:
        """One poll's records, in partition order (see ``poll_records``)."""
        return run_sync(poll_records(lambda: consumer.poll(timeout_ms=100), "poll", time.sleep))

    def run_consumer(self, start: dict) -> None:
        kwargs, drv = self.consumer_kwargs(start)
        consumer = KafkaConsumer(bootstrap_servers=bootstrap_list(start), group_id=None,
                                 enable_auto_commit=False, **consumer_defaults(kwargs, start))
        self.startup_complete()
        end_offsets_timeout = "timeout_ms" in inspect.signature(consumer.end_offsets).parameters

        def fetch_end_offsets(parts: list, timeout_ms: int) -> dict:
            if end_offsets_timeout:
                return consumer.end_offsets(parts, timeout_ms=timeout_ms)
            return consumer.end_offsets(parts)      # kafka-python 2.2: no bound

        reading = False
        try:
            while True:
                cmd = self.next_command(0 if reading else None)
                if cmd is None:
                    emit_batch(self.poll(consumer))
                elif cmd.get("op") == "shutdown":
                    break
                else:                                # its assign keeps a partition's pause: resume_on_assign
                    reading = run_sync(consumer_command(
                        consumer, cmd, reading, TopicPartition, fetch_end_offsets=fetch_end_offsets,
                        api_timeout=drv.get("default.api.timeout.ms"), stop_wait=self.stopping.wait,
                        resume_on_assign=True))
        finally:
            consumer.close(autocommit=False)

    # -- members ----------------------------------------------------------------------------
    def run_member(self, start: dict) -> None:
        mode, protocol = member_settings(start, REFUSED)
        kwargs, drv = self.consumer_kwargs(start)
        names = drv.get("partition.assignment.strategy", ["range"])
        if protocol == "classic-cooperative":
            if names != ["cooperative-sticky"] and "partition.assignment.strategy" in drv:
                LOG.warning("protocol classic-cooperative overrides partition.assignment.strategy %s", names)
            names = ["cooperative-sticky"]
        kwargs["partition_assignment_strategy"] = assignor_classes(names, "kafka.coordinator.assignors")
        member_defaults(kwargs, mode)
        if kwargs["enable_auto_commit"]:
            def auto_committed(offsets, result) -> None:
                offs = {(tp.topic, tp.partition): om.offset for tp, om in offsets.items()}
                if offs:
                    committed(offs, result if isinstance(result, BaseException) else None, auto=True)
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
                if offs is not None:
                    committed(offs, result if isinstance(result, BaseException) else None, is_async=True)
            return callback

        try:
            while True:
                resume_due(consumer, pause, TopicPartition)
                cmd = self.next_command(0)
                if cmd is not None:
                    if cmd.get("op") == "shutdown":
                        break
                    run_sync(member_command(consumer, cmd, TopicPartition, pause=pause, subscribe=subscribe,
                                            stop_wait=self.stopping.wait, revoke_on_unsubscribe=True))
                    continue
                records = self.poll(consumer)
                if not records:
                    continue
                if process_s:
                    time.sleep(process_s * len(records))
                emit_batch(records)
                if mode == "auto-commit":
                    continue
                offs = next_offsets(records)
                commit = {TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in offs.items()}
                commit_started(offs, mode == "commit-async")
                if mode == "commit-async":
                    async_seq += 1
                    pending_async[async_seq] = offs
                    try:
                        consumer.commit_async(offsets=commit, callback=async_done(async_seq))
                    except Exception as exc:
                        if pending_async.pop(async_seq, None) is not None:
                            committed(offs, exc, is_async=True)
                    continue
                try:
                    consumer.commit(offsets=commit, timeout_ms=commit_timeout)
                    committed(offs, is_async=False)
                except Exception as exc:
                    committed(offs, exc, is_async=False)
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
            committed(pending_async.pop(n), NO_COMMIT_RESULT, is_async=True)


def main() -> int:
    claim_stdout()
    setup_logging(CLIENT)
    code = Driver().main()
    sys.stderr.flush()
    os._exit(code)          # the client's threads must not keep the process alive


if __name__ == "__main__":
    main()
