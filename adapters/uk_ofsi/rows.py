"""One FinancialSanctionsTarget row: one name of a target, with what OFSI wrote beside it.

OFSI publishes a row per name, and the target's other details on those rows; rows sharing a
GroupID are one target. A row is read here into the canonical pieces it holds, small enough
to keep until the rest of its group has been read.

Fields are read under their 2022 names (``name1``, ``Individual_DateOfBirth``,
``GroupTypeDescription``, ``RegimeName``, ``DateListed``) and, where earlier files named them
otherwise, under those names too (``Name1``, ``DOB``, ``GroupType``, ``Regime``, ``ListedOn``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from adapters.markings import fold
from adapters.sanctions_common import clean_name
from adapters.uk_ofsi.values import (
    CONTACTS,
    NUMBERED,
    Lookups,
    day,
    split,
    text,
)
from adapters.xml_reader import XmlRecord
from broker.models import (
    Address,
    AliasQuality,
    DateSpan,
    IdentityDocument,
    LegalAct,
    Measure,
    Name,
    Sex,
    SubjectKind,
)

GROUP_ID = re.compile(r"\d+")
# Given-name parts under their 2022 and their earlier names; Name6, the surname, kept its name.
_GIVEN = tuple((f"name{i}", f"Name{i}") for i in range(1, 6))
_ADDRESS = ("Address1", "Address2", "Address3", "Address4", "Address5", "Address6")
# Known fields with no canonical field: free text, related parties, vessel particulars, and
# list bookkeeping that says nothing about the target.
_NO_FIELD = (
    "Title",
    "Individual_Position",
    "Position",
    "NonLatinScriptType",  # the script is read from the name's own characters
    "OtherInformation",
    "UKStatementOfReasons",
    "Entity_Type",
    "Entity_ParentCompany",
    "Entity_Subsidiaries",
    "Ship_PreviousFlags",
    "Ship_Type",
    "Ship_Tonnage",
    "Ship_Length",
    "Ship_YearBuilt",
    "Ship_CurrentOwners",
    "GroupStatus",
    "GroupSanctions",
    "DateAdditionalSanctions",
    "ListingType",
)


@dataclass(frozen=True)
class Row:
    """What one row says about its target."""

    group_id: str
    where: str
    digest: str
    kind: SubjectKind | None
    role: Literal["primary", "alias"]
    quality: AliasQuality
    names: tuple[Name, ...]
    dates_of_birth: tuple[DateSpan, ...]
    places_of_birth: tuple[str, ...]
    nationalities: tuple[str, ...]
    identifiers: tuple[IdentityDocument, ...]
    addresses: tuple[Address, ...]
    sex: Sex
    regime: str | None
    act: LegalAct | None
    reference: str | None
    listed_on: dt.date | None
    updated_on: dt.date | None
    measures: tuple[Measure, ...] | None


def read_row(row: XmlRecord, group_id: str, digest: str, look: Lookups) -> Row:
    tables = look.tables
    kind = look.code(row, ("GroupTypeDescription", "GroupType"), tables.kinds)
    role = look.code(row, ("AliasType",), tables.name_types) or "alias"
    regime = text(row, "RegimeName", "Regime")
    row.ignore(*_NO_FIELD)
    found = Row(
        group_id=group_id,
        where=row.where,
        digest=digest,
        kind=kind,
        role=role,
        quality=look.code(row, ("AliasQuality",), tables.alias_quality) or AliasQuality.UNKNOWN,
        names=_names(row, kind, look),
        dates_of_birth=tuple(look.birth_dates(row, "Individual_DateOfBirth", "DOB")),
        places_of_birth=_places_of_birth(row),
        nationalities=tuple(
            look.countries(row, "Individual_Nationality", "Nationality")
            + look.countries(row, "Ship_Flag")
        ),
        identifiers=_identifiers(row),
        addresses=_addresses(row, look),
        sex=look.code(row, ("Individual_Gender", "Gender"), tables.sex) or Sex.UNKNOWN,
        regime=regime,
        act=_act(row, regime, look),
        reference=text(row, "UKSanctionsListRef"),
        listed_on=_listed_on(row),
        updated_on=_day(row, "LastUpdated"),
        measures=_measures(row, look),
    )
    row.ignore("GroupID")
    row.audit()
    return found


def _names(row: XmlRecord, kind: SubjectKind | None, look: Lookups) -> tuple[Name, ...]:
    """The row's name as OFSI romanises it, and its non-Latin spelling if the row has one."""
    given = " ".join(part for names in _GIVEN if (part := clean_name(text(row, *names))))
    latin = look.name(given, clean_name(row.text("Name6")), kind)
    original = look.original_name(row, row.text("NameNonLatinScript"))
    return tuple(name for name in (latin, original) if name)


