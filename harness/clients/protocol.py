"""The driver protocol (docs/driver-protocol.md): its events, their meaning in the History,
and the protocol's own conformance checks.

A driver's stdout is a stream of JSON objects with a ``name``; :func:`parse` reads one line,
:class:`MemberTranslator` turns a group member's events into History events, and
:func:`check_stream` applies the ordering rules every driver must keep.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from harness.history import Event

# Each event and the fields it must carry.
REQUIRED: dict[str, tuple[str, ...]] = {
    "startup_complete": (),
    "startup_failed": ("message",),
    "shutdown_complete": (),
    "producer_send_success": ("topic", "partition", "offset", "value"),     # + id (extension)
    "producer_send_error": ("topic", "value", "exception"),                 # + id (extension)
    "flushed": ("outstanding",),
    "partitions_assigned": ("partitions",),
    "partitions_revoked": ("partitions",),
    "record_data": ("topic", "partition", "offset", "value"),
    "records_consumed": ("count", "partitions"),
    "end_offsets": ("offsets",),
    "offsets_commit_started": ("offsets",),
    "offsets_committed": ("offsets", "success"),
    "stalled": (),
    "resumed": (),
    "partitions_paused": ("partitions",),
    "partitions_resumed": ("partitions",),
    "resubscribed": (),
    "error": ("message",),
    "tool_data": (),                 # VerifiableProducer's closing statistics
    "shutdown_requested": (),        # VerifiableConsumer, when it stops itself
}


class ProtocolError(ValueError):
    """A line that is not a well-formed driver event."""


def parse(line: str | bytes) -> dict:
    """One stdout line as an event; raises :class:`ProtocolError` if malformed."""
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise ProtocolError(f"not JSON: {line[:120]!r}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise ProtocolError(f"not an event object with a name: {line[:120]!r}")
    need = REQUIRED.get(data["name"])
    if need is None:
        raise ProtocolError(f"unknown event {data['name']!r}")
    missing = [f for f in need if f not in data]
    if missing:
        raise ProtocolError(f"{data['name']} lacks {', '.join(missing)}")
    return data


def parts(partitions: list[dict]) -> list[list]:
    """Verifiable ``[{"topic","partition"}]`` as the History's ``[[topic, partition]]``."""
    return [[p["topic"], p["partition"]] for p in partitions]


def offsets_map(offsets: list[dict]) -> dict[str, int]:
    """Verifiable ``[{"topic","partition","offset"}]`` as the History's ``{"t/p": offset}``."""
    return {f"{o['topic']}/{o['partition']}": o["offset"] for o in offsets}


def strip(value: str) -> str:
    """A workload value without its padding."""
    return value.partition(" ")[0]


@dataclass
class MemberTranslator:
    """A group member's driver events as History events of ``process`` (stateful: it
    collects each batch's ``record_data`` lines until its ``records_consumed``)."""

    process: str
    topic: str | None = None
    protocol: str = "classic-eager"
    generation: int = 0              # this incarnation's count of assignments
    batch: list[dict] = field(default_factory=list)

    def __call__(self, ev: dict, mono: float, wall: float) -> Event | None:
        name = ev["name"]

        def event(type: str, phase: str = "ok", **detail: Any) -> Event:
            return Event(process=self.process, type=type, phase=phase, mono=mono, wall=wall,
                         topic=self.topic if type == "poll" else None, detail=detail)

        if name == "startup_complete":
            return event("member", "start", client=ev.get("client"), version=ev.get("version"))
        if name == "shutdown_complete":
            return event("member", "stop")
        if name == "partitions_assigned":
            self.generation += 1
            return event("assigned", partitions=parts(ev["partitions"]), generation=self.generation,
                         protocol=self.protocol)
        if name == "partitions_revoked":
            return event("revoked", partitions=parts(ev["partitions"]), **({"lost": True} if ev.get("lost") else {}))
        if name == "record_data":
            self.batch.append(ev)
            return None
        if name == "records_consumed":
            records, self.batch = self.batch, []
            return event("poll", records=[{"partition": r["partition"], "offset": r["offset"],
                                           "value": strip(r["value"])} for r in records])
        if name == "offsets_commit_started":
            return event("commit", "invoke", offsets=offsets_map(ev["offsets"]),
                         **({"async": True} if ev.get("async") else {}))
        if name == "offsets_committed":
            # A failed commit is never taken as "not applied": clients retry commits by
            # themselves, and an attempt whose answer was lost may have applied before the
            # last one was refused (seen with franz-go: UNKNOWN_MEMBER_ID after a reset).
            phase = "ok" if ev["success"] else "info"
            detail: dict[str, Any] = {"offsets": offsets_map(ev["offsets"])}
            if ev.get("auto"):
                detail["auto"] = True
            if ev.get("error"):
                detail["error"] = ev["error"]
            return event("commit", phase, **detail)
        if name == "stalled":
            return event("member", "stall", seconds=ev.get("ms", 0) / 1000)
        if name == "resumed":
            return event("member", "resume")
        # Pausing partitions and changing the subscription are the member's own doing; what
        # they change in ownership comes as revoked/assigned events.
        if name == "partitions_paused":
            return event("member", "pause-partitions", partitions=parts(ev["partitions"]),
                         **({"seconds": ev["ms"] / 1000} if isinstance(ev.get("ms"), (int, float)) else {}))
        if name == "partitions_resumed":
            return event("member", "resume-partitions", partitions=parts(ev["partitions"]))
        if name == "resubscribed":
            return event("member", "resubscribe")
        if name in ("startup_failed", "error"):
            return event("member", "error", message=ev.get("message"))
        return None


