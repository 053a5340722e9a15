"""The docker provider against the local one: 3-node start to ready (rounds interleaved, so
both see the same machine), one partition/heal cycle per cut, and the image build from nothing.

A *partition/heal cycle* is: apply ``Isolate(leader, cut)`` on a healthy cluster with a
replicated topic, wait until the partition has another leader, heal, and wait until the
cluster is healthy again (every ISR full). Medians of ``--rounds`` (default 5).

Run: ``.venv/bin/python benchmarks/providers.py [--rounds 5] [--build-rounds 1]``
(``--build-rounds`` > 0 deletes and rebuilds the kch images: root, about a minute each).
"""

from __future__ import annotations

import argparse
import statistics
import time

from harness.cluster import make_cluster
from harness.faults import Isolate, Nemesis
from harness.history import History


def start_to_ready(provider: str) -> float:
    cluster = make_cluster(provider, images="kch", brokers=3)
    try:
        began = time.monotonic()
        cluster.start()
        return time.monotonic() - began
    finally:
        cluster.close()


def cycles(provider: str, cut: str, rounds: int) -> list[tuple[float, float]]:
    """(seconds to a new leader, seconds from heal to healthy) per round."""
    out = []
    with make_cluster(provider, images="kch", brokers=3) as cluster:
        nemesis = Nemesis(cluster, History())
        cluster.create_topic("bench", partitions=1, replication_factor=3, config={"min.insync.replicas": "2"})
        for _ in range(rounds):
            old = cluster.leader("bench", 0)
            began = time.monotonic()
            active = nemesis.apply(Isolate(f"node:{old}", cut=cut))
            nemesis.wait_for_new_leader("bench", 0, old=old, timeout=60)
            moved = time.monotonic() - began
            began = time.monotonic()
            nemesis.heal(active)
            cluster.wait_healthy(timeout=120)
            out.append((moved, time.monotonic() - began))
    return out


def build_from_nothing() -> dict[str, float]:
    from harness.cluster import images
    from harness.cluster.engine import engine

    for name in (images.kch_kafka("4.3.1"), images.KCH_PROXY, images.BASE):
        try:
            engine().images.remove(name, force=True)
        except Exception:
            pass
    began = time.monotonic()
    times = images.build_all("4.3.1", quiet=True)
    return {"total": time.monotonic() - began, **{k: v or 0.0 for k, v in times.items()}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--build-rounds", type=int, default=0)
    args = ap.parse_args()
    med = statistics.median
    if args.build_rounds:
        builds = [build_from_nothing() for _ in range(args.build_rounds)]
        for key in builds[0]:
            print(f"image build {key}: median {med(b[key] for b in builds):.1f} s "
                  f"({', '.join(f'{b[key]:.1f}' for b in builds)})")
    starts: dict[str, list[float]] = {"local": [], "docker": []}
    for _ in range(args.rounds):
        for provider in starts:
            starts[provider].append(start_to_ready(provider))
    for provider, values in starts.items():
        print(f"3-node start to ready, {provider}: median {med(values):.1f} s "
              f"({', '.join(f'{v:.1f}' for v in values)})")
    for provider, cut in (("local", "blackhole"), ("docker", "blackhole"), ("docker", "drop"),
                          ("docker", "disconnect")):
        got = cycles(provider, cut, args.rounds)
        total = [a + b for a, b in got]
        print(f"partition/heal cycle, {provider} {cut}: median {med(total):.1f} s "
              f"(new leader {med(a for a, _ in got):.1f} s, heal to healthy {med(b for _, b in got):.1f} s)")


if __name__ == "__main__":
    main()
