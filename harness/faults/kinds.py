"""The fault kinds: frozen values that say what to break, and apply themselves.

Recoverable faults (``Toxic``, ``Down``, ``Isolate``, ``Split``, ``Pause``) have an end: the
nemesis heals them. One-off faults (``Kill``, ``Terminate``, ``Restart``, ``Bounce``) happen
once; ``heal_all()`` restarts whatever they left down. Targets and link selectors are strings
(see :mod:`harness.faults.targets`) checked when the fault is made and resolved when applied.

Each kind a spec names (:data:`harness.vocab.faults.FAULT_KINDS`) has its class in
:data:`KINDS`, registered with :func:`fault_kind`. A class builds itself from a plan's step
(``from_step``) and applies itself (``apply``: what it resolved, for the History, and what
undoes it, None if it happens once). A new kind that acts on a target is a subclass of
:class:`Targeted` with an ``apply``; the spec model, the planner and the runner need nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from harness.errors import FaultError, UsageError
from harness.faults.links import BOTH_WAYS, add_toxics, cut_links, disable_links, true_cut
from harness.faults.targets import check_links, check_target, resolve_links, resolve_target
from harness.toxiproxy.client import check_toxic
from harness.vocab.faults import CUTS, DOWN, FAULT_KINDS, SPLIT_CUTS, STREAMS, TRUE_CUTS

if TYPE_CHECKING:
    from harness.faults.nemesis import Nemesis
    from harness.plan.plan import FaultStep

Undo = Callable[[], None]
Applied = tuple[dict[str, Any], Undo | None]   # the resolved detail, and the undo (None: one-off)
Words = Callable[[str], str]                   # a spec word to a nemesis target

KINDS: dict[str, type[Fault]] = {}           # a spec's fault kind -> its class


def fault_kind(name: str):
    """Register the decorated class as the fault kind ``name`` of the vocabulary: the History
    names its faults ``name``, and they are recoverable if the kind lasts."""
    if name not in FAULT_KINDS:
        raise ValueError(f"fault kind {name!r} is not in harness.vocab.faults.FAULT_KINDS")

    def register(cls: type[Fault]) -> type[Fault]:
        cls.word, cls.recoverable = name, FAULT_KINDS[name].lasting
        KINDS[name] = cls
        return cls

    return register


@dataclass(frozen=True)
class Fault:
    """Base of all fault kinds."""

    recoverable = False
    word = ""              # the vocabulary's word for the kind (set by fault_kind)

    @property
    def kind(self) -> str:
        """What the History's ``fault`` events call it (``toxic: down`` makes a ``down``)."""
        return self.word or type(self).__name__.lower()

    def describe(self) -> dict[str, Any]:
        return {"fault": self.kind, **{k: v for k, v in asdict(self).items() if v not in (None, {}, ())}}

    @classmethod
    def from_step(cls, step: FaultStep, target: Words) -> Fault:
        """The fault a plan's step means; ``target`` turns its words into targets (its link
        selector comes with its words already turned)."""
        return cls()

    def apply(self, nemesis: Nemesis, fid: int) -> Applied:
        """Break it now (``fid`` is its id in the History)."""
        raise FaultError(f"fault {self!r} does not apply itself")


@dataclass(frozen=True)
class Targeted(Fault):
    """A fault on one node, named by a target (``node:2``, ``leader:t/0``, ...)."""

    target: str

    def __post_init__(self) -> None:
        check_target(self.target)

    @classmethod
    def from_step(cls, step: FaultStep, target: Words) -> Fault:
        return cls(target(step.target))

    def node(self, nemesis: Nemesis) -> int:
        """The node the target names now."""
        return resolve_target(nemesis.cluster, self.target)


# --- links -------------------------------------------------------------------------------------
@fault_kind("toxic")
@dataclass(frozen=True)
class Toxic(Fault):
    """A toxiproxy toxic on every link ``links`` selects.

    ``type`` is one of latency, bandwidth, timeout, reset_peer, slicer, limit_data, slow_close;
    ``stream`` is downstream (responses), upstream (requests) or both.
    Example: ``Toxic("latency", "client->leader:t/0", {"latency": 500, "jitter": 50})``.
    A spec's ``toxic: down`` is a :class:`Down`.
    """

    type: str
    links: str
    attributes: dict[str, int] = field(default_factory=dict)
    stream: str = "downstream"

    def __post_init__(self) -> None:
        if self.stream not in STREAMS:
            raise UsageError(f"toxic stream {self.stream!r}: expected one of {', '.join(STREAMS)}")
        check_toxic(self.type, stream="downstream", toxicity=1.0, attributes=self.attributes)
        check_links(self.links)

    @classmethod
    def from_step(cls, step: FaultStep, target: Words) -> Fault:
        if step.toxic == DOWN:
            return Down(step.link)
        return cls(step.toxic, step.link, dict(step.attributes), step.stream)

    def apply(self, nemesis: Nemesis, fid: int) -> Applied:
        links = resolve_links(nemesis.cluster, self.links)
        streams = BOTH_WAYS if self.stream == "both" else [self.stream]
        undo = add_toxics(nemesis.cluster, links, self.type, self.attributes, streams, fid)
        return {"links": [l.name for l in links]}, undo


@dataclass(frozen=True)
class Down(Fault):
    """Disable the proxies of the selected links: connections close and new ones are refused."""

    links: str
    recoverable = True

    def __post_init__(self) -> None:
        check_links(self.links)

    def apply(self, nemesis: Nemesis, fid: int) -> Applied:
        links = resolve_links(nemesis.cluster, self.links)
        return {"links": [l.name for l in links]}, disable_links(nemesis.cluster, links)


