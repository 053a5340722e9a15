"""Taking poll batches into an Index: the read log, the values read, per-consumer steps.

A batch is handled one partition-run at a time with C-level list operations (the common case:
contiguous offsets, all new or all re-read exactly); records fall back to a per-record loop
only where something is unusual (a gap, a repeat, a clash), which is where anomalies live.
Which values were read, and which at two locations, is counted once at the end (:func:`finish`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from operator import itemgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.history import Event

    from .index import Index

TP = tuple[str | None, int]
_MISSING = object()
_PARTITION, _OFFSET, _VALUE = (itemgetter(k) for k in ("partition", "offset", "value"))


def take_batch(ix: "Index", pos: dict[TP, int], ev: "Event", recs: list[dict[str, Any]]) -> None:
    """Take in one poll batch of the consumer whose positions (tp -> last offset) are `pos`."""
    parts = list(map(_PARTITION, recs))
    offsets = list(map(_OFFSET, recs))
    values = list(map(_VALUE, recs))
    topic, p0 = ev.topic, parts[0]
    if parts.count(p0) == len(parts):
        _take_run(ix, pos, ev, (topic, p0), offsets, values, None)
        return
    order = sorted(range(len(parts)), key=parts.__getitem__)   # stable: batch order kept
    ordered = list(map(parts.__getitem__, order))
    for p in dict.fromkeys(parts):
        idx = order[bisect_left(ordered, p):bisect_right(ordered, p)]
        _take_run(ix, pos, ev, (topic, p), list(map(offsets.__getitem__, idx)),
                  list(map(values.__getitem__, idx)), idx)


def _take_run(ix: "Index", pos: dict[TP, int], ev: "Event", tp: TP, offsets: list[int],
              values: list[Any], idx: list[int] | None) -> None:
    """Take in one partition's records of a poll batch (`idx`: their batch positions)."""
    n, first = len(offsets), offsets[0]
    contiguous = offsets[-1] - first == n - 1 and (
        n < 3 or offsets == list(range(first, first + n)))
    last = pos.get(tp)
    if last is not None and first != last + 1:
        ix.steps.append((ev, idx[0] if idx else 0, tp, last, first, False))
    if not contiguous:
        for j in range(1, n):
            if offsets[j] != offsets[j - 1] + 1:
                ix.steps.append((ev, idx[j] if idx else j, tp, offsets[j - 1], offsets[j], True))
    pos[tp] = offsets[-1]
    offs = ix.log.get(tp)
    if offs is None:
        offs = ix.log[tp] = {}
    got = list(map(offs.get, offsets))
    if got == values:                                  # a re-read, all as before
        return
    if contiguous and got.count(None) == n:           # all new offsets
        offs.update(zip(offsets, values))
        return
    conflicts = ix.conflicts
    for o, v in zip(offsets, values):
        prev = offs.get(o, _MISSING)
        if prev is _MISSING:
            offs[o] = v
        elif prev != v:
            seen = conflicts.get((tp, o))
            if seen is None:
                conflicts[(tp, o)] = {prev, v}
            else:
                seen.add(v)


def finish(ix: "Index") -> None:
    """After the last batch: every value read, and those read at more than one location.

    Counted in bulk: a value at two locations makes the set of values smaller than the
    number of (location, value) pairs, and only then are the locations counted per value."""
    read = ix.read
    pairs = 0
    for offs in ix.log.values():
        read.update(offs.values())
        pairs += len(offs)
    for seen in ix.conflicts.values():
        read.update(seen)
        pairs += len(seen) - 1
    if len(read) < pairs:
        counts: Counter[Any] = Counter()
        for offs in ix.log.values():
            counts.update(offs.values())
        for (tp, off), seen in ix.conflicts.items():
            counts.update(seen - {ix.log[tp][off]})
        ix.dup_reads.update(v for v, c in counts.items() if c > 1)
