"""The chaos harness's judgement, pure: it must see every way a run can go wrong.

A checker that cannot fail proves nothing, so each kind of fault is planted here and must be
reported, and the workload must exercise every outcome the sharing rules have.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from broker.models import Level, NoticeType, Tlp
from ops.chaos import workload
from ops.chaos.tally import Expected, Seen, embargo_breaches, expectations, misordered, tally

EXPECTED = {
    ("n1", "a"): Expected("DELIVER", ()),
    ("n1", "b"): Expected("WITHHOLD", ()),
    ("n2", "a"): Expected("DELIVER_REDACTED", ("text",)),
    ("n2", "b"): Expected("DELIVER", ()),
}


def seen(notice: str, recipient: str, outcome: str, *redacted: str, at: int = 0) -> Seen:
    return Seen((notice, recipient), outcome, tuple(redacted), ("topic", 0, at))


def delivered_as_expected() -> list[Seen]:
    return [
        seen("n1", "a", "DELIVER", at=1),
        seen("n2", "a", "DELIVER_REDACTED", "text", at=2),
        seen("n2", "b", "DELIVER", at=3),
    ]


def audited_as_expected() -> list[Seen]:
    return [seen(n, r, want.outcome, *want.redacted) for (n, r), want in EXPECTED.items()]


def test_a_faithful_run_passes() -> None:
    result = tally(EXPECTED, delivered_as_expected(), audited_as_expected())
    assert result.ok, result.faults()
    assert result.notices == 2


def test_a_missing_delivery_is_lost() -> None:
    result = tally(EXPECTED, delivered_as_expected()[1:], audited_as_expected())
    assert result.lost == [("n1", "a")]
    assert not result.ok


def test_a_second_copy_is_a_duplicate() -> None:
    deliveries = [*delivered_as_expected(), seen("n1", "a", "DELIVER", at=9)]
    result = tally(EXPECTED, deliveries, audited_as_expected())
    assert result.duplicated == [("n1", "a")]


def test_a_delivery_to_whom_it_was_withheld_from_is_a_leak() -> None:
    deliveries = [*delivered_as_expected(), seen("n1", "b", "DELIVER", at=9)]
    assert len(tally(EXPECTED, deliveries, audited_as_expected()).leaked) == 1


def test_an_unredacted_copy_of_a_redacted_delivery_is_a_leak() -> None:
    deliveries = delivered_as_expected()
    deliveries[1] = seen("n2", "a", "DELIVER", at=2)
    assert len(tally(EXPECTED, deliveries, audited_as_expected()).leaked) == 1


def test_audit_records_missing_twice_or_wrong_are_faults() -> None:
    audit = audited_as_expected()
    audit = [audit[0], audit[0], audit[2], seen("n2", "b", "WITHHOLD")]
    faults = tally(EXPECTED, delivered_as_expected(), audit).audit_faults
    assert len(faults) == 3  # n2->b wrong, n1->a twice, n1->b missing


def test_a_committed_reader_that_saw_an_aborted_record_made_an_aborted_read() -> None:
    committed = [("deliver", 0, 1), ("deliver", 0, 3)]
    uncommitted = [*committed, ("deliver", 0, 2)]
    result = tally(
        EXPECTED,
        delivered_as_expected(),
        audited_as_expected(),
        uncommitted=uncommitted,
        committed=committed,
        seen_during=[("deliver", 0, 1), ("deliver", 0, 2)],
    )
    assert result.aborted_records == 1
    assert result.aborted_reads == [("deliver", 0, 2)]


def test_poison_that_did_not_reach_the_dead_letters_fails_the_run() -> None:
    result = tally(
        EXPECTED, delivered_as_expected(), audited_as_expected(), dead_letters=3, poison=4
    )
    assert not result.ok
    assert result.faults() == ["dead letters: 3 for 4 poison records"]


def test_the_workload_spans_ten_agencies_every_marking_and_every_outcome() -> None:
    notices = list(workload.notices("run", 2_000, seed=7))
    assert notices == list(workload.notices("run", 2_000, seed=7))
    assert len({notice.notice_id for notice in notices}) == 2_000
    assert len({notice.originator.agency_id for notice in notices}) >= 10
    classifications = [notice.classification for notice in notices]
    assert {c.tlp for c in classifications} == set(Tlp)
    assert {c.level for c in classifications} == set(Level)
    assert any(c.originator_controlled for c in classifications)
    assert any(c.field_markings for c in classifications)
    assert any(c.not_releasable_to for c in classifications)
    outcomes = Counter(
        want.outcome
        for want in expectations(notices, workload.POLICY, dt.datetime.now(dt.UTC)).values()
    )
    assert set(outcomes) == {"DELIVER", "DELIVER_REDACTED", "WITHHOLD"}
    assert min(outcomes.values()) > 100


def test_poison_covers_every_input_topic_kind() -> None:
    kinds = Counter(letter.topic_kind for letter in workload.poison(40, seed=7))
    assert set(kinds) == {"raw", *(kind.value for kind in NoticeType)}
    assert min(kinds.values()) >= 5


def test_a_delivery_overtaking_an_earlier_notice_of_its_type_is_out_of_order() -> None:
    read = [("n1", "WANTED_PERSON"), ("n2", "INTEL_BULLETIN"), ("n3", "WANTED_PERSON")]
    in_order = [seen("n1", "a", "DELIVER", at=1), seen("n3", "a", "DELIVER", at=2)]
    assert misordered(read, in_order) == []
    interleaved = [seen("n2", "a", "DELIVER", at=1), seen("n1", "a", "DELIVER", at=2)]
    assert misordered(read, interleaved) == []  # types interleave freely
    overtaken = [seen("n3", "a", "DELIVER", at=1), seen("n1", "a", "DELIVER", at=2)]
    assert len(misordered(read, overtaken)) == 1


def test_an_embargoed_delivery_sent_early_or_late_is_a_breach() -> None:
    release = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    within = dt.timedelta(seconds=5)

    def sent(after: float) -> Seen:
        at = release + dt.timedelta(seconds=after)
        return Seen(("n1", "a"), "DELIVER", (), ("deliver", 0, 0), at=at)

    expected = {("n1", "a"): Expected("DELIVER", ())}
    on_time = embargo_breaches({"n1": release}, [sent(0.4)], expected, within=within)
    assert on_time == ([], [])
    early, _ = embargo_breaches({"n1": release}, [sent(-0.01)], expected, within=within)
    assert len(early) == 1
    _, late = embargo_breaches({"n1": release}, [sent(6)], expected, within=within)
    assert len(late) == 1
    _, never = embargo_breaches({"n1": release}, [], expected, within=within)
    assert len(never) == 1
