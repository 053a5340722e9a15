"""The aiokafka driver: ``python -m harness.drivers.aiokafka`` (docs/driver-protocol.md).

Every role, on one asyncio loop. Config keys arrive as Java client properties and are mapped
through explicit tables; a key that is not in the table, or whose keyword argument the
installed aiokafka lacks, is answered with ``startup_failed``/``unsupported``.

aiokafka has no ``max.block.ms``, ``delivery.timeout.ms`` or ``retries``; the driver gives
those keys Java's meaning itself:

- ``max.block.ms`` (or the start command's ``max_block_ms``) bounds ``await send()``, which
  waits while the partition's batch is full; a send still waiting then is cancelled before it
  was enqueued and reported failed, definite.
- ``delivery.timeout.ms`` (Java's default, 120 s, when not given): a send without an outcome
  that long after it was enqueued is reported failed (``KafkaTimeoutError``, not definite); the
  library's own late outcome is then only logged. (aiokafka itself fails a batch only once it
  is older than ``request.timeout.ms`` at a retry, and with idempotence never.)
- ``retries`` ≥ 1 is accepted as is: aiokafka retries retriable errors until the batch is
  older than ``request.timeout.ms`` (or, with idempotence, for ever); ``retries=0`` is
  unsupported. ``max.in.flight.requests.per.connection`` is accepted only as 1: aiokafka
  keeps one produce request in flight per broker.

Group members: aiokafka rebalances in a background task, not inside ``getmany``. The
rebalance listener waits for the batch in hand to be processed, written and committed before
it reports a revocation (the listener is awaited by the coordinator), so the events keep the
order a Java member's would. aiokafka has no cooperative assignor and does not tell a lost
partition from a revoked one. ``commit`` (which retries retriable errors for ever) is bounded
by ``default.api.timeout.ms`` (60 s, as Java's ``commitSync``).

Imports nothing of kch but :mod:`harness.drivers.common`.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import logging
import os
import sys
import threading
import time

from harness.drivers.common import (
    COMMIT_DEFINITE, CONSUMER_KEYS, DEFAULT_API_TIMEOUT_MS, DRIVER, MODES, PROTOCOLS, PRODUCE_DEFINITE, BadValue, Unsupported,
    PartitionPause, check_assigned, claim_stdout, role_failed, role_runner, emit, emit_batch, error_name,
    error_text, map_config, offsets_list, setup_logging, start_offsets, start_reader, to_acks, to_bool,
    to_compression, to_int, to_str, tps,
)

# This module shares its name with the library: never import it instead of the library (as
# happens when this directory is the working directory and so on sys.path).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
if getattr(sys.modules.get("aiokafka"), "__file__", None) == os.path.abspath(__file__):
    del sys.modules["aiokafka"]

import aiokafka  # noqa: E402
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # noqa: E402
from aiokafka.abc import ConsumerRebalanceListener  # noqa: E402
from aiokafka.structs import TopicPartition  # noqa: E402

CLIENT = "aiokafka"
LOG = logging.getLogger("kch.driver")
DEFAULT_MAX_POLL_RECORDS = 500          # Java's max.poll.records (aiokafka's default: no limit)
DEFAULT_DELIVERY_TIMEOUT_MS = 120000    # Java's delivery.timeout.ms


def retries_check(value) -> int:
    n = to_int(value)
    if n < 1:
        raise Unsupported([f"retries={n}"])
    return n


def in_flight_check(value) -> int:
    n = to_int(value)
    if n != 1:
        raise Unsupported([f"max.in.flight.requests.per.connection={n}"])
    return n


PRODUCER_KEYS = {
    "acks": ("acks", to_acks),
    "enable.idempotence": ("enable_idempotence", to_bool),
    "request.timeout.ms": ("request_timeout_ms", to_int),
    "retry.backoff.ms": ("retry_backoff_ms", to_int),
    "linger.ms": ("linger_ms", to_int),
    "batch.size": ("max_batch_size", to_int),
    "max.request.size": ("max_request_size", to_int),
    "compression.type": ("compression_type", to_compression),
    "client.id": ("client_id", to_str),
    "metadata.max.age.ms": ("metadata_max_age_ms", to_int),
    "connections.max.idle.ms": ("connections_max_idle_ms", to_int),
    "max.block.ms": (DRIVER, to_int),
    "delivery.timeout.ms": (DRIVER, to_int),
    "retries": (DRIVER, retries_check),
    "max.in.flight.requests.per.connection": (DRIVER, in_flight_check),
}




def kwargs_of(cls) -> set[str]:
    return set(inspect.signature(cls.__init__).parameters)


def assignor_classes(names: list[str]) -> tuple:
    out = []
    for name in names:
        if name == "range":
            from aiokafka.coordinator.assignors.range import RangePartitionAssignor as cls
        elif name == "roundrobin":
            from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor as cls
        elif name == "sticky":
            from aiokafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor as cls
        else:                                   # cooperative-sticky: aiokafka rebalances eagerly only
            raise Unsupported([f"partition.assignment.strategy={name}"])
        out.append(cls)
    return tuple(out)


def timeout_scope(seconds: float):
    """``asyncio.timeout`` where there is one (3.11+: no extra task per send)."""
    return asyncio.timeout(seconds) if hasattr(asyncio, "timeout") else None


class Inbox:
    """Commands from the stdin thread into the loop, one wake-up per burst of lines."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.items: collections.deque = collections.deque()
        self.ready = asyncio.Event()
        self.stopping = asyncio.Event()        # shutdown asked (or stdin closed)
        self._lock = threading.Lock()
        self._wake_pending = False
        self._stop_seen = False

    def put(self, cmd: dict) -> None:          # stdin thread
        if cmd.get("op") == "shutdown":
            self._stop_seen = True
        self.items.append(cmd)
        with self._lock:
            if self._wake_pending:
                return
            self._wake_pending = True
        try:
            self.loop.call_soon_threadsafe(self._wake)
        except RuntimeError:                   # the loop is gone: we are exiting
            pass

    def _wake(self) -> None:
        with self._lock:
            self._wake_pending = False
        if self._stop_seen:
            self.stopping.set()
        self.ready.set()

    def get_nowait(self) -> dict | None:
        return self.items.popleft() if self.items else None

    async def get(self) -> dict:
        while not self.items:
            self.ready.clear()
            if self.items:
                break
            await self.ready.wait()
        return self.items.popleft()


