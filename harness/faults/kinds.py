"""The fault kinds: plain, frozen values that say what to break; the nemesis applies them.

Recoverable faults (``Toxic``, ``Down``, ``Isolate``, ``Split``, ``Pause``) have an end: the
nemesis heals them. One-off faults (``Kill``, ``Terminate``, ``Restart``, ``Bounce``) happen
once; ``heal_all()`` restarts whatever they left down. Targets and link selectors are strings
(see :mod:`harness.faults.targets`) checked when the fault is made and resolved when applied.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from harness.errors import UsageError
from harness.faults.targets import check_links, check_target
from harness.toxiproxy.client import check_toxic

from harness.vocab.faults import CUTS, SPLIT_CUTS, STREAMS, TRUE_CUTS  # noqa: F401 (re-exported)


@dataclass(frozen=True)
class Fault:
    """Base of all fault kinds."""

    recoverable = False

    @property
    def kind(self) -> str:
        return type(self).__name__.lower()

    def describe(self) -> dict[str, Any]:
        return {"fault": self.kind, **{k: v for k, v in asdict(self).items() if v not in (None, {}, ())}}


@dataclass(frozen=True)
class Toxic(Fault):
    """A toxiproxy toxic on every link ``links`` selects.

    ``type`` is one of latency, bandwidth, timeout, reset_peer, slicer, limit_data, slow_close;
    ``stream`` is downstream (responses), upstream (requests) or both.
    Example: ``Toxic("latency", "client->leader:t/0", {"latency": 500, "jitter": 50})``.
    """

    type: str
    links: str
    attributes: dict[str, int] = field(default_factory=dict)
    stream: str = "downstream"
    recoverable = True

    def __post_init__(self) -> None:
        if self.stream not in STREAMS:
            raise UsageError(f"toxic stream {self.stream!r}: expected one of {', '.join(STREAMS)}")
        check_toxic(self.type, stream="downstream", toxicity=1.0, attributes=self.attributes)
        check_links(self.links)


@dataclass(frozen=True)
class Down(Fault):
    """Disable the proxies of the selected links: connections close and new ones are refused."""

    links: str
    recoverable = True

    def __post_init__(self) -> None:
        check_links(self.links)


@dataclass(frozen=True)
class Isolate(Fault):
    """Cut ``target`` off from every other node (and from clients unless ``clients=False``).

    ``cut="blackhole"`` drops all bytes both ways on open and new connections (a partition as
    a network sees it); ``cut="down"`` closes connections and refuses new ones. True
    partitions (docker provider): ``cut="drop"`` drops every packet between the target and
    the others (iptables in their network namespaces); ``cut="disconnect"`` takes the target's
    container off the network (clients lose it too).
    """

    target: str
    clients: bool = True
    cut: str = "blackhole"
    recoverable = True

    def __post_init__(self) -> None:
        check_target(self.target)
        if self.cut not in CUTS:
            raise UsageError(f"cut {self.cut!r}: expected one of {', '.join(CUTS)}")
        if self.cut == "disconnect" and not self.clients:
            raise UsageError("cut 'disconnect' takes the node off the network: clients=False is impossible")


@dataclass(frozen=True)
class Split(Fault):
    """Partition the nodes into ``side_a`` and ``side_b``: every node-to-node link between the
    sides is cut, both directions, replication and KRaft alike. Clients still reach every node.
    Nodes in neither side keep all their links. ``cut="drop"`` (docker provider) drops the
    packets between the sides with iptables instead of cutting proxies."""

    side_a: tuple[int, ...]
    side_b: tuple[int, ...]
    cut: str = "blackhole"
    recoverable = True

    def __post_init__(self) -> None:
        if not self.side_a or not self.side_b or set(self.side_a) & set(self.side_b):
            raise UsageError(f"split {list(self.side_a)}|{list(self.side_b)}: sides must be non-empty and disjoint")
        if self.cut not in SPLIT_CUTS:
            raise UsageError(f"cut {self.cut!r}: expected one of {', '.join(SPLIT_CUTS)}")


@dataclass(frozen=True)
class Pause(Fault):
    """SIGSTOP the target's JVM (docker: ``docker pause`` of its container); healing resumes it."""

    target: str
    recoverable = True

    def __post_init__(self) -> None:
        check_target(self.target)


@dataclass(frozen=True)
class Kill(Fault):
    """SIGKILL the target's JVM or container (no controlled shutdown). ``heal_all`` starts it again."""

    target: str

    def __post_init__(self) -> None:
        check_target(self.target)


@dataclass(frozen=True)
class Terminate(Fault):
    """SIGTERM the target's JVM (controlled shutdown). ``heal_all`` starts it again."""

    target: str

    def __post_init__(self) -> None:
        check_target(self.target)


@dataclass(frozen=True)
class Restart(Fault):
    """Stop the target (``clean``: SIGTERM, else SIGKILL) and start it again at once."""

    target: str
    clean: bool = False

    def __post_init__(self) -> None:
        check_target(self.target)


@dataclass(frozen=True)
class Bounce(Fault):
    """Rolling restart: each broker in turn is stopped cleanly, restarted, and the cluster
    waited on to be healthy before the next."""
