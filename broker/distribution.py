"""What the distributor does with one notice: deliveries, recalls, deferral. Pure: no Kafka.

For each recipient profile the policy decides (``broker.policy.decide``); this module turns
those decisions into what is sent, using the delivery ledger, the memory of who received
which notice:
- DELIVER and DELIVER_REDACTED send the notice (redacted as decided) and enter the recipient
  in the ledger;
- an UPDATE or CANCEL withheld from a recipient that received an earlier version sends that
  recipient a recall: a CANCEL without content, so a profile that changed since never keeps
  a notice its originator withdrew or revised;
- an embargoed notice (not_before in the future) is deferred as a whole, recalls included,
  and decided afresh when released;
- a version older than one already distributed is superseded and sends nothing, so a late
  embargo release can never overwrite a newer version.
Every recipient gets exactly one decision per notice, which becomes one audit record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import orjson

from broker.models import (
    Body,
    Classification,
    FreezeOrder,
    IntelBulletin,
    Level,
    ListedSubject,
    MsgType,
    Name,
    NoticeEnvelope,
    NoticeReference,
    NoticeType,
    PersonSubject,
    RequestedAction,
    SubjectKind,
    Tlp,
    WantedPersonNotice,
)
from broker.policy.decision import Decision, Outcome, decide
from broker.policy.profiles import Policy
from broker.policy.redaction import redact

RECALL = "RECALL"
"""Audit outcome of a recall: the policy withheld the new version, a CANCEL went instead."""
SUPERSEDED = "superseded"
RECALL_RULE = "recall"


@dataclass(frozen=True)
class LedgerEntry:
    """Per notice: the newest version distributed, and the version each recipient last got."""

    version: int
    recipients: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return orjson.dumps({"version": self.version, "recipients": self.recipients})

    @classmethod
    def from_json(cls, data: bytes) -> LedgerEntry:
        raw = orjson.loads(data)
        return cls(version=int(raw["version"]), recipients=dict(raw["recipients"]))


@dataclass(frozen=True)
class Delivery:
    """One recipient's decision and what, if anything, goes to its deliver topic."""

    recipient: str
    outcome: str
    rules: tuple[str, ...]
    redacted: tuple[str, ...] = ()
    notice: NoticeEnvelope | None = None


@dataclass(frozen=True)
class Plan:
    deliveries: list[Delivery]
    deferred_until: dt.datetime | None = None
    ledger: LedgerEntry | None = None
    """The entry to record, or None when nothing changed."""


def plan(
    notice: NoticeEnvelope, policy: Policy, now: dt.datetime, entry: LedgerEntry | None
) -> Plan:
    """Every recipient's delivery of ``notice``, given what the ledger says was sent before."""
    recipients = sorted(policy.recipients, key=lambda profile: profile.agency_id)
    if entry is not None and notice.version <= entry.version:
        superseded = (SUPERSEDED,)
        return Plan([Delivery(r.agency_id, Outcome.WITHHOLD.value, superseded) for r in recipients])
    decisions = {r.agency_id: decide(notice, r, now, policy) for r in recipients}
    if notice.not_before is not None and notice.not_before > now:
        deliveries = [_audit_only(agency, d) for agency, d in decisions.items()]
        return Plan(deliveries, deferred_until=notice.not_before)
    received = {} if entry is None else dict(entry.recipients)
    deliveries = []
    for agency, decision in decisions.items():
        delivery = _delivery(notice, agency, decision, agency in received)
        if delivery.notice is not None:
            received[agency] = notice.version
        deliveries.append(delivery)
    return Plan(deliveries, ledger=LedgerEntry(notice.version, received))


def _delivery(
    notice: NoticeEnvelope, agency: str, decision: Decision, received_before: bool
) -> Delivery:
    rules = tuple(rule.value for rule in decision.rules)
    match decision.outcome:
        case Outcome.DELIVER:
            return Delivery(agency, decision.outcome.value, rules, notice=notice)
        case Outcome.DELIVER_REDACTED:
            sent = redact(notice, decision.redacted_fields)
            return Delivery(
                agency, decision.outcome.value, rules, decision.redacted_fields, notice=sent
            )
    if received_before and notice.msg_type is not MsgType.ALERT:
        return Delivery(agency, RECALL, (*rules, RECALL_RULE), notice=recall_notice(notice, agency))
    return _audit_only(agency, decision)


def _audit_only(agency: str, decision: Decision) -> Delivery:
    rules = tuple(rule.value for rule in decision.rules)
    return Delivery(agency, decision.outcome.value, rules, decision.redacted_fields)


def recall_notice(notice: NoticeEnvelope, agency: str) -> NoticeEnvelope:
    """A CANCEL of ``notice`` for one former recipient that may no longer see its content.

    It carries the notice's identity and nothing else: the body is emptied, and the marking
    names that recipient alone, so it passes the recipient's own re-check without widening
    anything (the recipient already knew the notice existed).
    """
    return notice.model_copy(
        update={
            "msg_type": MsgType.CANCEL,
            "references": notice.references or _previous(notice),
            "classification": Classification(
                level=Level.UNCLASSIFIED,
                tlp=Tlp.RED,
                releasable_to=[agency],
                national_marking="recall: content withheld",
            ),
            "not_before": None,
            "expires_at": None,
            "body": _empty_body(notice.notice_type),
        }
    )


def _empty_body(notice_type: NoticeType) -> Body:
    withheld = "[RECALLED]"
    bodies: dict[NoticeType, Body] = {
        NoticeType.WANTED_PERSON: WantedPersonNotice(
            subject=PersonSubject(names=[]), action_requested=RequestedAction.INFORM
        ),
        NoticeType.INTEL_BULLETIN: IntelBulletin(title=withheld),
        NoticeType.FREEZE_ORDER: FreezeOrder(
            subject=ListedSubject(kind=SubjectKind.UNKNOWN, names=[Name(full_name=withheld)])
        ),
    }
    return bodies[notice_type]


def _previous(notice: NoticeEnvelope) -> list[NoticeReference]:
    if notice.version == 1:
        return []
    return [NoticeReference(notice_id=notice.notice_id, version=notice.version - 1)]
