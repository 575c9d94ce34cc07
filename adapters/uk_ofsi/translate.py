"""The UK OFSI Consolidated List (ConList.xml) as freeze orders, one per target.

OFSI writes one FinancialSanctionsTarget row per name of a target, rows of one target sharing
a GroupID, and orders rows by name, so a target's rows are scattered through the file. The
payload is therefore read twice, streaming both times: the first pass counts the rows of each
group, the second reads rows and hands a target's notice out as soon as its last row is in.
Memory holds the rows of targets still open, never the file.

The list has no lifecycle: every target goes out as version 1, an ALERT; a delisting is a
GroupID missing from a later snapshot, which the snapshot-diffing stage turns into a CANCEL.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator

from pydantic import ValidationError

from adapters.base import Adapter, TranslationContext
from adapters.published_lists import ListRules, list_rules
from adapters.sanctions_common import entry_digest, issued_at, unique, validation_summary
from adapters.uk_ofsi.mapping import Tables
from adapters.uk_ofsi.rows import GROUP_ID, Row, read_row
from adapters.uk_ofsi.values import Lookups
from adapters.xml_reader import XmlRecord, iter_records
from broker.errors import TranslationError
from broker.models import (
    Alias,
    FreezeOrder,
    ListedSubject,
    Measure,
    NoticeEnvelope,
    Sex,
    SubjectKind,
)

_ROW = "FinancialSanctionsTarget"
_PLACE = re.compile(r"/ArrayOfFinancialSanctionsTarget/FinancialSanctionsTarget\[\d+\]")


def translate(
    ctx: TranslationContext, adapter: Adapter, tables: Tables
) -> Iterator[NoticeEnvelope]:
    """Each target's notice, in the order its last row appears."""
    rules = list_rules(ctx, tables.mapping.lists, reason="not a UK sanctions list format")
    expected = _rows_per_group(ctx)
    look = Lookups(ctx, tables)
    open_groups: dict[str, list[Row]] = {}
    for record in iter_records(ctx, (_ROW,)):
        group_id = _group_id(record)
        rows = open_groups.setdefault(group_id, [])
        rows.append(read_row(record, group_id, entry_digest(record), look))
        if len(rows) > expected.get(group_id, 0):
            raise record.error("the payload changed between its two readings")
        if len(rows) == expected[group_id]:
            del open_groups[group_id]
            yield _envelope(group_id, rows, look, adapter, rules)
    if open_groups:
        raise TranslationError(
            format=ctx.format, where="document", reason="the payload changed between readings"
        )


def _rows_per_group(ctx: TranslationContext) -> Counter[str]:
    counts: Counter[str] = Counter()
    for record in iter_records(ctx, (_ROW,)):
        counts[_group_id(record)] += 1
    if not counts:
        # An empty snapshot would read as every listing withdrawn: refuse it.
        raise TranslationError(
            format=ctx.format,
            where="document",
            reason=f"no {_ROW}: not an OFSI Consolidated List (ArrayOfFinancialSanctionsTarget)",
        )
    return counts


def _group_id(record: XmlRecord) -> str:
    if not _PLACE.fullmatch(record.path):
        raise record.error("outside an OFSI list (root element ArrayOfFinancialSanctionsTarget)")
    group_id = record.text("GroupID")
    if group_id is None or not GROUP_ID.fullmatch(group_id):
        raise record.error(f"{group_id!r} is not an OFSI group id (digits)", at="GroupID")
    return group_id


def _envelope(
    group_id: str, rows: list[Row], look: Lookups, adapter: Adapter, rules: ListRules
) -> NoticeEnvelope:
    tables, ctx = look.tables, look.ctx
    updated = max((row.updated_on for row in rows if row.updated_on), default=None)
    try:
        body = FreezeOrder(
            legal_basis=unique([row.act for row in rows if row.act]),
            listing_reference=next((row.reference for row in rows if row.reference), None),
            programmes=unique([row.regime for row in rows if row.regime]),
            subject=_subject(rows),
            measures=_measures(rows, tables),
            listed_on=min((row.listed_on for row in rows if row.listed_on), default=None),
            amended_on=updated,
        )
        notice = rules.freeze_notice(
            ctx,
            adapter,
            key=group_id,
            issued=issued_at(updated, ctx.received_at),
            body=body,
            sha256=hashlib.sha256("".join(row.digest for row in rows).encode()).hexdigest(),
        )
    except ValidationError as err:
        summary = validation_summary(err)
        raise TranslationError(
            format=ctx.format,
            where=rows[0].where,
            reason=f"group {group_id} does not make a valid freeze order: {summary}",
        ) from err
    return notice


def _subject(rows: list[Row]) -> ListedSubject:
    """The target from all its rows; with no row typed a primary name, the first row's name.

    OFSI repeats a target's details on several rows, so every list is deduplicated, and a
    name that is already a primary name is no alias.
    """
    names = unique([name for row in rows if row.role == "primary" for name in row.names])
    if not names:
        names = list(rows[0].names)
    aliases = unique(
        [
            Alias(name=name, quality=row.quality)
            for row in rows
            if row.role == "alias"
            for name in row.names
            if name not in names
        ]
    )
    return ListedSubject(
        kind=next((row.kind for row in rows if row.kind), SubjectKind.UNKNOWN),
        names=names,
        aliases=aliases,
        sex=next((row.sex for row in rows if row.sex is not Sex.UNKNOWN), Sex.UNKNOWN),
        dates_of_birth=unique([date for row in rows for date in row.dates_of_birth]),
        places_of_birth=unique([place for row in rows for place in row.places_of_birth]),
        nationalities=unique([code for row in rows for code in row.nationalities]),
        identifiers=unique([doc for row in rows for doc in row.identifiers]),
        addresses=unique([address for row in rows for address in row.addresses]),
    )


def _measures(rows: list[Row], tables: Tables) -> list[Measure]:
    """The measures of the target's statuses, in the enum's order; none stated: the default."""
    stated = {measure for row in rows for measure in row.measures or ()}
    found = stated or set(tables.mapping.default_measures)
    return [measure for measure in Measure if measure in found]
