"""Plumbing shared by the Python drivers (kafka-python, aiokafka, confluent-kafka): events out,
commands in, the translation of Java client properties into a library's keyword arguments, and
the consumer API actions kafka-python and aiokafka take alike (written once, for a sync and an
async client: see ``ready`` and ``run_sync``).

Standard library only: a driver runs in a virtualenv that holds nothing but its client library.
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import os
import sys
import threading
import time
from typing import Any, Callable

# -- events -------------------------------------------------------------------------------------
# The driver's stdout belongs to the protocol alone: the real stdout is kept on a private handle
# and fd 1 / sys.stdout are pointed at stderr, so a stray print (or a library writing to fd 1)
# lands in the log instead of corrupting the event stream.
_OUT_LOCK = threading.Lock()
_out = None
_broken = False


def claim_stdout() -> None:
    """Take stdout for events only (call once, first thing in ``main``)."""
    global _out
    if _out is not None:
        return
    sys.stdout.flush()
    _out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr


def emit(name: str, **fields: Any) -> None:
    """Write one event line (``name``, ``timestamp``, ``mono``, then the fields that are not
    None, except ``key``, which is written as null) and flush it, under a lock: callbacks of
    client threads emit too."""
    global _broken
    event = {"name": name, "timestamp": int(time.time() * 1000), "mono": time.monotonic()}
    event.update((k, v) for k, v in fields.items() if v is not None or k == "key")
    line = json.dumps(event, separators=(",", ":")) + "\n"
    with _OUT_LOCK:
        if _broken:
            return
        out = _out if _out is not None else sys.stdout
        try:
            out.write(line)
            out.flush()
        except (BrokenPipeError, ValueError, OSError):
            _broken = True          # kch went away; stdin closing shuts us down


def tps(partitions) -> list[dict]:
    """TopicPartitions (anything with .topic and .partition) as protocol partition objects."""
    return [{"topic": tp.topic, "partition": tp.partition}
            for tp in sorted(partitions, key=lambda tp: (tp.topic, tp.partition))]


def offsets_list(offsets: dict) -> list[dict]:
    """``{(topic, partition): offset}`` as the protocol's offset objects."""
    return [{"topic": t, "partition": p, "offset": o} for (t, p), o in sorted(offsets.items())]


def text(data) -> str | None:
    """A record's key or value bytes as text (None stays None)."""
    if data is None:
        return None
    return bytes(data).decode("utf-8", errors="replace")


def emit_batch(records) -> None:
    """One polled batch: a ``record_data`` per record (anything with topic, partition, offset,
    key, value), then the batch's ``records_consumed``."""
    if not records:
        return
    summary: dict[tuple, list[int]] = {}
    for r in records:
        emit("record_data", topic=r.topic, partition=r.partition, offset=r.offset,
             key=text(r.key), value=text(r.value))
        summary.setdefault((r.topic, r.partition), []).append(r.offset)
    emit("records_consumed", count=len(records), partitions=[
        {"topic": t, "partition": p, "count": len(o), "minOffset": min(o), "maxOffset": max(o)}
        for (t, p), o in summary.items()])


def error_name(exc: BaseException) -> str:
    return type(exc).__name__


def error_text(exc: BaseException) -> str:
    name, text_ = type(exc).__name__, str(exc)
    if not text_ or text_ == name:
        return name
    return text_ if text_.startswith(name) else f"{name}: {text_}"


# Produce errors after which the record was certainly not appended (the broker refused it, or
# it was too large). Both libraries name their errors after kafka-python's. A timeout, a broken
# connection or anything unknown leaves the outcome open (definite: false).
PRODUCE_DEFINITE = {
    "MessageSizeTooLargeError", "RecordListTooLargeError", "NotEnoughReplicasError",
    "InvalidRecordError", "CorruptRecordError", "CorruptRecordException",
    "TopicAuthorizationFailedError", "ClusterAuthorizationFailedError",
    "UnknownTopicOrPartitionError", "InvalidRequiredAcksError",
}

