"""OASIS STIX 2.0 and 2.1 JSON as intelligence bulletins, one per STIX Domain Object.

A payload is a bundle, a TAXII 2.1 envelope or a single object. Every domain object of a
type mapping.yml lists becomes an IntelBulletin; identities, relationships, observables and
marking definitions are read into those bulletins and are not notices themselves. What
becomes which field, and how markings become the classification, mapping.yml says in full.
"""

from __future__ import annotations

from pydantic import ValidationError

from adapters.base import Adapter, TranslationContext
from adapters.stix.bundle import StixObject, read_payload, timestamp
from adapters.stix.graph import Graph, revoked
from adapters.stix.markings import MarkingResolver
from adapters.stix.sdo import read_draft
from adapters.stix.tables import StixMapping
from broker.errors import TranslationError
from broker.models import MsgType, NoticeEnvelope, NoticeReference, NoticeType


def translate(
    ctx: TranslationContext, adapter: Adapter, mapping: StixMapping
) -> list[NoticeEnvelope]:
    """Every notice of the payload, all built before any is handed out.

    Markings of every object are read first, so that one unknown marking anywhere sends the
    whole payload to the dead-letter topic rather than part of it to recipients.
    """
    payload = read_payload(ctx)
    definitions = {obj.id: obj for obj in payload.objects if obj.type == "marking-definition"}
    resolver = MarkingResolver(definitions, mapping, ctx)
    markings = {
        obj.id: resolver.object_markings(obj)
        for obj in payload.objects
        if obj.type != "marking-definition"
    }
    graph = Graph(payload, markings, mapping, ctx)
    notices = []
    for obj in payload.objects:
        if obj.type in mapping.notice_types:
            notices.append(_envelope(obj, graph, ctx, adapter, mapping))
        elif obj.type not in mapping.context_types and not mapping.is_observable(obj.type):
            ctx.unmapped[f"{obj.where}.type={obj.type}"] += 1
    return notices


def _envelope(
    obj: StixObject,
    graph: Graph,
    ctx: TranslationContext,
    adapter: Adapter,
    mapping: StixMapping,
) -> NoticeEnvelope:
    """STIX counts no versions: an object is version 1, and its revocation version 2."""
    draft = read_draft(obj, graph, mapping, ctx)
    notice_id = f"stix-{obj.id}"
    cancelled = revoked(obj, ctx)
    issued_at = (
        timestamp(ctx, obj.raw.get("modified"), f"{obj.where}.modified")
        or timestamp(ctx, obj.raw.get("created"), f"{obj.where}.created")
        or ctx.received_at
    )
    try:
        return NoticeEnvelope(
            notice_id=notice_id,
            version=2 if cancelled else 1,
            msg_type=MsgType.CANCEL if cancelled else MsgType.ALERT,
            references=[NoticeReference(notice_id=notice_id, version=1)] if cancelled else [],
            notice_type=NoticeType.INTEL_BULLETIN,
            originator=ctx.originator,
            issued_at=issued_at,
            classification=draft.classification(mapping),
            source=ctx.source(adapter, original_id=obj.id),
            body=draft.bulletin(),
        )
    except ValidationError as err:
        raise TranslationError(
            format=ctx.format, where=obj.where, reason=f"makes no valid notice: {err}"
        ) from err
