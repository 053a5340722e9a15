"""Foundation figures, median of N rounds (default 5), each round on fresh clusters:

- cold start: a 3-node cluster from nothing (configs, storage format, JVMs) to ready;
- failover: kill -9 the leader of a replicated partition; time until an acks=all write to it
  is acknowledged again;
- heal_all after that kill (restart, rejoin, full ISR);
- produce throughput (acks=all, 100-byte values, 3 partitions) through toxiproxy and direct.

Run: ``.venv/bin/python benchmarks/foundation.py [--rounds 5] [--messages 100000]``
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time

from confluent_kafka import Producer

from harness.cluster import LocalCluster
from harness.faults import Kill, Nemesis

LOG = logging.getLogger("kch.client")
LOG.setLevel(logging.CRITICAL)


def failover(cluster: LocalCluster) -> tuple[float, float]:
    cluster.create_topic("fo", partitions=1, replication_factor=3, config={"min.insync.replicas": "2"})
    producer = Producer({"bootstrap.servers": cluster.bootstrap, "acks": "all", "linger.ms": 0,
                         "message.timeout.ms": 2000, "logger": LOG})

    def write() -> bool:
        box: list = []
        producer.produce("fo", b"x", partition=0, on_delivery=lambda e, m: box.append(e))
        producer.flush(5)
        return bool(box) and box[0] is None

    assert write()
    nemesis = Nemesis(cluster)
    killed = time.monotonic()
    nemesis.apply(Kill("leader:fo/0"))
    deadline = killed + 60
    while not write():
        if time.monotonic() > deadline:
            raise SystemExit("no acks=all write succeeded within 60 s of the kill")
    seconds = time.monotonic() - killed
    return seconds, nemesis.heal_all()


def throughput(cluster: LocalCluster, messages: int) -> float:
    cluster.create_topic("tp", partitions=3, replication_factor=3, config={"min.insync.replicas": "2"})
    producer = Producer({"bootstrap.servers": cluster.bootstrap, "acks": "all", "linger.ms": 5,
                         "logger": LOG})
    value = b"v" * 100
    producer.produce("tp", value)
    producer.flush(30)
    started = time.monotonic()
    for i in range(messages):
        while True:
            try:
                producer.produce("tp", value)
                break
            except BufferError:
                producer.poll(0.01)
        if i % 1000 == 0:
            producer.poll(0)
    producer.flush(120)
    return messages / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--messages", type=int, default=100_000)
    args = parser.parse_args()
    starts, failovers, heals, proxied, direct = [], [], [], [], []
    for r in range(args.rounds):
        with LocalCluster(brokers=3) as cluster:
            starts.append(cluster.ready_seconds)
            proxied.append(throughput(cluster, args.messages))
            fo, heal = failover(cluster)
            failovers.append(fo)
            heals.append(heal)
        with LocalCluster(brokers=3, client_proxies=False) as cluster:
            direct.append(throughput(cluster, args.messages))
        print(f"round {r + 1}: start {starts[-1]:.1f}s failover {fo:.1f}s heal_all {heal:.1f}s "
              f"proxied {proxied[-1]:,.0f} msg/s direct {direct[-1]:,.0f} msg/s", flush=True)
    med = statistics.median
    print(f"\nmedian of {args.rounds}:")
    print(f"  cold 3-node start to ready : {med(starts):.1f} s  (min {min(starts):.1f}, max {max(starts):.1f})")
    print(f"  leader failover (kill -9)  : {med(failovers):.1f} s  (min {min(failovers):.1f}, max {max(failovers):.1f})")
    print(f"  heal_all after the kill    : {med(heals):.1f} s  (min {min(heals):.1f}, max {max(heals):.1f})")
    print(f"  produce, through toxiproxy : {med(proxied):,.0f} msg/s")
    print(f"  produce, direct            : {med(direct):,.0f} msg/s")
    print(f"  proxy cost                 : {100 * (1 - med(proxied) / med(direct)):.1f} % slower")


if __name__ == "__main__":
    main()
