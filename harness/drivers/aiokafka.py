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
    CONSUMER_KEYS, DEFAULT_API_TIMEOUT_MS, DRIVER, NO_COMMIT_RESULT, NO_OUTCOME, PRODUCE_DEFINITE, PRODUCER_KEYS,
    PartitionPause, Unsupported, assignor_classes, bootstrap_list, claim_stdout, commit_started, committed,
    consumer_command, consumer_defaults, emit, emit_batch, error_name, error_text, map_config, member_command,
    member_defaults, member_settings, next_offsets, poll_records, producer_command, record_bytes, resume_due,
    send_failure, send_outcome, serve, setup_logging, start_reader, to_int, tps,
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
from aiokafka.errors import KafkaTimeoutError  # noqa: E402
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


# Java property → (AIOKafkaProducer kwarg | DRIVER, converter): the shared keys, and more.
PRODUCER_KEYS = {
    **PRODUCER_KEYS,
    "batch.size": ("max_batch_size", to_int),
    "max.block.ms": (DRIVER, to_int),
    "delivery.timeout.ms": (DRIVER, to_int),
    "retries": (DRIVER, retries_check),
    "max.in.flight.requests.per.connection": (DRIVER, in_flight_check),
}

# What aiokafka's members refuse: protocol → (unsupported keys, why).
REFUSED = {
    "consumer": (["group.protocol=consumer"], "aiokafka speaks only the classic group protocol (no KIP-848)"),
    "classic-cooperative": (["partition.assignment.strategy=cooperative-sticky"],
                            "aiokafka has no cooperative rebalancing (no cooperative-sticky assignor)"),
}


def kwargs_of(cls) -> set[str]:
    return set(inspect.signature(cls.__init__).parameters)


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

    async def stopped_within(self, seconds: float) -> bool:
        """Whether shutdown is asked within `seconds` (at once if it was)."""
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
            return True
        except asyncio.TimeoutError:
            return False


class Driver:
    def __init__(self) -> None:
        self.started = False
        self.inbox: Inbox | None = None

    async def open(self, client) -> None:
        """Start `client` (a producer or consumer; stopped again if that fails), then answer
        ``startup_complete``."""
        try:
            await client.start()
        except BaseException:
            await self._quietly(client.stop(), 5)
            raise
        self.started = True
        emit("startup_complete", client=CLIENT, version=aiokafka.__version__)

    # -- main -------------------------------------------------------------------------------
    async def main(self) -> int:
        self.inbox = Inbox(asyncio.get_running_loop())
        start_reader(self.inbox.put)
        runners = {"producer": self.run_producer, "consumer": self.run_consumer, "member": self.run_member}
        return await serve(self.inbox.get, runners, lambda: self.started)

    # -- producer ---------------------------------------------------------------------------
    async def run_producer(self, start: dict) -> None:
        kwargs, drv = map_config(start.get("config"), PRODUCER_KEYS, kwargs_of(AIOKafkaProducer))
        block_ms = drv.get("max.block.ms", start.get("max_block_ms"))
        block_s = float(block_ms) / 1000 if block_ms is not None else 60.0
        delivery_ms = drv.get("delivery.timeout.ms", DEFAULT_DELIVERY_TIMEOUT_MS)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap_list(start), **kwargs)
        await self.open(producer)

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
            send_outcome(entry[0], event, **fields)

        def failed(n: int, exc: BaseException, definite: bool) -> None:
            finish(n, "producer_send_error", **send_failure(exc, definite))

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
            key, value = record_bytes(cmd)
            call = producer.send(cmd["topic"], value=value, key=key, partition=cmd.get("partition"))
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
        while await producer_command(await self.inbox.get(), send, wait_outcomes):
            pass
        await wait_outcomes(1.0)
        expirer.cancel()
        await self._quietly(producer.stop(), 2)
        for n in list(pending):
            finish(n, "producer_send_error", **NO_OUTCOME)

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
        """One ``getmany``'s records, in partition order (see ``poll_records``)."""
        return await poll_records(lambda: consumer.getmany(timeout_ms=100, max_records=max_records), "getmany",
                                  asyncio.sleep)

    async def run_consumer(self, start: dict) -> None:
        kwargs, drv = map_config(start.get("config"), CONSUMER_KEYS, kwargs_of(AIOKafkaConsumer))
        consumer_defaults(kwargs, start)
        max_records = kwargs.get("max_poll_records") or DEFAULT_MAX_POLL_RECORDS
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_list(start), group_id=None,
                                    enable_auto_commit=False, **kwargs)
        await self.open(consumer)

        async def fetch_end_offsets(parts: list, timeout_ms: int) -> dict:
            try:
                return await asyncio.wait_for(consumer.end_offsets(parts), timeout_ms / 1000)
            except asyncio.TimeoutError:
                raise KafkaTimeoutError(f"no end offsets within {timeout_ms} ms") from None

        reading = False
        try:
            while True:
                cmd = self.inbox.get_nowait() if reading else await self.inbox.get()
                if cmd is None:
                    emit_batch(await self.poll(consumer, max_records))
                elif cmd.get("op") == "shutdown":
                    break
                else:                                # assign: fresh partition states, none paused
                    reading = await consumer_command(
                        consumer, cmd, reading, TopicPartition, fetch_end_offsets=fetch_end_offsets,
                        api_timeout=drv.get("default.api.timeout.ms"), stop_wait=self.inbox.stopped_within)
        finally:
            await self._quietly(consumer.stop(), 10)

    # -- members ----------------------------------------------------------------------------
    async def run_member(self, start: dict) -> None:
        mode, _ = member_settings(start, REFUSED)
        kwargs, drv = map_config(start.get("config"), CONSUMER_KEYS, kwargs_of(AIOKafkaConsumer))
        # cooperative-sticky: aiokafka rebalances eagerly only
        kwargs["partition_assignment_strategy"] = tuple(assignor_classes(
            drv.get("partition.assignment.strategy", ["range"]), "aiokafka.coordinator.assignors",
            refused=("cooperative-sticky",)))
        member_defaults(kwargs, mode)
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
        await self.open(consumer)                # before subscribing: the first join runs at once
        listener = Listener()

        def subscribe() -> None:
            # on a resubscribe, the coordinator revokes the old assignment through the listener
            # when it rejoins with the new subscription
            consumer.subscribe(topics=[start["topic"]], listener=listener)

        subscribe()
        pause = PartitionPause()

        process_s = float(start.get("process_ms", 0) or 0) / 1000
        async_commits: set[asyncio.Task] = set()

        async def commit(offs: dict, is_async: bool) -> None:
            offsets = {TopicPartition(t, p): o for (t, p), o in offs.items()}
            try:
                await asyncio.wait_for(consumer.commit(offsets), commit_timeout)
            except asyncio.TimeoutError:
                committed(offs, f"KafkaTimeoutError: commit not done within {commit_timeout * 1000:g} ms",
                          is_async=is_async)
            except asyncio.CancelledError:
                committed(offs, NO_COMMIT_RESULT, is_async=is_async)
                raise
            except Exception as exc:
                committed(offs, exc, is_async=is_async)
            else:
                committed(offs, is_async=is_async)

        try:
            while True:
                resume_due(consumer, pause, TopicPartition)
                cmd = self.inbox.get_nowait()
                if cmd is not None:
                    if cmd.get("op") == "shutdown":
                        break
                    await member_command(consumer, cmd, TopicPartition, pause=pause, subscribe=subscribe,
                                         stop_wait=self.inbox.stopped_within)
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
                    offs = next_offsets(records)
                    is_async = mode == "commit-async"
                    commit_started(offs, is_async)
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
