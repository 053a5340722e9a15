"""The spec model: what a YAML spec may say, validated into typed values (pydantic)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.spec.values import DurationRange, IntRange, parse_duration, parse_rate

ANOMALIES = (
    "lost-write", "unseen", "duplicate", "inconsistent-offsets", "nonmonotonic-send",
    "poll-skip", "nonmonotonic-poll", "int-poll-skip", "int-nonmonotonic-poll",
    "split-ownership", "orphaned-partition", "commit-regression", "resume-mismatch",
    "lost-on-rebalance", "redelivery", "unrevoked-read",
    "send-hang", "unacknowledged-send", "failed-send", "rebalance",
)
Anomaly = Literal[ANOMALIES]  # type: ignore[valid-type]
Expectation = Literal["forbidden", "allowed", "required"]

TARGETS = ("leader", "controller", "coordinator", "random")
PROCESS_FAULTS = ("kill", "terminate", "pause", "restart", "isolate")
TOXICS = ("latency", "bandwidth", "timeout", "reset_peer", "slicer", "limit_data", "down")
CUTS = ("blackhole", "down", "drop", "disconnect")
TRUE_CUTS = ("drop", "disconnect")    # true partitions: the docker provider only


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _target(value: str) -> str:
    import re

    if value in TARGETS or re.fullmatch(r"node:\d+", value):
        return value
    raise ValueError(f"{value!r} is not a target: one of {', '.join(TARGETS)} or node:N")


class ClusterSpec(_Strict):
    brokers: int = Field(3, ge=1, le=9)
    controllers: Literal[0, 1, 3, 5] = 0


class TopicSpec(_Strict):
    partitions: int = Field(3, ge=1, le=64)
    replication_factor: int = Field(3, ge=1, le=9)
    config: dict[str, str | int | bool] = {}


class ClientSpec(_Strict):
    """A client role: its library config, how long a send may block on a full buffer
    (``max_block``, the Java client's ``max.block.ms``), and an optional bootstrap order."""

    config: dict[str, str | int | float | bool] = {}
    max_block: float = 10.0
    bootstrap: list[str] | None = None

    @field_validator("max_block", mode="before")
    @classmethod
    def _block(cls, v: Any) -> float:
        return parse_duration(v)

    @field_validator("bootstrap")
    @classmethod
    def _nodes(cls, v: list[str] | None) -> list[str] | None:
        import re

        for item in v or []:
            if not re.fullmatch(r"node:\d+", item):
                raise ValueError(f"{item!r} is not a node: bootstrap lists node:N entries")
        return v


class WorkloadSpec(_Strict):
    messages: IntRange = IntRange(100, 100)
    rate: float | None = None
    producers: IntRange = IntRange(1, 1)
    consumers: IntRange = IntRange(0, 0)
    keys: IntRange | None = None
    value_bytes: int = Field(32, ge=8, le=1_000_000)

    @field_validator("messages", "producers", "consumers", "keys", mode="before")
    @classmethod
    def _range(cls, v: Any) -> Any:
        return v if v is None or isinstance(v, IntRange) else IntRange.parse(v)

    @field_validator("rate", mode="before")
    @classmethod
    def _rate(cls, v: Any) -> Any:
        return None if v is None else parse_rate(v)


MEMBER_ACTIONS = ("join", "leave", "crash", "stall", "pause", "bounce")


class GroupSpec(_Strict):
    """Consumer-group members as processes, and the membership changes drawn for them.

    ``actions`` is a menu like the fault menu: each pick is one action at a drawn time on a
    drawn member (``stall`` and ``pause`` last ``for``)."""

    members: IntRange = IntRange(2, 2)
    mode: Literal["commit-after-process", "commit-async", "auto-commit"] = "commit-after-process"
    protocol: Literal["classic-eager", "classic-cooperative", "consumer"] = "classic-eager"
    process_ms: int = Field(2, ge=0, le=10_000)
    static: bool = False
    config: dict[str, str | int | float | bool] = {}
    actions: list[Literal[MEMBER_ACTIONS]] = []  # type: ignore[valid-type]
    pick: IntRange = IntRange(0, 0)
    duration: DurationRange = Field(DurationRange(2.0, 2.0), alias="for")

    @field_validator("members", "pick", mode="before")
    @classmethod
    def _range(cls, v: Any) -> Any:
        return v if isinstance(v, IntRange) else IntRange.parse(v)

    @field_validator("duration", mode="before")
    @classmethod
    def _dur(cls, v: Any) -> Any:
        return v if isinstance(v, DurationRange) else DurationRange.parse(v)

    @model_validator(mode="after")
    def _menu(self) -> "GroupSpec":
        if self.pick.high and not self.actions:
            raise ValueError("pick needs a menu of actions (join, leave, crash, stall, pause)")
        return self


class FaultChoice(_Strict):
    """One entry of a fault menu: a process/shape fault on a target, or a toxic on a link.

    ``{kill: leader}``, ``{pause: leader, for: 1s..5s}``, ``{isolate: controller, for: 2s..8s}``,
    ``{toxic: reset_peer, link: client->leader}``, ``{toxic: latency, link: clients,
    attributes: {latency: 500}, for: 3s}``, ``{isolate: leader, cut: drop, for: 5s}``.

    ``cut`` (isolate only) says how: ``blackhole`` (default) and ``down`` through the link
    proxies, on every provider; ``drop`` (iptables in the nodes' network namespaces) and
    ``disconnect`` (off the docker network) are true partitions, docker only.
    """

    kill: str | None = None
    terminate: str | None = None
    pause: str | None = None
    restart: str | None = None
    isolate: str | None = None
    cut: Literal[CUTS] | None = None  # type: ignore[valid-type]
    toxic: Literal[TOXICS] | None = None  # type: ignore[valid-type]
    link: str | None = None
    stream: Literal["downstream", "upstream", "both"] = "downstream"
    attributes: dict[str, int] = {}
    duration: DurationRange | None = Field(None, alias="for")

    @field_validator("kill", "terminate", "pause", "restart", "isolate")
    @classmethod
    def _targets(cls, v: str | None) -> str | None:
        return None if v is None else _target(v)

    @field_validator("duration", mode="before")
    @classmethod
    def _dur(cls, v: Any) -> Any:
        return None if v is None or isinstance(v, DurationRange) else DurationRange.parse(v)

    @model_validator(mode="after")
    def _one_kind(self) -> "FaultChoice":
        kinds = [k for k in (*PROCESS_FAULTS, "toxic") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"a fault names exactly one of {', '.join((*PROCESS_FAULTS, 'toxic'))}"
                             f" (found {', '.join(kinds) or 'none'})")
        if self.toxic and not self.link:
            raise ValueError("a toxic needs a link, e.g. link: client->leader")
        if not self.toxic and (self.link or self.attributes):
            raise ValueError("link and attributes belong to toxics only")
        if self.cut is not None and self.isolate is None:
            raise ValueError("cut belongs to isolate only")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in (*PROCESS_FAULTS, "toxic") if getattr(self, k) is not None)


