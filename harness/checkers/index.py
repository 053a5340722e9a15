"""One pass over a History into the tables every checker reads, so no checker re-scans it.

The pass pairs send invokes with their completion (by value: values are unique per run),
groups acknowledgements by partition, builds the read log (partition -> offset -> first
value any reader saw there, the drain included), notes every per-consumer step that is not
"the next offset" (the poll checkers judge those) and when the cluster was fully healed.
Completions are judged against their invoke while both are hot in the cache (the bound of
``send-hang``); poll batches go to :mod:`.reads`.
"""

from __future__ import annotations

import gc
import weakref
from bisect import bisect_left, bisect_right
from collections import defaultdict
from contextlib import contextmanager
from operator import attrgetter
from typing import Any, Iterator

from harness.history import Event, History

from .reads import TP, take_batch

Step = tuple[Event, int, TP, int, int, bool]   # (poll, index in batch, tp, prev, offset, intra)
_MISSING = object()
_OFFSET, _VALUE = attrgetter("offset"), attrgetter("value")


class Index:
    """Everything the checkers need from a History, built by :func:`build` in one pass."""

    def __init__(self) -> None:
        self.invokes: dict[Any, Event] = {}       # value -> send invoke, in invoke order
        self.dones: dict[Any, Event] = {}         # value -> its first completion
        self.redone: list[Event] = []             # further completions of a value
        self.reinvoked: list[Event] = []          # invokes of a value already invoked
        self.uninvoked = 0                        # first completions with no invoke before
        self.bounded = 0                          # completed sends whose invoke had bound_s
        self.late: list[Any] = []                 # ...and that completed after it (from invoke)
        # (topic, partition, process) -> its first completions that were "ok", in order
        self.acks: dict[tuple[str | None, int, str], list[Event]] = defaultdict(list)
        self.log: dict[TP, dict[int, Any]] = {}   # tp -> offset -> first value read there
        self.where: dict[Any, TP] = {}            # value -> tp where it was first read
        self.dup_reads: set[Any] = set()          # values read at more than one location
        self.conflicts: dict[tuple[TP, int], set[Any]] = {}  # (tp, offset) -> values, if > 1
        self.steps: list[Step] = []               # reads that were not previous offset + 1
        self.polls: list[Event] = []              # ok polls with records, in history order
        self.drain: Event | None = None           # the last `drain` event
        self.heals: list[float] = []              # monos at which no fault was active any more
        self.end: float | None = None             # mono of the last event
        self.size = 0                             # how many events were indexed
        self._sorted: dict[TP, list[int]] = {}
        self._mismatched: list[tuple[TP, Event]] | None = None

    # --- sends ---------------------------------------------------------------------------
    def ack_tp(self, done: Event) -> TP:
        """(topic, partition) of a completion, the invoke's where the completion is silent."""
        topic, part = done.topic, done.partition
        if topic is None or part is None:
            inv = self.invokes.get(done.value)
            if inv is not None:
                topic = inv.topic if topic is None else topic
                part = inv.partition if part is None else part
        return (topic, part)

    def mismatched(self) -> list[tuple[TP, Event]]:
        """Acknowledgements whose offset was not first read holding their value (few if clean).

        Covers every ``ok`` write never read, read elsewhere, or clashing at its offset.
        """
        if self._mismatched is None:
            out: list[tuple[TP, Event]] = []
            for (topic, part, _), acks in self.acks.items():
                tp = (topic, part)
                get = self.log.get(tp, {}).get
                if list(map(get, map(_OFFSET, acks))) != list(map(_VALUE, acks)):
                    out.extend((tp, d) for d in acks if get(d.offset, _MISSING) != d.value)
            self._mismatched = out
        return self._mismatched

    def pending(self) -> list[Event]:
        """Invokes never completed, in invoke order."""
        if len(self.invokes) == len(self.dones) - self.uninvoked:
            return []
        return [inv for v, inv in self.invokes.items() if v not in self.dones]

    def heal_before(self, mono: float) -> float | None:
        """The last moment at or before `mono` when every fault had ended."""
        i = bisect_right(self.heals, mono)
        return self.heals[i - 1] if i else None

    # --- reads ---------------------------------------------------------------------------
    def offsets(self, tp: TP) -> list[int]:
        """The offsets of `tp` known to hold a record (read by anyone), ascending."""
        got = self._sorted.get(tp)
        if got is None:
            got = self._sorted[tp] = sorted(self.log.get(tp, ()))
        return got

    def between(self, tp: TP, lo: int, hi: int) -> list[int]:
        """Known offsets of `tp` strictly between `lo` and `hi`."""
        offs = self.offsets(tp)
        return offs[bisect_right(offs, lo):bisect_left(offs, hi)]

    def next_read_offset(self, tp: TP, offset: int) -> int | None:
        """The smallest offset above `offset` that some reader saw in `tp`."""
        offs = self.offsets(tp)
        i = bisect_right(offs, offset)
        return offs[i] if i < len(offs) else None

    # --- the drain -----------------------------------------------------------------------
    def drain_problem(self) -> str | None:
        """Why the final drain cannot vouch for "never read" (None when it can)."""
        d = self.drain
        if d is None:
            return "the history has no final drain"
        if d.phase != "ok":
            return f"the final drain ended with phase {d.phase!r}"
        if d.detail.get("complete") is not True:
            return "the final drain did not read every partition to its end"
        return None

    def high_watermark(self, tp: TP) -> int | None:
        if self.drain is None:
            return None
        return self.drain.detail.get("end_offsets", {}).get(f"{tp[0]}/{tp[1]}")


