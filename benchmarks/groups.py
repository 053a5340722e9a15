"""Consumer groups: seconds for a 3-member group to be stable again after a member crash, per
protocol (median of ``--rounds``), on one warm cluster.

A round: three members join and the coordinator reports the group stable with every member
assigned; member-0 is SIGKILLed; the clock runs until the coordinator reports the group
stable with the two survivors and both have reported a new assignment.

Run: ``.venv/bin/python benchmarks/groups.py [--rounds 5]`` on a quiet machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from harness.cluster import LocalCluster
from harness.run.group import Membership
from harness.run.settle import observe_stable
from harness.history import History
from harness.spec.model import Spec
from harness.wait import wait_until

PROTOCOLS = ("classic-eager", "classic-cooperative", "consumer")


def one_round(cluster: LocalCluster, protocol: str, n: int, logs: Path) -> float:
    topic = f"bench-groups-{protocol}-{n}"
    cluster.create_topic(topic, partitions=6, replication_factor=3)
    spec = Spec.model_validate({"title": "bench", "group": {"members": 3, "protocol": protocol},
                                "expect": {"rebalance": "allowed"}})
    history, notes = History(), []
    group = Membership(spec, topic, cluster.bootstrap, history, logs)
    try:
        for _ in range(3):
            group.join()
        if not observe_stable(group, history, 6, cluster.bootstrap, notes):
            raise RuntimeError(f"{protocol}: the group did not form: {notes}")
        began = time.monotonic()
        group.members[0].crash()
        survivors = {m.process for m in group.members[1:]}

        def reassigned() -> bool:
            got = {e.process for e in history if e.type == "assigned" and e.mono > began}
            return survivors <= got

        wait_until(reassigned, timeout=60, message=f"{protocol}: the survivors got no new assignment")
        if not observe_stable(group, history, 6, cluster.bootstrap, notes):
            raise RuntimeError(f"{protocol}: the group did not settle: {notes}")
        return time.monotonic() - began
    finally:
        group.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kch-bench-") as tmp, LocalCluster(brokers=3) as cluster:
        for protocol in PROTOCOLS:
            times = [one_round(cluster, protocol, n, Path(tmp)) for n in range(args.rounds)]
            print(f"{protocol:20} stable again after a crash: median {statistics.median(times):.1f} s "
                  f"(rounds: {', '.join(f'{t:.1f}' for t in times)})", flush=True)


if __name__ == "__main__":
    main()
