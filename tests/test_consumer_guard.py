"""The agency side's own checks: re-decide each delivery, drop the expired, keep ORCON home."""

from __future__ import annotations

import datetime as dt

import pytest

from broker import models as m
from broker.errors import OriginatorControlled
from broker.policy.profiles import GroupDefinition, Policy, RecipientProfile
from broker.policy.redaction import redact
from consumers.guard import DeliveryGuard, Verdict
from consumers.holding import HeldNotices
from consumers.republish import ensure_republishable
from tests.samples import ISSUED, sample_notice

NOW = ISSUED + dt.timedelta(hours=1)
POLICY = Policy(
    groups={"EU": GroupDefinition(description="EU")},
    recipients=(
        RecipientProfile(
            agency_id="de-bka", country="DE", clearance=m.Level.SECRET, groups=("EU",)
        ),
        RecipientProfile(agency_id="us-fbi", country="US", clearance=m.Level.SECRET),
    ),
)


def marked(**classification: object) -> m.NoticeEnvelope:
    notice = sample_notice()
    return notice.model_copy(
        update={"classification": notice.classification.model_copy(update=classification)}
    )


def test_a_notice_the_profile_allows_is_accepted() -> None:
    assert DeliveryGuard(POLICY, "de-bka").check(sample_notice(), NOW).verdict is Verdict.ACCEPT


def test_a_notice_the_profile_does_not_allow_is_refused_with_the_rules() -> None:
    check = DeliveryGuard(POLICY, "us-fbi").check(sample_notice(), NOW)
    assert check.verdict is Verdict.REFUSE
    assert check.rules == ("tlp-amber",)


def test_a_marked_field_must_arrive_redacted() -> None:
    marking = m.FieldMarking(path="subject.dates_of_birth", level=m.Level.TOP_SECRET)
    notice = marked(field_markings=[marking])
    guard = DeliveryGuard(POLICY, "de-bka")
    refused = guard.check(notice, NOW)
    assert refused.verdict is Verdict.REFUSE and "not-redacted" in refused.rules
    accepted = guard.check(redact(notice, ["subject.dates_of_birth"]), NOW)
    assert accepted.verdict is Verdict.ACCEPT


def test_an_expired_notice_is_dropped_not_refused() -> None:
    expired = sample_notice().model_copy(update={"expires_at": NOW - dt.timedelta(seconds=1)})
    assert DeliveryGuard(POLICY, "de-bka").check(expired, NOW).verdict is Verdict.EXPIRED


def test_held_notices_drop_out_when_they_expire_or_are_cancelled() -> None:
    held = HeldNotices()
    short = sample_notice("short").model_copy(update={"expires_at": NOW + dt.timedelta(hours=1)})
    held(short)
    held(sample_notice("long"))
    assert {n.notice_id for n in held.current(NOW)} == {"short", "long"}
    assert {n.notice_id for n in held.current(NOW + dt.timedelta(hours=2))} == {"long"}
    assert held.expired == 1
    held(sample_notice("long", version=2, msg_type=m.MsgType.CANCEL))
    assert held.current(NOW) == []


def test_an_older_version_does_not_replace_a_newer_one() -> None:
    held = HeldNotices()
    held(sample_notice("n", version=2, msg_type=m.MsgType.UPDATE))
    held(sample_notice("n", version=1))
    assert [n.version for n in held.current(NOW)] == [2]


def test_an_originator_controlled_notice_may_not_be_republished() -> None:
    with pytest.raises(OriginatorControlled, match="originator-controlled by fr-police"):
        ensure_republishable(marked(originator_controlled=True))
    assert ensure_republishable(sample_notice()) == sample_notice()
