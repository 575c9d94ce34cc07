"""The EU Financial Sanctions File, XML 1.1, as freeze orders, one per sanctionEntity.

The file (namespace http://eu.europa.ec/fpi/fsd/export) is a snapshot of every entry subject
to EU financial sanctions. Almost everything sits in attributes, and an empty attribute means
absent. Each entry's logicalId is stable across snapshots and makes the notice id; its EU
reference number (EU.36.64) is the listing reference. The regulation elements name the acts
behind the entry and its programmes; the regulationSummary under each name, date or document
names the act that added that element, so those acts join the legal basis too, and their
dates give the listing and amendment dates when the entry states no designation date.

Left out on purpose, for want of a place in the canonical freeze order: the entry's remarks
and designationDetails, a name's function and title, an address's contact details.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from adapters.base import Adapter, TranslationContext
from adapters.eu_fsf.acts import Act, Effect
from adapters.eu_fsf.entry import EntryReader
from adapters.sanctions_common import (
    DocumentKind,
    SnapshotEntries,
    calendar_date,
    lookup,
    report_unknown,
    stream_entries,
    unique,
)
from adapters.xml_reader import XmlRecord
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


class EuFsfMapping(BaseModel):
    """The tables of mapping.yml; the file says what each one means and where it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    classification: Classification
    measures: list[Measure]
    authorities: dict[str, str]
    default_authority: str
    regulation_types: dict[str, Effect]
    programmes: frozenset[str]
    subject_kinds: dict[str, SubjectKind]
    sex: dict[str, Sex]
    alias_quality_remarks: dict[str, AliasQuality]
    country_codes: dict[str, CountryCode | None]
    document_kinds: dict[str, DocumentKind]
    document_flags: dict[str, str]
    gregorian_calendars: frozenset[str]


ROOT = "export"
ENTRIES = ("sanctionEntity",)
UN_AUTHORITY = "UN Security Council"
_LOGICAL_ID = re.compile(r"\S+")


def translate(
    ctx: TranslationContext, adapter: Adapter, mapping: EuFsfMapping
) -> Iterator[NoticeEnvelope]:
    """Every entry of the file, streamed: memory follows one entry, not the file."""
    entries = _Entries(ctx, adapter, mapping)
    yield from stream_entries(ctx, root=ROOT, entries=ENTRIES, build=entries.notice)


class _Entries(SnapshotEntries[EuFsfMapping]):
    notice_prefix = "eu-fsf"
    root = ROOT
    generated_attribute = "generationDate"

    def notice(self, record: XmlRecord) -> NoticeEnvelope:
        logical_id = record.attr("logicalId")
        if logical_id is None or not _LOGICAL_ID.fullmatch(logical_id):
            raise record.error(
                f"{logical_id!r} is not a logical id, which identifies the entry", at="@logicalId"
            )
        reader = EntryReader(self.ctx, self.mapping, record)
        regulations = [reader.acts.regulation(node) for node in record.children("regulation")]
        subject = reader.subject(self.kind(record))
        designated = record.attr("designationDate")
        united_nations_id = record.attr("unitedNationId")
        reference = record.attr("euReferenceNumber")
        record.ignore("remark", "@designationDetails")
        record.audit()
        listed_on = (
            calendar_date(record, "@designationDate", designated)
            if designated
            else min(reader.acts.dates("listing"), default=None)
        )
        body = FreezeOrder(
            legal_basis=self.legal_basis(regulations, united_nations_id, reader.acts.summaries),
            listing_reference=reference or logical_id,
            programmes=unique(self.programmes(record, regulations)),
            subject=subject,
            measures=self.mapping.measures,
            listed_on=listed_on,
            amended_on=max(reader.acts.dates("amendment"), default=None),
        )
        return self.freeze_notice(
            record, key=logical_id, original_id=logical_id, listed_on=listed_on, body=body
        )

    def kind(self, record: XmlRecord) -> SubjectKind:
        """person or enterprise; an unknown code is counted and the kind left UNKNOWN."""
        node = record.child("subjectType")
        if node is None:
            return SubjectKind.UNKNOWN
        code = node.attr("code")
        node.ignore("@classificationCode")  # P or E: the code's initial, nothing more
        node.audit()
        return (
            lookup(self.ctx, node, "@code", code, self.mapping.subject_kinds) or SubjectKind.UNKNOWN
        )

    def legal_basis(
        self, regulations: list[Act], united_nations_id: str | None, summaries: list[Act]
    ) -> list[LegalAct]:
        """The entry's regulations, the UN listing it implements, then every amending act.

        A UN-derived entry names its UN reference (QDi.001): the Security Council committee's
        listing is the act the EU regulation implements, and it ties the two notices together.
        """
        acts = [act.act for act in regulations if act.act]
        if united_nations_id:
            acts.append(
                LegalAct(
                    authority=UN_AUTHORITY,
                    reference=united_nations_id,
                    title="UN Security Council listing implemented by this entry",
                )
            )
        acts += [act.act for act in summaries if act.act]
        first: dict[str, LegalAct] = {}
        for act in acts:
            first.setdefault(act.reference, act)
        return list(first.values())

    def programmes(self, record: XmlRecord, regulations: list[Act]) -> list[str]:
        for act in regulations:
            if act.programme and act.programme not in self.mapping.programmes:
                report_unknown(self.ctx, record, "regulation/@programme", act.programme)
        return [act.programme for act in regulations if act.programme]
