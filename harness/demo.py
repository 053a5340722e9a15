"""``kch demo``: a 3-node cluster, an idempotent producer through a latency fault and a
leader kill, a full read-back, and a small report. The main job until ``kch run`` exists."""

from __future__ import annotations

import json
import logging
import shutil
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from harness.cluster import LocalCluster
from harness.faults import Kill, Nemesis, Toxic
from harness.history import History

CLIENT_LOG = logging.getLogger("kch.client")  # librdkafka's own log lines go here, not to stderr


def _say(text: str) -> None:
    print(f"kch demo: {text}", file=sys.stderr, flush=True)


def _produce(producer, topic: str, values: range, history: History) -> list[float]:
    """Send ``values`` one at a time (acks=all); record invoke/ok/fail; return ack latencies."""
    latencies: list[float] = []
    for value in values:
        started = time.monotonic()
        history.record("producer-0", "send", "invoke", topic=topic, partition=0, value=value)

        def done(err, msg, value=value, started=started):
            if err is None:
                latencies.append(time.monotonic() - started)
                history.record("producer-0", "send", "ok", topic=topic, partition=0,
                               offset=msg.offset(), value=value)
            else:
                history.record("producer-0", "send", "fail" if not err.retriable() else "info",
                               topic=topic, partition=0, value=value, detail={"error": err.str()})

        producer.produce(topic, str(value).encode(), partition=0, on_delivery=done)
        producer.flush(30)
    return latencies


def _read_all(cluster: LocalCluster, topic: str, history: History) -> list[tuple[int, int]]:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": "kch-demo-drain",
                         "logger": CLIENT_LOG,
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        consumer.assign([TopicPartition(topic, 0, low)])
        read: list[tuple[int, int]] = []
        deadline = time.monotonic() + 30
        while (not read or read[-1][0] < high - 1) and time.monotonic() < deadline:
            for msg in consumer.consume(500, timeout=1):
                if msg.error() is None:
                    read.append((msg.offset(), int(msg.value())))
                    history.record("drain", "poll", "ok", topic=topic, partition=0,
                                   offset=msg.offset(), value=int(msg.value()))
        return read
    finally:
        consumer.close()


def run_demo(*, kafka_version: str, report_root: Path) -> int:
    from confluent_kafka import Producer

    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-demo"
    out = report_root / run_id
    history = History()
    figures: dict[str, object] = {}
    _say("starting a 3-node KRaft cluster (every link behind toxiproxy)")
    with LocalCluster(brokers=3, kafka_version=kafka_version) as cluster:
        figures["cluster_ready_s"] = round(cluster.ready_seconds, 2)
        topic = "demo"
        cluster.create_topic(topic, partitions=1, replication_factor=3, config={"min.insync.replicas": "2"})
        nemesis = Nemesis(cluster, history)
        producer = Producer({"bootstrap.servers": cluster.bootstrap, "acks": "all",
                             "enable.idempotence": True, "linger.ms": 0, "message.timeout.ms": 30000,
                             "logger": CLIENT_LOG})
        _say("phase 1: 100 sends, no fault")
        base = _produce(producer, topic, range(0, 100), history)
        _say("phase 2: 50 sends with 200 ms latency on the leader's client link")
        latency = nemesis.apply(Toxic("latency", f"client->leader:{topic}/0", {"latency": 200}))
        slow = _produce(producer, topic, range(100, 150), history)
        nemesis.heal(latency)
        old = cluster.leader(topic, 0)
        _say(f"phase 3: kill -9 the leader (node {old}), keep sending")
        killed_at = time.monotonic()
        nemesis.apply(Kill(f"node:{old}"))
        new = nemesis.wait_for_new_leader(topic, 0, old=old)
        figures["new_leader_s"] = round(time.monotonic() - killed_at, 2)
        _produce(producer, topic, range(150, 250), history)
        _say("healing: restart the killed node, wait for a full ISR")
        figures["heal_all_s"] = round(nemesis.heal_all(), 2)
        producer.flush(10)
        del producer  # close the client while its brokers are still up
        read = _read_all(cluster, topic, history)
        cluster_status = cluster.status()
        out.mkdir(parents=True, exist_ok=True)
        shutil.copytree(cluster.workdir / "logs", out / "logs", dirs_exist_ok=True)
    acked = {e.value for e in history if e.type == "send" and e.phase == "ok"}
    values = [v for _, v in read]
    lost = sorted(acked - set(values))
    duplicates = sorted({v for v in values if values.count(v) > 1})
    figures.update({
        "ack_median_ms_no_fault": round(statistics.median(base) * 1000, 1),
        "ack_median_ms_latency_200": round(statistics.median(slow) * 1000, 1),
        "old_leader": old, "new_leader": new,
        "acknowledged": len(acked), "read": len(values), "lost": lost, "duplicates": duplicates,
    })
    ok = not lost and not duplicates
    history.dump(out / "history.jsonl")
    (out / "demo.json").write_text(json.dumps({"run_id": run_id, "verdict": "pass" if ok else "fail",
                                               "figures": figures, "cluster": cluster_status}, indent=2))
    lines = [f"# kch demo {run_id}: {'pass' if ok else 'FAIL'}", ""]
    lines += [f"- {k.replace('_', ' ')}: {v}" for k, v in figures.items()]
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nreport: {out}")
    return 0 if ok else 1
