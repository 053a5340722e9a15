"""Consumer-group checkers on hand-built histories: a clean rebalance, and each anomaly cut into it.

Every test runs *all* registered checkers (check_all) and names exactly which ones must report:
the anomaly under test, plus those that logically co-fire (said where they do).
"""

from __future__ import annotations

import pytest

from harness.checkers import CHECKERS, CheckResult, build, check_all, group_index_of
from harness.checkers.group import GROUP_ANOMALIES
from harness.checkers.group_index import build as build_group
from harness.history import History
from tests.test_checkers import B, assert_only, the, writes

EAGER, COOP, CONSUMER = "classic-eager", "classic-cooperative", "consumer"


class G(B):
    """B plus group events: members, assignments, commits and stable observations."""

    def member(self, m, phase):
        return self.ev(f"member-{m}", "member", phase)

    def assigned(self, m, parts, gen, protocol=EAGER):
        return self.ev(f"member-{m}", "assigned", "ok", detail={
            "partitions": [["t", p] for p in parts], "generation": gen, "protocol": protocol})

    def revoked(self, m, parts=None, lost=False):
        detail = {} if parts is None else {"partitions": [["t", p] for p in parts]}
        if lost:
            detail["lost"] = True
        return self.ev(f"member-{m}", "revoked", "ok", detail=detail)

    def read(self, m, p, lo, hi=None):
        return self.poll(f"member-{m}", self.records(p, lo, hi))

    def commit(self, m, offsets, phase="ok"):
        detail = {"offsets": {f"t/{p}": o for p, o in offsets.items()}}
        self.ev(f"member-{m}", "commit", "invoke", detail=detail)
        return self.ev(f"member-{m}", "commit", phase, detail=detail if phase == "ok" else {})

    def stable(self, parts, members):
        return self.ev("runner", "group", "ok", detail={
            "stable": True, "partitions": [["t", p] for p in parts],
            "members": [f"member-{m}" for m in members]})


def before_rebalance(protocol=EAGER) -> G:
    """member-0 owns p0 and p1 (6 records each), reads 0..2 of both and commits 3; member-1 starts."""
    b = G()
    writes(b)
    b.member(0, "start")
    b.assigned(0, [0, 1], 1, protocol)
    b.stable([0, 1], [0])
    b.read(0, 0, 0, 3)
    b.read(0, 1, 0, 3)
    b.commit(0, {0: 3, 1: 3})
    b.member(1, "start")
    return b


def clean(protocol=EAGER, drain=True) -> G:
    """The realistic rebalance: p1 moves to member-1; both resume exactly at the commits."""
    b = before_rebalance(protocol)
    if protocol == EAGER:
        b.revoked(0, [0, 1])
        b.assigned(0, [0], 2)
    else:
        b.revoked(0, [1])
        b.assigned(0, [], 2, protocol)
    b.assigned(1, [1], 2, protocol)
    b.stable([0, 1], [0, 1])
    b.read(0, 0, 3)
    b.read(1, 1, 3)
    b.commit(0, {0: 6})
    b.commit(1, {1: 6})
    if drain:
        b.drain()
    return b


def results(b: B) -> dict[str, CheckResult]:
    """Every checker but ``rebalance`` (counted rebalances are its own test's subject)."""
    return check_all(b.history(), [n for n in CHECKERS if n != "rebalance"])


# --- clean histories, registry, plumbing ------------------------------------------------

@pytest.mark.parametrize("protocol", [EAGER, COOP, CONSUMER])
def test_clean_rebalance_passes_every_checker(protocol):
    res = results(clean(protocol))
    assert list(res)[-len(GROUP_ANOMALIES):] == list(GROUP_ANOMALIES)
    assert_only(res)
    assert all(r.reason is None for r in res.values())


def test_group_checkers_are_registered_in_order_after_the_others():
    assert list(CHECKERS)[-8:-1] == ["split-ownership", "orphaned-partition", "commit-regression",
                                   "resume-mismatch", "lost-on-rebalance", "redelivery",
                                   "unrevoked-read"]


def test_history_without_members_is_ok_for_every_group_checker():
    b = G()
    writes(b)
    b.assign("consumer-0", [0, 1])                     # assigned partitions, no group
    b.poll("consumer-0", b.records(0) + b.records(1))
    b.ev("runner", "group", "ok", detail={"stable": True, "partitions": [["t", 0]]})
    res = check_all(b.history(), GROUP_ANOMALIES)     # no drain either
    assert {n: r.status for n, r in res.items()} == {n: "ok" for n in GROUP_ANOMALIES}


