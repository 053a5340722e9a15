"""Reader actions: what a timeline may do to the readers of an example (consumer-group
members, assigned consumers). Process signals act on a member's process; API actions go
through the client library's own consumer API."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReaderAction:
    name: str
    lasting: bool            # takes `for` (then it ends by itself or is undone)
    readers: tuple[str, ...]  # member | consumer
    via: str                 # process | api | runner
    doc: str


ACTIONS: dict[str, ReaderAction] = {a.name: a for a in (
    ReaderAction("join", False, ("member",), "runner", "start one more member"),
    ReaderAction("leave", False, ("member",), "api", "close a member cleanly (it leaves the group)"),
    ReaderAction("crash", False, ("member",), "process", "SIGKILL a member's process"),
    ReaderAction("bounce", False, ("member",), "process", "SIGKILL a member and start it again at once"),
    ReaderAction("stall", True, ("member",), "api", "a member stops polling for `for`"),
    ReaderAction("pause", True, ("member",), "process", "SIGSTOP a member's process for `for`"),
    ReaderAction("pause-partitions", True, ("member", "consumer"), "api",
                 "pause every partition the reader holds (client API) for `for`, polling on"),
    ReaderAction("resubscribe", False, ("member", "consumer"), "api",
                 "change the subscription: a member subscribes anew; an assigned consumer is "
                 "assigned its partitions again at its positions"),
)}
MEMBER_ACTIONS = tuple(ACTIONS)
CONSUMER_ACTIONS = tuple(n for n, a in ACTIONS.items() if "consumer" in a.readers)
DEFAULT_ACTION_FOR = 2.0