class TimedFault(FaultChoice):
    """A fault of a fixed timeline: ``{at: 2s, kill: leader}``."""

    at: float = 0.0

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, v: Any) -> float:
        return parse_duration(v)


class FaultMenu(_Strict):
    pick: IntRange = IntRange(1, 1)
    from_: list[FaultChoice] = Field(alias="from", min_length=1)

    @field_validator("pick", mode="before")
    @classmethod
    def _pick(cls, v: Any) -> Any:
        return v if isinstance(v, IntRange) else IntRange.parse(v)


class ClientExpect(_Strict):
    """A client whose design makes a promise differ: its own expectations, and why."""

    expect: dict[Anomaly, Expectation] = Field(min_length=1)  # type: ignore[valid-type]
    why: str = Field(min_length=3)


class Spec(_Strict):
    """A semantic promise, the world it is tested in, and what must (not) be observed."""

    title: str = Field(min_length=3)
    covers: list[str] = []
    cluster: ClusterSpec = ClusterSpec()
    topic: TopicSpec = TopicSpec()
    producer: ClientSpec = ClientSpec()
    consumer: ClientSpec = ClientSpec()
    workload: WorkloadSpec = WorkloadSpec()
    group: GroupSpec | None = None
    faults: FaultMenu | None = None
    timeline: list[TimedFault] | None = None
    expect: dict[Anomaly, Expectation] = Field(min_length=1)  # type: ignore[valid-type]
    clients: dict[str, ClientExpect] = {}     # client name -> expectations replacing some of expect

    def for_client(self, name: str) -> tuple["Spec", str | None]:
        """This spec as it applies to client `name` (``NAME`` or ``NAME@VERSION``), and why
        it differs (None if it does not)."""
        own = self.clients.get(name.partition("@")[0])
        if own is None:
            return self, None
        return self.model_copy(update={"expect": {**self.expect, **own.expect}}), own.why

    def providers(self) -> tuple[str, ...]:
        """The cluster providers that can run this spec (true partitions need docker)."""
        choices = [*(self.timeline or ()), *(self.faults.from_ if self.faults else ())]
        return ("docker",) if any(c.cut in TRUE_CUTS for c in choices) else ("local", "docker")

    @model_validator(mode="after")
    def _coherent(self) -> "Spec":
        if self.faults is not None and self.timeline is not None:
            raise ValueError("give either a fault menu (faults) or a fixed timeline, not both")
        if self.topic.replication_factor > self.cluster.brokers:
            raise ValueError(f"topic.replication_factor {self.topic.replication_factor} exceeds "
                             f"cluster.brokers {self.cluster.brokers}")
        return self
