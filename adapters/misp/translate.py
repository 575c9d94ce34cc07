"""MISP events (MISP core format) as intelligence bulletins, one notice per event.

A payload is whatever MISP or its tools hand out: one event bare or wrapped as
``{"Event": {...}}`` (an export, a feed file, ``/events/view``), the same with the ``action``
that MISP's ZeroMQ and Kafka plugins add (and with Orgc and tags beside the event rather than
in it), a list of events (``/events/index``) or ``{"response": [...]}`` (``/events/restSearch``).
Each event is read by ``adapters.misp.event``: its sharing controls through
``adapters.misp.distribution``, its attributes, objects and reports through
``adapters.misp.content``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from adapters.base import Adapter, TranslationContext
from adapters.json_fields import json_type, parse_json
from adapters.misp.distribution import MarkingRules, Markings
from adapters.misp.event import EventReader
from adapters.misp.fields import MispFields
from broker.errors import TranslationError
from broker.models import MsgType, NoticeEnvelope, SourceReliability, ThreatLevel


class ThreatLevelRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    level: ThreatLevel
    label: str


class MispMapping(BaseModel):
    """The tables of mapping.yml; the file says what each one means and where it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    markings: MarkingRules
    threat_levels: dict[str, ThreatLevelRule]
    analysis: dict[str, str]
    source_reliability: dict[str, SourceReliability]
    information_credibility: dict[str, Annotated[int, Field(ge=1, le=6)]]
    narrative_types: frozenset[str]
    actions: dict[str, MsgType]


def translate(
    ctx: TranslationContext, adapter: Adapter, mapping: MispMapping
) -> list[NoticeEnvelope]:
    """Every event of the payload, all built before any is handed out.

    A fault in one event of a list thus never leaves the others published while the payload's
    bytes go to the dead-letter topic.
    """
    markings = Markings(mapping.markings, ctx.format)
    try:
        return [
            EventReader(event, wrapper, ctx, mapping, markings).envelope(adapter)
            for event, wrapper in _events(parse_json(ctx), ctx)
        ]
    except RecursionError as err:
        # JSON parses up to 1024 levels deep; auditing an unread value that deep recurses past
        # Python's limit. Nothing MISP writes nests more than a dozen levels.
        raise TranslationError(
            format=ctx.format, where="$", reason="nested too deeply to be a MISP event"
        ) from err


def _events(doc: Any, ctx: TranslationContext) -> list[tuple[MispFields, MispFields | None]]:
    """(event, the object wrapping it if any) for each event, by the payload's shape."""
    if isinstance(doc, dict) and "response" in doc and "Event" not in doc:
        page = MispFields(doc, "$", ctx, frozenset())
        items = page.elements("response")
        page.audit()
        return [_unwrapped(item) for item in items]
    if isinstance(doc, list):
        return [_unwrapped(_object(item, f"$[{i}]", ctx)) for i, item in enumerate(doc)]
    if isinstance(doc, dict) and {"Event", "uuid", "info"} & doc.keys():
        return [_unwrapped(MispFields(doc, "$", ctx, frozenset()))]
    raise TranslationError(
        format=ctx.format,
        where="$",
        reason='neither a MISP event, {"Event": ...}, a list of events nor {"response": [...]}: '
        f"found {_describe(doc)}",
    )


def _object(value: Any, where: str, ctx: TranslationContext) -> MispFields:
    if not isinstance(value, dict):
        raise TranslationError(
            format=ctx.format, where=where, reason=f"expected an event, found {json_type(value)}"
        )
    return MispFields(value, where, ctx, frozenset())


def _unwrapped(item: MispFields) -> tuple[MispFields, MispFields | None]:
    return (item.child("Event"), item) if item.has("Event") else (item, None)


def _describe(doc: Any) -> str:
    if isinstance(doc, dict):
        return f"an object with keys {', '.join(sorted(doc)) or '(none)'}"
    return json_type(doc)
