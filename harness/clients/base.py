"""The client adapter interface: what the runner needs from a Kafka client library.

Kept small on purpose so that other clients (in-process or out-of-process drivers) fit it:
a producer sends one record and reports its outcome through a callback; a consumer is
assigned partitions and returns batches of records. Outcomes are typed as in the History:
``ok`` (acknowledged, with partition and offset), ``fail`` (definitely not written) or
``info`` (unknown: it may or may not have been written, e.g. a timeout).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

if TYPE_CHECKING:
    from harness.clients.driver import DriverProcess

OK, FAIL, INFO = "ok", "fail", "info"


@dataclass(frozen=True)
class Outcome:
    phase: str                 # ok | fail | info
    partition: int | None = None
    offset: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: str


class Rejected(Exception):
    """``send`` could not even enqueue the record within its block bound (a definite fail)."""


class Unsupported(Exception):
    """The client cannot do what a spec asks (a capability or a config key it lacks): the
    spec is ``skipped`` for it, never ``pass``."""


class Producer(Protocol):
    def send(self, topic: str, value: str, *, key: str | None, partition: int | None,
             done: Callable[[Outcome], None]) -> None:
        """Enqueue one record; ``done`` is called exactly once with its outcome (from
        :meth:`serve` or :meth:`flush`). Blocks at most the client's block bound while its
        buffer is full, then raises :class:`Rejected`."""

    def serve(self, timeout: float = 0.0) -> None:
        """Let the client run callbacks."""

    def flush(self, timeout: float) -> int:
        """Wait up to ``timeout`` for every outcome; return how many are still outstanding."""

    def close(self) -> None: ...


class Consumer(Protocol):
    def assign(self, topic: str, partitions: list[int], offsets: dict[int, int] | None = None) -> None:
        """Read ``partitions`` of ``topic`` (no group management), replacing any earlier
        assignment: each from its beginning, or from ``offsets[p]`` where ``offsets`` gives
        one (a re-assignment that resumes where the consumer was). None of them is paused."""

    def pause(self, topic: str, partitions: list[int]) -> None:
        """Stop fetching these assigned partitions (the client library's own pause) until
        :meth:`resume`; polling goes on for the others. No record the client reads after
        the pause took effect is returned for them (a driver may still hand over a batch it
        had read before: those came before its ``partitions_paused``)."""

    def resume(self, topic: str, partitions: list[int]) -> None:
        """Fetch these paused partitions again, from where they stopped."""

    def poll(self, timeout: float) -> list[Record]:
        """The next batch of records (possibly empty)."""

    def end_offsets(self, topic: str, partitions: list[int], timeout: float) -> dict[int, int]:
        """Each partition's high watermark now."""

    def close(self) -> None: ...


class Client(Protocol):
    """A client library: its name and version, what it can do, and factories for producers,
    consumers and (as driver processes) group members."""

    name: str
    version: str
    library: str
    capabilities: set[str]      # see harness.clients.manifest.CAPABILITIES
    dialect: str                # the config property names it takes: java | librdkafka
    log_path: "Path"            # where its drivers' stderr goes

    def driver(self, role: str, **kwargs) -> "DriverProcess":
        """A started-on-demand driver process for `role` (docs/driver-protocol.md)."""

    def producer(self, bootstrap: str, config: dict, *, block_s: float) -> Producer: ...

    def consumer(self, bootstrap: str, config: dict, *, group: str) -> Consumer: ...

    def send_bound(self, config: dict, block_s: float) -> float:
        """Seconds within which this client promises an outcome for a send, by its config."""
