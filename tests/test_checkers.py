"""Checkers on hand-built histories: each anomaly alone, and the clean history it was cut from."""

from __future__ import annotations

import pytest

from harness.checkers import CHECKERS, CheckResult, UnknownAnomaly, check_all
from harness.checkers import index as index_module
from harness.errors import UsageError
from harness.history import Event, History

ANOMALIES = ["lost-write", "unseen", "duplicate", "inconsistent-offsets", "nonmonotonic-send",
             "poll-skip", "nonmonotonic-poll", "int-poll-skip", "int-nonmonotonic-poll",
             "send-hang", "unacknowledged-send", "failed-send",
             "split-ownership", "orphaned-partition", "commit-regression", "resume-mismatch",
             "lost-on-rebalance", "redelivery", "unrevoked-read", "rebalance"]


class B:
    """Builds a History on a fake clock (one tick per event unless told) over topic "t"."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.t = 0.0
        self.log: dict[int, dict[int, str]] = {}   # what is really in each partition

    def ev(self, process, type, phase, at=None, **fields) -> Event:
        self.t = self.t + 1 if at is None else at
        e = Event(process=process, type=type, phase=phase, mono=self.t, wall=1e9 + self.t,
                  **fields)
        self.events.append(e)
        return e

    def invoke(self, value, partition=None, bound=5.0, at=None):
        producer = "producer-" + value.split("-")[0][1:]
        detail = {} if bound is None else {"bound_s": bound}
        return self.ev(producer, "send", "invoke", at, topic="t", partition=partition,
                       key=None, value=value, detail=detail)

    def complete(self, value, partition=None, offset=None, phase="ok", at=None, store=True):
        """A completion; `store` puts an ok (or explicitly placed) write into the real log."""
        producer = "producer-" + value.split("-")[0][1:]
        if offset is None and phase == "ok":
            offset = len(self.log.get(partition, {}))
        if store and offset is not None:
            self.log.setdefault(partition, {})[offset] = value
        return self.ev(producer, "send", phase, at, topic="t", partition=partition,
                       offset=offset if phase == "ok" else None, value=value)

    def send(self, value, partition, offset=None, phase="ok", bound=5.0, store=True):
        self.invoke(value, partition, bound)
        return self.complete(value, partition, offset, phase, store=store)

    def records(self, partition, lo=0, hi=None):
        log = self.log.get(partition, {})
        return [(partition, o, log[o]) for o in sorted(log) if o >= lo and (hi is None or o < hi)]

    def poll(self, process, records, at=None):
        return self.ev(process, "poll", "ok", at, topic="t", detail={
            "records": [{"partition": p, "offset": o, "value": v} for p, o, v in records]})

    def assign(self, process, partitions, type="assigned"):
        return self.ev(process, type, "ok", detail={"partitions": [["t", p] for p in partitions]})

    def drain(self, complete=True, phase="ok"):
        for p in sorted(self.log):
            self.poll("drain", self.records(p))
        ends = {f"t/{p}": max(self.log[p]) + 1 for p in self.log}
        return self.ev("drain", "drain", phase, detail={"complete": complete, "end_offsets": ends})

    def fault(self, phase, fid, at=None):
        return self.ev("nemesis", "fault", phase, at, detail={"fault": "kill", "id": fid})

    def history(self) -> History:
        return History(self.events)


def writes(b: B, seqs=range(6)) -> None:
    """p0 and p1 each send seq 0..5, even seqs to partition 0, odd seqs to partition 1."""
    for seq in seqs:
        for prod in (0, 1):
            b.send(f"p{prod}-{seq}", seq % 2)


def clean() -> B:
    b = B()
    b.assign("consumer-0", [0, 1])
    writes(b)
    b.poll("consumer-0", b.records(0, 0, 3))
    b.poll("consumer-0", b.records(1) + b.records(0, 3))
    return b


def results(b: B) -> dict[str, CheckResult]:
    return check_all(b.history())


def assert_only(res: dict[str, CheckResult], *found: str) -> None:
    """Exactly the named anomalies are found; every other checker says ok."""
    assert {n for n, r in res.items() if r.status != "ok"} == set(found), \
        {n: (r.status, r.evidence, r.reason) for n, r in res.items() if r.status != "ok"}
    for name in found:
        assert res[name].status == "found" and res[name].count > 0


def the(res: dict[str, CheckResult], name: str) -> dict:
    assert res[name].count == 1, res[name].evidence
    return res[name].evidence[0]


# --- clean and registry -----------------------------------------------------------------

def test_clean_history_passes_every_checker():
    b = clean()
    b.drain()
    res = results(b)
    assert list(res) == ANOMALIES
    assert_only(res)
    assert all(r.count == 0 and r.reason is None for r in res.values())


def test_registry_has_exactly_the_architecture_names():
    assert list(CHECKERS) == ANOMALIES


def test_unknown_anomaly_name_is_a_usage_error_listing_known_names():
    with pytest.raises(UsageError) as err:
        check_all(History(), ["duplicate", "lost-writes"])
    assert isinstance(err.value, UnknownAnomaly) and err.value.exit_code == 2
    assert "'lost-writes'" in str(err.value) and "lost-write, unseen" in str(err.value)


def test_check_all_runs_only_the_named_checkers_on_one_index(monkeypatch):
    b = clean()
    b.drain()
    calls = []
    real = index_module.build
    monkeypatch.setattr(index_module, "build", lambda h: calls.append(1) or real(h))
    res = check_all(b.history(), ["duplicate", "poll-skip"])
    assert list(res) == ["duplicate", "poll-skip"] and len(calls) == 1
    assert check_all(b.history(), "unseen")["unseen"].status == "ok" and len(calls) == 2


def test_index_is_rebuilt_when_the_history_grows():
    b = clean()
    b.drain()
    h = b.history()
    assert check_all(h)["unacknowledged-send"].status == "ok"
    h.record("producer-0", "send", "invoke", topic="t", value="p0-99", detail={})
    assert check_all(h)["unacknowledged-send"].evidence[0]["value"] == "p0-99"


def test_result_invariants_and_json_shape():
    with pytest.raises(ValueError):
        CheckResult("duplicate", "ok", [{"value": "x"}])
    with pytest.raises(ValueError):
        CheckResult("duplicate", "found", [])
    with pytest.raises(ValueError):
        CheckResult("duplicate", "maybe")
    r = CheckResult.judge("duplicate", [{"value": "x"}])
    assert r.status == "found" and r.count == 1 and r.to_dict()["count"] == 1


def test_results_survive_a_jsonl_round_trip(tmp_path):
    b = clean()
    b.poll("consumer-0", [(0, 1, "p1-0")])        # nonmonotonic-poll
    b.drain()
    path = tmp_path / "history.jsonl"
    b.history().dump(path)
    assert {n: r.status for n, r in check_all(History.load(path)).items()} == \
        {n: r.status for n, r in results(b).items()}
    assert check_all(History.load(path))["nonmonotonic-poll"].status == "found"


# --- lost-write, unseen -----------------------------------------------------------------

def test_lost_write_acknowledged_but_never_read_below_a_read_offset():
    b = B()
    writes(b, range(4))
    b.send("p0-4", 0, offset=4, store=False)         # acked at 4, gone from the log
    b.send("p1-4", 0, offset=5)
    b.drain()
    res = results(b)
    assert_only(res, "lost-write", "unseen")         # every lost write is also unseen
    lost = the(res, "lost-write")
    assert (lost["value"], lost["partition"], lost["offset"]) == ("p0-4", 0, 4)
    assert (lost["next_read_offset"], lost["next_read_value"]) == (5, "p1-4")
    assert the(res, "unseen")["value"] == "p0-4"


def test_unseen_tail_write_is_not_lost():
    b = B()
    writes(b, range(2))
    b.send("p0-2", 0, offset=2, store=False)         # acked at the tail, never read
    b.drain()
    res = results(b)
    assert_only(res, "unseen")
    gone = the(res, "unseen")
    assert (gone["value"], gone["offset"], gone["high_watermark"]) == ("p0-2", 2, 2)
    assert gone["beyond_high_watermark"] is True


def test_info_write_never_read_is_neither_lost_nor_unseen():
    b = B()
    writes(b, range(2))
    b.send("p0-2", 0, phase="info")                  # timed out; never made it
    b.send("p1-2", 0)                                # offset 2, read
    b.drain()
    assert_only(results(b))


def test_info_write_read_somewhere_counts_as_written():
    def case(retried: bool) -> dict[str, CheckResult]:
        b = B()
        writes(b, range(2))
        b.send("p0-2", 0, offset=2, phase="info")    # timed out, yet it is at offset 2
        b.send("p1-2", 0)                            # offset 3
        if retried:
            b.log[0][4] = "p0-2"                     # ...and a retry wrote it once more
        b.drain()
        return results(b)

    assert_only(case(retried=False))
    res = case(retried=True)
    assert_only(res, "duplicate")
    assert the(res, "duplicate")["offsets"] == [2, 4]


@pytest.mark.parametrize("drain", [dict(complete=False), dict(phase="fail"), None])
def test_lost_write_and_unseen_are_unknown_without_a_complete_drain(drain):
    b = B()
    writes(b, range(4))
    b.send("p0-4", 0, offset=4, store=False)
    b.send("p1-4", 0, offset=5)
    if drain is not None:
        b.drain(**drain)
    else:
        b.poll("consumer-0", b.records(0) + b.records(1))
    res = results(b)
    for name in ("lost-write", "unseen"):
        assert res[name].status == "unknown" and res[name].count == 0
        assert "drain" in res[name].reason and "1 candidate" in res[name].reason
    assert all(r.status == "ok" for n, r in res.items() if n not in ("lost-write", "unseen"))


def test_clean_history_without_drain_is_unknown_not_ok():
    res = results(clean())
    assert res["unseen"].status == "unknown" and res["lost-write"].status == "unknown"
    assert "no final drain" in res["unseen"].reason


# --- duplicate, inconsistent-offsets ----------------------------------------------------

def test_duplicate_value_read_at_two_offsets():
    b = clean()
    b.log[0][6] = "p0-2"                             # a retry wrote p0-2 again at offset 6
    b.poll("consumer-0", b.records(0, 6))
    b.drain()
    res = results(b)
    assert_only(res, "duplicate")
    dup = the(res, "duplicate")
    assert (dup["value"], dup["partition"], dup["offsets"]) == ("p0-2", 0, [2, 6])
    assert dup["observed"][1]["read_by"] == ["consumer-0", "drain"]
    assert dup["observed"][0]["acked_by"] == ["producer-0"]


def test_duplicate_value_acknowledged_at_two_offsets():
    b = clean()
    b.complete("p0-5", 1, offset=7, store=False)      # a second ok naming another offset
    b.drain()
    res = results(b)
    assert_only(res, "duplicate")
    dup = the(res, "duplicate")
    assert (dup["value"], dup["partition"], dup["offsets"]) == ("p0-5", 1, [4, 7])


def test_value_acknowledged_at_one_offset_and_read_at_another_is_a_duplicate_not_unseen():
    b = B()
    writes(b, range(2))
    b.send("p0-2", 0, offset=3, store=False)          # told "offset 3"...
    b.log[0][2] = "p0-2"                              # ...but it is at 2
    b.drain()
    res = results(b)
    assert_only(res, "duplicate")
    dup = the(res, "duplicate")
    assert (dup["offsets"], dup["observed"][0]["read_by"], dup["observed"][1]["acked_by"]) == \
        ([2, 3], ["drain"], ["producer-0"])


def test_completion_without_invoke_still_counts_as_acknowledged():
    b = B()
    writes(b, range(2))
    b.complete("p0-2", 0, offset=2, store=False)      # the invoke was never recorded
    b.drain()
    res = results(b)
    assert_only(res, "unseen")
    assert the(res, "unseen")["value"] == "p0-2"


def test_duplicate_across_partitions():
    b = clean()
    b.log[1][6] = "p0-0"                              # p0-0 belongs to partition 0
    b.drain()
    res = results(b)
    assert_only(res, "duplicate")
    dup = the(res, "duplicate")
    assert dup["kind"] == "across-partitions" and dup["partitions"] == [["t", 0], ["t", 1]]


def test_inconsistent_offsets_two_readers_disagree():
    b = clean()
    b.poll("consumer-1", [(0, 3, "p9-0")])            # the drain will read p1-2 there
    b.drain()
    res = results(b)
    assert_only(res, "inconsistent-offsets")
    bad = the(res, "inconsistent-offsets")
    assert (bad["partition"], bad["offset"]) == (0, 3)
    assert bad["values"] == [
        {"value": "p1-2", "read_by": ["consumer-0", "drain"], "acked_by": ["producer-1"]},
        {"value": "p9-0", "read_by": ["consumer-1"], "acked_by": []}]


def test_inconsistent_offsets_inside_the_first_batch_that_reads_them():
    b = B()                                           # no sends: only this batch says so
    b.poll("consumer-0", [(5, 0, "q-0"), (5, 1, "q-1"), (5, 0, "q-9")])   # 0 read twice
    res = results(b)
    assert {n for n, r in res.items() if r.status == "found"} == \
        {"inconsistent-offsets", "int-nonmonotonic-poll"}
    bad = the(res, "inconsistent-offsets")
    assert (bad["partition"], bad["offset"], [v["value"] for v in bad["values"]]) == \
        (5, 0, ["q-0", "q-9"])


def test_inconsistent_offsets_two_acknowledgements_name_one_unread_offset():
    b = B()
    writes(b, range(2))
    b.send("p0-2", 0, offset=2, store=False)          # both told "offset 2"; nobody read it
    b.send("p1-2", 0, offset=2, store=False)
    b.drain()
    res = results(b)
    bad = the(res, "inconsistent-offsets")
    assert (bad["offset"], bad["values"]) == (2, [
        {"value": "p0-2", "read_by": [], "acked_by": ["producer-0"]},
        {"value": "p1-2", "read_by": [], "acked_by": ["producer-1"]}])
    assert res["unseen"].count == 2 and res["duplicate"].status == "ok"


def test_duplicates_first_seen_together_by_the_drain():
    b = B()
    writes(b, range(2))
    b.log[0][2] = "p0-0"                              # twice in partition 0, in one batch
    b.log[1][2] = "p1-0"                              # and p1-0 in partition 1 too
    b.drain()
    res = results(b)
    assert_only(res, "duplicate")
    assert sorted((e["kind"], e["value"], e.get("offsets")) for e in res["duplicate"].evidence) \
        == [("across-partitions", "p1-0", None), ("within-partition", "p0-0", [0, 2])]


def test_inconsistent_offsets_acknowledgement_disagrees_with_readers():
    b = B()
    writes(b, range(2))
    b.send("p0-2", 0, offset=1, store=False)          # told "offset 1", which holds p1-0
    b.drain()
    res = results(b)
    assert res["inconsistent-offsets"].status == "found"
    bad = the(res, "inconsistent-offsets")
    assert (bad["offset"], [v["value"] for v in bad["values"]]) == (1, ["p0-2", "p1-0"])
    assert res["duplicate"].status == "ok"            # p0-2 was never read anywhere else


# --- nonmonotonic-send ------------------------------------------------------------------

def test_nonmonotonic_send_later_seq_lands_lower():
    b = B()
    writes(b, range(2))
    b.send("p0-2", 0, offset=3)                       # p0's seq 2 lands at 3...
    b.send("p0-3", 0, offset=2)                       # ...and seq 3 before it, at 2
    b.drain()
    res = results(b)
    assert_only(res, "nonmonotonic-send")
    inv = the(res, "nonmonotonic-send")
    assert (inv["producer"], inv["value"], inv["offset"]) == ("p0", "p0-3", 2)
    assert (inv["previous_value"], inv["previous_offset"]) == ("p0-2", 3)


def test_nonmonotonic_send_orders_by_the_seq_in_the_value():
    b = B()
    b.send("p0-11", 0, offset=0)                      # acked first, but seq 11
    b.send("p0-10", 0, offset=1)                      # seq 10, at the higher offset
    b.drain()
    inv = the(results(b), "nonmonotonic-send")
    assert (inv["value"], inv["previous_value"]) == ("p0-11", "p0-10")


@pytest.mark.parametrize("first, second, found", [("p0-9", "p0-10", False),
                                                   ("p0-10", "p0-9", True)])
def test_nonmonotonic_send_compares_seqs_as_numbers(first, second, found):
    b = B()
    b.send(first, 0)
    b.send(second, 0)
    b.drain()
    assert results(b)["nonmonotonic-send"].status == ("found" if found else "ok")


def test_nonmonotonic_send_values_off_convention_use_process_order():
    b = B()
    for value, offset in [("p0-a", 1), ("p0-b", 0)]:  # no seq: completion order counts
        b.send(value, 0, offset=offset)
    b.drain()
    inv = the(results(b), "nonmonotonic-send")
    assert (inv["producer"], inv["value"], inv["previous_value"]) == ("producer-0", "p0-b", "p0-a")


# --- poll order -------------------------------------------------------------------------

def test_poll_skip_between_batches():
    b = B()
    writes(b)
    b.poll("consumer-0", b.records(0, 0, 3))
    b.poll("consumer-0", b.records(1) + b.records(0, 4))   # offset 3 of partition 0 skipped
    b.drain()
    res = results(b)
    assert_only(res, "poll-skip")
    skip = the(res, "poll-skip")
    assert (skip["process"], skip["partition"], skip["prev_offset"], skip["offset"]) == \
        ("consumer-0", 0, 2, 4)
    assert (skip["skipped_offsets"], skip["skipped_values"]) == ([3], ["p1-2"])


def test_int_poll_skip_inside_one_batch():
    b = B()
    writes(b)
    b.poll("consumer-0", [r for r in b.records(0) if r[1] != 2])
    b.drain()
    res = results(b)
    assert_only(res, "int-poll-skip")
    skip = the(res, "int-poll-skip")
    assert (skip["prev_offset"], skip["offset"], skip["skipped_offsets"]) == (1, 3, [2])


def test_offset_gap_without_a_known_record_is_not_a_skip():
    b = B()
    writes(b, range(2))
    b.send("p0-2", 0, offset=3)                        # offset 2: a transaction marker
    b.poll("consumer-0", b.records(0, 0, 2))
    b.poll("consumer-0", b.records(0, 2))               # 1 -> 3
    b.poll("consumer-1", b.records(0))                  # 0, 1, 3
    b.drain()
    assert_only(results(b))


def test_first_read_of_a_partition_in_a_batch_is_judged_between_batches():
    b = B()
    writes(b)
    b.poll("consumer-0", b.records(0, 0, 3))
    b.poll("consumer-0", b.records(1, 0, 1) + b.records(0, 4))  # p1 first, then p0 skips 3
    b.drain()
    res = results(b)
    assert_only(res, "poll-skip")
    assert the(res, "poll-skip")["index"] == 1


def test_int_poll_skip_in_a_batch_mixing_partitions():
    b = B()
    writes(b)
    b.poll("consumer-0", [(0, 0, "p0-0"), (1, 0, "p0-1"), (0, 2, "p0-2"), (1, 1, "p1-1")])
    b.drain()
    res = results(b)
    assert_only(res, "int-poll-skip")
    skip = the(res, "int-poll-skip")
    assert (skip["index"], skip["partition"], skip["skipped_values"]) == (2, 0, ["p1-0"])


def test_nonmonotonic_poll_between_batches():
    b = B()
    writes(b)
    b.poll("consumer-0", b.records(0, 0, 4))
    b.poll("consumer-0", b.records(0, 2))                # back from 3 to 2
    b.drain()
    res = results(b)
    assert_only(res, "nonmonotonic-poll")
    back = the(res, "nonmonotonic-poll")
    assert (back["prev_offset"], back["offset"], back["value"]) == (3, 2, "p0-2")


def test_int_nonmonotonic_poll_inside_one_batch():
    b = B()
    writes(b)
    recs = b.records(0)
    b.poll("consumer-0", recs[:3] + recs[1:])             # 0 1 2 1 2 3 4 5
    b.drain()
    res = results(b)
    assert_only(res, "int-nonmonotonic-poll")
    back = the(res, "int-nonmonotonic-poll")
    assert (back["prev_offset"], back["offset"], back["index"]) == (2, 1, 3)


def test_rereading_the_same_offset_is_nonmonotonic():
    b = B()
    writes(b)
    b.poll("consumer-0", b.records(0, 0, 3))
    b.poll("consumer-0", b.records(0, 2))
    b.drain()
    assert the(results(b), "nonmonotonic-poll")["offset"] == 2


def test_assignment_change_resets_the_position():
    b = B()
    writes(b)
    b.assign("consumer-0", [0])
    b.poll("consumer-0", b.records(0, 0, 3))
    b.assign("consumer-0", [0], type="revoked")
    b.assign("consumer-0", [0])
    b.poll("consumer-0", b.records(0, 4))                 # starts elsewhere: not a skip
    b.assign("consumer-0", [0])
    b.poll("consumer-0", b.records(0))                    # from 0 again: not nonmonotonic
    b.poll("consumer-0", b.records(0, 0, 1))              # but this is
    b.drain()
    res = results(b)
    assert_only(res, "nonmonotonic-poll")
    assert the(res, "nonmonotonic-poll")["prev_offset"] == 5


def test_an_assignment_change_for_another_partition_keeps_the_position():
    b = B()
    writes(b)
    b.poll("consumer-0", b.records(0, 0, 3))
    b.assign("consumer-0", [1])
    b.poll("consumer-0", b.records(0, 4))
    b.drain()
    assert_only(results(b), "poll-skip")


# --- send-hang, unacknowledged-send -----------------------------------------------------

def hang_case(faults, done_at, bound=5.0, end_at=None) -> dict[str, CheckResult]:
    b = B()
    b.invoke("p0-0", 0, bound=bound, at=10)
    for at, phase, fid in faults:
        b.fault(phase, fid, at=at)
    if done_at is not None:
        b.complete("p0-0", 0, phase="fail", at=done_at)
    if end_at is not None:
        b.ev("runner", "note", "ok", at=end_at)       # the history goes on until end_at
    b.drain()
    return check_all(b.history(), ["send-hang", "unacknowledged-send"])


def test_send_hang_without_faults():
    res = hang_case([], done_at=30)
    hang = the(res, "send-hang")
    assert (hang["value"], hang["outcome"], hang["waited_s"], hang["since"]) == \
        ("p0-0", "fail", 20, 10)
    assert res["unacknowledged-send"].status == "ok"


def test_send_within_bound_after_heal_is_not_a_hang():
    assert hang_case([(11, "start", 1), (27, "end", 1)], done_at=30)["send-hang"].status == "ok"
    assert hang_case([(11, "start", 1), (20, "end", 1)], done_at=30)["send-hang"].status == "found"


def test_send_hang_counts_from_when_the_last_fault_ended():
    overlapping = [(11, "start", "a"), (12, "start", "b"), (15, "end", "a"), (25, "end", "b")]
    assert hang_case(overlapping, done_at=28)["send-hang"].status == "ok"
    res = hang_case(overlapping[:3], done_at=28, end_at=29)
    assert res["send-hang"].status == "found"             # b never ended: clock from invoke


def test_one_fault_ending_while_another_is_active_is_not_a_heal():
    faults = [(11, "start", "a"), (12, "start", "b"), (26, "end", "a")]
    hang = the(hang_case(faults, done_at=28), "send-hang")
    assert (hang["since"], hang["after_heal"]) == (10, False)
    assert hang_case(faults + [(27, "end", "b")], done_at=28)["send-hang"].status == "ok"


def test_send_never_completed_hangs_once_the_history_outlasts_its_bound():
    res = hang_case([], done_at=None, end_at=30)
    assert (res["send-hang"].count, res["unacknowledged-send"].count) == (1, 1)
    assert the(res, "send-hang")["outcome"] is None
    res = hang_case([], done_at=None, end_at=12, bound=30)
    assert (res["send-hang"].status, res["unacknowledged-send"].status) == ("ok", "found")


def test_send_hang_is_unknown_when_no_send_declares_a_bound():
    res = hang_case([], done_at=30, bound=None)
    assert res["send-hang"].status == "unknown" and "bound_s" in res["send-hang"].reason


def test_unacknowledged_send():
    b = clean()
    b.invoke("p1-6", 1, bound=None)
    b.drain()
    res = results(b)
    assert_only(res, "unacknowledged-send")
    left = the(res, "unacknowledged-send")
    assert (left["value"], left["process"], left["partition"]) == ("p1-6", "producer-1", 1)


# --- failed-send ------------------------------------------------------------------------
def test_failed_send_is_found_with_its_error_and_info_is_not():
    b = clean()
    b.invoke("p0-9", 0)
    e = b.complete("p0-9", 0, phase="fail")
    object.__setattr__(e, "detail", {"error": "_QUEUE_FULL: buffer full"})
    b.send("p1-9", 1, phase="info", store=False)
    b.drain()
    res = results(b)
    assert_only(res, "failed-send")
    got = the(res, "failed-send")
    assert got["value"] == "p0-9" and got["error"] == "_QUEUE_FULL: buffer full"


def test_every_anomaly_a_spec_can_name_has_exactly_one_checker_and_every_checker_one_name():
    import typing

    from harness.spec.model import Anomaly
    from harness.vocab.anomalies import ANOMALIES as NAMES

    nameable = typing.get_args(Anomaly)
    assert tuple(nameable) == NAMES                     # the spec language names exactly these
    assert tuple(CHECKERS) == NAMES                     # one checker each, in the same order
    assert len(set(CHECKERS.values())) == len(CHECKERS)  # no checker serves two names
    for name, checker in CHECKERS.items():
        assert check_all(History(), [name])[name].anomaly == name