@contextmanager
def paused_gc() -> Iterator[None]:
    """Collection is wasted work while building tables that all live on (and it is slow)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def build(history: History | list[Event]) -> Index:
    """Index `history` in one pass over its events."""
    ix = Index()
    invokes, dones, acks, polls = ix.invokes, ix.dones, ix.acks, ix.polls
    positions: dict[str, dict[TP, int]] = defaultdict(dict)
    active: set[Any] = set()
    events = list(history)
    with paused_gc():
        for ev in events:
            t = ev.type
            if t == "send":
                v = ev.value
                if ev.phase == "invoke":
                    if invokes.setdefault(v, ev) is not ev:
                        ix.reinvoked.append(ev)
                elif dones.setdefault(v, ev) is not ev:
                    ix.redone.append(ev)
                else:                               # its first completion, while it is hot
                    inv = invokes.get(v)
                    if inv is None:
                        ix.uninvoked += 1
                    else:
                        bound = inv.detail.get("bound_s")
                        if bound is not None:
                            ix.bounded += 1
                            if ev.mono - inv.mono > bound:
                                ix.late.append(v)
                    if ev.phase == "ok":
                        if ev.partition is not None and ev.topic is not None:
                            acks[(ev.topic, ev.partition, ev.process)].append(ev)
                        else:
                            acks[(*ix.ack_tp(ev), ev.process)].append(ev)
            elif t == "poll":
                recs = ev.detail.get("records") if ev.phase == "ok" else None
                if recs:
                    polls.append(ev)
                    take_batch(ix, positions[ev.process], ev, recs)
            elif t == "fault":
                if ev.phase == "start":
                    active.add(ev.detail.get("id"))
                elif ev.phase == "end":
                    active.discard(ev.detail.get("id"))
                    if not active:
                        ix.heals.append(ev.mono)
            elif t == "heal-all":
                if ev.phase == "ok":
                    active.clear()
                    ix.heals.append(ev.mono)
            elif t == "drain":
                ix.drain = ev
            elif (t == "assigned" or t == "revoked") and ev.phase == "ok":
                pos = positions[ev.process]
                parts = ev.detail.get("partitions")
                if parts is None:
                    pos.clear()
                else:
                    for part in parts:
                        pos.pop((part[0], part[1]), None)
    if events:
        ix.end = events[-1].mono
    ix.size = len(events)
    return ix


_CACHE: "weakref.WeakKeyDictionary[History, tuple[int, Index]]" = weakref.WeakKeyDictionary()


def index_of(history: History | Index) -> Index:
    """The Index of `history` (built once per History and length; an Index passes through)."""
    if isinstance(history, Index):
        return history
    if not isinstance(history, History):
        return build(history)
    hit = _CACHE.get(history)
    if hit is not None and hit[0] == len(history):
        return hit[1]
    ix = build(history)
    _CACHE[history] = (ix.size, ix)
    return ix
