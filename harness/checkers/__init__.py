"""Checkers: pure, linear-time functions ``History -> CheckResult``, one per anomaly name.

Names are those of ``ARCHITECTURE.md`` ("Anomalies"). :func:`check_all` indexes the history
once (:mod:`harness.checkers.index`) and runs every requested checker on that index; each
checker also accepts a History on its own. Modules group checkers by concept: :mod:`.log`
(per-partition log), :mod:`.send` (producers), :mod:`.poll` (per-consumer read order),
:mod:`.group` (consumer groups, over their own one-pass index, :mod:`.group_index`, which
:func:`check_all` attaches to the shared Index when a group checker runs).
"""

from __future__ import annotations

from typing import Callable, Iterable

from harness.history import History
from harness.vocab.anomalies import ANOMALIES

from .base import FOUND, OK, UNKNOWN, CheckResult, UnknownAnomaly
from .group import (GROUP_ANOMALIES, commit_regression, lost_on_rebalance, orphaned_partition,
                    redelivery, resume_mismatch, split_ownership, unrevoked_read)
from .group_index import GroupIndex, attach, group_index_of
from .index import Index, build, index_of, paused_gc
from .log import duplicate, inconsistent_offsets, lost_write, unseen
from .rebalance import rebalance
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
    "split-ownership": split_ownership,
    "orphaned-partition": orphaned_partition,
    "commit-regression": commit_regression,
    "resume-mismatch": resume_mismatch,
    "lost-on-rebalance": lost_on_rebalance,
    "redelivery": redelivery,
    "unrevoked-read": unrevoked_read,
    "rebalance": rebalance,
}
_READS_HISTORY = {"rebalance"}
if tuple(CHECKERS) != ANOMALIES:          # one checker per anomaly name, one name per checker
    raise ImportError(f"checkers and anomaly names differ: {set(CHECKERS) ^ set(ANOMALIES)}")   # checkers that read the History itself (few events, one pass)


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
        if not isinstance(history, Index) and any(n in GROUP_ANOMALIES for n in chosen):
            attach(ix, history)
        return {name: checker(history if name in _READS_HISTORY else ix) for name, checker in chosen.items()}


__all__ = [
    "CHECKERS",
    "FOUND",
    "OK",
    "UNKNOWN",
    "CheckResult",
    "Checker",
    "GroupIndex",
    "Index",
    "UnknownAnomaly",
    "build",
    "attach",
    "check_all",
    "get_checker",
    "group_index_of",
    "index_of",
    "commit_regression",
    "duplicate",
    "failed_send",
    "inconsistent_offsets",
    "int_nonmonotonic_poll",
    "int_poll_skip",
    "lost_on_rebalance",
    "lost_write",
    "nonmonotonic_poll",
    "nonmonotonic_send",
    "orphaned_partition",
    "poll_skip",
    "redelivery",
    "resume_mismatch",
    "send_hang",
    "split_ownership",
    "unacknowledged_send",
    "unrevoked_read",
    "rebalance",
    "unseen",
]
