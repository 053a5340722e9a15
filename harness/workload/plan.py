"""A Plan: one example's concrete workload and fault schedule, drawn from a spec.

Plain data (JSON round-trip), so that it can be shrunk by hypothesis, saved in a
counterexample and replayed. ``attempt`` tells repeated runs of an otherwise equal plan
apart: runs against a real cluster are not deterministic, so a fixed timeline is worth
running more than once.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class PlannedFault:
    at: float                        # seconds after the workload starts
    choice: dict[str, Any]           # the spec's fault entry, e.g. {"kill": "leader"}
    duration: float | None = None    # seconds until healed (recoverable faults)
    partition: int = 0               # the partition whose leader "leader" means
    node: int | None = None          # the node "random" means

    def describe(self) -> str:
        what = ", ".join(f"{k}: {v}" for k, v in self.choice.items() if k != "for")
        extra = f" for {self.duration:g}s" if self.duration else ""
        return f"at {self.at:g}s {{{what}}}{extra}"


@dataclass(frozen=True)
class PlannedAction:
    """A membership change of a consumer group at a time: join, leave, crash, stall, pause."""

    at: float
    op: str
    member: int = 0                   # index into the members alive at that moment (modulo)
    duration: float | None = None     # stall and pause

    def describe(self) -> str:
        extra = f" for {self.duration:g}s" if self.duration else ""
        return f"at {self.at:g}s {self.op} member #{self.member}{extra}"


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
    actions: tuple[PlannedAction, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["faults"] = [asdict(f) for f in self.faults]
        data["actions"] = [asdict(a) for a in self.actions]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Plan":
        data = dict(data)
        data["faults"] = tuple(PlannedFault(**f) for f in data.get("faults", ()))
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


