"""The FBI Wanted API (api.fbi.gov/wanted/v1/list and /@wanted-person/<uid>) as notices.

A payload is a list page ({total, page, items[]}) or one poster's detail (one item); each
poster becomes one notice, whose body bodies.py chooses. Objects are read by popping
(``adapters.json_fields``), so fields nobody maps are counted.

Lifecycle: a poster whose status says its request is over (captured, located, deceased...)
is the CANCEL of the notice its ALERT opened: same notice_id, version 2, referencing version 1.
A recipient that never saw the ALERT still learns the person is no longer sought.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import orjson
from pydantic import ValidationError

from adapters.base import Adapter, TranslationContext
from adapters.fbi.bodies import body
from adapters.fbi.tables import FbiMapping, lookup
from adapters.json_fields import JsonFields, json_type, parse_json
from broker.errors import TranslationError
from broker.models import MsgType, NoticeEnvelope, NoticeReference, Source

_UID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# Fields that repeat the uid (the API's own address for the poster) or that only render it.
_IGNORED = (
    "@id",  # https://api.fbi.gov/@wanted-person/<uid>
    "pathId",  # the same address under the name newer API versions use
    "files",  # PDF renderings of the poster, one per language; 'url' leads to them
)


def translate(
    ctx: TranslationContext, adapter: Adapter, mapping: FbiMapping
) -> list[NoticeEnvelope]:
    """Every notice of the payload, all built before any is handed out.

    A fault in the seventh poster of a page thus never leaves six of them published while the
    payload's bytes go to the dead-letter topic.
    """
    items = _items(parse_json(ctx), ctx, mapping.blank_values)
    return [_envelope(item, raw, ctx, adapter, mapping) for item, raw in items]


def _items(
    doc: Any, ctx: TranslationContext, blanks: frozenset[str]
) -> list[tuple[JsonFields, dict[str, Any]]]:
    if isinstance(doc, dict) and "items" in doc:
        raw_items = doc["items"] if doc["items"] is not None else []
        if not isinstance(raw_items, list):
            raise _error(
                ctx, "$.items", f"expected an array of objects, found {json_type(raw_items)}"
            )
        page = JsonFields(doc, "$", ctx, blanks)
        page.ignore("items", "total", "page")  # items are read below; the rest is paging
        page.audit()
        items = []
        for i, raw in enumerate(raw_items):
            if not isinstance(raw, dict):
                raise _error(ctx, f"$.items[{i}]", f"expected an object, found {json_type(raw)}")
            items.append((JsonFields(raw, f"$.items[{i}]", ctx, blanks), raw))
        return items
    if isinstance(doc, dict) and "uid" in doc:
        return [(JsonFields(doc, "$", ctx, blanks), doc)]
    found = (
        f"an object with keys {', '.join(sorted(doc)) or '(none)'}"
        if isinstance(doc, dict)
        else json_type(doc)
    )
    raise _error(ctx, "$", f"neither a list page (items) nor a poster (uid): found {found}")


def _error(ctx: TranslationContext, where: str, reason: str) -> TranslationError:
    return TranslationError(format=ctx.format, where=where, reason=reason)


def _envelope(
    item: JsonFields,
    raw: dict[str, Any],
    ctx: TranslationContext,
    adapter: Adapter,
    mapping: FbiMapping,
) -> NoticeEnvelope:
    uid = _uid(item)
    msg_type = _msg_type(item, mapping)
    issued_at = _issued_at(item, msg_type, ctx, mapping)
    try:
        notice_type, content = body(item, raw, mapping)
        item.ignore(*_IGNORED)
        item.audit()
        notice_id = f"fbi-{uid}"
        return NoticeEnvelope(
            notice_id=notice_id,
            version=1 if msg_type is MsgType.ALERT else 2,
            msg_type=msg_type,
            references=[]
            if msg_type is MsgType.ALERT
            else [NoticeReference(notice_id=notice_id, version=1)],
            notice_type=notice_type,
            originator=ctx.originator,
            issued_at=issued_at,
            classification=mapping.classification,
            source=_source(ctx, adapter, uid, item, raw),
            body=content,
        )
    except ValidationError as err:
        problem = err.errors()[0]
        field = ".".join(str(part) for part in problem["loc"])
        raise item.error(
            item.path, f"not a valid canonical notice: {field}: {problem['msg']}"
        ) from err


def _uid(item: JsonFields) -> str:
    uid = item.required_text("uid")
    if not _UID.fullmatch(uid):
        raise item.error(item.at("uid"), f"{uid!r} is not an FBI poster uid")
    return uid


def _source(
    ctx: TranslationContext, adapter: Adapter, uid: str, item: JsonFields, raw: dict[str, Any]
) -> Source:
    """Provenance with the poster's own digest: a page changes whenever any poster on it does.

    The digest is of the poster in canonical JSON (sorted keys), as the XML lists use their
    record's canonical XML, so a poster hashes the same on any page and in its detail.
    """
    try:
        canonical = orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError as err:  # nested deeper than orjson writes (255 levels)
        raise item.error(item.path, f"the poster cannot be digested: {err}") from err
    return Source(
        format=ctx.format,
        original_id=uid,
        adapter=adapter.name,
        adapter_version=adapter.version,
        received_at=ctx.received_at,
        sha256=hashlib.sha256(canonical).hexdigest(),
    )


def _msg_type(item: JsonFields, mapping: FbiMapping) -> MsgType:
    """ALERT while the poster stands; an unknown status is counted and read as standing.

    Cancelling on a status nobody mapped could withdraw a live fugitive from every recipient.
    """
    return lookup(item, "status", mapping.statuses)[1] or MsgType.ALERT


def _issued_at(
    item: JsonFields, msg_type: MsgType, ctx: TranslationContext, mapping: FbiMapping
) -> dt.datetime:
    """An ALERT is issued when the poster was published; a CANCEL when it was last modified."""
    published = _timestamp(item, "publication", mapping)
    modified = _timestamp(item, "modified", mapping)
    first = (published, modified) if msg_type is MsgType.ALERT else (modified, published)
    return next((when for when in first if when is not None), ctx.received_at)


def _timestamp(item: JsonFields, key: str, mapping: FbiMapping) -> dt.datetime | None:
    """ISO 8601; 'publication' has no offset and is the FBI's local (Washington) time."""
    text = item.text(key)
    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
        if when.tzinfo is None:
            when = when.replace(tzinfo=mapping.time_zone)
        return when.astimezone(dt.UTC)
    except (ValueError, OverflowError) as err:
        raise item.error(item.at(key), f"{text!r} is not an ISO 8601 date and time") from err
