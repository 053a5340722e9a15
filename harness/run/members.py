"""Group members as processes, seen from the runner: start, crash, stall, pause, pause
partitions, resubscribe, close.

Each member is a driver process of the spec's client (docs/driver-protocol.md, role
``member``); its events stream into the History as events of process ``member-N``, with the
member's own monotonic times. The runner records
what it does to a member (``crash``, ``pause``/``unpause``) itself, at the moment it does it;
a stall, a pause of partitions and a resubscription the driver reports (see
:class:`harness.clients.protocol.MemberTranslator`).
"""

from __future__ import annotations

import os
import signal

from harness.clients.protocol import MemberTranslator
from harness.history import History
from harness.procs import ProcessGroup


class MemberProcess:
    def __init__(self, n: int, cfg: dict, history: History, procs: ProcessGroup, client) -> None:
        self.process = f"member-{n}"
        self.cfg, self.history, self.procs, self.client = cfg, history, procs, client
        self.driver = None

    def start(self) -> "MemberProcess":
        translate = MemberTranslator(self.process, topic=self.cfg["topic"],
                                     protocol=self.cfg.get("protocol", "classic-eager"))

        def on_event(ev: dict, mono: float, wall: float) -> None:
            event = translate(ev, mono, wall)
            if event is not None:
                self.history.append(event)

        self.driver = self.client.driver("member", on_event=on_event, procs=self.procs,
                                         label=f"{self.process}-{self.cfg['topic']}")
        self.driver.start(role="member", **self.cfg)
        return self

    @property
    def proc(self):
        return self.driver.proc

    @property
    def alive(self) -> bool:
        return self.driver is not None and self.driver.alive

    def stall(self, seconds: float) -> None:
        """Stop polling for `seconds` (beyond max.poll.interval.ms the member leaves)."""
        self.driver.send({"op": "stall", "ms": int(seconds * 1000)})

    def pause_partitions(self, seconds: float) -> None:
        """Pause fetching every partition the member owns, for `seconds`, while it keeps
        polling (it stays in the group); the driver reports the pause and the resume."""
        self.driver.send({"op": "pause_partitions", "ms": int(seconds * 1000)})

    def resubscribe(self) -> None:
        """Unsubscribe and subscribe again to the topic (a subscription change: the group
        revokes and reassigns through the member's rebalance callbacks)."""
        self.driver.send({"op": "resubscribe"})

    def crash(self) -> None:
        """SIGKILL: no leave, no close; the group notices after its session timeout."""
        self.procs.kill(self.proc)          # recorded after the kill: every event the member
        self._drain_reader()                # wrote is earlier than the crash
        pending = self._pending_commit()
        if pending is not None:             # killed mid-commit: it may or may not have applied
            self.history.record(self.process, "commit", "info", detail={
                "offsets": pending.detail.get("offsets", {}), "error": "member crashed during the commit"})
        self.history.record(self.process, "member", "crash")

    def _pending_commit(self):
        """The member's last commit invoke if no completion followed it (else None)."""
        last = None
        for e in self.history:
            if e.process == self.process and e.type == "commit":
                last = e
        return last if last is not None and last.phase == "invoke" else None

    def pause(self) -> None:
        os.kill(self.proc.pid, signal.SIGSTOP)
        self.history.record(self.process, "member", "pause")

    def unpause(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)
        self.history.record(self.process, "member", "unpause")

    def close(self, timeout: float = 30.0) -> None:
        """Leave the group cleanly (the member commits nothing more); kill it if it hangs."""
        if not self.alive:
            return
        os.kill(self.proc.pid, signal.SIGCONT)
        self.driver.send({"op": "shutdown"})
        try:
            self.proc.wait(timeout=timeout)
        except Exception:
            self.history.record(self.process, "member", "crash", detail={"reason": "did not close in time"})
        self.procs.kill(self.proc)
        self._drain_reader()

    def _drain_reader(self) -> None:
        self.driver._reader.join(5)
