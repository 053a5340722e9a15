"""Spec runs: examples per minute per shipped spec on the ci profile, and the time until the
retry-duplication reproduction first observes a duplicate.

- examples per minute: every spec of ``suites/ci.yaml`` explored ``--rounds`` times with
  different seeds (profile ci, shrinking included, one cluster for all); per spec, the median
  example duration and 60 / that median.
- time to first duplicate: ``specs/producer/retry-duplication.yaml`` explored with ``--seeds``
  seeds and no shrinking; per seed, the seconds from the start of the exploration until the
  end of the first example whose history shows a duplicate, and how many examples it took.

Run: ``.venv/bin/python benchmarks/specs.py [--rounds 1] [--seeds 5]`` on a quiet machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from harness.clients import get_client
from harness.run.conformance import Context, run_spec
from harness.run.pool import ClusterPool
from harness.provision import DEFAULT_KAFKA_VERSION
from harness.spec import load_spec
from harness.spec.suite import load_suite
from harness.plan.explore import PROFILES, Profile

ROOT = Path(__file__).resolve().parent.parent


def examples_per_minute(pool: ClusterPool, out: Path, rounds: int) -> None:
    durations: dict[str, list[float]] = defaultdict(list)
    specs = load_suite(ROOT / "suites/ci.yaml").specs
    for r in range(rounds):
        ctx = Context(pool, get_client(), PROFILES["ci"], 1000 + r, out / f"epm-{r}",
                      on_example=lambda sid, ex: durations[sid].append(ex.duration_s))
        for loaded in specs:
            pool.get(loaded.spec.cluster)       # a cold start is not an example's cost
            run_spec(loaded, ctx)
    print(f"\nexamples per minute, profile ci, {rounds} round(s)")
    print(f"{'spec':48} {'examples':>8} {'median s':>9} {'per min':>8}")
    total = []
    for sid, ds in sorted(durations.items()):
        med = statistics.median(ds)
        total += ds
        print(f"{sid:48} {len(ds):8} {med:9.1f} {60 / med:8.1f}")
    print(f"{'all specs':48} {len(total):8} {statistics.median(total):9.1f} "
          f"{60 / statistics.median(total):8.1f}")


def first_duplicate(pool: ClusterPool, out: Path, seeds: int) -> None:
    loaded = load_spec(ROOT / "specs/producer/retry-duplication.yaml", root=ROOT / "specs")
    pool.get(loaded.spec.cluster)
    times, counts = [], []
    for seed in range(1, seeds + 1):
        seen: list[tuple[float, int]] = []
        began = time.monotonic()
        ctx = Context(pool, get_client(), Profile("bench", examples=20, shrink_runs=0, seconds=900),
                      seed, out / f"dup-{seed}",
                      on_example=lambda sid, ex: seen.append((time.monotonic(), ex.anomalies.get("duplicate", 0))))
        run_spec(loaded, ctx)
        hit = next(((t, n) for n, (t, d) in enumerate(seen, 1) if d > 0), None)
        if hit is None:
            print(f"seed {seed}: no duplicate in {len(seen)} examples")
            continue
        times.append(hit[0] - began)
        counts.append(hit[1])
        print(f"seed {seed}: first duplicate after {hit[0] - began:.1f} s, example {hit[1]}")
    if times:
        print(f"time to first duplicate: median {statistics.median(times):.1f} s "
              f"(min {min(times):.1f}, max {max(times):.1f}), median examples {statistics.median(counts)}, "
              f"{len(times)}/{seeds} seeds reproduced")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--only", choices=["epm", "dup"], default=None)
    args = ap.parse_args()
    pool = ClusterPool(DEFAULT_KAFKA_VERSION)
    with tempfile.TemporaryDirectory(prefix="kch-bench-") as tmp:
        try:
            if args.only in (None, "dup"):
                first_duplicate(pool, Path(tmp), args.seeds)
            if args.only in (None, "epm"):
                examples_per_minute(pool, Path(tmp), args.rounds)
        finally:
            pool.close()


if __name__ == "__main__":
    main()
