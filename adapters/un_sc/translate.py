"""The UN Security Council Consolidated List XML as freeze orders, one per INDIVIDUAL or ENTITY.

The list (scsanctions.un.org/resources/xml/en/consolidated.xml, schema sc-sanctions.xsd) is a
snapshot of every listing in force. Each entry is keyed by its permanent reference number
(QDi.001, KPi.033), which is stable across snapshots and so makes the notice id; DATAID is
the database row behind it and is kept as the original id. The regime (UN_LIST_TYPE) decides
the legal basis and the measures through mapping.yml.

The narrative fields (COMMENTS1, TITLE, DESIGNATION, NOTE) have no place in the canonical
freeze order and are deliberately left out; VERSIONNUM and the sort keys are the UN
database's bookkeeping, and lifecycle comes from comparing snapshots, not from them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field

from adapters.base import Adapter, TranslationContext
from adapters.sanctions_common import (
    DocumentKind,
    SnapshotEntries,
    calendar_date,
    report_unknown,
    stream_entries,
)
from adapters.un_sc.subject import SubjectReader
from adapters.xml_reader import XmlRecord, local_name
from broker.models import (
    AliasQuality,
    Classification,
    CountryCode,
    FreezeOrder,
    LegalAct,
    Measure,
    NoticeEnvelope,
    Sex,
    SubjectKind,
)


class Act(BaseModel):
    """A resolution behind a regime; the enacting authority is the table's, for all acts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference: str
    title: str | None = None
    url: str | None = None


class Regime(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    acts: list[Act] = Field(min_length=1)
    measures: list[Measure]


class UnScMapping(BaseModel):
    """The tables of mapping.yml; the file says what each one means and where it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    classification: Classification
    authority: str
    blank_values: frozenset[str]
    regimes: dict[str, Regime]
    alias_quality: dict[str, AliasQuality]
    sex: dict[str, Sex]
    document_kinds: dict[str, DocumentKind]
    countries: dict[str, list[CountryCode]]


ROOT = "CONSOLIDATED_LIST"
ENTRIES = ("INDIVIDUAL", "ENTITY")
_REFERENCE = re.compile(r"\S+")
_UNREAD = (
    "VERSIONNUM", "COMMENTS1", "NOTE", "TITLE", "DESIGNATION", "LIST_TYPE",
    "SORT_KEY", "SORT_KEY_LAST_MOD", "SUBMITTED_BY", "SUBMITTED_ON",
)  # fmt: skip


def translate(
    ctx: TranslationContext, adapter: Adapter, mapping: UnScMapping
) -> Iterator[NoticeEnvelope]:
    """Every listing of the snapshot, streamed: memory follows one entry, not the list."""
    entries = _Entries(ctx, adapter, mapping)
    yield from stream_entries(ctx, root=ROOT, entries=ENTRIES, build=entries.notice)


class _Entries(SnapshotEntries[UnScMapping]):
    notice_prefix = "un-sc"
    root = ROOT
    generated_attribute = "dateGenerated"

    @cached_property
    def fields(self) -> SubjectReader:
        return SubjectReader(self.ctx, self.mapping)

    def notice(self, record: XmlRecord) -> NoticeEnvelope | None:
        """The entry's freeze order; None for an entry marked delisted, which is no listing."""
        text = self.fields.text
        if text(record, "DELISTED_ON") is not None:
            return None
        reference = text(record, "REFERENCE_NUMBER")
        if reference is None or not _REFERENCE.fullmatch(reference):
            raise record.error(
                f"{reference!r} is not a permanent reference number (such as QDi.001), "
                "which identifies the listing",
                at="REFERENCE_NUMBER",
            )
        individual = local_name(record.element) == "INDIVIDUAL"
        kind = SubjectKind.INDIVIDUAL if individual else SubjectKind.ENTITY
        programme = text(record, "UN_LIST_TYPE")
        regime = self.regime(record, programme)
        listed = text(record, "LISTED_ON")
        listed_on = None if listed is None else calendar_date(record, "LISTED_ON", listed)
        body = FreezeOrder(
            legal_basis=[
                LegalAct(authority=self.mapping.authority, **act.model_dump())
                for act in (regime.acts if regime else [])
            ],
            listing_reference=reference,
            programmes=[programme] if programme else [],
            subject=self.fields.subject(record, kind),
            measures=[
                measure
                for measure in (regime.measures if regime else [])
                if individual or measure is not Measure.TRAVEL_BAN
            ],
            listed_on=listed_on,
            amended_on=self.last_updated(record),
        )
        original_id = text(record, "DATAID") or reference
        record.ignore(*_UNREAD)
        record.audit()
        return self.freeze_notice(
            record, key=reference, original_id=original_id, listed_on=listed_on, body=body
        )

    def regime(self, record: XmlRecord, programme: str | None) -> Regime | None:
        """The regime's table entry; an unknown regime is counted and gets no legal basis."""
        if programme is None:
            return None
        regime = self.mapping.regimes.get(programme)
        if regime is None:
            report_unknown(self.ctx, record, "UN_LIST_TYPE", programme)
        return regime

    def last_updated(self, record: XmlRecord) -> dt.date | None:
        """The latest of the entry's amendment dates; None for an entry never amended."""
        updates = record.child("LAST_DAY_UPDATED")
        if updates is None:
            return None
        values = [self.fields.text_of(value) for value in updates.texts("VALUE")]
        updates.audit()
        dates = [calendar_date(updates, "VALUE", value) for value in values if value]
        return max(dates, default=None)
