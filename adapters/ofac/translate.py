"""OFAC's sdnList XML (sdn.xml and the Consolidated Sanctions List) as freeze orders.

One notice per sdnEntry, streamed: each entry is translated and handed out before the next
is parsed, so memory follows the largest entry, not the list. Elements are matched by local
name, so the namespace OFAC changed between years (http://tempuri.org/sdnList.xsd, then
https://sanctionslistservice.ofac.treas.gov/...) makes no difference.

The list has no lifecycle: every entry goes out as version 1, an ALERT, and a delisting is an
entry missing from a later snapshot, which the snapshot-diffing stage turns into a CANCEL.
The header's Publish_Date is the issue date of every entry of the snapshot; the classic
schema gives no listing or amendment date per entry.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from pydantic import ValidationError

from adapters.base import Adapter, TranslationContext
from adapters.ofac.fields import (
    Lookups,
    addresses,
    citizenships,
    dates_of_birth,
    id_list,
    items,
    places_of_birth,
    vessel,
)
from adapters.ofac.mapping import ORDERS_BY, SdnListRules, Tables
from adapters.published_lists import list_rules
from adapters.sanctions_common import (
    clean_name,
    entry_digest,
    script_of,
    unique,
    validation_summary,
)
from adapters.xml_reader import XmlRecord, iter_records, local_name
from broker.errors import TranslationError
from broker.models import (
    Alias,
    AliasQuality,
    FreezeOrder,
    LegalAct,
    ListedSubject,
    Name,
    NoticeEnvelope,
    SubjectKind,
)

_PLACE = re.compile(r"/sdnList/(?:sdnEntry|publshInformation)\[\d+\]")
_UID = re.compile(r"\d+")
_PUBLISH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_EXECUTIVE_ORDER = re.compile(r"-EO(\d{5})$")


def translate(
    ctx: TranslationContext, adapter: Adapter, tables: Tables
) -> Iterator[NoticeEnvelope]:
    """Each sdnEntry's notice in document order; faults raise at the entry they are in."""
    lists = tables.mapping.lists
    rules = list_rules(ctx, lists, reason=f"not an OFAC list ({', '.join(lists)})")
    look = Lookups(ctx, tables)
    issued_at = ctx.received_at
    entries = 0
    for record in iter_records(ctx, ("publshInformation", "sdnEntry")):
        if not _PLACE.fullmatch(record.path):
            raise record.error("outside an sdnList document (root element sdnList)")
        if local_name(record.element) == "publshInformation":
            issued_at = _publish_date(record) or ctx.received_at
            continue
        entries += 1
        yield _envelope(record, look, adapter, rules, issued_at)
    if not entries:
        # An empty snapshot would read as every listing withdrawn: refuse it.
        raise TranslationError(
            format=ctx.format, where="document", reason="no sdnEntry: not an OFAC sdnList list"
        )


def _publish_date(header: XmlRecord) -> dt.datetime | None:
    """publshInformation/Publish_Date, MM/DD/YYYY as OFAC writes it, at 00:00 UTC.

    Record_Count counts the whole list, so it cannot be checked against an excerpt.
    """
    text = header.text("Publish_Date")
    header.ignore("Record_Count")
    header.audit()
    if text is None:
        return None
    match = _PUBLISH_DATE.fullmatch(text)
    try:
        if match is None:
            raise ValueError("expected MM/DD/YYYY")
        return dt.datetime(int(match[3]), int(match[1]), int(match[2]), tzinfo=dt.UTC)
    except ValueError as err:
        raise header.error(f"{text!r} is not a publish date: {err}", at="Publish_Date") from err


