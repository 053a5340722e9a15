"""A consumer-group member as its own process (``python -m harness.group.member CONFIG``).

It joins the group, reads, "processes" each batch (sleeps ``process_ms`` per record), then
reports the batch as read and, in mode ``commit-after-process``, commits synchronously. Every
event goes to stdout as one JSON line with this host's monotonic time (CLOCK_MONOTONIC is
system-wide, so the runner can merge it into its History). Commands arrive on stdin, one JSON
object per line: ``{"op": "stall", "seconds": 8}`` (stop polling), ``{"op": "close"}``.
Being a process, it can be crashed (SIGKILL: no leave) and paused (SIGSTOP) from outside.

CONFIG is JSON: bootstrap, topic, group, mode (commit-after-process | commit-async | auto-commit),
process_ms, config (librdkafka keys), protocol (classic-eager | classic-cooperative | consumer).
"""

from __future__ import annotations

import json
import logging
import queue
import sys
import threading
import time

OUT_LOCK = threading.Lock()


def emit(type: str, phase: str = "ok", **fields) -> None:
    line = json.dumps({"type": type, "phase": phase, "mono": time.monotonic(), "wall": time.time(),
                       **fields}, separators=(",", ":"))
    with OUT_LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _commands(q: "queue.Queue[dict]") -> None:
    for line in sys.stdin:
        line = line.strip()
        if line:
            q.put(json.loads(line))
    q.put({"op": "close"})           # the runner went away: leave


def main(argv: list[str]) -> int:
    from confluent_kafka import Consumer, KafkaException

    cfg = json.loads(argv[0])
    topic, protocol, mode = cfg["topic"], cfg.get("protocol", "classic-eager"), cfg["mode"]
    logging.basicConfig(stream=sys.stderr, level=logging.INFO)
    conf = {"bootstrap.servers": cfg["bootstrap"], "group.id": cfg["group"],
            "auto.offset.reset": "earliest", "enable.auto.commit": mode == "auto-commit",
            "logger": logging.getLogger("kch.member"), **cfg.get("config", {})}
    if protocol == "consumer":         # KIP-848: the broker owns session, heartbeat, assignment
        conf["group.protocol"] = "consumer"
        for key in ("session.timeout.ms", "heartbeat.interval.ms", "partition.assignment.strategy"):
            conf.pop(key, None)
    elif protocol == "classic-cooperative":
        conf["partition.assignment.strategy"] = "cooperative-sticky"
    if mode in ("auto-commit", "commit-async"):
        def committed(err, partitions) -> None:
            offsets = {f"{p.topic}/{p.partition}": p.offset for p in partitions if p.offset >= 0}
            if offsets:
                emit("commit", "ok" if err is None else "fail", detail={
                    "offsets": offsets, "auto": mode == "auto-commit", **({"error": str(err)} if err else {})})
        conf["on_commit"] = committed
    consumer = Consumer(conf)
    generation = [0]

    def parts(partitions) -> list:
        return [[p.topic, p.partition] for p in partitions]

    def on_assign(c, partitions) -> None:
        generation[0] += 1
        emit("assigned", detail={"partitions": parts(partitions), "generation": generation[0],
                                 "protocol": protocol})

    def on_revoke(c, partitions) -> None:
        emit("revoked", detail={"partitions": parts(partitions)})

    def on_lost(c, partitions) -> None:
        emit("revoked", detail={"partitions": parts(partitions), "lost": True})

    consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
    emit("member", "start", detail={"group": cfg["group"], "protocol": protocol, "mode": mode})
    commands: "queue.Queue[dict]" = queue.Queue()
    threading.Thread(target=_commands, args=(commands,), daemon=True).start()
    process_s = cfg.get("process_ms", 0) / 1000
    while True:
        try:
            cmd = commands.get_nowait()
        except queue.Empty:
            cmd = None
        if cmd and cmd["op"] == "close":
            break
        if cmd and cmd["op"] == "stall":
            emit("member", "stall", detail={"seconds": cmd["seconds"]})
            time.sleep(cmd["seconds"])
            emit("member", "resume")
            continue
        msgs = [m for m in consumer.consume(50, timeout=0.2) if m.error() is None]
        if not msgs:
            continue
        time.sleep(process_s * len(msgs))
        emit("poll", topic=topic, detail={"records": [
            {"partition": m.partition(), "offset": m.offset(), "value": m.value().decode().partition(" ")[0]}
            for m in msgs]})
        if mode == "commit-async":       # the result arrives through on_commit (above)
            from confluent_kafka import TopicPartition

            last_async: dict[tuple, int] = {}
            for m in msgs:
                last_async[(m.topic(), m.partition())] = m.offset() + 1
            offsets = {f"{t}/{p}": o for (t, p), o in last_async.items()}
            emit("commit", "invoke", detail={"offsets": offsets, "async": True})
            try:
                consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in last_async.items()],
                                asynchronous=True)
            except KafkaException as exc:
                emit("commit", "fail", detail={"offsets": offsets, "error": str(exc.args[0])})
        if mode == "commit-after-process":
            last: dict[tuple, int] = {}
            for m in msgs:
                last[(m.topic(), m.partition())] = m.offset() + 1
            offsets = {f"{t}/{p}": o for (t, p), o in last.items()}
            emit("commit", "invoke", detail={"offsets": offsets})
            try:
                from confluent_kafka import TopicPartition

                consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in last.items()],
                                asynchronous=False)
                emit("commit", "ok", detail={"offsets": offsets})
            except KafkaException as exc:
                err = exc.args[0]
                emit("commit", "fail" if not err.retriable() else "info",
                     detail={"offsets": offsets, "error": str(err)})
    consumer.close()
    emit("member", "stop")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