def test_each_checker_accepts_a_history_or_a_group_index_and_agrees_with_check_all():
    b = clean()
    b.commit(1, {1: 2})                                # a regression, to have something found
    h = b.history()
    together = check_all(h)
    for name in GROUP_ANOMALIES:
        assert CHECKERS[name](h) == together[name]
        assert CHECKERS[name](build_group(h)) == together[name]
        assert CHECKERS[name](list(h)) == together[name]
    assert together["commit-regression"].status == "found"


def test_a_bare_index_is_unknown_but_check_all_attaches_the_group_events():
    h = clean().history()
    ix = build(h)
    bare = CHECKERS["split-ownership"](ix)
    assert bare.status == "unknown" and "History" in bare.reason
    assert check_all(h)["split-ownership"].status == "ok"


def test_group_index_is_cached_and_rebuilt_when_the_history_grows():
    b = clean()
    h = b.history()
    gx = group_index_of(h)
    assert group_index_of(h) is gx
    h.record("member-1", "commit", "ok", detail={"offsets": {"t/1": 1}})
    assert group_index_of(h) is not gx
    got = the(check_all(h), "commit-regression")
    assert (got["offset"], got["previous_offset"]) == (1, 6)


def test_periods_end_as_the_conventions_say():
    b = clean(drain=False)
    b.member(0, "stop")
    b.member(1, "crash")
    b.assigned(2, [0, 1], 3)
    gx = build_group(b.history())
    p0, p1 = gx.periods[("t", 0)], gx.periods[("t", 1)]
    assert [(p.member, p.ended_by) for p in p0] == \
        [("member-0", "revoked"), ("member-0", "stop"), ("member-2", None)]
    assert [(p.member, p.ended_by) for p in p1] == \
        [("member-0", "revoked"), ("member-1", "crash"), ("member-2", None)]
    crashed = p1[1]
    assert crashed.end < crashed.claim_end == p1[2].start        # claim ends at the rebalance
    assert [c.offset for c in gx.commits[("t", 1)]] == [3, 6]
    assert p1[1].committed.offset == 3 and p1[2].committed.offset == 6


def test_eager_assignment_replaces_incremental_adds_and_bare_revoke_takes_all():
    b = G()
    b.assigned(0, [0, 1], 1)
    b.assigned(0, [0], 2)                             # eager, no revoke first: p1 ends here
    b.assigned(1, [2], 2, COOP)
    b.assigned(1, [2, 3], 3, COOP)                    # p2 already owned: the same period
    b.revoked(1)                                      # no partitions: everything
    b.assigned(2, [4], 1, CONSUMER)
    b.member(2, "start")                              # a new incarnation owns nothing
    gx = build_group(b.history())
    ends = {tp[1]: [(p.member, p.generation, p.ended_by) for p in ps]
            for tp, ps in gx.periods.items()}
    assert ends == {0: [("member-0", 1, "assigned"), ("member-0", 2, None)],
                    1: [("member-0", 1, "assigned")],
                    2: [("member-1", 2, "revoked")], 3: [("member-1", 3, "revoked")],
                    4: [("member-2", 1, "start")]}


# --- split-ownership --------------------------------------------------------------------

def split(protocol=COOP) -> G:
    """member-1 gets p1 while member-0 keeps it; both read it; member-0 is revoked late."""
    b = before_rebalance(protocol)
    b.assigned(1, [1], 2, protocol)
    b.read(1, 1, 3, 5)                                 # 3, 4
    b.read(0, 1, 3, 4)                                 # member-0 still reads: 3
    b.revoked(0, [1])
    b.drain()
    return b


def test_split_ownership_both_members_read_in_the_overlap():
    b = split()
    res = results(b)
    # Co-firing, by logic: member-1 read before member-0's revocation (unrevoked-read), and
    # two members reading on from one commit read the same records (redelivery).
    assert_only(res, "split-ownership", "unrevoked-read", "redelivery")
    got = the(res, "split-ownership")
    assert (got["topic"], got["partition"], got["members"]) == ("t", 1, ["member-0", "member-1"])
    assert got["offsets"] == {"member-0": [3], "member-1": [3, 4]}
    assert got["read_counts"] == {"member-0": 1, "member-1": 2}
    assigned = next(e for e in b.events if e.type == "assigned" and e.process == "member-1")
    revoked = next(e for e in b.events if e.type == "revoked")
    assert got["overlap"] == {"from": assigned.mono, "to": revoked.mono}
    assert the(res, "unrevoked-read")["previous_owner_read_in_overlap"] is True
    assert the(res, "redelivery")["offset"] == 3


