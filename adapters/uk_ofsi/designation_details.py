"""What a Designation says about its subject beyond its names: the Individual, Entity and
Ship details, references, contact points and addresses of the FCDO's UK Sanctions List.

Numbers are kept as the FCDO writes them, labels and all ("UK Company no. 06527449",
"IMO9562233"): which part of a labelled text is the number cannot be told safely.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.uk_ofsi.values import CONTACTS, Lookups, split
from adapters.xml_reader import XmlRecord
from broker.models import Address, DateSpan, IdentityDocument, Sex

_ADDRESS = tuple(f"AddressLine{i}" for i in range(1, 7))


@dataclass
class Facts:
    """What IndividualDetails, EntityDetails or ShipDetails add to the subject."""

    sex: Sex = Sex.UNKNOWN
    dates_of_birth: list[DateSpan] = field(default_factory=list)
    places_of_birth: list[str] = field(default_factory=list)
    nationalities: list[str] = field(default_factory=list)
    identifiers: list[IdentityDocument] = field(default_factory=list)


def details(record: XmlRecord, look: Lookups) -> tuple[Facts, Facts, Facts]:
    individual, entity, ship = Facts(), Facts(), Facts()
    for item in items(record, "IndividualDetails", "Individual"):
        _individual(item, look, individual)
        item.audit()
    for item in items(record, "EntityDetails", "Entity"):
        # Type of entity, parent companies and subsidiaries have no canonical field.
        item.ignore("TypeOfEntities", "ParentCompanies", "Subsidiaries")
        entity.identifiers += _documents(
            item, "BusinessRegistrationNumbers", "BusinessRegistrationNumber", "REGISTRATION_NUMBER"
        )
        item.audit()
    for item in items(record, "ShipDetails", "Ship"):
        # Particulars, owners and past flags have no canonical field.
        item.ignore("CurrentOwnerOperators", "PreviousOwnerOperators", "PreviousFlags")
        item.ignore("TypeOfShipDetails", "TonnageOfShipDetails", "LengthOfShipDetails")
        item.ignore("YearBuiltDetails", "YearBuilt", "HINs", "HIN")
        ship.identifiers += _documents(item, "IMONumbers", "IMONumber", "IMO_NUMBER")
        for flag in items(item, "CurrentBelievedFlagOfShips", "CurrentBelievedFlagOfShip"):
            name = "CurrentBelievedFlagOfShips/CurrentBelievedFlagOfShip"
            ship.nationalities += look.countries_of(item, name, flag.text())
        item.audit()
    return individual, entity, ship


def _individual(item: XmlRecord, look: Lookups, facts: Facts) -> None:
    item.ignore("Positions")  # an individual's functions have no canonical field
    for dob in items(item, "DOBs", "DOB"):
        facts.dates_of_birth += look.birth_dates_of(item, "DOBs/DOB", dob.text())
    for nationality in items(item, "Nationalities", "Nationality"):
        name = "Nationalities/Nationality"
        facts.nationalities += look.countries_of(item, name, nationality.text())
    for gender in items(item, "Genders", "Gender"):
        sex = look.code_of(item, "Genders/Gender", gender.text(), look.tables.sex)
        if sex is not None and facts.sex is Sex.UNKNOWN:
            facts.sex = sex
    for location in items(item, "BirthDetails", "Location"):
        parts = [location.text("TownOfBirth"), location.text("CountryOfBirth")]
        if place := ", ".join(part for part in parts if part):
            facts.places_of_birth.append(place)
        location.audit()
    documents = (
        (
            "PassportDetails",
            "Passport",
            "PassportNumber",
            "PassportAdditionalInformation",
            "PASSPORT",
        ),
        (
            "NationalIdentifierDetails",
            "NationalIdentifier",
            "NationalIdentifierNumber",
            "NationalIdentifierAdditionalInformation",
            "NATIONAL_ID",
        ),
    )
    for container, element, number_name, note_name, kind in documents:
        for document in items(item, container, element):
            number, note = document.text(number_name), document.text(note_name)
            document.audit()
            # A document described without a number gives nothing to match on.
            if number is not None:
                facts.identifiers.append(IdentityDocument(kind=kind, number=number, note=note))


def _documents(
    record: XmlRecord, container: str, element: str, kind: str
) -> list[IdentityDocument]:
    """Numbers kept as written, labels and all: which part is the number cannot be told."""
    return [
        IdentityDocument(kind=kind, number=number)
        for item in items(record, container, element)
        if (number := item.text())
    ]


def references(record: XmlRecord) -> list[IdentityDocument]:
    """The designation's UN reference and OFSI group id, which other lists are keyed by."""
    found = []
    for kind, name in (("UN_REFERENCE", "UNReferenceNumber"), ("OFSI_GROUP_ID", "OFSIGroupID")):
        if number := record.text(name):
            found.append(IdentityDocument(kind=kind, number=number))
    return found


def contacts(record: XmlRecord) -> list[IdentityDocument]:
    found = []
    for kind, container, element in (
        ("PHONE", "PhoneNumbers", "PhoneNumber"),
        ("EMAIL", "EmailAddresses", "EmailAddress"),
        ("WEBSITE", "Websites", "Website"),
    ):
        for item in items(record, container, element):
            found += [
                IdentityDocument(kind=kind, number=part) for part in split(item.text(), CONTACTS)
            ]
    return found


def addresses(record: XmlRecord, look: Lookups) -> list[Address]:
    """Address lines joined whole: the FCDO fills them freely (a city may sit in any)."""
    found = []
    for item in items(record, "Addresses", "Address"):
        lines = [line for name in _ADDRESS if (line := item.text(name))]
        countries = look.countries(item, "AddressCountry")
        address = Address(
            full=", ".join(lines) or None,
            postal_code=item.text("AddressPostalCode"),
            country=countries[0] if countries else None,
        )
        item.audit()
        if address != Address():
            found.append(address)
    return found


def items(record: XmlRecord, container: str, element: str) -> list[XmlRecord]:
    """The elements of one of the FCDO's two-level lists (Names/Name, DOBs/DOB...)."""
    found: list[XmlRecord] = []
    for holder in record.children(container):
        found += holder.children(element)
        holder.audit()
    return found
