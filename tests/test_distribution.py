"""The distributor's plan for one notice: deliveries, recalls, deferral, superseded versions."""

from __future__ import annotations

import datetime as dt

from broker import models as m
from broker.distribution import RECALL, LedgerEntry, Plan, plan
from broker.policy.profiles import GroupDefinition, Policy, RecipientProfile
from tests.samples import ISSUED, sample_notice

NOW = ISSUED + dt.timedelta(hours=1)
POLICY = Policy(
    groups={"EU": GroupDefinition(description="EU")},
    recipients=(
        RecipientProfile(
            agency_id="de-bka", country="DE", clearance=m.Level.SECRET, groups=("EU",)
        ),
        RecipientProfile(agency_id="fr-pj", country="FR", clearance=m.Level.SECRET, groups=("EU",)),
        RecipientProfile(agency_id="us-fbi", country="US", clearance=m.Level.SECRET),
    ),
)


def marked(notice: m.NoticeEnvelope, **classification: object) -> m.NoticeEnvelope:
    return notice.model_copy(
        update={"classification": notice.classification.model_copy(update=classification)}
    )


def sent_to(result: Plan) -> dict[str, m.NoticeEnvelope]:
    return {d.recipient: d.notice for d in result.deliveries if d.notice is not None}


def test_every_recipient_gets_one_decision_and_the_entitled_get_the_notice() -> None:
    result = plan(sample_notice(), POLICY, NOW, None)
    assert [d.recipient for d in result.deliveries] == ["de-bka", "fr-pj", "us-fbi"]
    assert set(sent_to(result)) == {"de-bka", "fr-pj"}
    assert result.ledger == LedgerEntry(1, {"de-bka": 1, "fr-pj": 1})
    assert result.deferred_until is None


def test_an_update_no_longer_releasable_to_a_former_recipient_sends_it_a_recall() -> None:
    update = marked(
        sample_notice(version=2, msg_type=m.MsgType.UPDATE), releasable_to=["de-bka"], tlp=m.Tlp.RED
    )
    result = plan(update, POLICY, NOW, LedgerEntry(1, {"de-bka": 1, "fr-pj": 1}))
    sent = sent_to(result)
    assert sent["de-bka"] == update
    recall = sent["fr-pj"]
    assert recall.msg_type is m.MsgType.CANCEL
    assert recall.notice_id == update.notice_id and recall.version == 2
    assert recall.classification.releasable_to == ["fr-pj"]
    assert isinstance(recall.body, m.WantedPersonNotice)
    assert recall.body.subject.names == []  # none of the new content
    outcomes = {d.recipient: d.outcome for d in result.deliveries}
    assert outcomes == {"de-bka": "DELIVER", "fr-pj": RECALL, "us-fbi": "WITHHOLD"}
    assert result.ledger == LedgerEntry(2, {"de-bka": 2, "fr-pj": 2})


def test_a_cancel_reaches_a_former_recipient_whose_profile_changed() -> None:
    cancel = marked(sample_notice(version=2, msg_type=m.MsgType.CANCEL), releasable_to=["group:EU"])
    result = plan(cancel, POLICY, NOW, LedgerEntry(1, {"us-fbi": 1}))
    assert sent_to(result)["us-fbi"].msg_type is m.MsgType.CANCEL
    assert set(sent_to(result)) == {"de-bka", "fr-pj", "us-fbi"}


def test_a_new_alert_withheld_sends_no_recall() -> None:
    alert = marked(sample_notice(), releasable_to=["de-bka"], tlp=m.Tlp.RED)
    assert set(sent_to(plan(alert, POLICY, NOW, None))) == {"de-bka"}


def test_an_embargoed_notice_is_deferred_whole_and_leaves_the_ledger_alone() -> None:
    release = NOW + dt.timedelta(minutes=5)
    embargoed = sample_notice().model_copy(update={"not_before": release})
    result = plan(embargoed, POLICY, NOW, None)
    assert result.deferred_until == release
    assert sent_to(result) == {}
    assert result.ledger is None
    outcomes = {d.recipient: d.outcome for d in result.deliveries}
    assert outcomes == {"de-bka": "DEFER", "fr-pj": "DEFER", "us-fbi": "WITHHOLD"}
    assert set(sent_to(plan(embargoed, POLICY, release, None))) == {"de-bka", "fr-pj"}


def test_an_older_version_than_the_ledger_holds_is_superseded() -> None:
    late = sample_notice(version=1)
    result = plan(late, POLICY, NOW, LedgerEntry(2, {"de-bka": 2}))
    assert sent_to(result) == {}
    assert {d.rules for d in result.deliveries} == {("superseded",)}
    assert result.ledger is None


def test_redacted_delivery_carries_the_redacted_notice() -> None:
    notice = marked(
        sample_notice(),
        field_markings=[m.FieldMarking(path="subject.dates_of_birth", level=m.Level.TOP_SECRET)],
    )
    result = plan(notice, POLICY, NOW, None)
    delivery = next(d for d in result.deliveries if d.recipient == "de-bka")
    assert delivery.outcome == "DELIVER_REDACTED"
    assert delivery.redacted == ("subject.dates_of_birth",)
    assert delivery.notice is not None
    assert isinstance(delivery.notice.body, m.WantedPersonNotice)
    assert delivery.notice.body.subject.dates_of_birth == []
