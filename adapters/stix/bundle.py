"""A STIX payload as its objects: a bundle, a TAXII 2.1 envelope, or one object alone.

Markings, authors and relationships may sit anywhere in a bundle, so the whole document is
read before any object is translated; each object keeps its JSON path for error messages.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from adapters.base import TranslationContext
from adapters.json_fields import JsonFields, json_type, parse_json
from broker.errors import TranslationError

_STIX_ID = re.compile(r"[a-z0-9][a-z0-9-]*--[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_TIMESTAMP = re.compile(
    r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(?:Z|z|([+-]\d{2}:\d{2}))"
)
SPEC_VERSIONS = frozenset({"2.0", "2.1"})


@dataclass(frozen=True)
class StixObject:
    """One top-level object of the payload, as parsed, with its place in it."""

    raw: dict[str, Any]
    where: str
    type: str
    id: str


@dataclass(frozen=True)
class Payload:
    objects: tuple[StixObject, ...]
    """The newest version of each object, in payload order."""
    by_id: dict[str, StixObject]


def read_payload(ctx: TranslationContext) -> Payload:
    doc = parse_json(ctx)
    objects = list(_objects(doc, ctx))
    newest: dict[str, tuple[int, dt.datetime | None]] = {}
    for index, obj in enumerate(objects):
        modified = timestamp(ctx, obj.raw.get("modified"), f"{obj.where}.modified")
        earlier = newest.get(obj.id)
        if earlier is None or _not_older(modified, earlier[1]):
            newest[obj.id] = (index, modified)
    current = sorted(index for index, _ in newest.values())
    return Payload(
        objects=tuple(objects[index] for index in current),
        by_id={stix_id: objects[index] for stix_id, (index, _) in newest.items()},
    )


def is_stix_id(text: str) -> bool:
    return _STIX_ID.fullmatch(text) is not None


def timestamp(ctx: TranslationContext, value: Any, where: str) -> dt.datetime | None:
    """A STIX timestamp (RFC 3339 in UTC, 'Z'), with any number of second decimals.

    STIX requires UTC; a producer writing an offset instead is still unambiguous, so its
    instant is taken rather than its payload refused.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise TranslationError(
            format=ctx.format, where=where, reason=f"expected a string, found {json_type(value)}"
        )
    match = _TIMESTAMP.fullmatch(value.strip())
    if match is None:
        raise TranslationError(
            format=ctx.format,
            where=where,
            reason=f"{value!r} is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.s]Z)",
        )
    fraction = (match[2] or "")[:6].ljust(6, "0")
    try:
        moment = dt.datetime.fromisoformat(f"{match[1]}.{fraction}{match[3] or '+00:00'}")
        return moment.astimezone(dt.UTC)
    except (ValueError, OverflowError) as err:
        raise TranslationError(
            format=ctx.format, where=where, reason=f"{value!r} is not a calendar time: {err}"
        ) from err


def _not_older(modified: dt.datetime | None, earlier: dt.datetime | None) -> bool:
    """A later copy replaces an earlier one unless it is an older version of the object."""
    return modified is None or earlier is None or modified >= earlier


def _objects(doc: Any, ctx: TranslationContext) -> Iterator[StixObject]:
    if not isinstance(doc, dict):
        raise TranslationError(
            format=ctx.format,
            where="$",
            reason=f"expected a STIX bundle or object, found {json_type(doc)}",
        )
    if "type" in doc and doc["type"] != "bundle":
        yield _object(doc, "$", ctx)
        return
    container = JsonFields(doc, "$", ctx, frozenset())
    if "type" in doc:
        _spec_version(container)
        container.ignore("type", "id")
    elif doc.keys().isdisjoint({"objects", "more"}):
        raise container.error("$", "neither a STIX bundle, a TAXII envelope nor a STIX object")
    else:  # A TAXII 2.1 envelope: one page of a collection's objects (an empty page has none).
        container.ignore("more", "next")
    raw_objects = doc.get("objects")
    container.children("objects")  # checks that they are all objects
    container.audit()
    for index, raw in enumerate(raw_objects or []):
        yield _object(raw, f"$.objects[{index}]", ctx)


def _object(raw: dict[str, Any], where: str, ctx: TranslationContext) -> StixObject:
    fields = JsonFields(raw, where, ctx, frozenset())
    stix_type = fields.required_text("type")
    stix_id = fields.required_text("id")
    if not is_stix_id(stix_id) or not stix_id.startswith(f"{stix_type}--"):
        raise fields.error(fields.at("id"), f"{stix_id!r} is not a STIX id of a {stix_type}")
    _spec_version(fields)
    return StixObject(raw=raw, where=where, type=stix_type, id=stix_id)


def _spec_version(fields: JsonFields) -> None:
    """STIX 2.0 objects carry no spec_version (2.0 bundles do); 2.1 objects carry "2.1"."""
    version = fields.text("spec_version")
    if version is not None and version not in SPEC_VERSIONS:
        raise fields.error(
            fields.at("spec_version"), f"STIX {version} is not supported (only 2.0 and 2.1)"
        )
