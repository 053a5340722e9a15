"""Consumer-group events, and the one-pass index the group checkers (:mod:`.group`) read.

The events it reads and their conventions (process names, ``assigned`` / ``revoked`` per
protocol, ``commit`` phases, ``member`` phases, the ``group`` stable event, the drain) are
set out in docs/group-checkers.md, "Event conventions".

Ownership. A member *owns* a partition from the ``assigned`` event that gives it to the
member until it is revoked, dropped by an eager reassignment, or the member stops, crashes
or starts anew: one *ownership period*. Two notions of its end:

- the **ownership end** (``split-ownership``, reads attributed to a period): a crash ends
  ownership at the crash (a dead process owns nothing);
- the **claim end** (``unrevoked-read``, ``orphaned-partition``): the group still counts a
  crashed member's partitions as its own until it rebalances, i.e. until the first later
  ``assigned`` event of any member, or ``group`` stable event whose ``members`` list omits
  the crashed member (or has no list). Otherwise the claim ends with the ownership.

Order is history order (the position of the event), never clock comparisons; evidence
carries each event's ``mono`` time. The index is built in one pass, over only the events of
the kinds above, and cached per History and length like :func:`.index.index_of`.
"""

from __future__ import annotations

import weakref
from operator import itemgetter
from typing import Any, Iterable, NamedTuple

from harness.history import Event, History

from .index import Index, drain_problem

TP = tuple[str | None, int]
MEMBER_PREFIX = "member-"
EAGER, COOPERATIVE, CONSUMER = "classic-eager", "classic-cooperative", "consumer"
PROTOCOLS = (EAGER, COOPERATIVE, CONSUMER)
INCREMENTAL = (COOPERATIVE, CONSUMER)
_KINDS = frozenset({"assigned", "revoked", "poll", "commit", "member", "group", "drain"})
_PARTITION, _OFFSET = itemgetter("partition"), itemgetter("offset")


class Commit(NamedTuple):
    """One commit of one partition's offset."""

    member: str
    offset: int
    pos: int
    mono: float

    def to_dict(self) -> dict[str, Any]:
        return {"member": self.member, "offset": self.offset, "committed_at": self.mono}


class Period:
    """One member's ownership of one partition, and the reads it made during it."""

    __slots__ = ("member", "tp", "start", "start_mono", "protocol", "generation",
                 "committed", "maybe", "end", "end_mono", "ended_by", "claim_end",
                 "claim_end_mono", "pos", "offsets", "monos")

    def __init__(self, member: str, tp: TP, ev: Event, pos: int, protocol: str | None,
                 committed: Commit | None, maybe: tuple[int, ...]) -> None:
        self.member, self.tp, self.start, self.start_mono = member, tp, pos, ev.mono
        self.protocol, self.generation = protocol, ev.detail.get("generation")
        self.committed = committed        # the last ok commit of tp before the assignment
        self.maybe = maybe                # offsets of info commits after it (maybe applied)
        self.end: int | None = None       # ownership end (position); None: owned to the end
        self.end_mono: float | None = None
        self.ended_by: str | None = None  # revoked | lost | assigned | stop | crash | start
        self.claim_end: int | None = None     # claim end (differs only after a crash)
        self.claim_end_mono: float | None = None
        self.pos: list[int] = []          # reads in the period: positions, offsets, monos
        self.offsets: list[int] = []
        self.monos: list[float] = []

    def close(self, pos: int, mono: float, by: str, claim: bool = True) -> None:
        self.end, self.end_mono, self.ended_by = pos, mono, by
        if claim:
            self.claim_end, self.claim_end_mono = pos, mono


class Stable(NamedTuple):
    """A ``group`` stable event and who owned what (open claims) at that moment."""

    pos: int
    mono: float
    partitions: list[TP]
    members: list[Any] | None
    owners: dict[str, list[TP]]       # member -> partitions it claimed, sorted
    crashed: list[str]                # crashed members whose claims still counted


class Reread(NamedTuple):
    """A member's read of an offset some other period (or stray reader) had read first."""

    tp: TP
    offset: int
    first: tuple[str, int, float]     # (member, position, mono) of the first read
    member: str
    pos: int
    mono: float
    same_member: bool
    committed: Commit | None          # at the re-reader's assignment (at the read if stray)


class GroupIndex:
    """Everything the group checkers need, built by :func:`build` in one pass."""

    def __init__(self) -> None:
        self.members: set[str] = set()                 # every member-* process seen
        self.member_reads = 0                          # records members read
        self.periods: dict[TP, list[Period]] = {}      # per partition, in start order
        self.stray: dict[TP, list[tuple[str, int, int, float]]] = {}  # (member, pos, off, mono)
        self.commits: dict[TP, list[Commit]] = {}      # ok commits, in completion order
        self.stables: list[Stable] = []                # group stable events with partitions
        self.stable_events = 0                         # group stable events, with or without
        self.rereads: list[Reread] = []                # see Reread, in history order
        self.read: dict[TP, set[int]] = {}             # offsets members read, per partition
        self.drained: dict[TP, list[int]] = {}         # offsets the drain read, ascending
        self.drain: Event | None = None                # the last ``drain`` event
        self.size = 0                                  # length of the History indexed
        self._read_sorted: dict[TP, list[int]] = {}

    def drain_problem(self) -> str | None:
        """Why the final drain cannot tell which offsets exist (None when it can)."""
        return drain_problem(self.drain)

    def read_sorted(self, tp: TP) -> list[int]:
        """The offsets of `tp` some member read, ascending."""
        got = self._read_sorted.get(tp)
        if got is None:
            got = self._read_sorted[tp] = sorted(self.read.get(tp, ()))
        return got


