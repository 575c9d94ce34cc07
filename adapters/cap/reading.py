"""An <alert> and its <info> blocks as plain values, every child element read or deliberately
ignored, so that the counter of unmapped fields shows what a sender added.

Ignored on purpose: <polygon>, <circle>, <altitude> and <ceiling> (the canonical notice holds
no geometry: areas travel by description and geocode); a resource's <derefUri> (the resource
itself, base64 inside the alert: a notice refers to files by URI, it does not carry them),
<digest> (SHA-1, which the notice's sha256 fields cannot hold) and <size>.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Container
from dataclasses import dataclass

from adapters.base import TranslationContext
from adapters.cap import fields
from adapters.cap.fields import Pair
from adapters.cap.tables import CapMapping
from adapters.xml_reader import XmlRecord

DEFAULT_LANGUAGE = "en-US"
"""CAP 1.2 section 3.2.2: an <info> without <language> is in US English."""

# CAP 1.2 section 3.2.1: identifiers and senders "MUST NOT include spaces, commas or restricted
# characters (< and &)"; references name messages as sender,identifier,sent.
_CAP_ID = re.compile(r"[^\s,<&]+")


@dataclass(frozen=True)
class Area:
    description: str | None
    geocodes: tuple[Pair, ...]


@dataclass(frozen=True)
class Resource:
    description: str | None
    mime_type: str | None
    uri: str | None


@dataclass(frozen=True)
class Info:
    language: str
    categories: tuple[str, ...]
    event: str | None
    response_types: tuple[str, ...]
    urgency: str | None
    severity: str | None
    certainty: str | None
    audience: str | None
    event_codes: tuple[Pair, ...]
    effective: dt.datetime | None
    onset: dt.datetime | None
    expires: dt.datetime | None
    sender_name: str | None
    headline: str | None
    description: str | None
    instruction: str | None
    web: str | None
    contact: str | None
    parameters: tuple[Pair, ...]
    resources: tuple[Resource, ...]
    areas: tuple[Area, ...]


@dataclass(frozen=True)
class Alert:
    """The header of one alert message and its information blocks, in document order."""

    identifier: str
    sender: str
    sent: dt.datetime
    sent_text: str
    source: str | None
    note: str | None
    codes: tuple[str, ...]
    incidents: tuple[str, ...]
    infos: tuple[Info, ...]

    @property
    def reference(self) -> str:
        """How other CAP messages name this one (in their <references>)."""
        return f"{self.sender},{self.identifier},{self.sent_text}"

    @property
    def primary(self) -> tuple[Info, ...]:
        """The blocks in the first block's language: the notice is built from these.

        Blocks in other languages are taken as translations of them (as in the bilingual
        Canadian and US examples), so they add text, not areas or parameters.
        """
        if not self.infos:
            return ()
        language = self.infos[0].language
        return tuple(info for info in self.infos if info.language == language)


def read_alert(record: XmlRecord, ctx: TranslationContext, mapping: CapMapping) -> Alert:
    """The alert's own elements; <msgType>, <status>, <scope>, <restriction>, <addresses> and
    <references> are read where they are decided (translate, scope, lifecycle)."""
    sent_text = _required(record, "sent")
    try:
        sent = fields.parse_instant(sent_text)
    except ValueError as err:
        raise (record.child("sent") or record).error(str(err)) from err
    try:
        incidents = fields.items(fields.line(record, "incidents"))
    except ValueError as err:
        raise (record.child("incidents") or record).error(str(err)) from err
    return Alert(
        identifier=_cap_id(record, "identifier"),
        sender=_cap_id(record, "sender"),
        sent=sent,
        sent_text=sent_text,
        source=fields.line(record, "source"),
        note=fields.block(record, "note"),
        codes=tuple(fields.lines(record, "code")),
        incidents=tuple(incidents),
        infos=tuple(_info(info, ctx, mapping) for info in record.children("info")),
    )


def _required(record: XmlRecord, name: str) -> str:
    value = fields.line(record, name)
    if value is None:
        raise record.error("missing or empty (required by CAP)", at=name)
    return value


def _cap_id(record: XmlRecord, name: str) -> str:
    value = _required(record, name)
    if not _CAP_ID.fullmatch(value):
        raise (record.child(name) or record).error(
            f"{value!r} contains a space, comma, '<' or '&', which CAP forbids: references "
            "could not name this message"
        )
    return value


def _info(info: XmlRecord, ctx: TranslationContext, mapping: CapMapping) -> Info:
    read = Info(
        language=fields.line(info, "language") or DEFAULT_LANGUAGE,
        categories=_coded_all(info, "category", mapping.categories, ctx),
        event=fields.line(info, "event"),
        response_types=tuple(fields.lines(info, "responseType")),
        urgency=_coded(info, "urgency", mapping.threat_levels.urgency_cap, ctx),
        severity=_coded(info, "severity", mapping.threat_levels.severity, ctx),
        certainty=_coded(info, "certainty", mapping.credibility, ctx),
        audience=fields.line(info, "audience"),
        event_codes=tuple(fields.pairs(info, "eventCode")),
        effective=fields.instant(info, "effective"),
        onset=fields.instant(info, "onset"),
        expires=fields.instant(info, "expires"),
        sender_name=fields.line(info, "senderName"),
        headline=fields.line(info, "headline"),
        description=fields.block(info, "description"),
        instruction=fields.block(info, "instruction"),
        web=fields.line(info, "web"),
        contact=fields.line(info, "contact"),
        parameters=tuple(fields.pairs(info, "parameter")),
        resources=tuple(_resource(resource) for resource in info.children("resource")),
        areas=tuple(_area(area) for area in info.children("area")),
    )
    info.audit()
    return read


def _coded(
    info: XmlRecord, name: str, table: Container[str], ctx: TranslationContext
) -> str | None:
    """A code of CAP's enumerations; one the table lacks is kept, and counted."""
    value = fields.line(info, name)
    if value is not None and value not in table:
        ctx.unmapped[f"{info.path_pattern}/{name}={value}"] += 1
    return value


def _coded_all(
    info: XmlRecord, name: str, table: Container[str], ctx: TranslationContext
) -> tuple[str, ...]:
    values = fields.lines(info, name)
    for value in values:
        if value not in table:
            ctx.unmapped[f"{info.path_pattern}/{name}={value}"] += 1
    return tuple(values)


def _resource(resource: XmlRecord) -> Resource:
    read = Resource(
        description=fields.line(resource, "resourceDesc"),
        mime_type=fields.line(resource, "mimeType"),
        uri=fields.line(resource, "uri"),
    )
    resource.ignore("derefUri", "digest", "size")
    resource.audit()
    return read


def _area(area: XmlRecord) -> Area:
    read = Area(
        description=fields.line(area, "areaDesc"), geocodes=tuple(fields.pairs(area, "geocode"))
    )
    area.ignore("polygon", "circle", "altitude", "ceiling")
    area.audit()
    return read