# Commit errors after which the commit certainly did not apply: the coordinator refused it
# (generation, membership, authorization, size) or the client never sent it.
COMMIT_DEFINITE = {
    "CommitFailedError", "RebalanceInProgressError", "UnknownMemberIdError",
    "IllegalGenerationError", "FencedInstanceIdError", "GroupAuthorizationFailedError",
    "TopicAuthorizationFailedError", "OffsetMetadataTooLargeError", "InvalidCommitOffsetSizeError",
    "IllegalStateError", "CoordinatorNotAvailableError", "NotCoordinatorError",
    "GroupCoordinatorNotAvailableError", "NotCoordinatorForGroupError",
    "CoordinatorLoadInProgressError", "GroupLoadInProgressError",
}


def tp_list(pairs) -> list[dict]:
    """``(topic, partition)`` pairs as protocol partition objects, sorted."""
    return [{"topic": t, "partition": p} for t, p in sorted(pairs)]


# -- consumer API actions -------------------------------------------------------------------------
def start_offsets(cmd: dict) -> dict[int, int]:
    """An ``assign`` command's ``offsets`` (``{"0": 12}``) as ``{partition: offset}``."""
    return {int(p): int(o) for p, o in (cmd.get("offsets") or {}).items()}


class PartitionPause:
    """A member's ``pause_partitions``: the partitions it paused and when to resume them.
    Partitions are ``(topic, partition)`` pairs; the driver calls its library's pause and
    resume with what :meth:`begin` and :meth:`end` return."""

    def __init__(self) -> None:
        self.paused: set[tuple] = set()
        self.until: float | None = None

    def begin(self, owned, ms) -> list[tuple]:
        """Pause `owned` for `ms` (a pause under way is extended); emits ``partitions_paused``."""
        owned = sorted(set(owned))
        self.paused.update(owned)
        until = time.monotonic() + (ms or 0) / 1000
        self.until = until if self.until is None else max(self.until, until)
        emit("partitions_paused", partitions=tp_list(owned), ms=ms or 0)
        return owned

    def due(self) -> bool:
        return self.until is not None and time.monotonic() >= self.until

    def end(self, owned) -> list[tuple]:
        """The paused partitions still owned (to resume); emits ``partitions_resumed``.
        Partitions revoked meanwhile are forgotten."""
        back = sorted(self.paused & set(owned))
        self.paused.clear()
        self.until = None
        emit("partitions_resumed", partitions=tp_list(back))
        return back


def check_assigned(op: str, topic: str, partitions, assigned) -> bool:
    """Whether every partition of a ``pause``/``resume`` is assigned; if not, answers an
    ``error`` for `op`."""
    missing = sorted(p for p in partitions if (topic, p) not in set(assigned))
    if missing:
        emit("error", op=op, message=f"{op}: partitions {missing} of {topic} are not assigned")
    return not missing


def owned(consumer) -> list[tuple]:
    """A consumer's assigned partitions as ``(topic, partition)`` pairs."""
    return [(tp.topic, tp.partition) for tp in consumer.assignment()]


def unknown_op(cmd: dict, role) -> None:
    emit("error", op=cmd.get("op"), message=f"unknown op {cmd.get('op')!r} for role {role}")


# -- kafka-python and aiokafka: one body for a sync and an async client ---------------------------
# aiokafka took its consumer API from kafka-python and made the calls that wait on the network
# coroutines. What both drivers do with it is written once below, as coroutines that pass each
# such call through `ready`: aiokafka awaits them; kafka-python runs them with `run_sync`, under
# which nothing suspends. What differs comes in as parameters: the library's TopicPartition
# class, and a sync or an async call.
async def ready(value):
    """`value`, awaited first when it is awaitable (an aiokafka coroutine); a sync result as is."""
    return await value if inspect.isawaitable(value) else value