def test_split_ownership_needs_reads_by_both_in_the_overlap():
    b = before_rebalance(COOP)
    b.assigned(1, [1], 2, COOP)
    b.read(0, 1, 3, 4)                                 # only the old owner reads meanwhile
    b.revoked(0, [1])
    b.read(1, 1, 3)
    b.drain()
    res = results(b)
    # Co-firing, by logic: member-1 resumes at the commit (3), which member-0 had read.
    assert_only(res, "redelivery")
    assert the(res, "redelivery")["within_uncommitted"] is True


def test_a_crashed_member_owns_nothing_for_split_ownership():
    b = before_rebalance(COOP)
    b.read(0, 1, 3, 4)
    b.commit(0, {1: 4})
    b.member(0, "crash")
    b.assigned(1, [0, 1], 2, COOP)                     # the rebalance after the crash
    b.read(1, 1, 4)
    b.read(1, 0, 3)
    b.drain()
    assert_only(results(b))


def test_a_member_that_learns_it_was_removed_was_a_zombie_not_an_owner():
    # member-0 stalled past max.poll.interval.ms: the coordinator removed it and gave p1 to
    # member-1; on resuming it returned buffered records of p1, then learned of the loss.
    b = before_rebalance(COOP)
    b.assigned(1, [1], 2, COOP)
    b.read(1, 1, 3, 5)
    b.read(0, 1, 3, 4)
    b.revoked(0, [1], lost=True)
    b.drain()
    res = results(b)
    assert_only(res, "unrevoked-read", "redelivery")   # the zombie's reads, not split ownership
    got = the(res, "unrevoked-read")
    assert (got["previous_released_by"], got["previous_owner_read_in_overlap"]) == ("lost", True)


def test_a_stale_assignment_to_a_removed_member_is_not_split_ownership():
    # After its stall, member-0 first receives an old assignment of p1 (already given to
    # member-1), reads buffered records, then learns the partitions were lost.
    b = before_rebalance(COOP)
    b.revoked(0, [1])
    b.assigned(1, [1], 2, COOP)
    b.assigned(0, [1], 2, COOP)
    b.read(1, 1, 3, 5)
    b.read(0, 1, 3, 4)
    b.revoked(0, [1], lost=True)
    b.drain()
    assert "split-ownership" not in [a for a, r in results(b).items() if r.status == "found"]
    b2 = before_rebalance(COOP)                        # the same without "lost": split
    b2.revoked(0, [1])
    b2.assigned(1, [1], 2, COOP)
    b2.assigned(0, [1], 2, COOP)
    b2.read(1, 1, 3, 5)
    b2.read(0, 1, 3, 4)
    b2.revoked(0, [1])
    b2.drain()
    assert results(b2)["split-ownership"].status == "found"


def test_split_ownership_open_ended_overlap():
    b = before_rebalance(EAGER)
    b.assigned(1, [1], 2)                              # member-0 is never revoked at all
    b.read(1, 1, 3, 4)
    b.read(0, 1, 4, 5)
    b.drain()
    res = results(b)
    assert_only(res, "split-ownership", "unrevoked-read", "poll-skip")  # member-0 skips 3
    assert the(res, "split-ownership")["overlap"]["to"] is None


# --- unrevoked-read ---------------------------------------------------------------------

def test_unrevoked_read_new_owner_reads_before_the_old_owner_is_revoked():
    b = before_rebalance(COOP)
    b.assigned(1, [1], 2, COOP)
    b.read(1, 1, 3)                                    # member-0 has not been revoked yet...
    b.revoked(0, [1])                                  # ...but it reads nothing meanwhile
    b.drain()
    res = results(b)
    assert_only(res, "unrevoked-read")
    got = the(res, "unrevoked-read")
    assert (got["partition"], got["member"], got["previous_owner"]) == (1, "member-1", "member-0")
    assert (got["first_read_offset"], got["protocol"], got["generation"]) == (3, COOP, 2)
    assert (got["previous_released_by"], got["previous_owner_read_in_overlap"]) == ("revoked", False)
    assert got["first_read_at"] < got["previous_released_at"]