def bootstrap_list(start: dict) -> list[str]:
    return [s.strip() for s in str(start.get("bootstrap", "")).split(",") if s.strip()]


class Driver:
    def __init__(self) -> None:
        self.started = False
        self.inbox: Inbox | None = None

    def startup_complete(self) -> None:
        self.started = True
        emit("startup_complete", client=CLIENT, version=aiokafka.__version__)

    def unknown(self, cmd: dict, role: str) -> None:
        emit("error", op=cmd.get("op"), message=f"unknown op {cmd.get('op')!r} for role {role}")

    async def stall(self, cmd: dict) -> None:
        ms = cmd.get("ms", 0) or 0
        emit("stalled", ms=ms)
        try:
            await asyncio.wait_for(self.inbox.stopping.wait(), ms / 1000)
            interrupted = True
        except asyncio.TimeoutError:
            interrupted = False
        emit("resumed", interrupted=True if interrupted else None)

    # -- main -------------------------------------------------------------------------------
    async def main(self) -> int:
        self.inbox = Inbox(asyncio.get_running_loop())
        start_reader(self.inbox.put)
        while True:
            start = await self.inbox.get()
            if start.get("op") == "start":
                break
            if start.get("op") == "shutdown":
                return 0
            emit("error", op=start.get("op"), message="the first command must be start")
        runner = role_runner(start, {"producer": self.run_producer, "consumer": self.run_consumer,
                                     "member": self.run_member})
        if runner is None:
            return 0
        try:
            await runner(start)
        except Exception as exc:  # noqa: BLE001 - reported on the protocol
            return role_failed(exc, self.started)
        emit("shutdown_complete")
        return 0

    # -- producer ---------------------------------------------------------------------------
    async def run_producer(self, start: dict) -> None:
        kwargs, drv = map_config(start.get("config"), PRODUCER_KEYS, kwargs_of(AIOKafkaProducer))
        block_ms = drv.get("max.block.ms", start.get("max_block_ms"))
        block_s = float(block_ms) / 1000 if block_ms is not None else 60.0
        delivery_ms = drv.get("delivery.timeout.ms", DEFAULT_DELIVERY_TIMEOUT_MS)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap_list(start), **kwargs)
        try:
            await producer.start()
        except BaseException:
            await self._quietly(producer.stop(), 5)
            raise
        self.startup_complete()

        pending: dict[int, tuple[dict, float]] = {}       # sequence → (command, deadline)
        drained = asyncio.Event()
        drained.set()
        seq = 0

        def finish(n: int, event: str, **fields) -> None:
            entry = pending.pop(n, None)
            if not pending:
                drained.set()
            if entry is None:
                if event == "producer_send_success":
                    LOG.info("late success for send %s after the driver reported it: %s", n, fields)
                return
            cmd = entry[0]
            emit(event, id=cmd.get("id"), topic=cmd.get("topic"), key=cmd.get("key"),
                 value=cmd.get("value"), **fields)

        def failed(n: int, exc: BaseException, definite: bool) -> None:
            finish(n, "producer_send_error", exception=error_name(exc), message=str(exc) or error_name(exc),
                   definite=definite)

        def delivered(n: int, fut: asyncio.Future) -> None:
            if fut.cancelled():
                finish(n, "producer_send_error", exception="CancelledError", message="delivery cancelled",
                       definite=False)
                return
            exc = fut.exception()
            if exc is not None:
                failed(n, exc, error_name(exc) in PRODUCE_DEFINITE)
            else:
                md = fut.result()
                finish(n, "producer_send_success", partition=md.partition, offset=md.offset)

        async def send(cmd: dict) -> None:
            nonlocal seq
            seq += 1
            n = seq
            pending[n] = (cmd, None)            # its delivery deadline starts once enqueued
            drained.clear()
            key = cmd.get("key")
            call = producer.send(cmd["topic"], value=str(cmd.get("value", "")).encode(),
                                 key=key.encode() if key is not None else None, partition=cmd.get("partition"))
            try:
                scope = timeout_scope(block_s)
                if scope is not None:
                    async with scope:
                        fut = await call
                else:
                    fut = await asyncio.wait_for(call, block_s)
            except asyncio.TimeoutError:
                finish(n, "producer_send_error", exception="KafkaTimeoutError",
                       message=f"not enqueued within max.block.ms ({block_s * 1000:g} ms)", definite=True)
                return
            except Exception as exc:            # never enqueued: metadata, partition, size, closed
                failed(n, exc, True)
                return
            if n in pending:
                pending[n] = (cmd, time.monotonic() + delivery_ms / 1000)
            fut.add_done_callback(lambda f: delivered(n, f))

        async def expire() -> None:             # delivery.timeout.ms, enforced by the driver
            while True:
                await asyncio.sleep(0.1)
                now = time.monotonic()
                expired = []
                for n, (_, deadline) in pending.items():
                    if deadline is None or deadline > now:
                        break                    # sends enqueue one by one: deadlines are in order
                    expired.append(n)
                for n in expired:
                    finish(n, "producer_send_error", exception="KafkaTimeoutError",
                           message=f"no outcome within delivery.timeout.ms ({delivery_ms} ms; enforced by the driver)",
                           definite=False)

        async def wait_outcomes(timeout: float) -> int:
            if pending:
                try:
                    await asyncio.wait_for(drained.wait(), max(timeout, 0))
                except asyncio.TimeoutError:
                    pass
            return len(pending)

        expirer = asyncio.ensure_future(expire())
        while True:
            cmd = await self.inbox.get()
            op = cmd.get("op")
            if op == "send":
                await send(cmd)
            elif op == "flush":
                emit("flushed", outstanding=await wait_outcomes(cmd.get("timeout_ms", 30000) / 1000))
            elif op == "shutdown":
                break
            else:
                self.unknown(cmd, "producer")
        await wait_outcomes(1.0)
        expirer.cancel()
        await self._quietly(producer.stop(), 2)
        for n in list(pending):
            finish(n, "producer_send_error", exception="NoOutcomeBeforeClose",
                   message="the client reported no outcome before the driver closed it", definite=False)

    @staticmethod
    async def _quietly(coro, timeout: float) -> None:
        try:
            await asyncio.wait_for(coro, timeout)
        except BaseException as exc:           # noqa: BLE001 - closing is best effort
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            LOG.info("close: %s", error_text(exc) if not isinstance(exc, asyncio.TimeoutError) else "timed out")

    # -- consumers --------------------------------------------------------------------------
    @staticmethod
    async def poll(consumer, max_records: int) -> list:
        """One ``getmany``'s records, in partition order. An error the client raises is
        reported (``error`` with op ``poll``) and polling goes on after a pause."""
        try:
            polled = await consumer.getmany(timeout_ms=100, max_records=max_records)
        except Exception as exc:
            LOG.warning("getmany: %s", error_text(exc), exc_info=True)
            emit("error", op="poll", message=error_text(exc))
            await asyncio.sleep(0.5)
            return []
        return [r for tp in sorted(polled, key=lambda tp: (tp.topic, tp.partition)) for r in polled[tp]]

    async def run_consumer(self, start: dict) -> None:
        kwargs, drv = map_config(start.get("config"), CONSUMER_KEYS, kwargs_of(AIOKafkaConsumer))
        for key in ("group_instance_id", "enable_auto_commit"):
            kwargs.pop(key, None)                # no group: no membership, no commits
        kwargs.setdefault("auto_offset_reset", "earliest")
        if start.get("group"):
            kwargs.setdefault("client_id", str(start["group"]))
        max_records = kwargs.get("max_poll_records") or DEFAULT_MAX_POLL_RECORDS
        api_timeout = drv.get("default.api.timeout.ms")
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_list(start), group_id=None,
                                    enable_auto_commit=False, **kwargs)
        try:
            await consumer.start()
        except BaseException:
            await self._quietly(consumer.stop(), 5)
            raise
        self.startup_complete()
        reading = False
        try:
            while True:
                cmd = self.inbox.get_nowait() if reading else await self.inbox.get()
                if cmd is None:
                    emit_batch(await self.poll(consumer, max_records))
                    continue
                op = cmd.get("op")
                if op == "assign":
                    parts = [TopicPartition(cmd["topic"], p) for p in cmd.get("partitions", [])]
                    consumer.assign(parts)               # fresh partition states: none paused
                    offsets = start_offsets(cmd)
                    for tp in parts:
                        if tp.partition in offsets:
                            consumer.seek(tp, offsets[tp.partition])
                    rest = [tp for tp in parts if tp.partition not in offsets]
                    if rest:
                        await consumer.seek_to_beginning(*rest)
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
                        ends = await asyncio.wait_for(consumer.end_offsets(parts), timeout_ms / 1000)
                        emit("end_offsets", offsets={str(tp.partition): o for tp, o in ends.items()})
                    except asyncio.TimeoutError:
                        emit("error", op="end_offsets",
                             message=f"KafkaTimeoutError: no end offsets within {timeout_ms} ms")
                    except Exception as exc:
                        emit("error", op="end_offsets", message=error_text(exc))
                elif op == "stall":
                    await self.stall(cmd)
                elif op == "shutdown":
                    break
                else:
                    self.unknown(cmd, "consumer")
        finally:
            await self._quietly(consumer.stop(), 10)

    # -- members ----------------------------------------------------------------------------
    async def run_member(self, start: dict) -> None:
        mode = start.get("mode", "commit-after-process")
        protocol = start.get("protocol", "classic-eager")
        if protocol == "consumer":
            raise Unsupported(["group.protocol=consumer"],
                              "aiokafka speaks only the classic group protocol (no KIP-848)")
        if protocol == "classic-cooperative":
            raise Unsupported(["partition.assignment.strategy=cooperative-sticky"],
                              "aiokafka has no cooperative rebalancing (no cooperative-sticky assignor)")
        if protocol not in PROTOCOLS:
            raise BadValue(f"unknown protocol {protocol!r}")
        if mode not in MODES:
            raise BadValue(f"unknown mode {mode!r}")
        kwargs, drv = map_config(start.get("config"), CONSUMER_KEYS, kwargs_of(AIOKafkaConsumer))
        kwargs["partition_assignment_strategy"] = assignor_classes(drv.get("partition.assignment.strategy", ["range"]))
        kwargs.setdefault("enable_auto_commit", mode == "auto-commit")
        kwargs.setdefault("auto_offset_reset", "earliest")
        max_records = kwargs.get("max_poll_records") or DEFAULT_MAX_POLL_RECORDS
        commit_timeout = drv.get("default.api.timeout.ms", DEFAULT_API_TIMEOUT_MS) / 1000
        batch_lock = asyncio.Lock()              # held from a batch's processing to its commit

        class Listener(ConsumerRebalanceListener):
            async def on_partitions_revoked(self, revoked):
                if revoked:
                    async with batch_lock:
                        emit("partitions_revoked", partitions=tps(revoked))

            async def on_partitions_assigned(self, assigned):
                async with batch_lock:
                    emit("partitions_assigned", partitions=tps(assigned))

        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_list(start), group_id=start["group"], **kwargs)
        try:
            await consumer.start()
        except BaseException:
            await self._quietly(consumer.stop(), 5)
            raise
        self.startup_complete()                  # before subscribing: the first join runs at once
        listener = Listener()
        consumer.subscribe(topics=[start["topic"]], listener=listener)
        pause = PartitionPause()

        process_s = float(start.get("process_ms", 0) or 0) / 1000
        async_commits: set[asyncio.Task] = set()

        async def commit(offs: dict, is_async: bool) -> None:
            flag = {"async": is_async}
            offsets = {TopicPartition(t, p): o for (t, p), o in offs.items()}
            try:
                await asyncio.wait_for(consumer.commit(offsets), commit_timeout)
            except asyncio.TimeoutError:
                emit("offsets_committed", offsets=offsets_list(offs), success=False, definite=False,
                     error=f"KafkaTimeoutError: commit not done within {commit_timeout * 1000:g} ms", **flag)
            except asyncio.CancelledError:
                emit("offsets_committed", offsets=offsets_list(offs), success=False, definite=False,
                     error="no result before the driver closed the consumer", **flag)
                raise
            except Exception as exc:
                emit("offsets_committed", offsets=offsets_list(offs), success=False, error=error_text(exc),
                     definite=error_name(exc) in COMMIT_DEFINITE, **flag)
            else:
                emit("offsets_committed", offsets=offsets_list(offs), success=True, **flag)

        try:
            while True:
                if pause.due():
                    back = pause.end([(tp.topic, tp.partition) for tp in consumer.assignment()])
                    if back:
                        consumer.resume(*[TopicPartition(t, p) for t, p in back])
                cmd = self.inbox.get_nowait()
                if cmd is not None:
                    op = cmd.get("op")
                    if op == "shutdown":
                        break
                    if op == "stall":
                        await self.stall(cmd)
                    elif op == "pause_partitions":
                        owned = pause.begin([(tp.topic, tp.partition) for tp in consumer.assignment()],
                                            cmd.get("ms", 0))
                        if owned:
                            consumer.pause(*[TopicPartition(t, p) for t, p in owned])
                    elif op == "resubscribe":
                        # the coordinator revokes the old assignment through the listener
                        # when it rejoins with the new subscription
                        consumer.unsubscribe()
                        consumer.subscribe(topics=[start["topic"]], listener=listener)
                        emit("resubscribed")
                    else:
                        self.unknown(cmd, "member")
                    continue
                records = await self.poll(consumer, max_records)
                if not records:
                    continue
                async with batch_lock:
                    if process_s:
                        await asyncio.sleep(process_s * len(records))
                    emit_batch(records)
                    if mode == "auto-commit":
                        continue
                    offs: dict[tuple, int] = {}
                    for r in records:
                        offs[(r.topic, r.partition)] = r.offset + 1
                    is_async = mode == "commit-async"
                    emit("offsets_commit_started", offsets=offsets_list(offs), **{"async": is_async})
                    if is_async:
                        task = asyncio.ensure_future(commit(offs, True))
                        async_commits.add(task)
                        task.add_done_callback(async_commits.discard)
                    else:
                        await commit(offs, False)
        finally:
            if async_commits:
                done, left = await asyncio.wait(set(async_commits), timeout=5)
                for task in left:
                    task.cancel()
                if left:
                    await asyncio.wait(left, timeout=1)
            await self._quietly(consumer.stop(), 30)


def main() -> int:
    claim_stdout()
    setup_logging(CLIENT)
    try:
        code = asyncio.run(Driver().main())
    except KeyboardInterrupt:
        code = 1
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
