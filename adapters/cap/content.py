"""What both kinds of notice take from an alert alike: the entities it points to, the text
beyond its description, and when it stops holding.

The first <info> block is the primary one: it gives the title, summary and timing. Every later
block (another language, or another event in the same language) is kept as a section of text
headed by its language and headline, so a bilingual alert reaches recipients in both languages
and nothing a sender wrote is dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from adapters.cap.reading import Alert, Info, Resource
from broker.models import MsgType, RelatedEntity


def related(alert: Alert, resources: Iterable[Resource]) -> list[RelatedEntity]:
    """The issuing authority, each area (once per geocode), incident and linked resource.

    Areas come from the primary-language blocks only: the others describe the same places in
    another language.
    """
    entities: list[RelatedEntity] = []
    for info in alert.primary:
        name = info.sender_name or alert.sender
        entities.append(RelatedEntity(kind="organisation", name=name, ref=alert.sender))
        for area in info.areas:
            label = area.description or " ".join(str(code) for code in area.geocodes)
            entities.extend(
                RelatedEntity(kind="area", name=label, ref=str(code)) for code in area.geocodes
            )
            if not area.geocodes and area.description:
                entities.append(RelatedEntity(kind="area", name=area.description))
    entities.extend(RelatedEntity(kind="incident", name=incident) for incident in alert.incidents)
    entities.extend(
        RelatedEntity(kind="resource", name=resource.description or resource.uri, ref=resource.uri)
        for resource in resources
        if resource.uri
    )
    return list(dict.fromkeys(entities))


def primary_resources(alert: Alert) -> list[Resource]:
    return [resource for info in alert.primary for resource in info.resources]


def particulars(alert: Alert) -> str | None:
    """One labelled line per detail of the primary block and the alert that has no field of
    its own in the notice (response, audience, onset, contact, web page, source, note)."""
    first = alert.infos[0] if alert.infos else None
    labelled = [("Source", alert.source), ("Note", alert.note)]
    if first is not None:
        labelled = [
            ("Response", ", ".join(first.response_types) or None),
            ("Audience", first.audience),
            ("Onset", first.onset.isoformat() if first.onset else None),
            ("Contact", first.contact),
            ("Web", first.web),
            *labelled,
        ]
    return "\n".join(f"{label}: {value}" for label, value in labelled if value) or None


def other_blocks(alert: Alert) -> list[str]:
    """Each <info> after the first, as '[language] headline', description and instruction."""
    return [_section(info) for info in alert.infos[1:]]


def expires_at(alert: Alert, msg_type: MsgType) -> dt.datetime | None:
    """When the hub stops delivering the notice: the last block's expiry, none if any block
    has none (CAP leaves expiry to the recipient then).

    A CANCEL never expires: it withdraws earlier versions, and must reach every holder of one
    even when its own <expires> (often its sent time) has passed.
    """
    if msg_type is MsgType.CANCEL or not alert.infos:
        return None
    expiries = [info.expires for info in alert.infos]
    return None if None in expiries else max(e for e in expiries if e is not None)


def join(*parts: str | None) -> str | None:
    return "\n\n".join(part for part in parts if part) or None


def _section(info: Info) -> str:
    heading = f"[{info.language}] {info.headline or info.event or ''}".rstrip()
    return "\n".join(part for part in (heading, info.description, info.instruction) if part)
