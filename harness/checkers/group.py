"""Consumer-group anomalies: ``split-ownership``, ``orphaned-partition``, ``commit-regression``,
``resume-mismatch``, ``lost-on-rebalance``, ``redelivery``, ``unrevoked-read``.

The event conventions, ownership periods and the two notions of when ownership ends (the
ownership end and the claim end) are defined in :mod:`.group_index`; docs/group-checkers.md
says the same for spec authors. Every checker says ``ok`` on a history without any
``member-*`` process (nothing of a group to judge), and ``unknown`` when members read but no
assignment was recorded, for the checkers that need ownership periods. Each runs in linear
time over the index, plus sorting per partition.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any, Iterable

from harness.history import Event, History

from .base import CheckResult
from .group_index import PROTOCOLS, TP, GroupIndex, Period, group_index_of
from .index import Index

SPLIT_OWNERSHIP = "split-ownership"
ORPHANED_PARTITION = "orphaned-partition"
COMMIT_REGRESSION = "commit-regression"
RESUME_MISMATCH = "resume-mismatch"
LOST_ON_REBALANCE = "lost-on-rebalance"
REDELIVERY = "redelivery"
UNREVOKED_READ = "unrevoked-read"
GROUP_ANOMALIES = (SPLIT_OWNERSHIP, ORPHANED_PARTITION, COMMIT_REGRESSION, RESUME_MISMATCH,
                   LOST_ON_REBALANCE, REDELIVERY, UNREVOKED_READ)
_SHOWN = 10   # offsets listed per member in split-ownership evidence (counts have them all)

Source = History | Index | GroupIndex | Iterable[Event]


def _index(history: Source, anomaly: str, periods: bool) -> GroupIndex | CheckResult:
    """The group index, or the result to return at once (ok: no members; unknown: cannot say)."""
    gx = group_index_of(history)
    if gx is None:
        return CheckResult.unknown(anomaly, "an Index alone keeps no group events: pass the "
                                            "History (check_all attaches them)")
    if not gx.members:
        return CheckResult.judge(anomaly, [])
    if periods and gx.member_reads and not gx.periods:
        return CheckResult.unknown(anomaly, "members read records but no assignment was recorded")
    return gx


def _where(tp: TP) -> dict[str, Any]:
    return {"topic": tp[0], "partition": tp[1]}


def _span(p: Period, lo: int, hi: int | None) -> tuple[int, int]:
    """Indexes of `p`'s reads at positions in [lo, hi) (hi None: to the end)."""
    return bisect_left(p.pos, lo), len(p.pos) if hi is None else bisect_left(p.pos, hi)


