"""OASIS CAP alert messages (1.2, and 1.1/1.0 which share its element names) as notices.

A payload is one <alert>, or any wrapper holding several (an EDXL-DE distribution, a feed):
each alert, wherever it is, becomes at most one notice, streamed with bounded memory.

- Lifecycle: msgType Alert/Update/Cancel are ALERT/UPDATE/CANCEL of one notice named after
  the chain's first message (``lifecycle``). Ack and Error answer earlier messages, and
  status Draft and System are not for recipients: they yield nothing and are counted as
  ``<alert>/msgType=Ack`` (or ``status=Draft``) in the context's unmapped values. Exercise and
  Test alerts travel with a caveat only exercise and test recipients hold (mapping.yml).
- Sharing: <scope>, <restriction>, <addresses> and EDXL-DE confidentiality (``scope``).
- Body: an alert about a person to find (AMBER and similar, mapping.yml's wanted_person rules)
  is a wanted-person notice asking to locate them (``wanted``); every other alert, weather,
  civil emergency or security, is an intelligence bulletin (``bulletin``).
- Times: issued_at is <sent>; expires_at the blocks' expiry (none for a CANCEL). not_before
  stays empty: CAP has no embargo, and <onset> (when the hazard starts) is not one.
- Provenance: the sha256 of the payload's raw bytes, as received, when it is one alert, so a
  signed alert is hashed exactly as signed and nothing is re-serialised; an enveloped XML
  Signature (ds:Signature) is neither mapped nor counted. An alert inside a wrapper has the
  digest of its own element (canonical XML), as entries of a list do. original_id is the
  message's CAP reference, ``sender,identifier,sent``.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import ValidationError

from adapters.base import Adapter, TranslationContext
from adapters.cap import content, fields
from adapters.cap.bulletin import bulletin
from adapters.cap.lifecycle import lifecycle
from adapters.cap.reading import read_alert
from adapters.cap.scope import classification
from adapters.cap.tables import CapMapping
from adapters.cap.wanted import wanted, wanted_rule
from adapters.xml_reader import XmlRecord, iter_records
from broker.errors import TranslationError, UnknownMarking
from broker.models import MsgType, NoticeEnvelope, NoticeType


def translate(
    ctx: TranslationContext, adapter: Adapter, mapping: CapMapping
) -> Iterator[NoticeEnvelope]:
    alerts = 0
    for record in iter_records(ctx, ("alert",)):
        alerts += 1
        notice = _notice(record, ctx, adapter, mapping)
        if notice is not None:
            yield notice
    if not alerts:
        raise TranslationError(format=ctx.format, where="document", reason="no CAP <alert> element")


def _notice(
    record: XmlRecord, ctx: TranslationContext, adapter: Adapter, mapping: CapMapping
) -> NoticeEnvelope | None:
    tag = record.element.tag
    namespace = tag[1:].split("}", 1)[0] if tag.startswith("{") else None
    if namespace not in mapping.namespaces:
        raise record.error(f"not a CAP alert: namespace {namespace!r} is not CAP's")
    msg_type = _msg_type(record, ctx, mapping)
    if msg_type is None:
        return None
    caveats = _caveats(record, ctx, mapping)
    if caveats is None:
        return None
    try:
        return _envelope(record, ctx, adapter, mapping, msg_type, caveats)
    except ValidationError as err:
        problem = err.errors()[0]
        place = ".".join(str(step) for step in problem["loc"])
        raise record.error(
            f"does not fit the canonical notice ({place}: {problem['msg']})"
        ) from err


def _envelope(
    record: XmlRecord,
    ctx: TranslationContext,
    adapter: Adapter,
    mapping: CapMapping,
    msg_type: MsgType,
    caveats: tuple[str, ...],
) -> NoticeEnvelope:
    marking = classification(record, ctx.format, mapping, caveats)
    alert = read_alert(record, ctx, mapping)
    chain = lifecycle(record, alert, msg_type)
    record.ignore("Signature")
    record.audit()
    rule = wanted_rule(alert, mapping)
    body = wanted(alert, chain, rule, mapping) if rule else bulletin(alert, chain, mapping)
    source = ctx.source(adapter, original_id=alert.reference)
    if record.element.getparent() is not None:
        source = source.model_copy(update={"sha256": record.sha256()})
    return NoticeEnvelope(
        notice_id=chain.notice_id,
        version=chain.version,
        msg_type=chain.msg_type,
        references=chain.references,
        notice_type=NoticeType.WANTED_PERSON if rule else NoticeType.INTEL_BULLETIN,
        originator=ctx.originator,
        issued_at=alert.sent,
        expires_at=content.expires_at(alert, msg_type),
        classification=marking,
        source=source,
        body=body,
    )


def _msg_type(record: XmlRecord, ctx: TranslationContext, mapping: CapMapping) -> MsgType | None:
    value = fields.line(record, "msgType")
    if value in mapping.ignored_msg_types:
        ctx.unmapped[f"{record.path_pattern}/msgType={value}"] += 1
        return None
    if value is None or value not in mapping.msg_types:
        known = ", ".join([*mapping.msg_types, *sorted(mapping.ignored_msg_types)])
        raise (record.child("msgType") or record).error(f"msgType {value!r} is not one of {known}")
    return mapping.msg_types[value]


def _caveats(
    record: XmlRecord, ctx: TranslationContext, mapping: CapMapping
) -> tuple[str, ...] | None:
    """The caveats <status> puts on the notice; None for a status that is not for recipients.

    An unknown status might be a test or an exercise: delivered as real, it could send
    people looking for a child that nobody took, so it is an unknown marking.
    """
    value = fields.line(record, "status")
    if value in mapping.ignored_statuses:
        ctx.unmapped[f"{record.path_pattern}/status={value}"] += 1
        return None
    if value is None or value not in mapping.status_caveats:
        raise UnknownMarking(
            format=ctx.format,
            where=(record.child("status") or record).where,
            marking=value or "",
            scheme="CAP status",
        )
    return mapping.status_caveats[value]