def test_unrevoked_read_a_crashed_owner_is_released_only_by_a_rebalance():
    b = before_rebalance(CONSUMER)
    b.assigned(1, [1], 2, CONSUMER)                    # given p1 while member-0 still has it
    b.member(0, "crash")
    b.read(1, 1, 3)                                    # after the crash, before any rebalance
    b.drain()
    res = results(b)
    assert_only(res, "unrevoked-read")                 # not split: member-0 was dead
    got = the(res, "unrevoked-read")
    assert (got["previous_released_by"], got["previous_released_at"]) == ("crash", None)


def test_unrevoked_read_after_the_rebalance_that_follows_a_crash_is_fine():
    b = before_rebalance(CONSUMER)
    b.assigned(1, [1], 2, CONSUMER)
    b.member(0, "crash")
    b.assigned(1, [0], 3, CONSUMER)                    # the rebalance: crashed claims end
    b.read(1, 1, 3)
    b.read(1, 0, 3)
    b.drain()
    assert_only(results(b))


def test_unrevoked_read_is_unknown_when_no_assignment_declares_a_protocol():
    b = before_rebalance(None)
    b.drain()
    res = results(b)
    assert res["unrevoked-read"].status == "unknown" and "protocol" in res["unrevoked-read"].reason
    assert_only({n: r for n, r in res.items() if n != "unrevoked-read"})


# --- orphaned-partition -----------------------------------------------------------------

def test_orphaned_partition_nobody_owns_p1_when_the_group_is_stable():
    b = before_rebalance()
    b.revoked(0, [0, 1])
    b.assigned(0, [0], 2)
    b.assigned(1, [], 2)                                # p1 was given to nobody
    s = b.stable([0, 1], [0, 1])
    b.read(0, 0, 3)
    b.drain()
    res = results(b)
    assert_only(res, "orphaned-partition")
    got = the(res, "orphaned-partition")
    assert (got["topic"], got["partition"], got["stable_at"]) == ("t", 1, s.mono)
    assert got["members"] == ["member-0", "member-1"]
    assert got["assignments"] == {"member-0": [["t", 0]]}


def test_orphaned_partition_a_stopped_member_owns_nothing():
    b = clean(drain=False)
    b.member(1, "stop")
    b.stable([0, 1], [0])
    b.drain()
    got = the(results(b), "orphaned-partition")
    assert got["partition"] == 1 and got["assignments"] == {"member-0": [["t", 0]]}


def test_orphaned_partition_a_crashed_member_counts_until_the_group_drops_it():
    b = clean(drain=False)
    b.member(1, "crash")
    b.stable([0, 1], [0, 1])                           # the group has not noticed yet
    b.drain()
    assert_only(results(b))
    assert build_group(b.history()).stables[-1].crashed == ["member-1"]
    b = clean(drain=False)
    b.member(1, "crash")
    b.stable([0, 1], [0])                              # dropped, p1 not reassigned
    b.drain()
    res = results(b)
    assert_only(res, "orphaned-partition")
    assert the(res, "orphaned-partition")["crashed_members_counted"] == []


def test_orphaned_partition_is_unknown_with_members_but_no_stable_event():
    b = G()
    writes(b)
    b.member(0, "start")
    b.assigned(0, [0, 1], 1)
    b.read(0, 0, 0)
    b.read(0, 1, 0)
    b.drain()
    res = results(b)
    assert res["orphaned-partition"].status == "unknown"
    assert "stable" in res["orphaned-partition"].reason
    assert_only({n: r for n, r in res.items() if n != "orphaned-partition"})


# --- commit-regression ------------------------------------------------------------------

def test_commit_regression_a_later_ok_commit_is_lower():
    b = clean(drain=False)
    late = b.commit(0, {1: 2})                          # member-0, long revoked, commits 2
    b.drain()
    res = results(b)
    assert_only(res, "commit-regression")
    got = the(res, "commit-regression")
    assert (got["partition"], got["members"]) == (1, ["member-1", "member-0"])
    assert (got["offset"], got["previous_offset"], got["committed_at"]) == (2, 6, late.mono)
    assert got["previous_committed_at"] < got["committed_at"]


