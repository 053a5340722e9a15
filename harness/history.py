"""The History: an append-only log of everything that happened in a run, stored as JSONL.

Client operations are recorded as an ``invoke`` followed by its completion (``ok``, ``fail``,
or ``info`` when the outcome is unknown). Faults are recorded by the nemesis as ``start`` and
``end`` events of type ``fault``. Every event carries a monotonic time (for ordering and
durations) and a wall-clock time (for reading logs side by side).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator


@dataclass(frozen=True)
class Event:
    process: str                 # "producer-0", "consumer-1", "nemesis", ...
    type: str                    # "send", "poll", "fault", "assigned", ...
    phase: str                   # invoke | ok | fail | info | start | end
    mono: float
    wall: float
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    key: str | None = None
    value: Any = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None and v != {}},
                          separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict) -> "Event":
        return cls(**data)


class History:
    """A thread-safe, append-only list of :class:`Event`.

    Example::

        history = History()
        history.record("nemesis", "fault", "start", detail={"fault": "kill", "node": 2})
        history.dump(Path("history.jsonl"))
    """

    def __init__(self, events: list[Event] | None = None) -> None:
        self._events: list[Event] = list(events or [])
        self._lock = threading.Lock()

    def record(self, process: str, type: str, phase: str, **fields: Any) -> Event:
        event = Event(process=process, type=type, phase=phase,
                      mono=time.monotonic(), wall=time.time(), **fields)
        with self._lock:
            self._events.append(event)
        return event

    def append(self, event: Event) -> Event:
        """Add an event recorded elsewhere (e.g. by a member process, with its own times)."""
        with self._lock:
            self._events.append(event)
        return event

    def __iter__(self) -> Iterator[Event]:
        with self._lock:
            return iter(list(self._events))

    def __len__(self) -> int:
        return len(self._events)

    def of_type(self, type: str) -> list[Event]:
        return [e for e in self if e.type == type]

    def dump(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w") as out:
            for event in self:
                out.write(event.to_json() + "\n")

    @classmethod
    def load(cls, path: Path) -> "History":
        with open(path) as src:
            return cls([Event.from_dict(json.loads(line)) for line in src if line.strip()])
