"""The ``rebalance`` checker on hand-built histories."""

from __future__ import annotations

from harness.checkers import check_all
from harness.history import Event, History


class H:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def ev(self, process, type, phase="ok", **detail):
        self.events.append(Event(process, type, phase, mono=len(self.events) + 1.0, wall=0.0, detail=detail))
        return self

    def history(self) -> History:
        return History(self.events)


def formed() -> H:
    """Two members start, an eager rebalance while forming, then the group is observed stable."""
    h = H()
    h.ev("member-0", "member", "start").ev("member-0", "assigned", partitions=[["t", 0], ["t", 1]])
    h.ev("member-1", "member", "start").ev("member-0", "revoked", partitions=[["t", 0], ["t", 1]])
    h.ev("member-0", "assigned", partitions=[["t", 0]]).ev("member-1", "assigned", partitions=[["t", 1]])
    return h.ev("runner", "group", stable=True, partitions=[["t", 0], ["t", 1]])


def test_forming_a_group_is_not_a_rebalance():
    assert check_all(formed().history(), ["rebalance"])["rebalance"].status == "ok"


def test_a_static_bounce_receives_its_assignment_once_without_a_rebalance():
    h = formed().ev("member-1", "member", "crash").ev("member-1", "member", "start")
    h.ev("member-1", "assigned", partitions=[["t", 1]])
    assert check_all(h.history(), ["rebalance"])["rebalance"].status == "ok"


def test_closing_the_members_after_the_last_stable_observation_is_not_counted():
    h = formed().ev("runner", "group", stable=True, partitions=[["t", 0], ["t", 1]])
    h.ev("member-0", "revoked", partitions=[["t", 0]]).ev("member-0", "member", "stop")
    h.ev("member-1", "revoked", partitions=[["t", 1]]).ev("member-1", "assigned", partitions=[["t", 0], ["t", 1]])
    assert check_all(h.history(), ["rebalance"])["rebalance"].status == "ok"
    h = formed().ev("member-1", "revoked", partitions=[["t", 1]])          # before the last one: counted
    h.ev("runner", "group", stable=True, partitions=[["t", 0], ["t", 1]])
    assert check_all(h.history(), ["rebalance"])["rebalance"].count == 1


def test_a_rebalance_after_stable_is_found_with_its_events():
    h = formed().ev("member-1", "member", "crash")
    h.ev("member-0", "revoked", partitions=[["t", 0]]).ev("member-0", "assigned", partitions=[["t", 0], ["t", 1]])
    res = check_all(h.history(), ["rebalance"])["rebalance"]
    assert res.status == "found" and [(e["member"], e["event"]) for e in res.evidence] == [
        ("member-0", "revoked"), ("member-0", "assigned")]
    assert res.evidence[1]["partitions"] == [["t", 0], ["t", 1]] and res.evidence[0]["stable_since"] == 7.0


def test_members_never_seen_stable_cannot_be_judged_and_no_members_is_ok():
    h = H().ev("member-0", "member", "start").ev("member-0", "assigned", partitions=[["t", 0]])
    res = check_all(h.history(), ["rebalance"])["rebalance"]
    assert res.status == "unknown" and "stable" in res.reason
    assert check_all(History(), ["rebalance"])["rebalance"].status == "ok"


def _bounce(away: float, static: bool = True) -> History:
    """A static bounce whose member is back `away` seconds after its crash; a rebalance follows."""
    h = H()
    h.ev("member-0", "member", "start").ev("member-0", "assigned", partitions=[["t", 0]])
    h.ev("runner", "group", stable=True, partitions=[["t", 0]], session_timeout_s=6.0, static=static)
    events = h.events + [Event("member-0", "member", "crash", mono=10.0, wall=0.0),
                         Event("member-0", "member", "start", mono=10.0 + away, wall=0.0),
                         Event("member-0", "revoked", "ok", mono=11.0 + away, wall=0.0, detail={"partitions": [["t", 0]]}),
                         Event("member-0", "assigned", "ok", mono=11.5 + away, wall=0.0, detail={"partitions": [["t", 0]]})]
    return History(events)


def test_a_member_back_after_its_session_expired_makes_a_rebalance_unknown():
    late = check_all(_bounce(5.9), ["rebalance"])["rebalance"]
    assert late.status == "unknown" and "5.9 s after its crash" in late.reason
    quick = check_all(_bounce(1.0), ["rebalance"])["rebalance"]
    assert quick.status == "found" and quick.evidence
    dynamic = check_all(_bounce(5.9, static=False), ["rebalance"])["rebalance"]
    assert dynamic.status == "found"
