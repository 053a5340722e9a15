"""Per-partition log anomalies: ``lost-write``, ``unseen``, ``duplicate``, ``inconsistent-offsets``.

A *read* is a record returned to any consumer or to the final drain. For ``duplicate`` and
``inconsistent-offsets`` an acknowledgement (a send completed ``ok`` with an offset) is also an
observation of its value at that offset, as in Jepsen's version orders, so a producer told
"offset 5" while readers find another value there is reported too.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from harness.history import Event, History

from .base import CheckResult
from .index import TP, Index, index_of

LOST_WRITE = "lost-write"
UNSEEN = "unseen"
DUPLICATE = "duplicate"
INCONSISTENT_OFFSETS = "inconsistent-offsets"
_MISSING = object()
_OFFSET_KEY, _VALUE_KEY = itemgetter("offset"), itemgetter("value")


def _after_drain(ix: Index, anomaly: str, evidence: list[dict[str, Any]]) -> CheckResult:
    problem = ix.drain_problem()
    if problem is not None:
        return CheckResult.unknown(anomaly, f"{problem}; {len(evidence)} candidate(s) unconfirmed")
    return CheckResult.judge(anomaly, evidence)


def _ack_evidence(tp: TP, d: Event) -> dict[str, Any]:
    return {"value": d.value, "topic": tp[0], "partition": tp[1], "offset": d.offset,
            "process": d.process, "acked_at": d.mono}


def lost_write(history: History | Index) -> CheckResult:
    """``lost-write``: an acknowledged write never read, though a later offset of its partition was.

    A send completed ``info`` is never lost (if it was read it is, by definition, not lost);
    ``unknown`` unless the final drain completed. Every lost write is also ``unseen``.
    """
    ix = index_of(history)
    where, log = ix.read, ix.log
    top: dict[TP, int] = {}
    evidence = []
    for tp, d in ix.mismatched():
        off = d.offset
        if off is None or d.value in where:
            continue
        hi = top.get(tp)
        if hi is None:
            offs = log.get(tp)
            hi = top[tp] = max(offs) if offs else -1
        if hi > off:
            nxt = ix.next_read_offset(tp, off)
            evidence.append({**_ack_evidence(tp, d), "next_read_offset": nxt,
                             "next_read_value": log[tp][nxt], "max_read_offset": hi})
    return _after_drain(ix, LOST_WRITE, evidence)


def unseen(history: History | Index) -> CheckResult:
    """``unseen``: acknowledged writes that no reader (consumers and the final drain) ever returned.

    ``unknown`` unless the final drain completed; evidence carries the partition's high
    watermark from the drain, so a write acknowledged beyond it stands out as truncated.
    """
    ix = index_of(history)
    where = ix.read
    evidence = []
    for tp, d in ix.mismatched():
        if d.value not in where:
            hw, off = ix.high_watermark(tp), d.offset
            evidence.append({**_ack_evidence(tp, d), "high_watermark": hw,
                             "beyond_high_watermark": (hw is not None and off is not None
                                                       and off >= hw)})
    return _after_drain(ix, UNSEEN, evidence)


def _acked_at(ix: Index, values: set[Any] | None = None) -> dict[Any, list[tuple[TP, int, Event]]]:
    """value -> every (tp, offset, completion) an ``ok`` completion of it named, for `values`
    and for every value completed more than once (an evidence-time scan of the acks)."""
    out: dict[Any, list[tuple[TP, int, Event]]] = {}
    wanted = set(values or ()) | {e.value for e in ix.redone}
    if not wanted:
        return out
    for (topic, part, _), group in ix.acks.items():
        if not wanted.isdisjoint(group.values):
            for e, o, v in zip(group.events, group.offsets, group.values):
                if v in wanted and o is not None:
                    out.setdefault(v, []).append(((topic, part), o, e))
    for e in ix.redone:
        if e.phase == "ok" and e.offset is not None:
            known = out.get(e.value)
            tp = known[0][0] if known else (e.topic, e.partition)
            tp = (tp[0] if e.topic is None else e.topic, tp[1] if e.partition is None else e.partition)
            out.setdefault(e.value, []).append((tp, e.offset, e))
    return out


def _observe(ix: Index, values: set[Any] = frozenset(),  # type: ignore[assignment]
             locations: set[tuple[TP, int]] = frozenset()  # type: ignore[assignment]
             ) -> dict[tuple[TP, int], dict[Any, tuple[set[str], set[str]]]]:
    """Who read / acknowledged what at each location touching `values` or `locations`.

    A second, evidence-only scan: it runs only when a checker already found something.
    """
    out: dict[tuple[TP, int], dict[Any, tuple[set[str], set[str]]]] = {}

    def note(loc: tuple[TP, int], value: Any, process: str, acked: bool) -> None:
        who = out.setdefault(loc, {}).setdefault(value, (set(), set()))
        who[1 if acked else 0].add(process)

    wanted: dict[TP, set[int]] = {}
    for tp, off in locations:
        wanted.setdefault(tp, set()).add(off)
    any_offset = {off for _, off in locations}
    for ev in ix.polls:                              # skip whole batches with nothing of ours
        recs = ev.detail["records"]
        if values.isdisjoint(map(_VALUE_KEY, recs)) and (
                not any_offset or any_offset.isdisjoint(map(_OFFSET_KEY, recs))):
            continue
        for r in recs:
            tp, off, v = (ev.topic, r["partition"]), r["offset"], r["value"]
            if v in values or (tp, off) in locations:
                note((tp, off), v, ev.process, False)
    also = {v for key, group in ix.acks.items() if key[:2] in wanted
            for o, v in zip(group.offsets, group.values) if o in wanted[key[:2]]}
    for v, acks in _acked_at(ix, also | set(values)).items():
        for tp, off, e in acks:
            if v in values or (tp, off) in locations:
                note((tp, off), v, e.process, True)
    return out


def _who(value: Any, seen: tuple[set[str], set[str]]) -> dict[str, Any]:
    return {"value": value, "read_by": sorted(seen[0]), "acked_by": sorted(seen[1])}


def _order(entry: dict[str, Any]) -> tuple:
    part, off = entry.get("partition"), (entry.get("offsets") or [entry.get("offset")])[0]
    return (str(entry.get("topic")), part if isinstance(part, int) else -1,
            off if isinstance(off, int) else -1, str(entry.get("value")))


def duplicate(history: History | Index) -> CheckResult:
    """``duplicate``: one value at more than one offset of a partition (read or acknowledged).

    Evidence per value and partition: the offsets and who read or acknowledged each; a value
    found in two partitions is reported once more with ``kind: across-partitions``.
    """
    ix = index_of(history)
    where, conflicts = ix.read, ix.conflicts
    suspects = set(ix.dup_reads)
    for tp, d in ix.mismatched():                    # acknowledged here, read elsewhere
        v = d.value
        if d.offset is not None and v in where and v not in conflicts.get((tp, d.offset), ()):
            suspects.add(v)
    for v, acks in _acked_at(ix).items():            # acknowledged at two locations
        if len({(tp, off) for tp, off, _ in acks}) > 1:
            suspects.add(v)
    if not suspects:
        return CheckResult.judge(DUPLICATE, [])
    evidence = []
    by_value: dict[Any, dict[TP, dict[int, tuple[set[str], set[str]]]]] = {}
    for (tp, off), vals in _observe(ix, values=suspects).items():
        for v, seen in vals.items():
            if v in suspects:
                by_value.setdefault(v, {}).setdefault(tp, {})[off] = seen
    for v, tps in by_value.items():
        for tp, offs in tps.items():
            if len(offs) > 1:
                evidence.append({"kind": "within-partition", "value": v, "topic": tp[0],
                                 "partition": tp[1], "offsets": sorted(offs),
                                 "observed": [{"offset": o, **_who(v, offs[o])}
                                              for o in sorted(offs)]})
        if len(tps) > 1:
            evidence.append({"kind": "across-partitions", "value": v,
                             "partitions": sorted([list(tp) for tp in tps], key=str),
                             "observed": [{"topic": tp[0], "partition": tp[1], "offset": o,
                                           **_who(v, seen)}
                                          for tp, offs in tps.items() for o, seen in offs.items()]})
    return CheckResult.judge(DUPLICATE, sorted(evidence, key=_order))


def inconsistent_offsets(history: History | Index) -> CheckResult:
    """``inconsistent-offsets``: one offset of a partition seen holding different values.

    Observers are every reader, plus the producer whose acknowledgement named that offset;
    evidence per (partition, offset) lists each value with who read or acknowledged it.
    """
    ix = index_of(history)
    log, conflicts = ix.log, ix.conflicts
    bad: set[tuple[TP, int]] = set(conflicts)
    unread: set[tuple[TP, int]] = set()
    for tp, d in ix.mismatched():
        if d.offset is None:
            continue
        loc = (tp, d.offset)
        if d.offset in log.get(tp, ()):              # readers saw another value there
            if d.value not in conflicts.get(loc, ()):
                bad.add(loc)
        elif loc in unread:                          # two acks name one unread offset
            bad.add(loc)
        else:
            unread.add(loc)
    for v, acks in _acked_at(ix).items():            # a re-completion naming a read offset
        for tp, off, _ in acks:
            at = log.get(tp, {}).get(off, _MISSING)
            if at is not _MISSING and at != v and v not in conflicts.get((tp, off), ()):
                bad.add((tp, off))
    if not bad:
        return CheckResult.judge(INCONSISTENT_OFFSETS, [])
    evidence = []
    for (tp, off), vals in _observe(ix, locations=bad).items():
        if (tp, off) in bad and len(vals) > 1:
            evidence.append({"topic": tp[0], "partition": tp[1], "offset": off,
                             "values": sorted((_who(v, seen) for v, seen in vals.items()),
                                              key=lambda w: str(w["value"]))})
    return CheckResult.judge(INCONSISTENT_OFFSETS, sorted(evidence, key=_order))
