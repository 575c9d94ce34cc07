"""One person listed by the UN and by the EU reads the same in both freeze orders.

The shared excerpts have no person in common (checked below), so the EU side is written in
the EU file's own shape after three real UN listings of the UN excerpt, the way the EU
transposes a UN listing: a name split into first and last names, a birth date as year, month
and day or as a range of years, ISO country codes, and the UN reference in unitedNationId.
Each pair must agree on everything the canonical subject says: how the name is composed, its
script, the dates with their precision, places of birth, nationalities and documents. Only
letter case may differ, because each list writes names its own way.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.sax.saxutils import quoteattr

import pytest

from adapters.base import TranslationContext
from adapters.eu_fsf import EuFsfAdapter
from adapters.un_sc import UnScAdapter
from broker.models import FreezeOrder, ListedSubject, NoticeEnvelope, Originator
from tests.conftest import FIXTURES

SANCTIONS = FIXTURES / "sanctions"
UN_LIST = SANCTIONS / "un_sc_consolidated_2020-03-20_excerpt.xml"
EU_FILE = SANCTIONS / "eu_fsf_xml_v1.1_2018-12-21_excerpt.xml"
RECEIVED_AT = dt.datetime(2020, 3, 21, tzinfo=dt.UTC)


def element(tag: str, **attributes: str) -> str:
    return f"<{tag}{''.join(f' {key}={quoteattr(value)}' for key, value in attributes.items())}/>"


# The EU entries for three persons of the UN excerpt, in the EU file's shape.
EU_ENTRIES = {
    "KPi.033": [
        element(
            "nameAlias", firstName="Won Ho", lastName="Ri", wholeName="Ri Won Ho", strong="true"
        ),
        element(
            "birthdate",
            circa="false",
            birthdate="1964-07-17",
            dayOfMonth="17",
            monthOfYear="7",
            year="1964",
            countryIso2Code="00",
            countryDescription="UNKNOWN",
        ),
        element("citizenship", countryIso2Code="KP", countryDescription="NORTH KOREA"),
        element(
            "identification",
            number="381310014",
            identificationTypeCode="passport",
            identificationTypeDescription="National passport",
            countryIso2Code="00",
            countryDescription="UNKNOWN",
        ),
    ],
    "QDi.420": [
        element(
            "nameAlias",
            firstName="Hajji",
            lastName="'Abd Al-Nasir",
            wholeName="Hajji 'Abd Al-Nasir",
            strong="true",
        ),
        element(
            "birthdate",
            circa="false",
            yearRangeFrom="1965",
            yearRangeTo="1969",
            city="Tall 'Afar",
            countryIso2Code="IQ",
            countryDescription="IRAQ",
        ),
        element("citizenship", countryIso2Code="IQ", countryDescription="IRAQ"),
    ],
    "TAi.024": [
        element(
            "nameAlias",
            wholeName="Abdul Ghani Baradar Abdul Ahmad Turk",
            title="Mullah",
            strong="true",
        ),
        element(
            "birthdate",
            circa="true",
            year="1968",
            city="Yatimak village",
            region="Dehrawood District, Uruzgan Province",
            countryIso2Code="AF",
            countryDescription="AFGHANISTAN",
        ),
        element("citizenship", countryIso2Code="AF", countryDescription="AFGHANISTAN"),
    ],
}


@pytest.fixture(scope="module")
def eu() -> EuFsfAdapter:
    return EuFsfAdapter()


@pytest.fixture(scope="module")
def un_listed() -> dict[str, FreezeOrder]:
    found, _ = translate(UnScAdapter(), UN_LIST.read_bytes())
    return {order.listing_reference or "": order for order in found}


def translate(
    adapter: UnScAdapter | EuFsfAdapter, raw: bytes
) -> tuple[list[FreezeOrder], TranslationContext]:
    ctx = TranslationContext(
        format=adapter.formats[0],
        originator=Originator(agency_id="test"),
        received_at=RECEIVED_AT,
        raw=raw,
    )
    return [body(notice) for notice in adapter.translate(ctx)], ctx


def body(notice: NoticeEnvelope) -> FreezeOrder:
    assert isinstance(notice.body, FreezeOrder)
    return notice.body


def eu_order(eu: EuFsfAdapter, reference: str) -> FreezeOrder:
    children = '<subjectType code="person" classificationCode="P"/>' + "".join(
        EU_ENTRIES[reference]
    )
    raw = (
        '<export xmlns="http://eu.europa.ec/fpi/fsd/export">'
        f'<sanctionEntity unitedNationId="{reference}" euReferenceNumber="EU.1.1" logicalId="1">'
        f"{children}</sanctionEntity></export>"
    ).encode()
    [order], ctx = translate(eu, raw)
    assert ctx.unmapped == {}, "the EU entries use only fields the EU file has"
    return order


def comparable(subject: ListedSubject) -> dict[str, Any]:
    """Everything a subject says, letter case aside."""
    name = subject.names[0]
    return {
        "kind": subject.kind,
        "name": (name.full_name.casefold(), name.script),
        "sex": subject.sex,
        "dates_of_birth": subject.dates_of_birth,
        "places_of_birth": [place.casefold() for place in subject.places_of_birth],
        "nationalities": subject.nationalities,
        "identifiers": subject.identifiers,
    }


def spellings(order: FreezeOrder) -> set[str]:
    names = [*order.subject.names, *(alias.name for alias in order.subject.aliases)]
    return {name.full_name.casefold() for name in names}


def test_the_two_excerpts_share_no_person(
    eu: EuFsfAdapter, un_listed: dict[str, FreezeOrder]
) -> None:
    eu_orders, _ = translate(eu, EU_FILE.read_bytes())
    eu_names = set().union(*map(spellings, eu_orders))
    un_names = set().union(*map(spellings, un_listed.values()))

    # No EU entry names a UN reference (unitedNationId is empty), and no spelling is shared.
    assert all(act.authority != "UN Security Council" for o in eu_orders for act in o.legal_basis)
    assert eu_names and un_names and not eu_names & un_names


@pytest.mark.parametrize("reference", sorted(EU_ENTRIES))
def test_one_person_reads_the_same_in_both_lists(
    eu: EuFsfAdapter, un_listed: dict[str, FreezeOrder], reference: str
) -> None:
    un_order, eu_listing = un_listed[reference], eu_order(eu, reference)

    assert comparable(eu_listing.subject) == comparable(un_order.subject)
    assert eu_listing.subject.dates_of_birth  # each pair states a date: the check says something
    # The EU entry names the UN listing it implements: the tie between the two notices.
    assert reference in {act.reference for act in eu_listing.legal_basis}
    assert un_order.listing_reference == reference


def test_the_eu_splits_names_the_un_leaves_whole(
    eu: EuFsfAdapter, un_listed: dict[str, FreezeOrder]
) -> None:
    """Only the EU says which part is the family name; the UN list is never guessed at."""
    un_name = un_listed["KPi.033"].subject.names[0]
    eu_name = eu_order(eu, "KPi.033").subject.names[0]

    assert (un_name.given_names, un_name.family_name) == (None, None)
    assert (eu_name.given_names, eu_name.family_name) == ("Won Ho", "Ri")
