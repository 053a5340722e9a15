"""The one way kch waits for a condition."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

from harness.errors import ClusterError, KchError

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float,
    message: str,
    backoff: float = 0.1,
    max_backoff: float = 1.0,
    error: type[KchError] = ClusterError,
) -> T:
    """Call ``condition`` until it returns a truthy value, and return that value.

    Exceptions raised by ``condition`` count as "not yet" until the timeout; then the last one
    is chained to the raised error. The wait between calls grows from ``backoff`` to
    ``max_backoff``. On timeout raises ``error`` with ``message`` and the time waited.

    Example: ``wait_until(lambda: cluster.leader("t", 0), timeout=10, message="no leader")``
    """
    start = time.monotonic()
    deadline = start + timeout
    delay = backoff
    last_exc: BaseException | None = None
    while True:
        try:
            value = condition()
            if value:
                return value
            last_exc = None
        except KchError as exc:
            last_exc = exc
        except Exception as exc:  # the condition probes a cluster; any failure means "not yet"
            last_exc = exc
        now = time.monotonic()
        if now >= deadline:
            detail = f" (last error: {last_exc})" if last_exc else ""
            raise error(f"{message} after {now - start:.1f}s{detail}") from last_exc
        time.sleep(min(delay, max(0.0, deadline - now)))
        delay = min(delay * 1.5, max_backoff)