def _ends(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def split_ownership(history: Source) -> CheckResult:
    """``split-ownership``: two members own one partition at the same moment and both read it then.

    Per partition, each pair of ownership periods of different members that overlap (from
    the later ``assigned`` to the earlier ownership end; a crash ends ownership at once) is an
    occurrence if each member read the partition inside the overlap.

    A pair is not counted if either period ended in a revocation the client reports as
    *lost*: that member had been removed from the group (its session or poll interval ran
    out) and learned it only then, so it was no member in the overlap. Its reads there are a
    zombie's (often records buffered before a stall, or an assignment callback that arrived
    stale after it), and ``unrevoked-read`` reports them. The coordinator gives a partition to
    another member only once its owner revoked it or left the group; a member that was never
    removed is never told its partitions were lost.
    """
    gx = _index(history, SPLIT_OWNERSHIP, periods=True)
    if isinstance(gx, CheckResult):
        return gx
    evidence = []
    for tp, periods in gx.periods.items():
        active: list[Period] = []
        for p in periods:                                 # in start order
            active = [a for a in active if a.end is None or a.end > p.start]
            for a in active:
                if a.member == p.member or "lost" in (a.ended_by, p.ended_by):
                    continue
                hi = _ends(a.end, p.end)
                (a0, a1), (p0, p1) = _span(a, p.start, hi), _span(p, p.start, hi)
                if a0 < a1 and p0 < p1:
                    to = None if hi is None else a.end_mono if hi == a.end else p.end_mono
                    evidence.append({
                        **_where(tp), "members": [a.member, p.member],
                        "overlap": {"from": p.start_mono, "to": to},
                        "assigned_at": [a.start_mono, p.start_mono],
                        "offsets": {a.member: a.offsets[a0:min(a1, a0 + _SHOWN)],
                                    p.member: p.offsets[p0:min(p1, p0 + _SHOWN)]},
                        "read_counts": {a.member: a1 - a0, p.member: p1 - p0}})
            active.append(p)
    return CheckResult.judge(SPLIT_OWNERSHIP, evidence)


def orphaned_partition(history: Source) -> CheckResult:
    """``orphaned-partition``: at a ``group`` stable event, a listed partition has no owner.

    An owner is a member whose claim on the partition is open then (a crashed member counts
    while the stable event still lists it among ``members``). ``unknown`` if there were
    members but no stable event with ``partitions`` was recorded.
    """
    gx = _index(history, ORPHANED_PARTITION, periods=False)
    if isinstance(gx, CheckResult):
        return gx
    if not gx.stables:
        return CheckResult.unknown(ORPHANED_PARTITION, "no group stable event with partitions "
                                   f"was recorded ({gx.stable_events} without)")
    evidence = []
    for s in gx.stables:
        owned = {tp for tps in s.owners.values() for tp in tps}
        for tp in s.partitions:
            if tp not in owned:
                evidence.append({**_where(tp), "stable_at": s.mono, "members": s.members,
                                 "assignments": {m: [list(t) for t in tps]
                                                 for m, tps in sorted(s.owners.items())},
                                 "crashed_members_counted": s.crashed})
    return CheckResult.judge(ORPHANED_PARTITION, evidence)


def commit_regression(history: Source) -> CheckResult:
    """``commit-regression``: a partition's ``ok`` commit is lower than the previous ``ok`` one.

    Per partition, successful commits in completion (history) order; each commit below its
    immediate predecessor is one occurrence.
    """
    gx = _index(history, COMMIT_REGRESSION, periods=False)
    if isinstance(gx, CheckResult):
        return gx
    evidence = []
    for tp, commits in gx.commits.items():
        for prev, c in zip(commits, commits[1:]):
            if c.offset < prev.offset:
                evidence.append({**_where(tp), "members": [prev.member, c.member],
                                 "offset": c.offset, "committed_at": c.mono,
                                 "previous_offset": prev.offset, "previous_committed_at": prev.mono})
    return CheckResult.judge(COMMIT_REGRESSION, evidence)


def _known_between(gx: GroupIndex, tp: TP, lo: int, hi: int) -> list[int]:
    """Offsets in [lo, hi) known to hold a record: read by the drain, else by a member."""
    for offs in (gx.drained.get(tp, []), gx.read_sorted(tp)):
        i, j = bisect_left(offs, lo), bisect_left(offs, hi)
        if i < j:
            return offs[i:min(j, i + _SHOWN)]
    return []


def resume_mismatch(history: Source) -> CheckResult:
    """``resume-mismatch``: a new ownership period's first read is not at the committed offset.

    Expected: the last ``ok`` commit of the partition completed before the ``assigned`` event
    (an ``info`` commit after it is also accepted: it may have applied); with none, the log
    start (the lowest offset the drain read, else 0). A first read below is an occurrence;
    above, it is one if an offset in between is known to hold a record (drain or member
    reads); otherwise it passes with a complete drain and is unconfirmed without one.
    A member given back a partition it owned in the period just before (no other owner in
    between) may go on from its own position: right after the last offset it read then.
    """
    gx = _index(history, RESUME_MISMATCH, periods=True)
    if isinstance(gx, CheckResult):
        return gx
    drain_problem = gx.drain_problem()
    evidence, unconfirmed = [], 0
    for tp, periods in gx.periods.items():
        drained = gx.drained.get(tp)
        prev = None
        for p in periods:
            before, prev = prev, p
            if not p.offsets:
                continue
            actual = p.offsets[0]
            expected = p.committed.offset if p.committed else drained[0] if drained else 0
            if actual == expected or actual in p.maybe:
                continue
            if before is not None and before.member == p.member and before.offsets \
                    and actual == before.offsets[-1] + 1:
                continue                    # the same member going on from its own position
            skipped: list[int] = []
            if actual > expected:
                skipped = _known_between(gx, tp, expected, actual)
                if not skipped:
                    unconfirmed += drain_problem is not None
                    continue
            evidence.append({
                **_where(tp), "member": p.member, "assigned_at": p.start_mono,
                "generation": p.generation, "protocol": p.protocol,
                "expected_offset": expected, "actual_offset": actual,
                "first_read_at": p.monos[0],
                "expected_from": "commit" if p.committed else "log-start",
                "commit": p.committed.to_dict() if p.committed else None,
                "skipped_offsets": skipped})
    if unconfirmed:
        why = f"{drain_problem}; {unconfirmed} first read(s) above the commit unconfirmed"
        if not evidence:
            return CheckResult.unknown(RESUME_MISMATCH, why)
        return CheckResult.judge(RESUME_MISMATCH, evidence, reason=why)
    return CheckResult.judge(RESUME_MISMATCH, evidence)


def lost_on_rebalance(history: Source) -> CheckResult:
    """``lost-on-rebalance``: an ``ok`` commit covers an offset (in the drained log) no member read.

    Per partition, each offset the drain read that is below some ``ok`` commit and that no
    member ever read is lost; it is charged to the first commit covering it, and consecutive
    lost offsets charged to one commit make one range. ``unknown`` without a complete drain.
    """
    gx = _index(history, LOST_ON_REBALANCE, periods=False)
    if isinstance(gx, CheckResult):
        return gx
    if not gx.commits:
        return CheckResult.judge(LOST_ON_REBALANCE, [])
    problem = gx.drain_problem()
    if problem is not None:
        return CheckResult.unknown(LOST_ON_REBALANCE, f"{problem}, so which offsets exist "
                                   "below the commits is not known")
    evidence = []
    for tp, commits in gx.commits.items():
        drained, read = gx.drained.get(tp, []), gx.read.get(tp, set())
        done = 0                                         # drained[:done] were judged already
        for c in commits:
            upto = bisect_left(drained, c.offset)
            run: list[int] = []                          # indexes into drained, consecutive
            for i in range(done, upto):
                if drained[i] in read:
                    continue
                if run and run[-1] != i - 1:
                    evidence.append(_lost(tp, drained, run, c))
                    run = []
                run.append(i)
            if run:
                evidence.append(_lost(tp, drained, run, c))
            done = max(done, upto)
    return CheckResult.judge(LOST_ON_REBALANCE, evidence)


def _lost(tp: TP, drained: list[int], run: list[int], c: Any) -> dict[str, Any]:
    return {**_where(tp), "from_offset": drained[run[0]], "to_offset": drained[run[-1]],
            "count": len(run), "commit": c.to_dict()}


def redelivery(history: Source) -> CheckResult:
    """``redelivery``: an offset read again by another member, or by one member in another period.

    One occurrence per further period (or stray reader) reading an offset: re-reads inside
    one period are not counted (``nonmonotonic-poll`` covers those). ``within_uncommitted``
    is true when the offset is at or above the offset committed at the re-reader's
    assignment (or nothing was committed): what at-least-once allows.
    """
    gx = _index(history, REDELIVERY, periods=True)
    if isinstance(gx, CheckResult):
        return gx
    evidence = []
    for r in gx.rereads:
        c = r.committed
        evidence.append({**_where(r.tp), "offset": r.offset, "first_reader": r.first[0],
                         "first_read_at": r.first[2], "reader": r.member, "read_at": r.mono,
                         "same_member": r.same_member,
                         "committed_offset": c.offset if c else None,
                         "within_uncommitted": c is None or r.offset >= c.offset})
    return CheckResult.judge(REDELIVERY, evidence)


def unrevoked_read(history: Source) -> CheckResult:
    """``unrevoked-read``: a new owner reads a partition before the old owner's claim ended.

    For each ownership period whose ``assigned`` declares a protocol (all three promise that
    revocation completes before reassignment), its first read of the partition must come
    after the claim end of every other member's period that began earlier. One occurrence
    per (old period, new period). ``unknown`` if no period declares a protocol.
    """
    gx = _index(history, UNREVOKED_READ, periods=True)
    if isinstance(gx, CheckResult):
        return gx
    evidence, judged = [], 0
    for tp, periods in gx.periods.items():
        active: list[Period] = []
        for p in periods:                                 # in start order
            active = [a for a in active if a.claim_end is None or a.claim_end > p.start]
            if p.offsets and p.protocol in PROTOCOLS:
                judged += 1
                first = p.pos[0]
                for a in active:
                    if a.member != p.member and (a.claim_end is None or a.claim_end > first):
                        a0, a1 = _span(a, p.start, _ends(a.end, p.end))
                        evidence.append({
                            **_where(tp), "member": p.member, "protocol": p.protocol,
                            "generation": p.generation, "assigned_at": p.start_mono,
                            "first_read_at": p.monos[0], "first_read_offset": p.offsets[0],
                            "previous_owner": a.member, "previous_assigned_at": a.start_mono,
                            "previous_released_at": a.claim_end_mono,
                            "previous_released_by": a.ended_by,
                            "previous_owner_read_in_overlap": a1 > a0})
            active.append(p)
    if not judged and any(p.offsets for ps in gx.periods.values() for p in ps):
        return CheckResult.unknown(UNREVOKED_READ, "no assignment declared a protocol "
                                   f"({', '.join(PROTOCOLS)})")
    return CheckResult.judge(UNREVOKED_READ, evidence)


__all__ = ["GROUP_ANOMALIES", "commit_regression", "lost_on_rebalance", "orphaned_partition",
           "redelivery", "resume_mismatch", "split_ownership", "unrevoked_read"]
