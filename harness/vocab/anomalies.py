"""Anomaly names (ARCHITECTURE.md, "Anomalies"; Jepsen's names where one exists) and the three
expectations a spec may state of each. The checkers' registry has exactly these keys, in this
order (a test holds both to it)."""

from __future__ import annotations

ANOMALIES = (
    # per partition log
    "lost-write", "unseen", "duplicate", "inconsistent-offsets", "nonmonotonic-send",
    # per consumer
    "poll-skip", "nonmonotonic-poll", "int-poll-skip", "int-nonmonotonic-poll",
    # producers
    "send-hang", "unacknowledged-send", "failed-send",
    # consumer groups
    "split-ownership", "orphaned-partition", "commit-regression", "resume-mismatch",
    "lost-on-rebalance", "redelivery", "unrevoked-read", "rebalance",
)

EXPECTATIONS = ("forbidden", "allowed", "required")