@pytest.mark.parametrize("phase", ["fail", "info"])
def test_commit_regression_ignores_commits_that_did_not_succeed(phase):
    b = clean(drain=False)
    b.commit(0, {1: 2}, phase=phase)
    b.drain()
    assert_only(results(b))


def test_commit_regression_compares_with_the_previous_commit_only():
    b = clean(drain=False)
    b.commit(1, {1: 4})                                 # 6 -> 4: one regression
    b.commit(1, {1: 5})                                 # 4 -> 5: up again
    b.commit(1, {1: 5})                                 # equal is no regression
    b.drain()
    res = results(b)
    assert_only(res, "commit-regression")
    assert the(res, "commit-regression")["offset"] == 4


# --- resume-mismatch --------------------------------------------------------------------

def test_resume_mismatch_new_owner_starts_below_the_commit():
    b = before_rebalance()
    b.revoked(0, [0, 1])
    b.assigned(0, [0], 2)
    b.assigned(1, [1], 2)
    b.stable([0, 1], [0, 1])
    b.read(0, 0, 3)
    b.read(1, 1, 2)                                     # from 2, though 3 was committed
    b.drain()
    res = results(b)
    # Co-firing, by logic: offset 2 was read before, by member-0, and was committed, so
    # reading it again is a redelivery outside what was uncommitted.
    assert_only(res, "resume-mismatch", "redelivery")
    got = the(res, "resume-mismatch")
    assert (got["member"], got["partition"], got["expected_offset"], got["actual_offset"]) == \
        ("member-1", 1, 3, 2)
    assert got["expected_from"] == "commit" and got["skipped_offsets"] == []
    assert (got["commit"]["member"], got["commit"]["offset"]) == ("member-0", 3)
    assert (got["generation"], got["protocol"]) == (2, EAGER)
    again = the(res, "redelivery")
    assert (again["offset"], again["within_uncommitted"], again["committed_offset"]) == (2, False, 3)


def test_resume_mismatch_new_owner_starts_above_the_commit_over_existing_records():
    b = before_rebalance(COOP)
    b.revoked(0, [1])
    b.assigned(1, [1], 2, COOP)
    b.read(1, 1, 5)                                     # skips 3 and 4, never committed
    b.drain()
    res = results(b)
    assert_only(res, "resume-mismatch")
    got = the(res, "resume-mismatch")
    assert (got["expected_offset"], got["actual_offset"], got["skipped_offsets"]) == (3, 5, [3, 4])


def test_a_member_given_its_partition_back_may_go_on_from_its_own_position():
    b = before_rebalance()
    b.read(0, 0, 3, 5)                                  # reads 3, 4 of p0 beyond the commit (3)
    b.revoked(0, [0, 1])
    b.assigned(0, [0], 2)                               # p0 back to member-0, no owner between
    b.assigned(1, [1], 2)
    b.stable([0, 1], [0, 1])
    b.read(0, 0, 5)                                     # goes on at 5, not at the commit 3
    b.read(1, 1, 3)
    b.drain()
    assert_only(results(b))
    b = before_rebalance()                              # but another member in between: no
    b.read(0, 0, 3, 5)
    b.revoked(0, [0, 1])
    b.assigned(1, [0, 1], 2)
    b.revoked(1, [0, 1])
    b.assigned(0, [0], 3)
    b.assigned(1, [1], 3)
    b.read(0, 0, 5)
    b.read(1, 1, 3)
    b.drain()
    assert the(results(b), "resume-mismatch")["expected_offset"] == 3


def test_resume_mismatch_without_a_commit_expects_the_log_start():
    b = G()
    for n in range(4):
        b.send(f"p0-{n}", 0, offset=n + 2)             # p0 starts at 2 (retention removed 0, 1)
        b.send(f"p1-{n}", 1)
    b.member(0, "start")
    b.assigned(0, [0, 1], 1)
    b.stable([0, 1], [0])
    b.read(0, 0, 2)                                     # log start of p0: fine
    b.read(0, 1, 1)                                     # p1 starts at 0: a mismatch
    b.drain()
    res = results(b)
    assert_only(res, "resume-mismatch")
    got = the(res, "resume-mismatch")
    assert (got["partition"], got["expected_offset"], got["actual_offset"]) == (1, 0, 1)
    assert (got["expected_from"], got["commit"], got["skipped_offsets"]) == ("log-start", None, [0])


