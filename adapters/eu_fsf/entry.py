"""Who an EU file entry names: names, births, citizenships, documents, addresses.

Names come as nameAlias elements, each a spelling in one language (nameLanguage, an ISO 639-1
code in capitals) marked strong or not; the file does not say which is the name, so the first
strong one is, and the others are aliases. A birth date is a whole date, a partial one (year,
monthOfYear, dayOfMonth), a range of years, or approximate (circa). countryIso2Code 00 with
countryDescription UNKNOWN means no country.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

import pycountry

from adapters.base import TranslationContext
from adapters.countries import country_code
from adapters.eu_fsf.acts import UNREAD, Acts
from adapters.partial_dates import span
from adapters.sanctions_common import (
    joined,
    lookup,
    make_name,
    one_line,
    partial_date,
    report_unknown,
    unique,
)
from adapters.xml_reader import XmlRecord
from broker.models import (
    Address,
    Alias,
    AliasQuality,
    DateSpan,
    IdentityDocument,
    ListedSubject,
    Name,
    Sex,
    SubjectKind,
)

if TYPE_CHECKING:
    from adapters.eu_fsf.translate import EuFsfMapping

_BOOLEANS = MappingProxyType({"true": True, "1": True, "false": False, "0": False})


class EntryReader:
    """Reads one entry's subject, collecting the acts its regulationSummary elements name."""

    def __init__(self, ctx: TranslationContext, mapping: EuFsfMapping, record: XmlRecord) -> None:
        self.ctx = ctx
        self.mapping = mapping
        self.record = record
        self.acts = Acts(ctx, mapping)

    def subject(self, kind: SubjectKind) -> ListedSubject:
        names, aliases, sex = self.names()
        births = [self.birth(node) for node in self.record.children("birthdate")]
        citizenships = (self.citizenship(node) for node in self.record.children("citizenship"))
        documents = (self.document(node) for node in self.record.children("identification"))
        addresses = (self.address(node) for node in self.record.children("address"))
        return ListedSubject(
            kind=kind,
            names=names,
            aliases=aliases,
            sex=sex,
            dates_of_birth=unique(date for date, _ in births if date),
            places_of_birth=unique(place for _, place in births if place),
            nationalities=unique(code for code in citizenships if code),
            identifiers=unique(document for document in documents if document),
            addresses=unique(address for address in addresses if address),
        )

    def names(self) -> tuple[list[Name], list[Alias], Sex]:
        """The first strong spelling as the name, the others as aliases, and the sex given."""
        read = [self.name_alias(node) for node in self.record.children("nameAlias")]
        spellings = [(name, quality) for name, quality, _ in read if name is not None]
        if not spellings:
            raise self.record.error("no name: every nameAlias is empty")
        qualities = [quality for _, quality in spellings]
        first = qualities.index(AliasQuality.STRONG) if AliasQuality.STRONG in qualities else 0
        name = spellings[first][0]
        aliases = [
            Alias(name=alias, quality=quality)
            for i, (alias, quality) in enumerate(spellings)
            if i != first and alias != name
        ]
        sex = next((sex for _, _, sex in read if sex is not None), Sex.UNKNOWN)
        return [name], unique(aliases), sex

    def name_alias(self, node: XmlRecord) -> tuple[Name | None, AliasQuality, Sex | None]:
        first, middle, last = node.attr("firstName"), node.attr("middleName"), node.attr("lastName")
        whole, language = node.attr("wholeName"), node.attr("nameLanguage")
        strong, remarks = node.attr("strong"), node.texts("remark")
        sex = lookup(self.ctx, node, "@gender", node.attr("gender"), self.mapping.sex)
        self.acts.read_summaries(node)
        node.ignore("@function", "@title", *UNREAD)
        node.audit()
        name = make_name(
            whole or joined(first, middle, last),
            given_names=joined(first, middle),
            family_name=last,
            lang=self.language(node, language),
        )
        return name, self.quality(node, strong, remarks), sex

    def quality(self, node: XmlRecord, strong: str | None, remarks: list[str]) -> AliasQuality:
        """strong="false" marks a weak alias, unless a remark grades the name otherwise."""
        flag = self.flag(node, "@strong", strong)
        quality = (
            AliasQuality.UNKNOWN
            if flag is None
            else (AliasQuality.STRONG if flag else AliasQuality.WEAK)
        )
        for remark in remarks:
            for phrase, graded in self.mapping.alias_quality_remarks.items():
                if phrase in remark.casefold():
                    quality = graded
        return quality

    def language(self, node: XmlRecord, code: str | None) -> str | None:
        """An ISO 639-1 code as a BCP 47 tag (lower case); an unknown code is counted."""
        if code is None:
            return None
        tag = code.lower()
        if len(tag) == 2 and pycountry.languages.get(alpha_2=tag) is not None:
            return tag
        report_unknown(self.ctx, node, "@nameLanguage", code)
        return None

    def birth(self, node: XmlRecord) -> tuple[DateSpan | None, str | None]:
        """A date of birth as precise as given, and the place of birth."""
        approximate = self.flag(node, "@circa", node.attr("circa")) or False
        calendar = node.attr("calendarType")
        whole, year = node.attr("birthdate"), node.attr("year")
        month, day = node.attr("monthOfYear"), node.attr("dayOfMonth")
        start, end = node.attr("yearRangeFrom"), node.attr("yearRangeTo")
        city, place, region, zip_code = (
            node.attr(name) for name in ("city", "place", "region", "zipCode")
        )
        _, country = self.country(node)
        self.acts.read_summaries(node)
        node.ignore("remark", *UNREAD)
        node.audit()
        where = one_line(city, place, region, zip_code, country)
        if calendar is not None and calendar not in self.mapping.gregorian_calendars:
            report_unknown(self.ctx, node, "@calendarType", calendar)
            return None, where
        if year is not None:
            if day is not None and month is None:
                raise node.error(f"a day of month ({day}) without a month", at="@dayOfMonth")
            text = "-".join(part.zfill(2) for part in (year, month, day) if part is not None)
            return DateSpan(
                earliest=partial_date(node, "@year", text, approximate=approximate)
            ), where
        if whole is not None:
            return DateSpan(
                earliest=partial_date(node, "@birthdate", whole, approximate=approximate)
            ), where
        if start is not None and end is not None:
            earliest = partial_date(node, "@yearRangeFrom", start, approximate=approximate)
            latest = partial_date(node, "@yearRangeTo", end, approximate=approximate)
            try:
                return span(earliest, latest), where
            except ValueError as err:
                raise node.error(str(err), at="@yearRangeTo") from err
        if start is not None or end is not None:  # a range open at one end: not a date span
            report_unknown(
                self.ctx, node, "@yearRangeFrom" if start is None else "@yearRangeTo", "<missing>"
            )
        return None, where

    def citizenship(self, node: XmlRecord) -> str | None:
        code, _ = self.country(node)
        self.acts.read_summaries(node)
        node.ignore("remark", "@region", *UNREAD)
        node.audit()
        return code

    def document(self, node: XmlRecord) -> IdentityDocument | None:
        """A document; the file's flags and remarks about it go to its note."""
        code, description = (
            node.attr("identificationTypeCode"),
            node.attr("identificationTypeDescription"),
        )
        number, latin = node.attr("number"), node.attr("latinNumber")
        issued_by, on_document = node.attr("issuedBy"), node.attr("nameOnDocument")
        region, issued = node.attr("region"), node.attr("issueDate")
        flags = [
            phrase
            for flag, phrase in self.mapping.document_flags.items()
            if self.flag(node, f"@{flag}", node.attr(flag))
        ]
        country, _ = self.country(node)
        remarks = node.texts("remark")
        self.acts.read_summaries(node)
        node.ignore(*UNREAD)
        node.audit()
        printed = number or latin
        if printed is None:
            if code or description:
                report_unknown(self.ctx, node, "@number", "<missing>")
            return None
        kind = (
            lookup(self.ctx, node, "@identificationTypeCode", code, self.mapping.document_kinds)
            or "OTHER"
        )
        notes = (
            description if kind == "OTHER" else None,
            *flags,
            issued_by and f"issued by {issued_by}",
            region and f"issued in {region}",
            on_document and f"name on document: {on_document}",
            f"in Latin script: {latin}" if latin and latin != printed else None,
            *remarks,
        )
        return IdentityDocument(
            kind=kind,
            number=printed,
            issuing_country=country,
            issued_on=None if issued is None else partial_date(node, "@issueDate", issued),
            note="; ".join(note for note in notes if note) or None,
        )

    def address(self, node: XmlRecord) -> Address | None:
        """An address in its parts; ``full`` holds all of them, the file's remarks included."""
        street, po_box, city = node.attr("street"), node.attr("poBox"), node.attr("city")
        place, region, zip_code = node.attr("place"), node.attr("region"), node.attr("zipCode")
        code, country = self.country(node)
        remarks = node.texts("remark")
        self.acts.read_summaries(node)
        node.ignore("contactInfo", "@asAtListingTime", *UNREAD)
        node.audit()
        box = po_box and f"PO Box {po_box}"
        full = one_line(street, box, place, city, region, zip_code, country, *remarks)
        if full is None:
            return None
        return Address(
            full=full,
            street=one_line(street, box),
            city=city,
            region=region,
            postal_code=zip_code,
            country=code,
        )

    def country(self, node: XmlRecord) -> tuple[str | None, str | None]:
        """The ISO code of the element's country, and its name unless the file says UNKNOWN.

        The code decides; the name is the fallback for a code nobody knows (both counted).
        """
        code, name = node.attr("countryIso2Code"), node.attr("countryDescription")
        name = None if name is None or name.casefold() == "unknown" else name
        if code in self.mapping.country_codes:
            found = self.mapping.country_codes[code]
        else:
            found = None if code is None else country_code(code)
            if code is not None and found is None:
                report_unknown(self.ctx, node, "@countryIso2Code", code)
        if found is None and name is not None:
            found = country_code(name)
            if found is None:
                report_unknown(self.ctx, node, "@countryDescription", name)
        return found, name

    def flag(self, node: XmlRecord, at: str, value: str | None) -> bool | None:
        """An xs:boolean attribute; None when absent or not a boolean (counted)."""
        return None if value is None else lookup(self.ctx, node, at, value, _BOOLEANS)
