"""Checker throughput on a synthetic clean history, median of N rounds (default 5).

An *operation* is one client operation as Jepsen counts them: a send (invoke + completion) or a
poll batch. The history has producers x partitions sends (acks=all, every one acknowledged),
consumers reading every record once in batches, a few faults, and a final drain reading every
partition again, so each record is read twice. ``--ops 1000000`` with batches of 100 gives
~980k sends, ~20k polls, ~2M events and ~2M records read.

Run: ``nice .venv/bin/python benchmarks/checkers.py [--ops 1000000] [--rounds 5] [--batch 100]``
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

from harness.checkers import CHECKERS, build, check_all
from harness.history import Event, History


def synthetic(ops: int, producers: int = 4, partitions: int = 3, consumers: int = 2,
              batch: int = 100) -> list[Event]:
    """A clean history of about `ops` operations (see the module docstring)."""
    sends = int(ops / (1 + 2 / batch))
    events: list[Event] = []
    clock = [0.0]

    def ev(process, type, phase, **fields) -> None:
        clock[0] += 0.0001
        events.append(Event(process, type, phase, clock[0], 1.7e9 + clock[0], **fields))

    owner = {p: f"consumer-{p % consumers}" for p in range(partitions)}
    for c in range(consumers):
        ev(f"consumer-{c}", "assigned", "ok",
           detail={"partitions": [["t", p] for p in range(partitions) if owner[p] == f"consumer-{c}"]})
    logs: list[list[str]] = [[] for _ in range(partitions)]
    pending: dict[str, list[tuple[int, int, str]]] = {f"consumer-{c}": [] for c in range(consumers)}
    seq = [0] * producers
    bound = {"bound_s": 30.0}
    fault_every = max(1, sends // 4)
    for n in range(sends):
        if n % fault_every == fault_every // 2:
            ev("nemesis", "fault", "start", detail={"fault": "kill", "id": n})
        if n % fault_every == fault_every // 2 + 1000:
            ev("nemesis", "fault", "end", detail={"fault": "kill", "id": n - 1000})
        prod, part = n % producers, (n // producers) % partitions
        value = f"p{prod}-{seq[prod]}"
        seq[prod] += 1
        process = f"producer-{prod}"
        ev(process, "send", "invoke", topic="t", partition=part, value=value, detail=bound)
        offset = len(logs[part])
        logs[part].append(value)
        ev(process, "send", "ok", topic="t", partition=part, offset=offset, value=value)
        box = pending[owner[part]]
        box.append((part, offset, value))
        if len(box) == batch:
            ev(owner[part], "poll", "ok", topic="t", detail={"records": [
                {"partition": p, "offset": o, "value": v} for p, o, v in box]})
            box.clear()
    for c, box in pending.items():
        if box:
            ev(c, "poll", "ok", topic="t", detail={"records": [
                {"partition": p, "offset": o, "value": v} for p, o, v in box]})
    ev("nemesis", "heal-all", "ok")
    for part, log in enumerate(logs):
        for lo in range(0, len(log), batch):
            ev("drain", "poll", "ok", topic="t", detail={"records": [
                {"partition": part, "offset": o, "value": log[o]}
                for o in range(lo, min(lo + batch, len(log)))]})
    ev("drain", "drain", "ok", detail={"complete": True,
                                       "end_offsets": {f"t/{p}": len(l) for p, l in enumerate(logs)}})
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()

    started = time.perf_counter()
    events = synthetic(args.ops, batch=args.batch)
    reads = sum(len(e.detail["records"]) for e in events if e.type == "poll")
    gc.collect()
    gc.freeze()                                # the history itself is long-lived: skip it in gc
    print(f"built {len(events):,} events ({args.ops:,} operations, {reads:,} records read) "
          f"in {time.perf_counter() - started:.1f} s")

    walls, cpus = [], []
    for _ in range(args.rounds):
        history = History(events)              # a fresh History: no cached index
        gc.collect()
        w0, c0 = time.perf_counter(), time.process_time()
        results = check_all(history)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
        assert all(r.status == "ok" for r in results.values()), \
            {n: (r.status, r.evidence[:3], r.reason) for n, r in results.items() if r.status != "ok"}
        del history, results
    print(f"check_all, all {len(CHECKERS)} checkers, median of {args.rounds}: "
          f"{statistics.median(walls):.2f} s wall, {statistics.median(cpus):.2f} s CPU "
          f"(wall rounds: {', '.join(f'{t:.2f}' for t in walls)})")

    gc.collect()
    t0 = time.process_time()
    ix = build(events)
    parts = [f"index {time.process_time() - t0:.2f}"]
    for name, checker in CHECKERS.items():
        t0 = time.process_time()
        checker(ix)
        parts.append(f"{name} {time.process_time() - t0:.2f}")
    print("one round, CPU seconds: " + ", ".join(parts))


if __name__ == "__main__":
    main()
