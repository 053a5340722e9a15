"""The spec model: what a YAML spec may say, validated into typed values (pydantic).

Field-local rules live here (types, ranges, one fault kind per entry); rules that need the
whole spec (node numbers against the cluster, link selectors, toxic attributes, config keys,
``for`` only on lasting faults) live in :mod:`harness.spec.checks`, so that every rule names
the exact field it is about.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from harness.spec.values import Duration, DurationRange, Durations, IntRange, Range, Rate, range_up_to
from harness.vocab.actions import ACTIONS
from harness.vocab.anomalies import ANOMALIES, EXPECTATIONS
from harness.vocab.words import did_you_mean
from harness.vocab.faults import CUTS, FAULT_KINDS, LINK_FAULTS, STREAMS, TARGET_WORDS, TRUE_CUTS

Anomaly = Literal[ANOMALIES]  # type: ignore[valid-type]
Expectation = Literal[EXPECTATIONS]  # type: ignore[valid-type]
Action = Literal[tuple(ACTIONS)]  # type: ignore[valid-type]
Scalar = Union[str, int, float, bool]
TARGET_KINDS = tuple(k for k, v in FAULT_KINDS.items() if v.subject == "target")
MAX_BYTES_SENT = 2 * 1024**3      # an example writes at most this much (messages x value_bytes)
MAX_SEND_S = 3600.0               # and sends for at most an hour (messages / rate)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _target(value: str) -> str:
    if value in TARGET_WORDS or re.fullmatch(r"node:\d{1,3}", value):
        return value
    raise ValueError(f"{value!r} is not a target: one of {', '.join(TARGET_WORDS)} or node:N"
                     + did_you_mean(value, TARGET_WORDS))


class ClusterSpec(_Strict):
    brokers: int = Field(3, ge=1, le=9)
    controllers: Literal[0, 1, 3, 5] = 0
    config: dict[str, Scalar] = {}      # broker settings (server.properties), for every broker


class TopicSpec(_Strict):
    partitions: int = Field(3, ge=1, le=64)
    replication_factor: int = Field(3, ge=1, le=9)
    config: dict[str, Scalar] = {}


class ClientSpec(_Strict):
    """A client role: its library config (a value ``default`` leaves a setting at the
    client's own default), how long a send may block on a full buffer (``max_block``, the
    Java client's ``max.block.ms``), and an optional bootstrap order."""

    config: dict[str, Scalar] = {}
    max_block: Duration = 10.0
    bootstrap: list[str] | None = None

    @field_validator("bootstrap")
    @classmethod
    def _nodes(cls, v: list[str] | None) -> list[str] | None:
        for item in v or []:
            if not re.fullmatch(r"node:\d{1,3}", item):
                raise ValueError(f"{item!r} is not a node: bootstrap lists node:N entries")
        return v


class _Actions(_Strict):
    """A menu of reader actions: ``pick`` of them drawn, each at a drawn time on a drawn
    reader; lasting ones (stall, pause, pause-partitions) last ``for``."""

    actions: list[Action] = []  # type: ignore[valid-type]
    pick: Range = IntRange(0, 0)
    duration: Durations = Field(DurationRange(2.0, 2.0), alias="for")

    @model_validator(mode="after")
    def _menu(self) -> "_Actions":
        if self.pick.high and not self.actions:
            raise ValueError(f"pick needs a menu of actions ({', '.join(ACTIONS)})")
        return self


class ConsumerSpec(ClientSpec, _Actions):
    """The workload's assigned consumers: a client role, and actions drawn for them."""


class WorkloadSpec(_Strict):
    messages: range_up_to(1_000_000, "messages") = IntRange(100, 100)  # type: ignore[valid-type]
    rate: Rate | None = None
    producers: range_up_to(16, "producers") = IntRange(1, 1)  # type: ignore[valid-type]
    consumers: range_up_to(16, "consumers") = IntRange(0, 0)  # type: ignore[valid-type]
    keys: Range | None = None
    value_bytes: int = Field(32, ge=8, le=1_000_000)

    @model_validator(mode="after")
    def _bounds(self) -> "WorkloadSpec":
        if self.producers.low < 1:
            raise ValueError("producers: at least 1")
        if self.keys is not None and self.keys.low < 1:
            raise ValueError("keys: at least 1")
        if self.messages.high * self.value_bytes > MAX_BYTES_SENT:
            raise ValueError(f"messages x value_bytes is {self.messages.high * self.value_bytes} bytes: "
                             f"at most {MAX_BYTES_SENT} an example")
        if self.rate is not None and self.messages.high / self.rate > MAX_SEND_S:
            raise ValueError(f"messages / rate is {self.messages.high / self.rate:.0f} s of sending: "
                             f"at most {MAX_SEND_S:.0f} s an example")
        return self


class GroupSpec(_Actions):
    """Consumer-group members as processes, and the membership changes drawn for them."""

    members: range_up_to(16, "members") = IntRange(2, 2)  # type: ignore[valid-type]
    mode: Literal["commit-after-process", "commit-async", "auto-commit"] = "commit-after-process"
    protocol: Literal["classic-eager", "classic-cooperative", "consumer"] = "classic-eager"
    process_ms: int = Field(2, ge=0, le=10_000)
    static: bool = False
    config: dict[str, Scalar] = {}


Target = Annotated[str, AfterValidator(_target)]
# A field per fault kind that acts on a target (kill, pause, ...), made from the vocabulary:
# a new target kind in harness.vocab.faults is a spec field with no edit here.
TargetKinds = create_model("TargetKinds", __base__=_Strict, __module__=__name__,
                           **{kind: (Target | None, None) for kind in TARGET_KINDS})


class Fault(TargetKinds):  # type: ignore[misc,valid-type]
    """One fault: a kind with its subject, and its options.

    ``{kill: leader}``, ``{pause: follower, for: 1s..5s}``, ``{isolate: controller, cut: drop}``,
    ``{toxic: latency, link: clients, attributes: {latency: 100..500}}``,
    ``{split: 1|2,3, for: 3s}``, ``{bounce: brokers}``."""

    # The target kinds (kill, pause, ...) are fields of TargetKinds; the other kinds are here.
    toxic: Literal[LINK_FAULTS] | None = None  # type: ignore[valid-type]
    split: str | None = Field(None, pattern=r"^\s*\d{1,3}(\s*,\s*\d{1,3})*\s*\|\s*\d{1,3}(\s*,\s*\d{1,3})*\s*$",
                              description="two sides of node numbers, e.g. 1|2,3")
    bounce: Literal["brokers"] | None = None
    cut: Literal[CUTS] | None = None  # type: ignore[valid-type]
    link: str | None = Field(None, max_length=200)
    stream: Literal[STREAMS] = "downstream"  # type: ignore[valid-type]
    attributes: dict[str, Range] = {}
    clean: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> "Fault":
        kinds = [k for k in FAULT_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"a fault names exactly one of {', '.join(FAULT_KINDS)}"
                             f" (found {', '.join(kinds) or 'none'})")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in FAULT_KINDS if getattr(self, k) is not None)

    @property
    def lasting(self) -> bool:
        return FAULT_KINDS[self.kind].lasting

    @property
    def target(self) -> str | None:
        return getattr(self, self.kind) if FAULT_KINDS[self.kind].subject == "target" else None

    def sides(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        a, b = self.split.split("|")
        return (tuple(int(n) for n in a.split(",")), tuple(int(n) for n in b.split(",")))


class FaultChoice(Fault):
    """An entry of a fault menu or a timeline: one fault, or ``together`` (several faults
    applied at once, the lasting ones held for the entry's ``for``)."""

    together: list[Fault] | None = Field(None, min_length=2, max_length=8)
    duration: Durations | None = Field(None, alias="for")

    @model_validator(mode="after")
    def _one_kind(self) -> "FaultChoice":
        kinds = [k for k in FAULT_KINDS if getattr(self, k) is not None]
        if self.together is not None:
            if kinds:
                raise ValueError(f"together holds the faults; {kinds[0]} belongs inside it")
            return self
        return Fault._one_kind(self)

    @property
    def parts(self) -> list[Fault]:
        return list(self.together) if self.together is not None else [self]

    @property
    def kind(self) -> str:
        return "together" if self.together is not None else Fault.kind.fget(self)

    @property
    def lasting(self) -> bool:
        return any(FAULT_KINDS[p.kind].lasting for p in self.parts)


class TimedFault(FaultChoice):
    """A fault of a fixed timeline: ``{at: 2s, kill: leader}``."""

    at: Duration = 0.0


class FaultMenu(_Strict):
    pick: range_up_to(32, "faults an example") = IntRange(1, 1)  # type: ignore[valid-type]
    from_: list[FaultChoice] = Field(alias="from", min_length=1, max_length=64)


class ClientExpect(_Strict):
    """A client whose design makes a promise differ: its own expectations, and why."""

    expect: dict[Anomaly, Expectation] = Field(min_length=1)  # type: ignore[valid-type]
    why: str = Field(min_length=3)


class Spec(_Strict):
    """A semantic promise, the world it is tested in, and what must (not) be observed."""

    title: str = Field(min_length=3, max_length=500)
    covers: list[str] = Field([], max_length=64)
    cluster: ClusterSpec = ClusterSpec()
    topic: TopicSpec = TopicSpec()
    producer: ClientSpec = ClientSpec()
    consumer: ConsumerSpec = ConsumerSpec()
    workload: WorkloadSpec = WorkloadSpec()
    group: GroupSpec | None = None
    faults: FaultMenu | None = None
    timeline: list[TimedFault] | None = Field(None, max_length=64)
    expect: dict[Anomaly, Expectation] = Field(min_length=1)  # type: ignore[valid-type]
    clients: dict[str, ClientExpect] = {}     # client name -> expectations replacing some of expect

    def for_client(self, name: str) -> tuple["Spec", str | None]:
        """This spec as it applies to client `name` (``NAME`` or ``NAME@VERSION``), and why
        it differs (None if it does not)."""
        own = self.clients.get(name.partition("@")[0])
        if own is None:
            return self, None
        return self.model_copy(update={"expect": {**self.expect, **own.expect}}), own.why

    def choices(self) -> list[FaultChoice]:
        return [*(self.timeline or ()), *(self.faults.from_ if self.faults else ())]

    def providers(self) -> tuple[str, ...]:
        """The cluster providers that can run this spec (true partitions need docker)."""
        cuts = [p.cut for c in self.choices() for p in c.parts]
        return ("docker",) if any(c in TRUE_CUTS for c in cuts) else ("local", "docker")

    @model_validator(mode="after")
    def _coherent(self) -> "Spec":
        g = self.group
        if g is not None and self.workload.messages.high * g.process_ms / 1000 > MAX_SEND_S:
            raise ValueError(f"messages x group.process_ms is {self.workload.messages.high * g.process_ms / 1000:.0f} s "
                             f"of processing: at most {MAX_SEND_S:.0f} s an example")
        if self.faults is not None and self.timeline is not None:
            raise ValueError("give either a fault menu (faults) or a fixed timeline, not both")
        if self.topic.replication_factor > self.cluster.brokers:
            raise ValueError(f"topic.replication_factor {self.topic.replication_factor} exceeds "
                             f"cluster.brokers {self.cluster.brokers}")
        return self


def dump(value: Any) -> Any:
    """A model as plain data with the spec's own field names (``for``, ``from``)."""
    return value.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True)
