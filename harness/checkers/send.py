"""Producer-side anomalies: ``nonmonotonic-send``, ``send-hang``, ``unacknowledged-send``,
``failed-send``."""

from __future__ import annotations

from itertools import repeat
from operator import itemgetter
from typing import Any

from harness.history import Event, History

from .base import CheckResult
from .index import TP, Acks, Index, index_of

NONMONOTONIC_SEND = "nonmonotonic-send"
SEND_HANG = "send-hang"
UNACKNOWLEDGED_SEND = "unacknowledged-send"
FAILED_SEND = "failed-send"


def producer_seq(value: Any) -> tuple[str, int] | None:
    """``"p3-17"`` -> ``("p3", 17)``; None for a value that does not follow the convention."""
    try:
        head, tail = value.rsplit("-", 1)
        return head, int(tail)
    except (AttributeError, ValueError):
        return None


def _in_order(group: Acks) -> bool:
    """True if these acks (one process, one partition) are provably in order: offsets and the
    seqs of one producer's values both ascend in completion order. C-level string work only:
    seqs are compared as digit strings zero-padded to one width, which is numeric order."""
    offsets, values, n = group.offsets, group.values, len(group.values)
    if None in offsets or offsets != sorted(offsets):
        return False
    try:
        lines = "\n" + "\n".join(values)
    except TypeError:                                 # not all strings
        return False
    head = "\n" + values[0].rpartition("-")[0] + "-"
    if len(head) < 3 or lines.count("\n") != n or lines.count(head) != n:
        return False                                  # not all "{head}-{seq}" on one line
    seqs = lines.replace(head, "\n")[1:].split("\n")
    digits = "".join(seqs)
    if "" in seqs or not (digits.isascii() and digits.isdigit()):
        return False
    padded = list(map(str.zfill, seqs, repeat(max(map(len, seqs)))))
    return padded == sorted(padded)


def _inversions(acks: list[Event], tp: TP) -> list[dict[str, Any]]:
    """Per producer, sort by seq and report each send below its predecessor's offset."""
    groups: dict[str, list[tuple[int, int, Event]]] = {}
    for n, d in enumerate(acks):
        ps = producer_seq(d.value)
        producer, seq = ps if ps is not None else (d.process, n)
        groups.setdefault(producer, []).append((seq, d.offset, d))  # type: ignore[arg-type]
    out = []
    for producer, group in groups.items():
        group.sort(key=itemgetter(0))
        prev_seq, prev_off, prev = group[0]
        for seq, off, d in group[1:]:
            if off < prev_off:
                out.append({"producer": producer, "topic": tp[0], "partition": tp[1],
                            "value": d.value, "seq": seq, "offset": off, "process": d.process,
                            "acked_at": d.mono, "previous_value": prev.value,
                            "previous_seq": prev_seq, "previous_offset": prev_off})
            prev_seq, prev_off, prev = seq, off, d
    return out


def nonmonotonic_send(history: History | Index) -> CheckResult:
    """``nonmonotonic-send``: a producer's later send lands at a lower offset than its previous one.

    Per producer and partition, acknowledged sends in sequence order (the seq in the value,
    ``p{producer}-{seq}``; for other values, the sending process and completion order) must
    have increasing offsets; each inversion against the preceding send is one entry.
    """
    ix = index_of(history)
    groups: dict[TP, list[Event]] = {}
    for (topic, part, _), group in ix.acks.items():    # one process, one partition each
        if not _in_order(group):
            groups.setdefault((topic, part), []).extend(group.events)
    evidence = []
    for tp, acks in groups.items():                   # regroup by the producer in the value
        evidence.extend(_inversions([d for d in acks if d.offset is not None], tp))
    return CheckResult.judge(NONMONOTONIC_SEND, evidence)


def _send_fields(inv: Event) -> dict[str, Any]:
    return {"value": inv.value, "process": inv.process, "topic": inv.topic,
            "partition": inv.partition, "invoked_at": inv.mono}


def send_hang(history: History | Index) -> CheckResult:
    """``send-hang``: a send neither succeeded nor failed within its ``bound_s`` after healing.

    The clock starts at max(invoke, last full heal before the completion); a send never
    completed hangs if the history runs past its bound. Sends without ``bound_s`` are skipped;
    ``unknown`` if there are sends but none declared a bound. (The index already picked the
    sends completed more than their bound after the invoke: only those can have hung.)
    """
    ix = index_of(history)
    pending = [inv for inv in ix.pending if inv.detail.get("bound_s") is not None]
    bounded = ix.bounded + len(pending)
    evidence = []
    for inv, d in ix.late + [(i, None) for i in pending]:
        bound = inv.detail["bound_s"]
        until = d.mono if d is not None else ix.end
        heal = ix.heal_before(until)
        since = inv.mono if heal is None or heal < inv.mono else heal
        if until - since > bound:
            evidence.append({**_send_fields(inv), "bound_s": bound, "since": since,
                             "completed_at": d.mono if d is not None else None,
                             "outcome": d.phase if d is not None else None,
                             "waited_s": round(until - since, 6),
                             "after_heal": since != inv.mono})
    if (ix.completed or ix.pending) and not bounded:
        return CheckResult.unknown(SEND_HANG, "no send declared bound_s, so none can hang")
    return CheckResult.judge(SEND_HANG, evidence)


def unacknowledged_send(history: History | Index) -> CheckResult:
    """``unacknowledged-send``: a send the client accepted whose result was never reported.

    An invoke with no ``ok``, ``fail`` or ``info`` completion by the end of the history.
    """
    ix = index_of(history)
    evidence = [{**_send_fields(inv), "history_end": ix.end} for inv in ix.pending]
    return CheckResult.judge(UNACKNOWLEDGED_SEND, evidence)


def failed_send(history: History | Index) -> CheckResult:
    """``failed-send``: a send that definitely failed (``fail``, not ``info``).

    Failing is often correct (a producer must fail a send it cannot deliver within its
    bounds); specs of availability promises (e.g. bootstrap through dead brokers) forbid it.
    """
    ix = index_of(history)
    evidence = [{**_send_fields(inv), "failed_at": d.mono, "error": d.detail.get("error")}
                for inv, d in ix.failed]
    return CheckResult.judge(FAILED_SEND, evidence)
