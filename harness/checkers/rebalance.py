"""``rebalance``: rebalances of a consumer group after it was first observed stable.

A rebalance shows in the members' reports as a ``revoked`` event, or an ``assigned`` event
that is not the first of its member's incarnation (a member that just started, or restarted
with its static ``group.instance.id``, always receives its assignment once). Counted between
the first and the last ``group`` stable event (process ``runner``): before the first the
group is still forming; after the last the runner closes the members on purpose (with a
single observation, counted to the end).
Specs forbid it (static members bouncing within the session timeout; a stable group with no
membership change: no rebalance storm) or require it (a dynamic member's bounce).

A static member that crashed and took as long as the session timeout to start again (a JVM
on a loaded machine can) has been removed by then, so the rebalance that follows proves nothing:
if one was seen, the result is unknown, naming the member and how long it was away.
"""

from __future__ import annotations

from harness.history import History

from .base import CheckResult

REBALANCE = "rebalance"


def rebalance(history: History) -> CheckResult:
    """One evidence item per rebalance event between the first and last stable observation."""
    if not isinstance(history, History):
        return CheckResult.unknown(REBALANCE, "needs the History (group events are not indexed)")
    stable_at: float | None = None
    stables = [e.mono for e in history if e.type == "group" and e.process == "runner"
               and e.phase == "ok" and e.detail.get("stable")]
    last_stable = stables[-1] if len(stables) > 1 else None   # one observation: count to the end
    seen_assignment: set[str] = set()     # members whose current incarnation was assigned
    members = False
    evidence = []
    for ev in history:
        if not ev.process.startswith("member-"):
            if ev.type == "group" and ev.process == "runner" and ev.phase == "ok" \
                    and ev.detail.get("stable") and stable_at is None:
                stable_at = ev.mono
            continue
        members = True
        if last_stable is not None and ev.mono > last_stable:
            continue
        if ev.type == "member" and ev.phase == "start":
            seen_assignment.discard(ev.process)
        elif ev.type == "assigned" and ev.phase == "ok":
            first = ev.process not in seen_assignment
            seen_assignment.add(ev.process)
            if stable_at is not None and not first:
                evidence.append(_item(ev, stable_at))
        elif ev.type == "revoked" and ev.phase == "ok" and stable_at is not None:
            evidence.append(_item(ev, stable_at))
    if members and stable_at is None:
        return CheckResult.unknown(REBALANCE, "the group was never observed stable")
    if evidence and (late := _late_return(history)):
        return CheckResult.unknown(REBALANCE, late)
    return CheckResult.judge(REBALANCE, evidence)


MARGIN_S = 0.5      # a restarted member still has to send its JoinGroup after it started


def _late_return(history: History) -> str | None:
    """Why a crashed member's return came too late for its session, or None."""
    stable = next((e for e in history if e.type == "group" and e.process == "runner"
                   and e.detail.get("session_timeout_s")), None)
    if stable is None or not stable.detail.get("static"):
        return None              # a dynamic member's bounce rebalances however quick it is
    session = stable.detail["session_timeout_s"]
    crashed: dict[str, float] = {}
    for ev in history:
        if ev.type != "member" or not ev.process.startswith("member-"):
            continue
        if ev.phase == "crash":
            crashed[ev.process] = ev.mono
        elif ev.phase == "start" and ev.process in crashed:
            away = ev.mono - crashed.pop(ev.process)
            if away + MARGIN_S >= session:
                return (f"{ev.process} started again {away:.1f} s after its crash, not within the "
                        f"session timeout ({session:g} s): its rebalance is expected")
    return None


def _item(ev, stable_at: float) -> dict:
    return {"member": ev.process, "event": ev.type, "at": ev.mono, "stable_since": stable_at,
            "partitions": ev.detail.get("partitions"), "generation": ev.detail.get("generation"),
            "lost": bool(ev.detail.get("lost"))}