def parse_tp(key: str) -> TP | None:
    """``"t/3"`` -> ``("t", 3)``; None for a key that does not follow the convention."""
    topic, _, part = str(key).rpartition("/")
    try:
        return (topic, int(part)) if topic else None
    except ValueError:
        return None


def _tp_order(tp: TP) -> tuple[str, int]:
    return str(tp[0]), tp[1]


def _tps(parts: Iterable[Any] | None) -> list[TP]:
    return [(p[0], p[1]) for p in parts or ()]


class _Builder:
    """The pass's working state: open ownership per member, claims awaiting a rebalance."""

    def __init__(self, gx: GroupIndex) -> None:
        self.gx = gx
        self.own: dict[str, dict[TP, Period]] = {}     # member -> tp -> open period
        self.crashed: dict[str, list[Period]] = {}     # member -> claims awaiting a rebalance
        self.invoked: dict[str, dict[str, Any]] = {}   # member -> offsets of its last invoke
        self.maybe: dict[TP, list[int]] = {}           # info commits since the last ok one
        self.first: dict[TP, dict[int, tuple[Any, str, int, float]]] = {}  # first read
        self.again: dict[tuple[TP, int], list[Any]] = {}  # readers of offsets read twice

    def settle(self, pos: int, mono: float, keep: Iterable[Any] = ()) -> None:
        """A rebalance: crashed members' claims end here (except members listed in `keep`)."""
        for member in [m for m in self.crashed if m not in keep]:
            for period in self.crashed.pop(member):
                period.claim_end, period.claim_end_mono = pos, mono

    def end_all(self, member: str, pos: int, mono: float, by: str) -> None:
        mine = self.own.get(member)
        if not mine:
            return
        crash = by == "crash"
        for period in mine.values():
            period.close(pos, mono, by, claim=not crash)
        if crash:
            self.crashed.setdefault(member, []).extend(mine.values())
        mine.clear()

    def begin(self, member: str, tp: TP, ev: Event, pos: int, protocol: str | None) -> None:
        commits = self.gx.commits.get(tp)
        period = Period(member, tp, ev, pos, protocol, commits[-1] if commits else None,
                        tuple(self.maybe.get(tp, ())))
        self.own[member][tp] = period
        self.gx.periods.setdefault(tp, []).append(period)

    def assigned(self, ev: Event, pos: int) -> None:
        member, mono = ev.process, ev.mono
        self.settle(pos, mono)
        mine = self.own[member]
        protocol = ev.detail.get("protocol")
        listed = _tps(ev.detail.get("partitions"))
        if protocol in INCREMENTAL:
            for tp in listed:
                if tp not in mine:
                    self.begin(member, tp, ev, pos, protocol)
            return
        for tp in list(mine):                       # a full assignment replaces everything
            mine.pop(tp).close(pos, mono, "assigned")
        for tp in dict.fromkeys(listed):
            self.begin(member, tp, ev, pos, protocol)

    def revoked(self, ev: Event, pos: int) -> None:
        mine = self.own[ev.process]
        parts = ev.detail.get("partitions")
        for tp in list(mine) if parts is None else _tps(parts):
            period = mine.pop(tp, None)
            if period is not None:
                period.close(pos, ev.mono, "lost" if ev.detail.get("lost") else "revoked")

    def commit(self, ev: Event, pos: int) -> None:
        offsets = ev.detail.get("offsets")
        if ev.phase == "invoke":
            self.invoked[ev.process] = offsets or {}
            return
        if ev.phase not in ("ok", "info"):
            return
        if offsets is None:
            offsets = self.invoked.get(ev.process, {})
        for key, off in offsets.items():
            tp = parse_tp(key)
            if tp is None or not isinstance(off, int):
                continue
            if ev.phase == "ok":
                self.gx.commits.setdefault(tp, []).append(Commit(ev.process, off, pos, ev.mono))
                self.maybe.pop(tp, None)
            else:
                self.maybe.setdefault(tp, []).append(off)

    def poll(self, ev: Event, pos: int) -> None:
        member, mono, topic = ev.process, ev.mono, ev.topic
        mine, gx = self.own[member], self.gx
        for rec in ev.detail.get("records") or ():
            tp, off = (topic, rec["partition"]), rec["offset"]
            gx.member_reads += 1
            period = mine.get(tp)
            if period is not None:
                period.pos.append(pos)
                period.offsets.append(off)
                period.monos.append(mono)
                key: Any = period
            else:
                gx.stray.setdefault(tp, []).append((member, pos, off, mono))
                key = member
            seen = self.first.get(tp)
            if seen is None:
                seen = self.first[tp] = {}
                gx.read[tp] = set()
            prev = seen.get(off)
            if prev is None:
                seen[off] = (key, member, pos, mono)
                gx.read[tp].add(off)
            elif prev[0] != key:                        # periods compare by identity
                self.reread(tp, off, prev, key, member, pos, mono)

    def reread(self, tp: TP, off: int, prev: tuple, key: Any, member: str, pos: int,
               mono: float) -> None:
        """Count each further period (or stray reader) reading `off` once."""
        counted = self.again.setdefault((tp, off), [prev[0]])
        if key in counted:
            return
        counted.append(key)
        if isinstance(key, Period):
            committed = key.committed
        else:
            commits = self.gx.commits.get(tp)
            committed = commits[-1] if commits else None
        self.gx.rereads.append(Reread(tp, off, prev[1:], member, pos, mono,
                                      member == prev[1], committed))

    def member(self, ev: Event, pos: int) -> None:
        ph = ev.phase
        if ph in ("start", "stop", "crash"):
            self.end_all(ev.process, pos, ev.mono, ph)

    def group(self, ev: Event, pos: int) -> None:
        detail = ev.detail
        members = detail.get("members")
        listed = set(map(str, members)) if isinstance(members, list) else set()
        self.settle(pos, ev.mono, keep=listed)
        self.gx.stable_events += 1
        if detail.get("partitions") is None:
            return
        owners = {m: sorted(mine, key=_tp_order) for m, mine in self.own.items() if mine}
        for m, periods in self.crashed.items():
            owners[m] = sorted({*owners.get(m, ()), *(p.tp for p in periods)}, key=_tp_order)
        self.gx.stables.append(Stable(pos, ev.mono, _tps(detail["partitions"]),
                                      members if isinstance(members, list) else None,
                                      owners, sorted(self.crashed)))


