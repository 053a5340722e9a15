"""Checkers: pure, linear-time functions ``History -> CheckResult``, one per anomaly name.

Names are those of ``ARCHITECTURE.md`` ("Anomalies"). :func:`check_all` indexes the history
once (:mod:`harness.checkers.index`) and runs every requested checker on that index; each
checker also accepts a History on its own. Modules group checkers by concept: :mod:`.log`
(per-partition log), :mod:`.send` (producers), :mod:`.poll` (per-consumer read order).
"""

from __future__ import annotations

from typing import Callable, Iterable

from harness.history import History

from .base import FOUND, OK, UNKNOWN, CheckResult, UnknownAnomaly
from .index import Index, build, index_of, paused_gc
from .log import duplicate, inconsistent_offsets, lost_write, unseen
from .poll import int_nonmonotonic_poll, int_poll_skip, nonmonotonic_poll, poll_skip
from .send import failed_send, nonmonotonic_send, send_hang, unacknowledged_send

Checker = Callable[[History | Index], CheckResult]

CHECKERS: dict[str, Checker] = {
    "lost-write": lost_write,
    "unseen": unseen,
    "duplicate": duplicate,
    "inconsistent-offsets": inconsistent_offsets,
    "nonmonotonic-send": nonmonotonic_send,
    "poll-skip": poll_skip,
    "nonmonotonic-poll": nonmonotonic_poll,
    "int-poll-skip": int_poll_skip,
    "int-nonmonotonic-poll": int_nonmonotonic_poll,
    "send-hang": send_hang,
    "unacknowledged-send": unacknowledged_send,
    "failed-send": failed_send,
}


def get_checker(name: str) -> Checker:
    """The checker for anomaly `name`; :class:`UnknownAnomaly` (a UsageError) if there is none."""
    try:
        return CHECKERS[name]
    except KeyError:
        raise UnknownAnomaly(name, CHECKERS) from None


def check_all(history: History | Index, names: Iterable[str] | None = None) -> dict[str, CheckResult]:
    """Run the named checkers (all by default, in registry order) over one shared index.

    Every name is validated before any work, so a typo fails fast with the known names.
    """
    if isinstance(names, str):
        names = [names]
    chosen = {name: get_checker(name) for name in (CHECKERS if names is None else names)}
    with paused_gc():
        ix = index_of(history)
        return {name: checker(ix) for name, checker in chosen.items()}


__all__ = [
    "CHECKERS",
    "FOUND",
    "OK",
    "UNKNOWN",
    "CheckResult",
    "Checker",
    "Index",
    "UnknownAnomaly",
    "build",
    "check_all",
    "get_checker",
    "index_of",
    "duplicate",
    "failed_send",
    "inconsistent_offsets",
    "int_nonmonotonic_poll",
    "int_poll_skip",
    "lost_write",
    "nonmonotonic_poll",
    "nonmonotonic_send",
    "poll_skip",
    "send_hang",
    "unacknowledged_send",
    "unseen",
]