def check_stream(events: list[dict], *, role: str, sent: dict[int, dict] | None = None) -> list[str]:
    """The protocol's ordering rules (docs/driver-protocol.md) on one driver's events.
    `sent` maps each send id to the command sent, for the producer rules. Returns violations."""
    out: list[str] = []
    if not events:
        return ["no events at all"]
    first = events[0]["name"]
    if first not in ("startup_complete", "startup_failed"):
        out.append(f"rule 1: first event is {first}, not startup_complete")
    trailing = ("tool_data", "shutdown_requested")      # verifiable clients print these last
    last = max((i for i, ev in enumerate(events) if ev["name"] not in trailing), default=0)
    for i, ev in enumerate(events):
        if ev["name"] == "shutdown_complete" and i != last:
            out.append(f"rule 1: shutdown_complete at {i} is not the last event")
    if role == "producer":
        out += _check_sends(events, sent or {})
    out += _check_batches(events)
    out += _check_reads(events, role)
    out += _check_commits(events)
    return out


def _check_sends(events: list[dict], sent: dict[int, dict]) -> list[str]:
    out: list[str] = []
    outcomes: dict[int, int] = {}
    offsets: dict[tuple, int] = {}
    for ev in events:
        if ev["name"] not in ("producer_send_success", "producer_send_error"):
            continue
        if "id" not in ev:
            if sent:
                out.append("rule 2: an outcome without the id of its send")
            continue
        i = ev["id"]
        outcomes[i] = outcomes.get(i, 0) + 1
        cmd = sent.get(i)
        if cmd is None:
            out.append(f"rule 2: outcome for id {i}, which was never sent")
            continue
        if ev["topic"] != cmd["topic"] or ev["value"] != cmd["value"]:
            out.append(f"rule 2: outcome for id {i} names another topic or value")
        if ev["name"] == "producer_send_success":
            if not isinstance(ev["offset"], int) or ev["offset"] < -1 or not isinstance(ev["partition"], int):
                out.append(f"rule 2: success for id {i} without a partition and offset")
                continue
            if cmd.get("partition") is not None and ev["partition"] != cmd["partition"]:
                out.append(f"rule 2: id {i} was sent to partition {cmd['partition']}, acknowledged on {ev['partition']}")
            where = (ev["partition"], ev["offset"])
            if where in offsets:
                out.append(f"rule 3: ids {offsets[where]} and {i} both acknowledged at {where}")
            offsets[where] = i
    for i in sent:
        n = outcomes.get(i, 0)
        if n != 1:
            out.append(f"rule 2: id {i} got {n} outcomes")
    return out


def _check_batches(events: list[dict]) -> list[str]:
    out: list[str] = []
    batch: list[dict] = []
    for ev in events:
        if ev["name"] == "record_data":
            batch.append(ev)
        elif ev["name"] == "records_consumed":
            if ev["count"] != len(batch):
                out.append(f"rule 4: records_consumed says {ev['count']}, {len(batch)} record_data came before it")
            for p in ev["partitions"]:
                mine = [r["offset"] for r in batch if (r["topic"], r["partition"]) == (p["topic"], p["partition"])]
                if mine and (min(mine), max(mine), len(mine)) != (p.get("minOffset"), p.get("maxOffset"), p.get("count")):
                    out.append(f"rule 4: summary of {p['topic']}/{p['partition']} does not match its records")
            batch = []
    if batch:
        out.append(f"rule 4: {len(batch)} record_data without a records_consumed")
    return out


def _check_reads(events: list[dict], role: str) -> list[str]:
    out: list[str] = []
    held: set[tuple] = set()
    paused: set[tuple] = set()       # paused and not since resumed, re-assigned or revoked
    last: dict[tuple, int] = {}
    for ev in events:
        name = ev["name"]
        tps = [(p["topic"], p["partition"]) for p in ev.get("partitions", ())] \
            if name in ("partitions_assigned", "partitions_revoked", "partitions_paused", "partitions_resumed") else ()
        if name == "partitions_assigned":
            held.update(tps)
            paused.difference_update(tps)
            for tp in tps:
                last.pop(tp, None)
        elif name in ("partitions_revoked", "partitions_resumed"):
            paused.difference_update(tps)
            if name == "partitions_revoked":
                held.difference_update(tps)
        elif name == "partitions_paused":
            paused.update(tps)
        elif name == "record_data":
            tp = (ev["topic"], ev["partition"])
            if role in ("member", "consumer") and tp not in held:
                out.append(f"rule 6: read {tp[0]}/{tp[1]}@{ev['offset']} without holding it")
            if tp in paused:
                out.append(f"rule 9: read {tp[0]}/{tp[1]}@{ev['offset']} while it was paused")
            if tp in last and ev["offset"] <= last[tp]:
                out.append(f"rule 5: {tp[0]}/{tp[1]} offset {ev['offset']} after {last[tp]}")
            last[tp] = ev["offset"]
    return out


def _check_commits(events: list[dict]) -> list[str]:
    out: list[str] = []
    open_ = 0
    if not any(ev["name"] == "offsets_commit_started" for ev in events):
        return out                   # a verifiable client: it does not announce commits
    for ev in events:
        if ev["name"] == "offsets_commit_started":
            open_ += 1
        elif ev["name"] == "offsets_committed" and not ev.get("auto"):
            if open_ == 0:
                out.append("rule 7: offsets_committed without offsets_commit_started")
            else:
                open_ -= 1
    if open_ and any(ev["name"] == "shutdown_complete" for ev in events):
        out.append(f"rule 7: {open_} commit(s) started and never completed")
    return out
