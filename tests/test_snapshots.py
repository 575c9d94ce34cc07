"""Snapshot lifecycle without Kafka: what two snapshots of a list say about each entry."""

from __future__ import annotations

import datetime as dt

from broker import models as m
from broker.snapshots import ListedEntry, SnapshotDiff
from tests.samples import ISSUED, sample_notice

LIST = "un/un-sc-consolidated-xml"
SOURCE = sample_notice().source


def entry(notice_id: str, name: str = "Jean Exemple") -> m.NoticeEnvelope:
    notice = sample_notice(notice_id)
    assert isinstance(notice.body, m.WantedPersonNotice)
    subject = notice.body.subject.model_copy(update={"names": [m.Name(full_name=name)]})
    return notice.model_copy(update={"body": notice.body.model_copy(update={"subject": subject})})


def run(
    previous: dict[str, ListedEntry], notices: list[m.NoticeEnvelope]
) -> tuple[list[m.NoticeEnvelope], SnapshotDiff]:
    diff = SnapshotDiff(LIST, previous)
    published = [p for n in notices if (p := diff.entry(n)) is not None]
    published += diff.vanished(originator=m.Originator(agency_id="un"), source=SOURCE, now=ISSUED)
    return published, diff


def state_after(*snapshots: list[m.NoticeEnvelope]) -> dict[str, ListedEntry]:
    state: dict[str, ListedEntry] = {}
    for snapshot in snapshots:
        _, diff = run(state, snapshot)
        for notice_id, change in diff.changes.items():
            if change is None:
                state.pop(notice_id)
            else:
                state[notice_id] = change
    return state


def test_added_changed_and_removed_entries_become_alert_update_cancel() -> None:
    state = state_after([entry("a"), entry("b"), entry("c")])
    published, _ = run(state, [entry("a"), entry("b", "Jean Autre"), entry("d")])
    assert [(n.notice_id, n.msg_type, n.version) for n in published] == [
        ("b", m.MsgType.UPDATE, 2),
        ("d", m.MsgType.ALERT, 1),
        ("c", m.MsgType.CANCEL, 2),
    ]
    cancel = published[-1]
    assert cancel.references == [m.NoticeReference(notice_id="c", version=1)]
    assert isinstance(cancel.body, m.WantedPersonNotice)
    assert cancel.body.subject.names == [m.Name(full_name="Jean Exemple")]


def test_the_same_snapshot_again_emits_nothing_even_received_later() -> None:
    snapshot = [entry("a"), entry("b")]
    state = state_after(snapshot)
    later = [n.model_copy(update={"issued_at": ISSUED + dt.timedelta(days=1)}) for n in snapshot]
    published, diff = run(state, later)
    assert published == [] and diff.unchanged == 2


def test_a_repeated_entry_keeps_the_first_and_is_counted() -> None:
    published, diff = run({}, [entry("a"), entry("a", "Other")])
    assert [n.notice_id for n in published] == ["a"]
    assert diff.duplicates == 1


def test_other_lists_state_is_not_cancelled() -> None:
    state = state_after([entry("a")])
    foreign = {k: v.model_copy(update={"list_id": "ofac/ofac-sdn-xml"}) for k, v in state.items()}
    published, _ = run(foreign, [entry("b")])
    assert [(n.notice_id, n.msg_type) for n in published] == [("b", m.MsgType.ALERT)]