def run_sync(coro):
    """The result of a shared action run with a sync client (kafka-python): every call in it
    returns a plain value, so it ends on its first step."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise RuntimeError("a shared action suspended: run_sync is for sync clients")


def partitions_of(cmd: dict, TopicPartition) -> list:
    """A command's ``topic`` and ``partitions`` as the library's TopicPartitions."""
    return [TopicPartition(cmd["topic"], p) for p in cmd.get("partitions", [])]


async def stall(cmd: dict, stop_wait) -> None:
    """A ``stall``: ``stalled``, no polling for ``ms`` or until shutdown is asked
    (``stop_wait(seconds)``, sync or async, tells whether it was), then ``resumed``."""
    ms = cmd.get("ms", 0) or 0
    emit("stalled", ms=ms)
    interrupted = await ready(stop_wait(ms / 1000))
    emit("resumed", interrupted=True if interrupted else None)


async def poll_records(poll, what: str, pause) -> list:
    """One poll's records, in partition order: `poll()` (sync or async) returns them by
    TopicPartition. An error it raises is reported (``error`` with op ``poll``, and logged
    under `what`) and polling goes on after ``pause(0.5)`` (sync or async)."""
    try:
        polled = await ready(poll())
    except Exception as exc:
        logging.getLogger("kch.driver").warning("%s: %s", what, error_text(exc), exc_info=True)
        emit("error", op="poll", message=error_text(exc))
        await ready(pause(0.5))
        return []
    return [r for tp in sorted(polled, key=lambda tp: (tp.topic, tp.partition)) for r in polled[tp]]


async def assign_at(consumer, cmd: dict, TopicPartition, resume: bool = False) -> bool:
    """An ``assign``: the command's partitions, each read from its ``offsets`` entry where it
    has one, else from the beginning (``seek_to_beginning`` is a coroutine in aiokafka); emits
    ``partitions_assigned`` once they are positioned. `resume` is for a library whose assign
    keeps the state of a partition assigned before, its pause included (kafka-python): a new
    assignment starts unpaused. Whether any partition was assigned."""
    parts = partitions_of(cmd, TopicPartition)
    consumer.assign(parts)
    if resume and parts:
        consumer.resume(*parts)
    offsets = start_offsets(cmd)
    for tp in parts:
        if tp.partition in offsets:
            consumer.seek(tp, offsets[tp.partition])
    rest = [tp for tp in parts if tp.partition not in offsets]
    if rest:
        await ready(consumer.seek_to_beginning(*rest))
    emit("partitions_assigned", partitions=tps(parts))
    return bool(parts)


def pause_or_resume(consumer, cmd: dict, TopicPartition) -> None:
    """A ``pause`` or ``resume`` of assigned partitions (an ``error`` if one is not assigned)."""
    op = cmd["op"]
    if check_assigned(op, cmd["topic"], cmd.get("partitions", []), owned(consumer)):
        parts = partitions_of(cmd, TopicPartition)
        (consumer.pause if op == "pause" else consumer.resume)(*parts)
        emit("partitions_paused" if op == "pause" else "partitions_resumed", partitions=tps(parts))


async def end_offsets(cmd: dict, TopicPartition, fetch, api_timeout) -> None:
    """An ``end_offsets``: ``fetch(partitions, timeout_ms)`` (the library's call, sync or async,
    bounded by the command's ``timeout_ms``, else `api_timeout`, else 15 s) answered with
    ``end_offsets``, or with an ``error`` for what it raised."""
    parts = partitions_of(cmd, TopicPartition)
    timeout_ms = cmd.get("timeout_ms", api_timeout or 15000)
    try:
        ends = await ready(fetch(parts, timeout_ms))
    except Exception as exc:
        emit("error", op="end_offsets", message=error_text(exc))
    else:
        emit("end_offsets", offsets={str(tp.partition): o for tp, o in ends.items()})


async def consumer_command(consumer, cmd: dict, reading: bool, TopicPartition, *, fetch_end_offsets,
                           api_timeout, stop_wait, resume_on_assign: bool = False) -> bool:
    """One command but ``shutdown`` to an assigned consumer (see :func:`assign_at`,
    :func:`end_offsets`, :func:`stall`); whether it reads afterwards."""
    op = cmd.get("op")
    if op == "assign":
        return await assign_at(consumer, cmd, TopicPartition, resume_on_assign)
    if op in ("pause", "resume"):
        pause_or_resume(consumer, cmd, TopicPartition)
    elif op == "end_offsets":
        await end_offsets(cmd, TopicPartition, fetch_end_offsets, api_timeout)
    elif op == "stall":
        await stall(cmd, stop_wait)
    else:
        unknown_op(cmd, "consumer")
    return reading


def resume_due(consumer, pause: PartitionPause, TopicPartition) -> None:
    """Ends a member's ``pause_partitions`` once it is due: resumes what it paused and still owns."""
    if pause.due():
        back = pause.end(owned(consumer))
        if back:
            consumer.resume(*[TopicPartition(t, p) for t, p in back])


async def member_command(consumer, cmd: dict, TopicPartition, *, pause: PartitionPause, subscribe,
                         stop_wait, revoke_on_unsubscribe: bool = False) -> None:
    """One command but ``shutdown`` to a group member: ``stall``, ``pause_partitions`` (kept by
    `pause`), ``resubscribe`` (``unsubscribe``, then ``subscribe()``). `revoke_on_unsubscribe`
    is for a library whose unsubscribe does not call the rebalance listener (kafka-python): the
    partitions held are reported revoked first."""
    op = cmd.get("op")
    if op == "stall":
        await stall(cmd, stop_wait)
    elif op == "pause_partitions":
        paused = pause.begin(owned(consumer), cmd.get("ms", 0))
        if paused:
            consumer.pause(*[TopicPartition(t, p) for t, p in paused])
    elif op == "resubscribe":
        held = owned(consumer) if revoke_on_unsubscribe else []
        if held:
            emit("partitions_revoked", partitions=tp_list(held))
        consumer.unsubscribe()
        subscribe()
        emit("resubscribed")
    else:
        unknown_op(cmd, "member")


# -- commits and sends --------------------------------------------------------------------------
NO_COMMIT_RESULT = "no result before the driver closed the consumer"


def next_offsets(records) -> dict[tuple, int]:
    """The offsets to commit after a batch: each partition's last offset + 1."""
    return {(r.topic, r.partition): r.offset + 1 for r in records}


def commit_started(offs: dict, is_async: bool) -> None:
    emit("offsets_commit_started", offsets=offsets_list(offs), **{"async": is_async})


def committed(offs: dict, failure: BaseException | str | None = None, *, is_async: bool | None = None,
              auto: bool | None = None) -> None:
    """``offsets_committed`` for ``{(topic, partition): offset}``: a success (no `failure`); a
    failure the client raised (an exception: definite when the coordinator certainly refused
    it); or one the driver tells (a message: the commit may yet apply, so not definite)."""
    flags = {"async": is_async, "auto": auto}
    if failure is None:
        emit("offsets_committed", offsets=offsets_list(offs), success=True, **flags)
    elif isinstance(failure, str):
        emit("offsets_committed", offsets=offsets_list(offs), success=False, error=failure, definite=False,
             **flags)
    else:
        emit("offsets_committed", offsets=offsets_list(offs), success=False, error=error_text(failure),
             definite=error_name(failure) in COMMIT_DEFINITE, **flags)


def record_bytes(cmd: dict) -> tuple[bytes | None, bytes]:
    """A ``send`` command's key and value as bytes (no key stays None)."""
    key = cmd.get("key")
    return (key.encode() if key is not None else None), str(cmd.get("value", "")).encode()


def send_outcome(cmd: dict, event: str, **fields) -> None:
    """A send's ``producer_send_success`` or ``producer_send_error``, naming its command."""
    emit(event, id=cmd.get("id"), topic=cmd.get("topic"), key=cmd.get("key"), value=cmd.get("value"),
         **fields)


def send_failure(exc: BaseException, definite: bool) -> dict:
    """The fields of a ``producer_send_error`` for what the client raised."""
    return {"exception": error_name(exc), "message": str(exc) or error_name(exc), "definite": definite}


# A send the client never reported on before the driver closed it.
NO_OUTCOME = {"exception": "NoOutcomeBeforeClose",
              "message": "the client reported no outcome before the driver closed it", "definite": False}


async def producer_command(cmd: dict, send, wait_outcomes) -> bool:
    """One command to a producer: ``send(cmd)``, or a ``flush`` answered with ``flushed`` and
    what ``wait_outcomes(seconds)`` leaves outstanding (both sync or async); False for
    ``shutdown``."""
    op = cmd.get("op")
    if op == "send":
        await ready(send(cmd))
    elif op == "flush":
        emit("flushed", outstanding=await ready(wait_outcomes(cmd.get("timeout_ms", 30000) / 1000)))
    elif op == "shutdown":
        return False
    else:
        unknown_op(cmd, "producer")
    return True


# -- commands -----------------------------------------------------------------------------------
def read_commands(stream=None):
    """Commands from ``stream`` (stdin), one JSON object a line. A line that is not a JSON
    object is answered with an ``error`` event and skipped. When the stream closes, yields
    ``{"op": "shutdown", "eof": True}`` and ends."""
    stream = sys.stdin if stream is None else stream
    try:
        for line in stream:
            line = line.strip()
            if not line:
                continue
            try:
                cmd = json.loads(line)
            except ValueError:
                cmd = None
            if not isinstance(cmd, dict):
                emit("error", message=f"not a JSON object: {line[:120]}")
                continue
            yield cmd
    except (OSError, ValueError) as exc:
        print(f"stdin: {exc}", file=sys.stderr)
    yield {"op": "shutdown", "eof": True}


def start_reader(deliver: Callable[[dict], None], commands=None) -> threading.Thread:
    """Go on reading ``commands`` (default: a new :func:`read_commands` on stdin) in a daemon
    thread, handing each to ``deliver`` (called from that thread), the final shutdown too."""
    commands = read_commands() if commands is None else commands

    def run() -> None:
        for cmd in commands:
            deliver(cmd)

    thread = threading.Thread(target=run, name="kch-stdin", daemon=True)
    thread.start()
    return thread


# -- configuration ------------------------------------------------------------------------------
class Unsupported(Exception):
    """A start command asks for something the client cannot do; ``keys`` go to
    ``startup_failed`` as ``unsupported``."""

    def __init__(self, keys: list[str], message: str | None = None) -> None:
        super().__init__(message or "unsupported: " + ", ".join(keys))
        self.keys = keys


class BadValue(Exception):
    """A config value that cannot be converted."""


def to_int(value) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise BadValue(f"not an integer: {value!r}") from None


def to_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    v = str(value).strip().lower()
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no"):
        return False
    raise BadValue(f"not a boolean: {value!r}")


def to_str(value) -> str:
    return str(value)


def to_acks(value):
    """``all``/``-1`` → ``'all'``; ``0``/``1`` → int."""
    v = str(value).strip().lower()
    if v in ("all", "-1"):
        return "all"
    if v in ("0", "1"):
        return int(v)
    raise BadValue(f"acks must be all, -1, 0 or 1: {value!r}")


def to_compression(value):
    v = str(value).strip().lower()
    return None if v == "none" else v


DRIVER = object()      # a table entry handled by the driver itself, not by a library kwarg

# Java assignor class names (and librdkafka/short names) → the short names drivers map.
ASSIGNOR_NAMES = {
    "range": "range", "org.apache.kafka.clients.consumer.rangeassignor": "range",
    "roundrobin": "roundrobin", "round-robin": "roundrobin",
    "org.apache.kafka.clients.consumer.roundrobinassignor": "roundrobin",
    "sticky": "sticky", "org.apache.kafka.clients.consumer.stickyassignor": "sticky",
    "cooperative-sticky": "cooperative-sticky",
    "org.apache.kafka.clients.consumer.cooperativestickyassignor": "cooperative-sticky",
}


def assignor_names(value) -> list[str]:
    """``partition.assignment.strategy`` (a comma-separated list of short or Java class names)
    as short names; an unknown name is unsupported."""
    names = []
    for item in str(value).split(","):
        item = item.strip()
        if not item:
            continue
        name = ASSIGNOR_NAMES.get(item.lower())
        if name is None:
            raise Unsupported([f"partition.assignment.strategy={item}"])
        names.append(name)
    if not names:
        raise BadValue("partition.assignment.strategy is empty")
    return names


# Short assignor names → (module below a library's ``coordinator.assignors`` package, class):
# kafka-python's layout, which aiokafka kept.
ASSIGNOR_CLASSES = {
    "range": ("range", "RangePartitionAssignor"),
    "roundrobin": ("roundrobin", "RoundRobinPartitionAssignor"),
    "sticky": ("sticky.sticky_assignor", "StickyPartitionAssignor"),
    "cooperative-sticky": ("cooperative_sticky", "CooperativeStickyAssignor"),
}


def assignor_classes(names: list[str], package: str, refused=()) -> list:
    """Short assignor names as the assignor classes of `package` (``kafka.coordinator.assignors``,
    say). A name in `refused`, or one the installed version lacks, is unsupported."""
    out = []
    for name in names:
        module, cls = ASSIGNOR_CLASSES.get(name, (None, None))
        try:
            if name in refused or module is None:
                raise ImportError(name)
            out.append(getattr(importlib.import_module(f"{package}.{module}"), cls))
        except (ImportError, AttributeError):
            raise Unsupported([f"partition.assignment.strategy={name}"]) from None
    return out


def map_config(config: dict, table: dict, available) -> tuple[dict, dict]:
    """Java properties → (library kwargs, driver settings).

    ``table`` maps a Java key to ``(kwarg, convert)``; ``kwarg`` is DRIVER for keys the driver
    implements itself (they land in the second dict under the Java key). A kwarg the installed
    library version does not accept (not in ``available``), a key missing from the table, or a
    converter raising :class:`Unsupported` makes the key unsupported; all of them are collected
    into one :class:`Unsupported`. A value that cannot be converted raises :class:`BadValue`."""
    kwargs: dict = {}
    driver: dict = {}
    unsupported: list[str] = []
    for key, value in (config or {}).items():
        entry = table.get(key)
        if entry is None or (entry[0] is not DRIVER and entry[0] not in available):
            unsupported.append(key)
            continue
        kwarg, convert = entry
        try:
            converted = convert(value)
        except Unsupported as exc:
            unsupported.extend(exc.keys)
            continue
        except BadValue as exc:
            raise BadValue(f"{key}: {exc}") from None
        if kwarg is DRIVER:
            driver[key] = converted
        else:
            kwargs[kwarg] = converted
    if unsupported:
        raise Unsupported(unsupported)
    return kwargs, driver


def check_group_protocol(value) -> str:
    """``group.protocol``: ``classic`` is what these clients speak; ``consumer`` (KIP-848) is not."""
    v = str(value).strip().lower()
    if v == "classic":
        return v
    raise Unsupported([f"group.protocol={v}"])


# Java property -> (kwarg, converter) for producers: the keys both kafka-python and aiokafka
# accept alike.
PRODUCER_KEYS = {
    "acks": ("acks", to_acks),
    "enable.idempotence": ("enable_idempotence", to_bool),
    "request.timeout.ms": ("request_timeout_ms", to_int),
    "retry.backoff.ms": ("retry_backoff_ms", to_int),
    "linger.ms": ("linger_ms", to_int),
    "max.request.size": ("max_request_size", to_int),
    "compression.type": ("compression_type", to_compression),
    "client.id": ("client_id", to_str),
    "metadata.max.age.ms": ("metadata_max_age_ms", to_int),
    "connections.max.idle.ms": ("connections_max_idle_ms", to_int),
}

# Java property -> (kwarg | DRIVER, converter) for consumers and members: the keys both
# kafka-python and aiokafka (which took its consumer API from kafka-python) accept.
CONSUMER_KEYS = {
    "session.timeout.ms": ("session_timeout_ms", to_int),
    "heartbeat.interval.ms": ("heartbeat_interval_ms", to_int),
    "max.poll.interval.ms": ("max_poll_interval_ms", to_int),
    "auto.commit.interval.ms": ("auto_commit_interval_ms", to_int),
    "enable.auto.commit": ("enable_auto_commit", to_bool),
    "group.instance.id": ("group_instance_id", to_str),
    "partition.assignment.strategy": (DRIVER, assignor_names),
    "group.protocol": (DRIVER, check_group_protocol),
    "default.api.timeout.ms": (DRIVER, to_int),      # bounds commitSync and end_offsets
    "auto.offset.reset": ("auto_offset_reset", to_str),
    "isolation.level": ("isolation_level", to_str),
    "fetch.max.wait.ms": ("fetch_max_wait_ms", to_int),
    "fetch.min.bytes": ("fetch_min_bytes", to_int),
    "fetch.max.bytes": ("fetch_max_bytes", to_int),
    "max.partition.fetch.bytes": ("max_partition_fetch_bytes", to_int),
    "max.poll.records": ("max_poll_records", to_int),
    "request.timeout.ms": ("request_timeout_ms", to_int),
    "retry.backoff.ms": ("retry_backoff_ms", to_int),
    "check.crcs": ("check_crcs", to_bool),
    "client.id": ("client_id", to_str),
    "metadata.max.age.ms": ("metadata_max_age_ms", to_int),
    "connections.max.idle.ms": ("connections_max_idle_ms", to_int),
}

MODES = ("commit-after-process", "commit-async", "auto-commit")
# A synchronous commit never blocks a member for longer than Java's commitSync does by
# default (default.api.timeout.ms): a member stuck in a commit stops polling, so it cannot
# rejoin a rebalance. On expiry the commit is reported failed (recorded as unknown).
DEFAULT_API_TIMEOUT_MS = 60000
PROTOCOLS = ("classic-eager", "classic-cooperative", "consumer")


def bootstrap_list(start: dict) -> list[str]:
    return [s.strip() for s in str(start.get("bootstrap", "")).split(",") if s.strip()]


def consumer_defaults(kwargs: dict, start: dict) -> dict:
    """An assigned consumer's library kwargs: no group, so no membership and no commits; read
    from the earliest offset unless told; named after the start command's group, if any."""
    for key in ("group_instance_id", "enable_auto_commit"):
        kwargs.pop(key, None)
    kwargs.setdefault("auto_offset_reset", "earliest")
    if start.get("group"):
        kwargs.setdefault("client_id", str(start["group"]))
    return kwargs


def member_settings(start: dict, refused: dict) -> tuple[str, str]:
    """A member's mode and protocol. A protocol in `refused` (protocol → (unsupported keys,
    why)) is unsupported; an unknown protocol or mode is a bad value."""
    mode = start.get("mode", "commit-after-process")
    protocol = start.get("protocol", "classic-eager")
    if protocol in refused:
        raise Unsupported(*refused[protocol])
    if protocol not in PROTOCOLS:
        raise BadValue(f"unknown protocol {protocol!r}")
    if mode not in MODES:
        raise BadValue(f"unknown mode {mode!r}")
    return mode, protocol


def member_defaults(kwargs: dict, mode: str) -> dict:
    """A member's library kwargs: auto-commit as its mode says, the earliest offset unless told."""
    kwargs.setdefault("enable_auto_commit", mode == "auto-commit")
    kwargs.setdefault("auto_offset_reset", "earliest")
    return kwargs


# -- a role's start and end ---------------------------------------------------------------------
def role_runner(start: dict, runners: dict):
    """The runner of the start command's role, or None after answering ``startup_failed``."""
    runner = runners.get(start.get("role"))
    if runner is None:
        emit("startup_failed", message=f"unknown role {start.get('role')!r}")
    return runner


def role_failed(exc: BaseException, started: bool) -> int:
    """Report the exception that ended a role and return the exit code: before
    ``startup_complete`` it is ``startup_failed`` (with ``unsupported`` when that is why) and
    exit 0; after it, an ``error`` and exit 1."""
    if started:
        logging.getLogger("kch.driver").error("driver failed", exc_info=exc)
        emit("error", message=error_text(exc))
        return 1
    if isinstance(exc, Unsupported):
        emit("startup_failed", message=str(exc), unsupported=exc.keys)
    elif isinstance(exc, BadValue):
        emit("startup_failed", message=str(exc))
    else:
        logging.getLogger("kch.driver").error("startup failed", exc_info=exc)
        emit("startup_failed", message=error_text(exc))
    return 0


async def serve(next_command, runners: dict, started, on_start=None) -> int:
    """A driver's life (kafka-python, aiokafka) from its first command to its exit code. Waits
    for ``start`` (``next_command()``, sync or async; a command before it is answered with an
    ``error``, a ``shutdown`` ends the driver), calls ``on_start(start)`` if given, runs the
    role's runner (``runner(start)``, sync or async), then answers ``shutdown_complete``, or
    reports what ended it (``started()``: whether ``startup_complete`` was sent)."""
    while True:
        start = await ready(next_command())
        if start.get("op") == "start":
            break
        if start.get("op") == "shutdown":
            return 0
        emit("error", op=start.get("op"), message="the first command must be start")
    runner = role_runner(start, runners)
    if runner is None:
        return 0
    if on_start is not None:
        on_start(start)
    try:
        await ready(runner(start))
    except Exception as exc:  # noqa: BLE001 - reported on the protocol
        return role_failed(exc, started())
    emit("shutdown_complete")
    return 0


def setup_logging(name: str) -> None:
    level = os.environ.get("KCH_DRIVER_LOG", "INFO").upper()
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, level, logging.INFO),
                        format=f"%(asctime)s {name} %(levelname)s %(name)s: %(message)s")
