"""The timeline of one example: every planned fault and reader action, applied at its time on
a thread beside the workload, and undone (healed, resumed) when its duration ends.

A :class:`Step` is a time, a label, and what to do: ``apply()`` acts and returns what undoes
it (or None for a one-off). A step that raises is recorded in :attr:`Timeline.errors` and the
timeline goes on; the runner makes such an example ``error`` (a fault that did not apply
must never leave a ``pass`` behind).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from harness.errors import KchError

Undo = Callable[[], None]


@dataclass(frozen=True)
class Step:
    at: float                                  # seconds after the workload starts
    label: str                                 # for errors: what the plan said
    apply: Callable[[], Undo | None]
    duration: float | None = None              # seconds until undone (lasting steps)


class Timeline:
    """Applies `steps` relative to :meth:`start`; undoes each after its duration.
    :meth:`join` waits for the last planned step; what is still in force (and one-off
    kills) is left to ``heal_all``."""

    def __init__(self, steps: list[Step]) -> None:
        self.steps = sorted(steps, key=lambda s: s.at)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kch-timeline", daemon=True)
        self.errors: list[str] = []
        self.began = 0.0
        self.ready = threading.Event()   # set once every step planned at 0 s was applied
        self._go = threading.Event()

    def start(self, *, hold: bool = False) -> None:
        """Start applying steps. With `hold`, only those planned at 0 s are applied until
        :meth:`go`, and the rest of the schedule counts from then (so that clients that take
        a while to start, such as a JVM, meet the faults when the plan says)."""
        self.began = time.monotonic()
        if not hold:
            self._go.set()
        self._thread.start()

    def go(self) -> None:
        self._go.set()

    def _hold(self, now: float) -> None:
        self.ready.set()
        while not self._go.wait(0.05) and not self._stop.is_set():
            pass
        self.began = time.monotonic() - now     # the clock resumes where it was held

    def _do(self, what: str, action: Callable[[], Undo | None]) -> Undo | None:
        try:
            return action()
        except KchError as exc:
            self.errors.append(f"{what}: {exc}")
        except Exception as exc:  # noqa: BLE001 - a broken step must not kill the timeline silently
            self.errors.append(f"{what}: {type(exc).__name__}: {exc}")
        return None

    def _run(self) -> None:
        pending = list(self.steps)
        undos: list[tuple[float, str, Undo]] = []
        while (pending or undos) and not self._stop.is_set():
            now = time.monotonic() - self.began
            if (not pending or pending[0].at > 0) and not self._go.is_set():
                self._hold(now)
                continue
            if pending and pending[0].at <= now:
                step = pending.pop(0)
                undo = self._do(step.label, step.apply)
                if undo is not None and step.duration:
                    undos.append((now + step.duration, step.label, undo))
                    undos.sort(key=lambda u: u[0])
                continue
            if undos and undos[0][0] <= now:
                _, label, undo = undos.pop(0)
                self._do(f"ending {label}", undo)
                continue
            upcoming = [s.at for s in pending[:1]] + [u[0] for u in undos[:1]]
            self._stop.wait(max(0.0, min(upcoming) - now) if upcoming else 0.05)
        self.ready.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._go.set()
        if self._thread.is_alive():
            self._thread.join(10)
