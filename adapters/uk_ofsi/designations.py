"""The FCDO's UK Sanctions List (UK-Sanctions-List.xml) as freeze orders, one per Designation.

Unlike OFSI's list, each designated person, entity or ship is one Designation element with
its names, addresses and details nested inside, so designations stream one at a time. The
list names the sanctions imposed on each (SanctionsImposed) and the regulations behind them
(RegimeName is the regulations' title), which become measures and legal basis directly.

No lifecycle: every designation goes out as version 1, an ALERT; a revocation is a UniqueID
missing from a later snapshot, which the snapshot-diffing stage turns into a CANCEL.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from pydantic import ValidationError

from adapters.base import Adapter, TranslationContext
from adapters.markings import fold
from adapters.published_lists import ListRules, list_rules
from adapters.sanctions_common import (
    clean_name,
    entry_digest,
    issued_at,
    unique,
    validation_summary,
)
from adapters.uk_ofsi.designation_details import addresses, contacts, details, items, references
from adapters.uk_ofsi.mapping import Tables
from adapters.uk_ofsi.values import Lookups, day, split
from adapters.xml_reader import XmlRecord, iter_records, local_name
from broker.errors import TranslationError
from broker.models import (
    Alias,
    AliasQuality,
    FreezeOrder,
    LegalAct,
    ListedSubject,
    Measure,
    Name,
    NoticeEnvelope,
    SubjectKind,
)

_PLACE = re.compile(r"/Designations/(?:Designation|DateGenerated)\[\d+\]")
_UNIQUE_ID = re.compile(r"[A-Za-z0-9]+")


def translate(
    ctx: TranslationContext, adapter: Adapter, tables: Tables
) -> Iterator[NoticeEnvelope]:
    """Each Designation's notice in document order; faults raise at the designation."""
    rules = list_rules(ctx, tables.mapping.lists, reason="not a UK sanctions list format")
    look = Lookups(ctx, tables)
    generated: dt.date | None = None
    designations = 0
    for record in iter_records(ctx, ("DateGenerated", "Designation")):
        if not _PLACE.fullmatch(record.path):
            raise record.error("outside a UK Sanctions List (root element Designations)")
        if local_name(record.element) == "DateGenerated":
            generated = _day(record, None)
            continue
        designations += 1
        yield _envelope(record, look, adapter, rules, generated)
    if not designations:
        # An empty snapshot would read as every designation revoked: refuse it.
        raise TranslationError(
            format=ctx.format, where="document", reason="no Designation: not a UK Sanctions List"
        )


def _envelope(
    record: XmlRecord,
    look: Lookups,
    adapter: Adapter,
    rules: ListRules,
    generated: dt.date | None,
) -> NoticeEnvelope:
    unique_id = record.text("UniqueID")
    if unique_id is None or not _UNIQUE_ID.fullmatch(unique_id):
        raise record.error(f"{unique_id!r} is not a UK Sanctions List unique id", at="UniqueID")
    kind = look.code(record, ("IndividualEntityShip",), look.tables.kinds)
    regime = record.text("RegimeName")
    updated = _day(record, "LastUpdated")
    # Free text and flags restating SanctionsImposed have no canonical field.
    record.ignore("OtherInformation", "UKStatementofReasons", "Titles", "DesignationSource")
    record.ignore("SanctionsImposedIndicators")
    try:
        names, aliases = _names(record, look, kind)
        individual, entity, ship = details(record, look)
        subject = ListedSubject(
            kind=kind or SubjectKind.UNKNOWN,
            names=names,
            aliases=aliases,
            sex=individual.sex,
            dates_of_birth=unique(individual.dates_of_birth),
            places_of_birth=unique(individual.places_of_birth),
            nationalities=unique(individual.nationalities + ship.nationalities),
            identifiers=unique(
                individual.identifiers
                + entity.identifiers
                + ship.identifiers
                + references(record)
                + contacts(record)
            ),
            addresses=unique(addresses(record, look)),
        )
        authority = look.tables.mapping.legal_authority
        body = FreezeOrder(
            legal_basis=[LegalAct(authority=authority, reference=regime)] if regime else [],
            listing_reference=unique_id,
            programmes=[regime] if regime else [],
            subject=subject,
            measures=_measures(record, look),
            listed_on=_day(record, "DateDesignated"),
            amended_on=updated,
        )
        issued = issued_at(updated or generated, look.ctx.received_at)
        notice = rules.freeze_notice(
            look.ctx, adapter, key=unique_id, issued=issued, body=body, sha256=entry_digest(record)
        )
    except ValidationError as err:
        raise record.error(
            f"does not make a valid freeze order: {validation_summary(err)}"
        ) from err
    record.audit()
    return notice


def _names(
    record: XmlRecord, look: Lookups, kind: SubjectKind | None
) -> tuple[list[Name], list[Alias]]:
    """Names/Name by NameType, and NonLatinNames, the list's spellings in original script.

    The FCDO marks some designations' names primary twice: both are kept. With no name typed
    primary, the first name is. A Name element with no part (the FCDO publishes a few) is no
    name.
    """
    names: list[Name] = []
    aliases: list[Alias] = []
    for item in items(record, "Names", "Name"):
        given = " ".join(part for i in range(1, 6) if (part := clean_name(item.text(f"Name{i}"))))
        name = look.name(given, clean_name(item.text("Name6")), kind)
        role = look.code(item, ("NameType",), look.tables.name_types) or "alias"
        strength = look.code(item, ("AliasStrength",), look.tables.alias_quality)
        item.audit()
        if name is not None and role == "primary":
            names.append(name)
        elif name is not None:
            aliases.append(Alias(name=name, quality=strength or AliasQuality.UNKNOWN))
    if not names and aliases:
        names.append(aliases.pop(0).name)
    for item in items(record, "NonLatinNames", "NonLatinName"):
        item.ignore("NonLatinScriptType")  # the script is read from the name's letters
        if original := look.original_name(item, item.text("NameNonLatinScript")):
            names.append(original)
        item.audit()
    names = unique(names)
    return names, unique([alias for alias in aliases if alias.name not in names])


def _measures(record: XmlRecord, look: Lookups) -> list[Measure]:
    """SanctionsImposed, "Asset freeze|Travel Ban"; a sanction the table lacks is OTHER."""
    found: set[Measure] = set()
    for sanction in split(record.text("SanctionsImposed"), re.compile(r"\|")):
        measure = look.tables.sanctions_imposed.get(fold(sanction))
        if measure is None:
            look.unknown(record, "SanctionsImposed", sanction)
        found.add(measure or Measure.OTHER)
    return [measure for measure in Measure if measure in found]


def _day(record: XmlRecord, name: str | None) -> dt.date | None:
    """A list date, dd/mm/yyyy; the DateGenerated element is read from its own text."""
    value = record.text(name)
    if value is None:
        return None
    try:
        return day(value)
    except ValueError as err:
        raise record.error(f"{value!r} is not a date: {err}", at=name) from err