def _places_of_birth(row: XmlRecord) -> tuple[str, ...]:
    """Town and country of birth as one place, as written (the model keeps places as text)."""
    town = text(row, "Individual_TownOfBirth", "TownOfBirth")
    country = text(row, "Individual_CountryOfBirth", "CountryOfBirth")
    place = ", ".join(part for part in (town, country) if part)
    return (place,) if place else ()


def _identifiers(row: XmlRecord) -> tuple[IdentityDocument, ...]:
    """Documents, registry numbers and contact points; numbered lists give one each.

    Earlier files had PassportDetails only, number and details in one text: it is kept
    whole as the number, since which part is the number cannot be told.
    """
    passport_details = text(row, "Individual_PassportDetails", "PassportDetails")
    passports = split(text(row, "Individual_PassportNumber", "PassportNumber"), NUMBERED)
    ni_details = text(row, "Individual_NIDetails", "NIDetails")
    found = [_document("PASSPORT", number, passport_details) for number in passports]
    if not passports and passport_details:
        found.append(_document("PASSPORT", passport_details, None))
    found += [
        _document("NATIONAL_ID", number, ni_details)
        for number in split(text(row, "Individual_NINumber", "NINumber"), NUMBERED)
    ]
    listed = (
        ("REGISTRATION_NUMBER", ("Entity_BusinessRegNumber",), NUMBERED),
        ("IMO_NUMBER", ("Ship_IMONumber",), NUMBERED),
        ("UN_REFERENCE", ("UNRef",), NUMBERED),
        ("PHONE", ("PhoneNumber",), CONTACTS),
        ("EMAIL", ("EmailAddress",), CONTACTS),
        ("WEBSITE", ("Website",), CONTACTS),
    )
    for kind, names, separators in listed:
        found += [_document(kind, number, None) for number in split(text(row, *names), separators)]
    return tuple(found)


def _document(kind: str, number: str, note: str | None) -> IdentityDocument:
    return IdentityDocument(kind=kind, number=number, note=note)


def _addresses(row: XmlRecord, look: Lookups) -> tuple[Address, ...]:
    """OFSI's address lines are not typed (a city may sit in any of them): one full line."""
    lines = [value for name in _ADDRESS if (value := row.text(name))]
    countries = look.countries(row, "Country")
    address = Address(
        full=", ".join(lines) or None,
        postal_code=row.text("PostCode"),
        country=countries[0] if countries else None,
    )
    return () if address == Address() else (address,)


def _act(row: XmlRecord, regime: str | None, look: Lookups) -> LegalAct | None:
    if regime is None:
        return None
    title = look.tables.regimes.get(fold(regime))
    if title is None:
        look.unknown(row, "RegimeName", regime)
        return None
    return LegalAct(authority=look.tables.mapping.legal_authority, reference=title)


def _measures(row: XmlRecord, look: Lookups) -> tuple[Measure, ...] | None:
    status = text(row, "GrpStatus")
    if status is None:
        return None
    measures = look.tables.group_status.get(fold(status))
    if measures is None:
        look.unknown(row, "GrpStatus", status)
        return (Measure.OTHER,)
    return tuple(measures)


def _listed_on(row: XmlRecord) -> dt.date | None:
    """DateListed, when OFSI first listed the target; else its UK designation date."""
    listed, designated = _day(row, "DateListed", "ListedOn"), _day(row, "DateDesignated")
    return listed or designated


def _day(row: XmlRecord, *names: str) -> dt.date | None:
    value = text(row, *names)
    if value is None:
        return None
    try:
        return day(value)
    except ValueError as err:
        raise row.error(f"{value!r} is not a date: {err}", at=names[0]) from err
