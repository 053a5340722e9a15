"""A Plan: one example's concrete workload, fault schedule and reader actions, drawn from a spec.

Plain, typed data (JSON round-trip), so that it can be shrunk by hypothesis, saved in a
counterexample and replayed. Everything a spec leaves open is decided here: ranges are drawn
values, ``random`` is a node, ``leader`` and ``follower`` name a drawn partition (and which of
its followers). ``attempt`` tells repeated runs of an otherwise equal plan apart: runs against
a real cluster are not deterministic, so a fixed timeline is worth running more than once.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class FaultStep:
    """One concrete fault, as the spec named it (words are resolved when it applies)."""

    kind: str                                   # see harness.vocab.faults.FAULT_KINDS
    target: str | None = None                   # a target word or node:N (kill, pause, ...)
    link: str | None = None                     # a link selector with words (toxic)
    toxic: str | None = None                    # toxic type or "down"
    attributes: tuple[tuple[str, int], ...] = ()  # drawn toxic attribute values
    stream: str = "downstream"
    cut: str | None = None
    sides: tuple[tuple[int, ...], tuple[int, ...]] | None = None   # split
    clean: bool = False                         # restart: SIGTERM rather than SIGKILL

    def describe(self) -> str:
        if self.kind == "toxic":
            attrs = ", ".join(f"{k}: {v}" for k, v in self.attributes)
            extra = f" {{{attrs}}}" if attrs else ""
            stream = f" ({self.stream})" if self.stream != "downstream" else ""
            return f"{self.toxic} on {self.link}{extra}{stream}"
        if self.kind == "split":
            return f"split {','.join(map(str, self.sides[0]))}|{','.join(map(str, self.sides[1]))}" + \
                (f" ({self.cut})" if self.cut else "")
        if self.kind == "bounce":
            return "bounce brokers"
        return f"{self.kind} {self.target}" + (f" ({self.cut})" if self.cut else "")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FaultStep":
        data = dict(data)
        data["attributes"] = tuple((k, v) for k, v in data.get("attributes", ()))
        if data.get("sides") is not None:
            data["sides"] = tuple(tuple(s) for s in data["sides"])
        return cls(**data)


@dataclass(frozen=True)
class PlannedFault:
    at: float                        # seconds after the workload starts
    steps: tuple[FaultStep, ...]     # one fault, or several applied together
    duration: float | None = None    # seconds until the lasting steps are healed
    partition: int = 0               # the partition whose leader/follower the words mean
    node: int | None = None          # the node "random" means
    follower: int = 0                # which in-sync follower "follower" means (modulo)

    def describe(self) -> str:
        what = " + ".join(s.describe() for s in self.steps)
        extra = f" for {self.duration:g}s" if self.duration else ""
        return f"at {self.at:g}s {what}{extra}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PlannedFault":
        data = dict(data)
        data["steps"] = tuple(FaultStep.from_dict(s) for s in data["steps"])
        return cls(**data)


@dataclass(frozen=True)
class PlannedAction:
    """A reader action at a time: on a group member (join, leave, crash, stall, pause, bounce,
    pause-partitions, resubscribe) or on an assigned consumer (pause-partitions, resubscribe)."""

    at: float
    op: str
    reader: str = "member"            # member | consumer
    index: int = 0                    # which reader: among those alive at that moment (modulo)
    duration: float | None = None     # lasting actions

    def describe(self) -> str:
        extra = f" for {self.duration:g}s" if self.duration else ""
        return f"at {self.at:g}s {self.op} {self.reader} #{self.index}{extra}"


@dataclass(frozen=True)
class Plan:
    messages: int
    producers: int = 1
    consumers: int = 0
    rate: float | None = None        # messages per second, all producers together
    keys: int | None = None          # distinct keys (None: explicit round-robin partitions)
    value_bytes: int = 32
    faults: tuple[PlannedFault, ...] = ()
    attempt: int = 0
    members: int = 0                  # consumer-group members at the start (group specs)
    actions: tuple[PlannedAction, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Plan":
        data = dict(data)
        data["faults"] = tuple(PlannedFault.from_dict(f) for f in data.get("faults", ()))
        data["actions"] = tuple(PlannedAction(**a) for a in data.get("actions", ()))
        return cls(**data)

    def key(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def horizon(self) -> float:
        """Seconds the sends are expected to take."""
        return self.messages / self.rate if self.rate else self.messages / 2000

    def describe(self) -> str:
        faults = "; ".join([f.describe() for f in self.faults] + [a.describe() for a in self.actions]) \
            or "no faults"
        rate = f" at {self.rate:g}/s" if self.rate else ""
        return (f"{self.messages} messages{rate} from {self.producers} producer(s), "
                f"{self.consumers} consumer(s)"
                + (f", {self.members} group member(s)" if self.members else "") + f"; {faults}")
