"""Per-consumer read order: ``poll-skip``, ``nonmonotonic-poll`` and their ``int-`` variants.

Per consumer process and partition, each read is compared with the previous read of that
partition; an ``assigned``/``revoked`` event naming the partition forgets the previous read.
A step inside one poll batch is an ``int-`` anomaly, a step between batches the plain one, so
no step is counted twice. Offsets may have legitimate gaps (transaction markers, compaction):
a *skip* jumps over an offset that some reader (the drain included) saw holding a record.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Any

from harness.history import History

from .base import CheckResult
from .index import Index, index_of

POLL_SKIP = "poll-skip"
NONMONOTONIC_POLL = "nonmonotonic-poll"
INT_POLL_SKIP = "int-poll-skip"
INT_NONMONOTONIC_POLL = "int-nonmonotonic-poll"
_SHOWN = 10   # skipped offsets listed per entry (skipped_count has them all)


def _judge(history: History | Index, anomaly: str, skip: bool, intra: bool) -> CheckResult:
    ix = index_of(history)
    evidence: list[dict[str, Any]] = []
    for ev, i, tp, prev, off, within in ix.steps:
        if (off > prev) != skip or within != intra:
            continue
        entry = {"process": ev.process, "topic": tp[0], "partition": tp[1],
                 "prev_offset": prev, "offset": off,
                 "value": ev.detail["records"][i]["value"], "polled_at": ev.mono, "index": i}
        if skip:
            known = ix.offsets(tp)
            lo, hi = bisect_right(known, prev), bisect_left(known, off)
            if lo >= hi:
                continue                   # the gap holds no record anyone saw
            shown, log = known[lo:min(hi, lo + _SHOWN)], ix.log[tp]
            entry.update(skipped_offsets=shown, skipped_count=hi - lo,
                         skipped_values=[log[o] for o in shown])
        evidence.append(entry)
    return CheckResult.judge(anomaly, evidence)


def poll_skip(history: History | Index) -> CheckResult:
    """``poll-skip``: between two polls, a consumer's reads of a partition jump over a known record."""
    return _judge(history, POLL_SKIP, skip=True, intra=False)


def nonmonotonic_poll(history: History | Index) -> CheckResult:
    """``nonmonotonic-poll``: a poll's first read of a partition is at or before the previous read."""
    return _judge(history, NONMONOTONIC_POLL, skip=False, intra=False)


def int_poll_skip(history: History | Index) -> CheckResult:
    """``int-poll-skip``: inside one poll batch, consecutive reads of a partition skip a known record."""
    return _judge(history, INT_POLL_SKIP, skip=True, intra=True)


def int_nonmonotonic_poll(history: History | Index) -> CheckResult:
    """``int-nonmonotonic-poll``: inside one poll batch, a read at or before the previous read."""
    return _judge(history, INT_NONMONOTONIC_POLL, skip=False, intra=True)