@fault_kind("isolate")
@dataclass(frozen=True)
class Isolate(Targeted):
    """Cut ``target`` off from every other node (and from clients unless ``clients=False``).

    ``cut="blackhole"`` drops all bytes both ways on open and new connections (a partition as
    a network sees it); ``cut="down"`` closes connections and refuses new ones. True
    partitions (docker provider): ``cut="drop"`` drops every packet between the target and
    the others (iptables in their network namespaces); ``cut="disconnect"`` takes the target's
    container off the network (clients lose it too).
    """

    clients: bool = True
    cut: str = "blackhole"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.cut not in CUTS:
            raise UsageError(f"cut {self.cut!r}: expected one of {', '.join(CUTS)}")
        if self.cut == "disconnect" and not self.clients:
            raise UsageError("cut 'disconnect' takes the node off the network: clients=False is impossible")

    @classmethod
    def from_step(cls, step: FaultStep, target: Words) -> Fault:
        return cls(target(step.target), cut=step.cut or "blackhole")

    def apply(self, nemesis: Nemesis, fid: int) -> Applied:
        c = nemesis.cluster
        node = self.node(nemesis)
        if self.cut in TRUE_CUTS:
            others = [n.id for n in c.layout.nodes if n.id != node]
            pairs = [(node, o) for o in others] + ([(node, "clients")] if self.clients else [])
            return {"node": node, "cut": self.cut}, true_cut(c, self.cut, pairs, node)
        kinds = ("client", "replication", "controller") if self.clients else ("replication", "controller")
        links = c.layout.links_touching(node, kinds)
        return {"node": node, "links": [l.name for l in links]}, cut_links(c, links, self.cut, fid)


@fault_kind("split")
@dataclass(frozen=True)
class Split(Fault):
    """Partition the nodes into ``side_a`` and ``side_b``: every node-to-node link between the
    sides is cut, both directions, replication and KRaft alike. Clients still reach every node.
    Nodes in neither side keep all their links. ``cut="drop"`` (docker provider) drops the
    packets between the sides with iptables instead of cutting proxies."""

    side_a: tuple[int, ...]
    side_b: tuple[int, ...]
    cut: str = "blackhole"

    def __post_init__(self) -> None:
        if not self.side_a or not self.side_b or set(self.side_a) & set(self.side_b):
            raise UsageError(f"split {list(self.side_a)}|{list(self.side_b)}: sides must be non-empty and disjoint")
        if self.cut not in SPLIT_CUTS:
            raise UsageError(f"cut {self.cut!r}: expected one of {', '.join(SPLIT_CUTS)}")

    @classmethod
    def from_step(cls, step: FaultStep, target: Words) -> Fault:
        return cls(step.sides[0], step.sides[1], cut=step.cut or "blackhole")

    def apply(self, nemesis: Nemesis, fid: int) -> Applied:
        c = nemesis.cluster
        if self.cut in TRUE_CUTS:
            pairs = [(a, b) for a in self.side_a for b in self.side_b]
            return {"cut": self.cut}, true_cut(c, self.cut, pairs, None)
        links = c.layout.links_between(self.side_a, self.side_b)
        if not links:
            raise FaultError(f"split {list(self.side_a)}|{list(self.side_b)} cuts no link of this cluster")
        return {"links": [l.name for l in links]}, cut_links(c, links, self.cut, fid)


# --- nodes -------------------------------------------------------------------------------------
@fault_kind("pause")
@dataclass(frozen=True)
class Pause(Targeted):
    """SIGSTOP the target's JVM (docker: ``docker pause`` of its container); healing resumes it."""

    def apply(self, nemesis: Nemesis, fid: int) -> Applied:
        c, node = nemesis.cluster, self.node(nemesis)
        c.pause(node)
        return {"node": node}, lambda: c.resume(node)


@fault_kind("kill")
@dataclass(frozen=True)
class Kill(Targeted):
    """SIGKILL the target's JVM or container (no controlled shutdown). ``heal_all`` starts it again."""

    def apply(self, nemesis: Nemesis, fid: int) -> Applied:
        node = self.node(nemesis)
        nemesis.cluster.kill(node)
        return {"node": node}, None


@fault_kind("terminate")
@dataclass(frozen=True)
class Terminate(Targeted):
    """SIGTERM the target's JVM (controlled shutdown). ``heal_all`` starts it again."""

    def apply(self, nemesis: Nemesis, fid: int) -> Applied:
        node = self.node(nemesis)
        nemesis.cluster.terminate(node)
        return {"node": node}, None


@fault_kind("restart")
@dataclass(frozen=True)
class Restart(Targeted):
    """Stop the target (``clean``: SIGTERM, else SIGKILL) and start it again at once."""

    clean: bool = False

    @classmethod
    def from_step(cls, step: FaultStep, target: Words) -> Fault:
        return cls(target(step.target), clean=step.clean)

    def apply(self, nemesis: Nemesis, fid: int) -> Applied:
        c, node = nemesis.cluster, self.node(nemesis)
        c.terminate(node) if self.clean else c.kill(node)
        c.start_node(node)
        return {"node": node}, None


@fault_kind("bounce")
@dataclass(frozen=True)
class Bounce(Fault):
    """Rolling restart: each broker in turn is stopped cleanly, restarted, and the cluster
    waited on to be healthy before the next."""

    def apply(self, nemesis: Nemesis, fid: int) -> Applied:
        c = nemesis.cluster
        order = [n.id for n in c.layout.brokers]
        for node in order:
            c.terminate(node)
            c.start_node(node)
            c.wait_healthy(timeout=90)
        return {"nodes": order}, None