def test_resume_above_the_commit_over_offsets_that_do_not_exist_is_fine():
    b = G()
    for n in range(3):
        b.send(f"p0-{n}", 1)
    b.send("p0-3", 1, offset=4)                          # offset 3: a transaction marker
    b.member(0, "start")
    b.assigned(0, [1], 1, COOP)
    b.stable([1], [0])
    b.read(0, 1, 0, 3)
    b.commit(0, {1: 3})                                  # the end of the log at the time
    b.member(0, "stop")
    b.member(1, "start")
    b.assigned(1, [1], 2, COOP)
    b.stable([1], [1])
    b.read(1, 1, 3)                                      # first read: 4
    b.commit(1, {1: 5})
    b.drain()
    assert_only(results(b))


def test_resume_above_the_commit_is_unknown_without_a_drain_to_say_what_exists():
    b = before_rebalance(COOP)
    b.revoked(0, [1])
    b.assigned(1, [1], 2, COOP)
    b.poll("member-1", [(1, 5, "p1-5")])                 # nobody else read 3 or 4
    res = results(b)
    assert res["resume-mismatch"].status == "unknown"
    assert "drain" in res["resume-mismatch"].reason and "1 first read" in res["resume-mismatch"].reason


@pytest.mark.parametrize("then_ok", [False, True])
def test_resume_at_an_info_commit_is_accepted_unless_an_ok_commit_followed(then_ok):
    b = before_rebalance(COOP)
    b.read(0, 1, 3, 4)
    b.commit(0, {1: 4}, phase="info")                   # timed out, but it may have applied
    if then_ok:
        b.commit(0, {1: 3})                             # this one surely applied, after it
    b.revoked(0, [1])
    b.assigned(1, [1], 2, COOP)
    b.read(1, 1, 4)
    b.drain()
    res = results(b)
    if not then_ok:
        assert_only(res)
        return
    assert_only(res, "resume-mismatch")
    got = the(res, "resume-mismatch")
    assert (got["expected_offset"], got["actual_offset"], got["skipped_offsets"]) == (3, 4, [3])


# --- lost-on-rebalance ------------------------------------------------------------------

def lost() -> G:
    b = before_rebalance()
    b.commit(0, {1: 5})                                  # p1: read 0..2, committed 5
    b.revoked(0, [0, 1])
    b.assigned(0, [0], 2)
    b.assigned(1, [1], 2)
    b.stable([0, 1], [0, 1])
    b.read(0, 0, 3)
    b.read(1, 1, 5)                                      # resumes at the commit: 3 and 4 lost
    b.commit(1, {1: 6})
    return b


def test_lost_on_rebalance_commit_covers_records_no_member_read():
    b = lost()
    b.drain()
    res = results(b)
    assert_only(res, "lost-on-rebalance")
    got = the(res, "lost-on-rebalance")
    assert (got["partition"], got["from_offset"], got["to_offset"], got["count"]) == (1, 3, 4, 2)
    assert (got["commit"]["member"], got["commit"]["offset"]) == ("member-0", 5)


def test_lost_on_rebalance_ranges_split_at_offsets_that_were_read():
    b = G()
    writes(b, range(12))                                 # p0 and p1: offsets 0..11
    b.member(0, "start")
    b.assigned(0, [0], 1)
    b.stable([0], [0])
    b.poll("member-0", b.records(0, 0, 2) + b.records(0, 4, 5))  # 0, 1, then 4
    b.commit(0, {0: 8})                                  # lost: 2-3 and 5-7
    b.poll("member-0", b.records(0, 8, 9))
    b.commit(0, {0: 10})                                 # lost: 9 (charged to this commit)
    b.drain()
    res = results(b)
    got = [(e["from_offset"], e["to_offset"], e["count"], e["commit"]["offset"])
           for e in res["lost-on-rebalance"].evidence]
    assert got == [(2, 3, 2, 8), (5, 7, 3, 8), (9, 9, 1, 10)]
    assert_only(res, "lost-on-rebalance", "int-poll-skip", "poll-skip")


@pytest.mark.parametrize("drain", [dict(complete=False), None])
def test_lost_on_rebalance_is_unknown_without_a_complete_drain(drain):
    b = lost()
    if drain is not None:
        b.drain(**drain)
    res = results(b)
    assert res["lost-on-rebalance"].status == "unknown" and "drain" in res["lost-on-rebalance"].reason


