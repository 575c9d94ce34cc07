"""Who a UN list entry names: names, aliases, births, nationalities, documents, addresses.

The committees pad values with spaces and write empty placeholder elements (an alias with no
name, an address with an empty COUNTRY): those read as absent. Dates of birth are typed
EXACT, APPROXIMATELY or BETWEEN and given as a DATE, a YEAR or FROM_YEAR/TO_YEAR; each is
kept exactly as precise as written, approximations flagged and ranges as ranges.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from adapters.base import TranslationContext
from adapters.countries import country_code
from adapters.partial_dates import parse_partial_date, span
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
    PartialDate,
    Sex,
    SubjectKind,
)

if TYPE_CHECKING:
    from adapters.un_sc.translate import UnScMapping

_NAME_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
_PLACE_PARTS = ("STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE", "COUNTRY", "NOTE")
# An alias note giving the alias in its original script ("original script: " and Cyrillic).
_ORIGINAL_SCRIPT = re.compile(r"original script:\s*(?P<name>.+)", re.IGNORECASE)
# One alias written twice, in its script and transcribed: "عبدالله السندي (Abdullah Sindhi)".
_TRANSCRIBED = re.compile(r"(?P<name>[^()]+?)\s*\((?P<other>[^()]+)\)")
# An expiry date the committees write into a document's note: "expires on 7 Sep. 2013".
_EXPIRES = re.compile(
    r"\bexpir(?:es|ed|y)\b(?:\s+on|\s+date:?)?\s+"
    r"(?P<date>\d{1,2}\s+[A-Za-z]+\.?,?\s+\d{4}|\d{4}-\d{2}-\d{2})",
    re.IGNORECASE,
)


class SubjectReader:
    """Reads an entry's subject with the tables, counting what they do not know."""

    def __init__(self, ctx: TranslationContext, mapping: UnScMapping) -> None:
        self.ctx = ctx
        self.mapping = mapping

    def text_of(self, value: str | None) -> str | None:
        """The value, or None for a placeholder the list writes for "no value"."""
        return None if value is None or value in self.mapping.blank_values else value

    def text(self, record: XmlRecord, name: str) -> str | None:
        return self.text_of(record.text(name))

    def subject(self, record: XmlRecord, kind: SubjectKind) -> ListedSubject:
        prefix = kind.value  # INDIVIDUAL_ALIAS, ENTITY_ADDRESS, ...
        names = self.names(record)
        aliases: list[Alias] = []
        dates = [
            born
            for node in record.children(f"{prefix}_DATE_OF_BIRTH")
            if (born := self.birth(node))
        ]
        places = [
            place
            for node in record.children(f"{prefix}_PLACE_OF_BIRTH")
            if (place := self.place(node))
        ]
        for node in record.children(f"{prefix}_ALIAS"):
            spellings, born, place = self.alias(node)
            aliases += spellings
            dates += [born] if born else []
            places += [place] if place else []
        documents = (self.document(node) for node in record.children(f"{prefix}_DOCUMENT"))
        addresses = (self.address(node) for node in record.children(f"{prefix}_ADDRESS"))
        return ListedSubject(
            kind=kind,
            names=names,
            aliases=unique(alias for alias in aliases if alias.name not in names),
            sex=lookup(self.ctx, record, "GENDER", self.text(record, "GENDER"), self.mapping.sex)
            or Sex.UNKNOWN,
            dates_of_birth=unique(dates),
            places_of_birth=unique(places),
            nationalities=unique(self.nationalities(record)),
            identifiers=unique(document for document in documents if document),
            addresses=unique(address for address in addresses if address),
        )

    def names(self, record: XmlRecord) -> list[Name]:
        """The name in its parts, joined in the list's order, and in its original script.

        The list does not say which part is the family name (Korean names put it first,
        Arabic ones last), so the parts are not split into given and family names.
        """
        parts = (self.text(record, part) for part in _NAME_PARTS)
        found = (make_name(joined(*parts)), make_name(self.text(record, "NAME_ORIGINAL_SCRIPT")))
        names = [name for name in found if name is not None]
        if not names:
            raise record.error(
                "no name: FIRST_NAME to FOURTH_NAME and NAME_ORIGINAL_SCRIPT are empty"
            )
        return names

    def alias(self, node: XmlRecord) -> tuple[list[Alias], DateSpan | None, str | None]:
        """The alias's spellings, with the birth date and place it was used with, if any.

        One ALIAS_NAME may hold several spellings separated by semicolons, or a spelling in
        its own script followed by its transcription in brackets, and a note may give the
        original script: each becomes an alias of the same quality.
        """
        quality_text = self.text(node, "QUALITY")
        table = self.mapping.alias_quality
        quality = None if quality_text is None else table.get(quality_text.casefold())
        if quality_text is not None and quality is None:
            report_unknown(self.ctx, node, "QUALITY", quality_text)
        texts = (self.text(node, "ALIAS_NAME") or "").split(";")
        note = self.text(node, "NOTE")
        if note and (original := _ORIGINAL_SCRIPT.fullmatch(note)):
            texts.append(original["name"])
        born = self.text(node, "DATE_OF_BIRTH")
        place = one_line(self.text(node, "CITY_OF_BIRTH"), self.text(node, "COUNTRY_OF_BIRTH"))
        node.audit()
        aliases = [
            Alias(name=name, quality=quality or AliasQuality.UNKNOWN)
            for text in texts
            for name in _spellings(text)
        ]
        date = (
            None if born is None else DateSpan(earliest=partial_date(node, "DATE_OF_BIRTH", born))
        )
        return aliases, date, place

    def birth(self, node: XmlRecord) -> DateSpan | None:
        """A date of birth as typed; an empty placeholder or an unknown type gives none."""
        kind = self.text(node, "TYPE_OF_DATE")
        date, year = self.text(node, "DATE"), self.text(node, "YEAR")
        start, end = self.text(node, "FROM_YEAR"), self.text(node, "TO_YEAR")
        node.ignore("NOTE")  # "from false passport": a date span has no room for a remark
        node.audit()
        kind = kind.upper() if kind else ("BETWEEN" if start or end else "EXACT")
        if kind == "BETWEEN":
            if start is None or end is None:
                raise node.error("a BETWEEN date of birth needs both FROM_YEAR and TO_YEAR")
            earliest = partial_date(node, "FROM_YEAR", start)
            latest = partial_date(node, "TO_YEAR", end)
            try:
                return span(earliest, latest)
            except ValueError as err:
                raise node.error(str(err), at="TO_YEAR") from err
        at, value = ("DATE", date) if date else ("YEAR", year)
        if kind not in ("EXACT", "APPROXIMATELY"):
            if value or start or end:
                report_unknown(self.ctx, node, "TYPE_OF_DATE", kind)
            return None
        if value is None:
            return None
        return DateSpan(earliest=partial_date(node, at, value, approximate=kind == "APPROXIMATELY"))

    def place(self, node: XmlRecord) -> str | None:
        place = one_line(*(self.text(node, part) for part in _PLACE_PARTS))
        node.audit()
        return place

    def nationalities(self, record: XmlRecord) -> list[str]:
        node = record.child("NATIONALITY")
        if node is None:
            return []
        texts = [text for text in node.texts("VALUE") if self.text_of(text)]
        node.audit()
        return [code for text in texts for code in self.countries(node, "VALUE", text)]

    def document(self, node: XmlRecord) -> IdentityDocument | None:
        """A passport or identity number; one the list gives without a number is counted."""
        kind_text = self.text(node, "TYPE_OF_DOCUMENT")
        detail = self.text(node, "TYPE_OF_DOCUMENT2")
        number = self.text(node, "NUMBER")
        issuing = self.text(node, "ISSUING_COUNTRY")
        country_of_issue = self.text(node, "COUNTRY_OF_ISSUE")
        issued, city = self.text(node, "DATE_OF_ISSUE"), self.text(node, "CITY_OF_ISSUE")
        note = self.text(node, "NOTE")
        node.audit()
        if number is None:
            if kind_text or detail:
                report_unknown(self.ctx, node, "NUMBER", "<missing>")
            return None
        at, country_text = (
            ("ISSUING_COUNTRY", issuing) if issuing else ("COUNTRY_OF_ISSUE", country_of_issue)
        )
        countries = [] if country_text is None else self.countries(node, at, country_text)
        kind = (
            "OTHER"
            if kind_text is None
            else lookup(self.ctx, node, "TYPE_OF_DOCUMENT", kind_text, self.mapping.document_kinds)
        )
        # CITY_OF_ISSUE and COUNTRY_OF_ISSUE say where it was issued, which for a passport
        # issued abroad is not the issuing state.
        where = one_line(city, country_of_issue if issuing else None)
        notes = (detail if detail != kind_text else None, where and f"issued in {where}", note)
        return IdentityDocument(
            kind=kind or "OTHER",
            number=number,
            issuing_country=countries[0] if len(countries) == 1 else None,
            issued_on=None if issued is None else partial_date(node, "DATE_OF_ISSUE", issued),
            expires_on=_expiry(note),
            note="; ".join(part for part in notes if part) or None,
        )

    def address(self, node: XmlRecord) -> Address | None:
        """An address in its parts; ``full`` holds all of them, the committee's note included."""
        street, city, region, postal_code, country, note = (
            self.text(node, part) for part in _PLACE_PARTS
        )
        node.audit()
        full = one_line(street, city, region, postal_code, country, note)
        if full is None:
            return None
        codes = [] if country is None else self.countries(node, "COUNTRY", country)
        return Address(
            full=full,
            street=street,
            city=city,
            region=region,
            postal_code=postal_code,
            country=codes[0] if len(codes) == 1 else None,
        )

    def countries(self, node: XmlRecord, at: str, text: str) -> list[str]:
        """The ISO codes a country field names: none when nobody knows the text (counted)."""
        if text in self.mapping.countries:
            return list(self.mapping.countries[text])
        code = country_code(text)
        if code is None:
            report_unknown(self.ctx, node, at, text)
            return []
        return [code]


def _spellings(text: str) -> list[Name]:
    name = make_name(text)
    if name is None:
        return []
    both = _TRANSCRIBED.fullmatch(name.full_name)
    if name.script is None and both:
        parts = [make_name(both["name"]), make_name(both["other"])]
        found = [part for part in parts if part is not None and part.script is not None]
        if len(found) == 2:
            return found
    return [name]


def _expiry(note: str | None) -> PartialDate | None:
    """The expiry date a note states, when it states one this hub can read."""
    found = _EXPIRES.search(note) if note else None
    if found is None:
        return None
    try:
        return parse_partial_date(found["date"])
    except ValueError:
        return None
