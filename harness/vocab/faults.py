"""Fault words: the kinds a spec names, toxics with their attributes, cuts, streams, targets.

A fault kind acts on a *target* (a node, named by a word resolved when the fault applies), on
a *link* (a toxic), on two *sides* (a split) or on the whole cluster (a rolling bounce); it
either *lasts* (``for`` says how long, then it is healed) or happens once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Attribute:
    """A toxic attribute: its unit and the values toxiproxy (and kch) accept."""

    unit: str
    low: int = 0
    high: int = 3_600_000


# toxiproxy's toxics and their attributes (toxiproxy ignores unknown attributes silently,
# so kch knows them all). Times are milliseconds except slicer's delay (microseconds).
TOXICS: dict[str, dict[str, Attribute]] = {
    "latency": {"latency": Attribute("ms"), "jitter": Attribute("ms")},
    "bandwidth": {"rate": Attribute("KB/s", 0, 10_000_000)},
    "slow_close": {"delay": Attribute("ms")},
    "timeout": {"timeout": Attribute("ms")},
    "reset_peer": {"timeout": Attribute("ms")},
    "slicer": {"average_size": Attribute("bytes", 0, 1_000_000),
               "size_variation": Attribute("bytes", 0, 1_000_000),
               "delay": Attribute("us", 0, 60_000_000)},
    "limit_data": {"bytes": Attribute("bytes", 0, 1_000_000_000)},
}
DOWN = "down"                         # not a toxic: the link's proxies disabled
LINK_FAULTS = (*TOXICS, DOWN)         # what `toxic:` may name in a spec
STREAMS = ("downstream", "upstream", "both")

PROXY_CUTS = ("blackhole", "down")    # through the link proxies: every provider
TRUE_CUTS = ("drop", "disconnect")    # iptables / off the network: the docker provider
CUTS = PROXY_CUTS + TRUE_CUTS
SPLIT_CUTS = PROXY_CUTS + ("drop",)   # a split has no `disconnect` (it is per node)

# Words a spec uses for a node, resolved when the fault applies (or, for random, when drawn):
# the leader of a partition the plan draws, one of its in-sync followers, the active
# controller, the group's coordinator, a node drawn at random; or node:N.
TARGET_WORDS = ("leader", "follower", "controller", "coordinator", "random")


@dataclass(frozen=True)
class FaultKind:
    name: str
    subject: str       # target | link | sides | cluster
    lasting: bool      # healed after `for` (else one-off; heal_all restarts what it left down)
    doc: str


FAULT_KINDS: dict[str, FaultKind] = {k.name: k for k in (
    FaultKind("kill", "target", False, "SIGKILL the node (heal_all starts it again)"),
    FaultKind("terminate", "target", False, "SIGTERM the node: a controlled shutdown"),
    FaultKind("restart", "target", False, "kill the node and start it again at once"),
    FaultKind("pause", "target", True, "SIGSTOP the node; healing resumes it"),
    FaultKind("isolate", "target", True, "cut the node off from every other node and from clients"),
    FaultKind("toxic", "link", True, "a toxiproxy toxic (or down) on the links a selector names"),
    FaultKind("split", "sides", True, "cut every node-to-node link between two sides"),
    FaultKind("bounce", "cluster", False, "rolling restart: each broker in turn, cleanly"),
)}
DEFAULT_FOR = 3.0          # seconds a lasting fault holds when the spec gives no `for`
