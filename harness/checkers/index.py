"""One pass over a History into the tables every checker reads, so no checker re-scans it.

The pass pairs each send completion with its invoke (by value: values are unique per run),
judges the pair against the invoke's ``bound_s`` while both are hot in the cache, files
``ok`` completions per (topic, partition, process), takes poll batches into the read log
(:mod:`.reads`) and notes when the cluster was fully healed. Invokes wait in a small
in-flight table rather than a run-sized one: at a million sends that is what keeps it fast.
"""

from __future__ import annotations

import gc
import weakref
from bisect import bisect_right
from collections import defaultdict
from contextlib import contextmanager
from typing import Any, Iterator

from harness.history import Event, History

from .reads import TP, finish, take_batch


def drain_problem(drain: Event | None) -> str | None:
    """Why a final ``drain`` event cannot tell which offsets exist (None when it can)."""
    if drain is None:
        return "the history has no final drain"
    if drain.phase != "ok":
        return f"the final drain ended with phase {drain.phase!r}"
    if drain.detail.get("complete") is not True:
        return "the final drain did not read every partition to its end"
    return None

Step = tuple[Event, int, TP, int, int, bool]   # (poll, index in batch, tp, prev, offset, intra)
AckKey = tuple[Any, Any, str]                   # (topic, partition, process)
_MISSING = object()


class Acks:
    """One process's ``ok`` first completions to one partition, in order, as columns."""

    __slots__ = ("events", "offsets", "values")

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.offsets: list[int | None] = []
        self.values: list[Any] = []


class Index:
    """Everything the checkers need from a History, built by :func:`build` in one pass."""

    def __init__(self) -> None:
        self.acks: dict[AckKey, Acks] = {}      # see Acks
        self.pending: list[Event] = []          # invokes never completed, in invoke order
        self.late: list[tuple[Event, Event]] = []   # (invoke, completion) slower than bound_s
        self.bounded = 0                        # completed sends whose invoke had bound_s
        self.completed = 0                      # sends completed (first completions)
        self.failed: list[tuple[Event, Event]] = []   # (invoke, fail completion)
        self.redone: list[Event] = []           # further completions of a completed value
        self.orphans: list[Event] = []          # completions of a value never invoked
        self.reinvoked: list[Event] = []        # invokes of a value already in flight
        self.log: dict[TP, dict[int, Any]] = {}  # tp -> offset -> first value read there
        self.read: set[Any] = set()             # every value any reader saw
        self.dup_reads: set[Any] = set()        # values read at more than one location
        self.conflicts: dict[tuple[TP, int], set[Any]] = {}  # (tp, offset) -> values, if > 1
        self.steps: list[Step] = []             # reads that were not previous offset + 1
        self.polls: list[Event] = []            # ok polls with records, in history order
        self.drain: Event | None = None         # the last `drain` event
        self.heals: list[float] = []            # monos at which no fault was active any more
        self.end: float | None = None           # mono of the last event
        self.size = 0                           # how many events were indexed
        self._sorted: dict[TP, list[int]] = {}
        self._mismatched: list[tuple[TP, Event]] | None = None

    def _ack(self, key: AckKey, ev: Event) -> None:
        group = self.acks.get(key)
        if group is None:
            group = self.acks[key] = Acks()
        group.events.append(ev)
        group.offsets.append(ev.offset)
        group.values.append(ev.value)

    def mismatched(self) -> list[tuple[TP, Event]]:
        """Acknowledgements whose offset was not first read holding their value (few if clean).

        Covers every ``ok`` write never read, read elsewhere, or clashing at its offset.
        """
        if self._mismatched is None:
            out: list[tuple[TP, Event]] = []
            for (topic, part, _), group in self.acks.items():
                tp = (topic, part)
                get = self.log.get(tp, {}).get
                if list(map(get, group.offsets)) != group.values:
                    out.extend((tp, d) for d, o, v in zip(group.events, group.offsets, group.values)
                               if get(o, _MISSING) != v)
            self._mismatched = out
        return self._mismatched

    def heal_before(self, mono: float) -> float | None:
        """The last moment at or before `mono` when every fault had ended."""
        i = bisect_right(self.heals, mono)
        return self.heals[i - 1] if i else None

    def offsets(self, tp: TP) -> list[int]:
        """The offsets of `tp` known to hold a record (read by anyone), ascending."""
        got = self._sorted.get(tp)
        if got is None:
            got = self._sorted[tp] = sorted(self.log.get(tp, ()))
        return got

    def next_read_offset(self, tp: TP, offset: int) -> int | None:
        """The smallest offset above `offset` that some reader saw in `tp`."""
        offs = self.offsets(tp)
        i = bisect_right(offs, offset)
        return offs[i] if i < len(offs) else None

    def drain_problem(self) -> str | None:
        """Why the final drain cannot vouch for "never read" (None when it can)."""
        return drain_problem(self.drain)

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
    inflight: dict[Any, Event] = {}
    strays: list[Event] = []
    positions: dict[str, dict[TP, int]] = defaultdict(dict)
    active: set[Any] = set()
    acks, late = ix.acks, ix.late
    completed = bounded = 0
    events = list(history)
    with paused_gc():
        for ev in events:                  # the send branch is the hot one: kept inline
            t = ev.type
            if t == "send":
                v, ph = ev.value, ev.phase
                if ph == "invoke":
                    if inflight.setdefault(v, ev) is not ev:
                        ix.reinvoked.append(ev)
                    continue
                inv = inflight.pop(v, None)
                if inv is None:
                    strays.append(ev)
                    continue
                completed += 1
                bound = inv.detail.get("bound_s")
                if bound is not None:
                    bounded += 1
                    if ev.mono - inv.mono > bound:
                        late.append((inv, ev))
                if ph == "ok":
                    topic, part = ev.topic, ev.partition
                    key = (inv.topic if topic is None else topic,
                           inv.partition if part is None else part, ev.process)
                    group = acks.get(key)
                    if group is None:
                        group = acks[key] = Acks()
                    group.events.append(ev)
                    group.offsets.append(ev.offset)
                    group.values.append(v)
                elif ph == "fail":
                    ix.failed.append((inv, ev))
            elif t == "poll":
                recs = ev.detail.get("records") if ev.phase == "ok" else None
                if recs:
                    ix.polls.append(ev)
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
        ix.pending = list(inflight.values())
        ix.completed, ix.bounded = completed, bounded
        finish(ix)
        if strays:
            _sort_strays(ix, events, strays)
    if events:                             # recorded from threads: allow a little disorder
        ix.end = max(e.mono for e in events[-64:])
    ix.size = len(events)
    return ix


def _sort_strays(ix: Index, events: list[Event], strays: list[Event]) -> None:
    """Completions with no invoke in flight: a value's second completion, or an orphan (whose
    ``ok`` still counts as an acknowledgement). Rare, so a second look at the sends is fine."""
    first: dict[Any, Event] = {}
    for ev in events:
        if ev.type == "send" and ev.phase != "invoke":
            first.setdefault(ev.value, ev)
    for ev in strays:
        if first[ev.value] is not ev:
            ix.redone.append(ev)
        else:
            ix.orphans.append(ev)
            if ev.phase == "ok":
                ix._ack((ev.topic, ev.partition, ev.process), ev)


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
