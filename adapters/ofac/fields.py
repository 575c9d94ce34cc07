"""The lists inside one sdnEntry: ids, addresses, dates and places of birth, citizenships, vessel.

Each sub-element is read through ``XmlRecord`` and audited, so an element OFAC adds to its
schema shows up in the unmapped counter. OFAC's own uid of each sub-item identifies nothing
outside OFAC's database and is read as known but unmapped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from adapters.countries import country_code
from adapters.markings import fold
from adapters.ofac.mapping import DIRECTIVES_BY, Attribute, Tables
from adapters.partial_dates import parse_date_span, parse_partial_date
from adapters.sanctions_common import FoldedLookups
from adapters.xml_reader import XmlRecord
from broker.models import Address, DateSpan, IdentityDocument, LegalAct, PartialDate, Sex

V = TypeVar("V")
_DIRECTIVE = re.compile(r"Subject to Directive (\w+)", re.IGNORECASE)


class Lookups(FoldedLookups[Tables]):
    def code(self, record: XmlRecord, name: str, table: Mapping[str, V]) -> V | None:
        """The table's value for the child ``name``; a value the table lacks is counted."""
        return self.code_of(record, name, record.text(name), table)

    def country(self, record: XmlRecord, name: str) -> str | None:
        text = record.text(name)
        if text is None:
            return None
        code = country_code(text)
        if code is None:
            self.unknown(record, name, text)
        return code


@dataclass
class IdFacts:
    """What the overloaded idList says, sorted into the fields it belongs to."""

    identifiers: list[IdentityDocument] = field(default_factory=list)
    nationalities: list[str] = field(default_factory=list)
    sex: Sex = Sex.UNKNOWN
    founded: list[DateSpan] = field(default_factory=list)
    directives: list[LegalAct] = field(default_factory=list)


def items(entry: XmlRecord, container: str, item: str) -> list[XmlRecord]:
    """The items of one of the entry's lists (idList/id, akaList/aka...)."""
    found = entry.child(container)
    if found is None:
        return []
    children = found.children(item)
    found.audit()
    return children


def id_list(entry: XmlRecord, look: Lookups) -> IdFacts:
    facts = IdFacts()
    for item in items(entry, "idList", "id"):
        item.ignore("uid")
        _id_item(item, look, facts)
        item.audit()
    return facts


def _id_item(item: XmlRecord, look: Lookups, facts: IdFacts) -> None:
    id_type, number = item.text("idType"), item.text("idNumber")
    if id_type is None or number is None:
        item.ignore("idCountry", "issueDate", "expirationDate")
        return
    rule = look.tables.id_types.rule(id_type)
    if rule is None:
        look.unknown(item, "idType", id_type)
        facts.identifiers.append(_document(item, look, "OTHER", id_type, number))
    elif rule.role == "document":
        facts.identifiers.append(_document(item, look, rule.value, id_type, number))
    else:
        item.ignore("idCountry", "issueDate", "expirationDate")
        if rule.role == "attribute":
            _attribute(item, look, Attribute(rule.value), facts)
        elif rule.role == "directive" and (match := _DIRECTIVE.search(number)):
            order = look.tables.directives[fold(id_type)]
            authority = look.tables.mapping.authorities[DIRECTIVES_BY]
            reference = f"{order} Directive {match[1]}"
            facts.directives.append(LegalAct(authority=authority, reference=reference))


def _document(
    item: XmlRecord, look: Lookups, kind: str, id_type: str, number: str
) -> IdentityDocument:
    """The document, its source type kept as the note when the kind does not say it all."""
    same = fold(id_type) == fold(kind.replace("_", " "))
    return IdentityDocument(
        kind=kind,
        number=number,
        issuing_country=look.country(item, "idCountry"),
        issued_on=_date(item, "issueDate"),
        expires_on=_date(item, "expirationDate"),
        note=None if same else id_type,
    )


def _attribute(item: XmlRecord, look: Lookups, attribute: Attribute, facts: IdFacts) -> None:
    if attribute is Attribute.SEX:
        sex = look.code(item, "idNumber", look.tables.sex)
        if sex is not None and facts.sex is Sex.UNKNOWN:
            facts.sex = sex
    elif attribute is Attribute.NATIONALITY:
        if code := look.country(item, "idNumber"):
            facts.nationalities.append(code)
    elif span := _span(item, "idNumber"):
        facts.founded.append(span)


def addresses(entry: XmlRecord, look: Lookups) -> list[Address]:
    found: list[Address] = []
    for item in items(entry, "addressList", "address"):
        item.ignore("uid")
        street = _joined(item, "address1", "address2", "address3")
        region = _joined(item, "stateOrProvince", "region")
        address = Address(
            street=street,
            city=item.text("city"),
            region=region,
            postal_code=item.text("postalCode"),
            country=look.country(item, "country"),
        )
        item.audit()
        if address != Address():
            found.append(address)
    return found


def citizenships(entry: XmlRecord, look: Lookups) -> list[str]:
    """nationalityList and citizenshipList: the canonical model has one field for both."""
    codes: list[str] = []
    for container, item_name in (
        ("nationalityList", "nationality"),
        ("citizenshipList", "citizenship"),
    ):
        for item in items(entry, container, item_name):
            item.ignore("uid", "mainEntry")
            if code := look.country(item, "country"):
                codes.append(code)
            item.audit()
    return codes


def dates_of_birth(entry: XmlRecord) -> list[DateSpan]:
    """Every date OFAC gives, main entry first as OFAC orders them; mainEntry adds nothing."""
    spans: list[DateSpan] = []
    for item in items(entry, "dateOfBirthList", "dateOfBirthItem"):
        item.ignore("uid", "mainEntry")
        if span := _span(item, "dateOfBirth"):
            spans.append(span)
        item.audit()
    return spans


def places_of_birth(entry: XmlRecord) -> list[str]:
    places: list[str] = []
    for item in items(entry, "placeOfBirthList", "placeOfBirthItem"):
        item.ignore("uid", "mainEntry")
        if place := item.text("placeOfBirth"):
            places.append(place)
        item.audit()
    return places


def vessel(entry: XmlRecord, look: Lookups) -> tuple[list[IdentityDocument], list[str]]:
    """The call sign (an identifier) and the flag state (a vessel's nationality).

    Type, owner and tonnage have no field in the canonical model.
    """
    info = entry.child("vesselInfo")
    if info is None:
        return [], []
    call_sign = info.text("callSign")
    flag = look.country(info, "vesselFlag")
    info.ignore("vesselType", "vesselOwner", "tonnage", "grossRegisteredTonnage")
    info.audit()
    documents = [IdentityDocument(kind="CALL_SIGN", number=call_sign)] if call_sign else []
    return documents, [flag] if flag else []


def _joined(record: XmlRecord, *names: str) -> str | None:
    parts = [text for name in names if (text := record.text(name))]
    return ", ".join(dict.fromkeys(parts)) or None


def _span(record: XmlRecord, name: str) -> DateSpan | None:
    text = record.text(name)
    if text is None:
        return None
    try:
        return parse_date_span(text)
    except ValueError as err:
        raise record.error(str(err), at=name) from err


def _date(record: XmlRecord, name: str) -> PartialDate | None:
    text = record.text(name)
    if text is None:
        return None
    try:
        return parse_partial_date(text)
    except ValueError as err:
        raise record.error(str(err), at=name) from err