def _envelope(
    entry: XmlRecord, look: Lookups, adapter: Adapter, rules: SdnListRules, issued_at: dt.datetime
) -> NoticeEnvelope:
    uid = entry.text("uid")
    if uid is None or not _UID.fullmatch(uid):
        raise entry.error(f"{uid!r} is not an OFAC uid (digits)", at="uid")
    kind = look.code(entry, "sdnType", look.tables.kinds) or SubjectKind.UNKNOWN
    names, aliases = _names(entry, look, kind)
    facts = id_list(entry, look)
    call_signs, flags = vessel(entry, look)
    programmes = _programmes(entry)
    # title (an individual's position) and remarks (free text) have no canonical field.
    entry.ignore("title", "remarks")
    try:
        subject = ListedSubject(
            kind=kind,
            names=names,
            aliases=aliases,
            sex=facts.sex,
            dates_of_birth=unique(dates_of_birth(entry) + facts.founded),
            places_of_birth=unique(places_of_birth(entry)),
            nationalities=unique(citizenships(entry, look) + facts.nationalities + flags),
            identifiers=unique(facts.identifiers + call_signs),
            addresses=unique(addresses(entry, look)),
        )
        body = FreezeOrder(
            legal_basis=unique(_programme_acts(entry, look, programmes) + facts.directives),
            listing_reference=uid,
            programmes=programmes,
            subject=subject,
            measures=rules.measures,
        )
        notice = rules.freeze_notice(
            look.ctx, adapter, key=uid, issued=issued_at, body=body, sha256=entry_digest(entry)
        )
    except ValidationError as err:
        raise entry.error(f"does not make a valid freeze order: {validation_summary(err)}") from err
    entry.audit()
    return notice


def _names(entry: XmlRecord, look: Lookups, kind: SubjectKind) -> tuple[list[Name], list[Alias]]:
    primary = _name(entry.text("firstName"), entry.text("lastName"), kind)
    if primary is None:
        raise entry.error("no name: lastName is missing or empty", at="lastName")
    names, aliases = [primary], []
    for aka in items(entry, "akaList", "aka"):
        aka.ignore("uid")
        name = _name(aka.text("firstName"), aka.text("lastName"), kind)
        role = look.code(aka, "type", look.tables.alias_types) or "alias"
        quality = look.code(aka, "category", look.tables.alias_quality) or AliasQuality.UNKNOWN
        aka.audit()
        if name is not None and role == "name":
            names.append(name)
        elif name is not None:
            aliases.append(Alias(name=name, quality=quality))
    return unique(names), unique(aliases)


def _name(first: str | None, last: str | None, kind: SubjectKind) -> Name | None:
    """A name in the source's order, first then last.

    Only an individual's name with both parts is split into given and family names: an
    entity's name, or an alias OFAC writes whole into lastName ("ZAHAR, Mahmoud"), is not.
    """
    parts = [part for part in (clean_name(first), clean_name(last)) if part]
    if not parts:
        return None
    full_name = " ".join(parts)
    script = script_of(full_name)
    if kind is SubjectKind.INDIVIDUAL and len(parts) == 2:
        return Name(full_name=full_name, given_names=parts[0], family_name=parts[1], script=script)
    return Name(full_name=full_name, script=script)


def _programmes(entry: XmlRecord) -> list[str]:
    found = entry.child("programList")
    if found is None:
        return []
    programmes = found.texts("program")
    found.audit()
    return unique(programmes)


def _programme_acts(entry: XmlRecord, look: Lookups, programmes: list[str]) -> list[LegalAct]:
    """The instrument behind each programme tag: from the table, or named in the tag itself."""
    mapping = look.tables.mapping
    acts: list[LegalAct] = []
    for programme in programmes:
        if programme in mapping.programmes:
            if act := mapping.programmes[programme]:
                authority = mapping.authorities[act.by]
                acts.append(LegalAct(authority=authority, reference=act.reference))
        elif match := _EXECUTIVE_ORDER.search(programme):
            authority = mapping.authorities[ORDERS_BY]
            acts.append(LegalAct(authority=authority, reference=f"Executive Order {match[1]}"))
        else:
            look.unknown(entry, "programList/program", programme)
    return acts