def build(history: History | Iterable[Event]) -> GroupIndex:
    """Index the group events of `history` in one pass."""
    gx = GroupIndex()
    b = _Builder(gx)
    events = list(history)
    gx.size = len(events)
    kinds = _KINDS
    drains: list[Event] = []                       # the drain's polls, expanded at the end
    for pos, ev in enumerate([e for e in events if e.type in kinds]):
        proc, t = ev.process, ev.type
        if not proc.startswith(MEMBER_PREFIX):
            if t == "poll":
                if proc == "drain" and ev.phase == "ok":
                    drains.append(ev)
            elif t == "drain":
                gx.drain = ev
            elif t == "group" and ev.phase == "ok" and ev.detail.get("stable"):
                b.group(ev, pos)
            continue
        if proc not in b.own:
            gx.members.add(proc)
            b.own[proc] = {}
        if t == "poll":
            if ev.phase == "ok":
                b.poll(ev, pos)
        elif t == "commit":
            b.commit(ev, pos)
        elif ev.phase == "ok" and t == "assigned":
            b.assigned(ev, pos)
        elif ev.phase == "ok" and t == "revoked":
            b.revoked(ev, pos)
        elif t == "member":
            b.member(ev, pos)
    if gx.members:                                 # only a group needs to know the log
        gx.drained = _drained(drains)
    return gx


def _drained(polls: list[Event]) -> dict[TP, list[int]]:
    """The offsets the drain read per partition, ascending (a batch is mostly one partition)."""
    drained: dict[TP, set[int]] = {}
    for ev in polls:
        recs = ev.detail.get("records") or ()
        parts = set(map(_PARTITION, recs))
        if len(parts) == 1:
            drained.setdefault((ev.topic, parts.pop()), set()).update(map(_OFFSET, recs))
            continue
        for rec in recs:
            drained.setdefault((ev.topic, rec["partition"]), set()).add(rec["offset"])
    return {tp: sorted(offs) for tp, offs in drained.items()}


_CACHE: "weakref.WeakKeyDictionary[History, GroupIndex]" = weakref.WeakKeyDictionary()
_ATTACHED: "weakref.WeakKeyDictionary[Index, GroupIndex]" = weakref.WeakKeyDictionary()


def attach(ix: Index, history: History | Iterable[Event]) -> GroupIndex:
    """Give `ix` the group index of the `history` it was built from (``check_all`` does)."""
    gx = _ATTACHED[ix] = group_index_of(history)
    return gx


def group_index_of(history: History | Index | GroupIndex | Iterable[Event]) -> GroupIndex | None:
    """The GroupIndex of `history`: built once per History and length; for an Index, the one
    :func:`attach` gave it, or None (an Index alone does not keep the group events)."""
    if isinstance(history, GroupIndex):
        return history
    if isinstance(history, Index):
        return _ATTACHED.get(history)
    if not isinstance(history, History):
        return build(history)
    hit = _CACHE.get(history)
    if hit is not None and hit.size == len(history):
        return hit
    gx = _CACHE[history] = build(history)
    return gx
