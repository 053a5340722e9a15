"""What each client's driver costs.

- produce throughput in the driver: N sends (acks=all, idempotent, 100-byte values, 3
  partitions) written to the driver's stdin as fast as it takes them, timed from the first
  send to ``flushed`` with none outstanding; median of R rounds, each with a new driver
  process and a new topic, all on one 3-node cluster;
- examples per minute on the ``ci`` profile: from a report of a matrix run
  (``kch run client-matrix``), examples / summed spec durations per client (``--report``).

Run: ``.venv/bin/python benchmarks/clients.py [--rounds 5] [--messages 20000] [--clients a,b]
[--report reports/RUN/report.json]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

from harness.clients import builtin_names, get_client
from harness.cluster import LocalCluster


def throughput(client, cluster: LocalCluster, messages: int, round_: int) -> float:
    topic = f"bench-{client.manifest.name}-{round_}"
    cluster.create_topic(topic, partitions=3, replication_factor=3, config={"min.insync.replicas": "2"})
    driver = client.driver("producer")
    driver.start(role="producer", bootstrap=cluster.bootstrap, max_block_ms=60000,
                 config={"acks": "all", "enable.idempotence": "true", "linger.ms": "5"})
    value = "v" * 100
    driver.send({"op": "send", "id": -1, "topic": topic, "key": None, "partition": 0, "value": value})
    driver.request({"op": "flush", "timeout_ms": 30000}, "flushed", 60)      # warm: metadata, connections
    began = time.monotonic()
    for i in range(messages):
        driver.send({"op": "send", "id": i, "topic": topic, "key": None, "partition": i % 3, "value": value})
    ev = driver.request({"op": "flush", "timeout_ms": 120000}, "flushed", 180)
    seconds = time.monotonic() - began
    driver.close()
    if ev.get("outstanding"):
        raise SystemExit(f"{client.name}: {ev['outstanding']} sends outstanding after the flush")
    return messages / seconds


def examples_per_minute(report: Path) -> dict[str, tuple[int, float]]:
    data = json.loads(report.read_text())
    out: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for r in data["results"]:
        if r["verdict"] == "skipped":
            continue
        out[r["client"]][0] += r["examples"]
        out[r["client"]][1] += r["duration_s"]
    return {c: (int(n), n / (s / 60) if s else 0.0) for c, (n, s) in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--clients", default=",".join(builtin_names()))
    ap.add_argument("--report", type=Path, default=None, help="a matrix run's report.json")
    args = ap.parse_args()
    if args.report:
        print("client            examples  examples/min  (ci profile, from", args.report, ")")
        for name, (n, epm) in sorted(examples_per_minute(args.report).items()):
            print(f"{name:<17} {n:>8}  {epm:>12.1f}")
        return
    clients = [get_client(n) for n in args.clients.split(",")]
    with LocalCluster(brokers=3) as cluster:
        print(f"produce throughput in the driver, {args.messages} x 100 B, acks=all, idempotent; "
              f"median of {args.rounds}")
        for client in clients:
            client.environment()
            rates = [throughput(client, cluster, args.messages, r) for r in range(args.rounds)]
            client.close()
            print(f"{client.name:<17} {client.version:<9} median {statistics.median(rates):>9,.0f} msg/s  "
                  f"(rounds: {', '.join(f'{r:,.0f}' for r in rates)})", flush=True)


if __name__ == "__main__":
    main()