def test_lost_on_rebalance_is_ok_without_commits_even_without_a_drain():
    b = G()
    writes(b)
    b.member(0, "start")
    b.assigned(0, [0, 1], 1)
    b.stable([0, 1], [0])
    b.read(0, 0, 0)
    assert check_all(b.history(), ["lost-on-rebalance"])["lost-on-rebalance"].status == "ok"


# --- redelivery -------------------------------------------------------------------------

def test_redelivery_of_uncommitted_records_to_the_next_owner():
    b = before_rebalance()
    b.read(0, 1, 3, 5)                                   # read 3 and 4, never committed them
    b.revoked(0, [0, 1])
    b.assigned(0, [0], 2)
    b.assigned(1, [1], 2)
    b.stable([0, 1], [0, 1])
    b.read(0, 0, 3)
    b.read(1, 1, 3)                                      # resumes at the commit: 3, 4 again
    b.commit(1, {1: 6})
    b.drain()
    res = results(b)
    assert_only(res, "redelivery")
    got = res["redelivery"].evidence
    assert [(e["offset"], e["first_reader"], e["reader"], e["same_member"]) for e in got] == \
        [(3, "member-0", "member-1", False), (4, "member-0", "member-1", False)]
    assert all(e["within_uncommitted"] and e["committed_offset"] == 3 for e in got)
    assert got[0]["first_read_at"] < got[0]["read_at"]


def test_redelivery_to_the_same_member_in_a_new_period():
    b = before_rebalance()
    b.read(0, 0, 3, 4)                                   # reads 3 of p0, commits nothing more
    b.revoked(0, [0, 1])
    b.assigned(0, [0], 2)                                # eager: a new period of p0
    b.assigned(1, [1], 2)
    b.stable([0, 1], [0, 1])
    b.read(0, 0, 3)                                      # resumes at 3: read again
    b.read(1, 1, 3)
    b.drain()
    res = results(b)
    assert_only(res, "redelivery")
    got = the(res, "redelivery")
    assert (got["offset"], got["reader"], got["same_member"], got["within_uncommitted"]) == \
        (3, "member-0", True, True)


def test_rereading_inside_one_period_is_not_a_redelivery():
    b = clean(drain=False)
    b.read(1, 1, 4)                                      # member-1 reads 4, 5 again
    b.drain()
    assert_only(results(b), "nonmonotonic-poll")


def test_redelivery_counts_each_further_reader_once():
    b = clean(drain=False)
    b.read(1, 1, 4)                                      # the same period again: not counted
    b.member(2, "start")
    b.assigned(2, [1], 3, COOP)
    b.revoked(1, [1])
    b.read(2, 1, 5)                                      # offset 5: a third reader
    b.read(2, 1, 5)
    b.drain()
    res = results(b)
    # Co-firing, by logic: member-2 starts below the commit (6) and re-reads offset 5 in its
    # own period; member-1 re-read 4 and 5 in its period.
    assert_only(res, "redelivery", "resume-mismatch", "nonmonotonic-poll")
    assert res["nonmonotonic-poll"].count == 2
    got = the(res, "redelivery")
    assert (got["offset"], got["first_reader"], got["reader"]) == (5, "member-1", "member-2")
    assert (got["committed_offset"], got["within_uncommitted"]) == (6, False)


# --- missing ownership ------------------------------------------------------------------

def test_reads_without_any_assignment_make_the_period_checkers_unknown():
    b = G()
    writes(b)
    b.member(0, "start")
    b.read(0, 0, 0)
    b.commit(0, {0: 6})
    b.stable([0], [0])
    b.drain()
    res = results(b)
    undecided = {"split-ownership", "resume-mismatch", "redelivery", "unrevoked-read"}
    assert {n for n, r in res.items() if r.status == "unknown"} == undecided
    assert all("no assignment" in res[n].reason for n in undecided)
    assert the(res, "orphaned-partition")["assignments"] == {}
    assert res["commit-regression"].status == "ok" and res["lost-on-rebalance"].status == "ok"


def test_group_results_survive_a_jsonl_round_trip(tmp_path):
    b = split()
    b.commit(0, {1: 1})                                  # and a commit-regression
    path = tmp_path / "history.jsonl"
    b.history().dump(path)
    again = check_all(History.load(path), GROUP_ANOMALIES)
    assert again == check_all(b.history(), GROUP_ANOMALIES)
    assert {n for n, r in again.items() if r.status == "found"} == \
        {"split-ownership", "unrevoked-read", "redelivery", "commit-regression"}
