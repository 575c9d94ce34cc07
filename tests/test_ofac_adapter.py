"""The OFAC sdnList adapter on the real Consolidated list excerpt and on made-up entries.

The real excerpt is read from shared/ beside the repository, never copied into it. The
made-up entries below (MADE_UP) describe an invented vessel and person in the classic schema,
under the older tempuri.org namespace, to cover what the excerpt lacks: vessels, passports
with dates, n.k.a. names, citizenships, wallets, unknown idTypes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pydantic import ValidationError

from adapters.ofac import OfacAdapter
from adapters.ofac.mapping import OfacMapping
from broker.errors import TranslationError
from broker.models import (
    Address,
    Alias,
    AliasQuality,
    Classification,
    DateSpan,
    FreezeOrder,
    IdentityDocument,
    LegalAct,
    Level,
    ListedSubject,
    Measure,
    MsgType,
    Name,
    NoticeEnvelope,
    NoticeType,
    Originator,
    PartialDate,
    Sex,
    Source,
    SubjectKind,
    Tlp,
)
from tests.adapter_helpers import Feed, damaged_xml, mapping_tables, notices_or_placed_error
from tests.conftest import FIXTURES

FIXTURE = FIXTURES / "sanctions" / "ofac_consolidated_nonsdn_sdnList_2024-05-06_excerpt.xml"
NAMESPACE_2024 = b"https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/XML"
NAMESPACE_OLD = b"http://tempuri.org/sdnList.xsd"
CONSOLIDATED = "ofac-consolidated-xml"
SDN = "ofac-sdn-xml"
RECEIVED_AT = dt.datetime(2024, 5, 7, 6, 0, tzinfo=dt.UTC)
PUBLISHED = dt.datetime(2024, 5, 6, tzinfo=dt.UTC)
ORIGINATOR = Originator(agency_id="us-ofac", country="US")
PRESIDENT = "President of the United States"
FEED = Feed(CONSOLIDATED, ORIGINATOR, RECEIVED_AT)
SDN_FEED = replace(FEED, format=SDN)
context, translate, failure = FEED.context, FEED.translate, FEED.failure

MADE_UP = b"""<?xml version="1.0" standalone="yes"?>
<sdnList xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xmlns="http://tempuri.org/sdnList.xsd">
  <publshInformation>
    <Publish_Date>12/31/2019</Publish_Date>
    <Record_Count>2</Record_Count>
  </publshInformation>
  <sdnEntry>
    <uid>90001</uid>
    <lastName>OCEAN SPIRIT</lastName>
    <sdnType>Vessel</sdnType>
    <programList>
      <program>IRAN-EO13846</program>
      <program>SDGT</program>
    </programList>
    <idList>
      <id>
        <uid>1</uid>
        <idType>Vessel Registration Identification</idType>
        <idNumber>IMO 9999999</idNumber>
      </id>
      <id><uid>2</uid><idType>MMSI</idType><idNumber>123456789</idNumber></id>
      <id><uid>3</uid><idType>Vessel Year of Build</idType><idNumber>1999</idNumber></id>
      <id><uid>4</uid><idType>Hull Colour</idType><idNumber>Red</idNumber></id>
    </idList>
    <akaList>
      <aka>
        <uid>5</uid><type>f.k.a.</type><category>strong</category><lastName>SEA BREEZE</lastName>
      </aka>
    </akaList>
    <vesselInfo>
      <callSign>9HA0000</callSign>
      <vesselType>Crude Oil Tanker</vesselType>
      <vesselFlag>Panama</vesselFlag>
      <vesselOwner>EXAMPLE SHIPPING LTD</vesselOwner>
      <tonnage>150000</tonnage>
      <grossRegisteredTonnage>80000</grossRegisteredTonnage>
    </vesselInfo>
  </sdnEntry>
  <sdnEntry>
    <uid>90002</uid>
    <firstName>Jane  Example</firstName>
    <lastName>DOE</lastName>
    <title>Director General</title>
    <sdnType>Individual</sdnType>
    <remarks>Invented for the tests.</remarks>
    <programList>
      <program>GLOMAG</program>
    </programList>
    <idList>
      <id>
        <uid>6</uid>
        <idType>Passport</idType>
        <idNumber>X1234567</idNumber>
        <idCountry>Venezuela</idCountry>
        <issueDate>12 Mar 2010</issueDate>
        <expirationDate>11 Mar 2020</expirationDate>
      </id>
      <id>
        <uid>7</uid>
        <idType>Cedula No.</idType>
        <idNumber>V-1234567</idNumber>
        <idCountry>Venezuela</idCountry>
      </id>
      <id><uid>8</uid><idType>Gender</idType><idNumber>Female</idNumber></id>
      <id>
        <uid>9</uid>
        <idType>Digital Currency Address - XBT</idType>
        <idNumber>1ExampleBitcoinAddress</idNumber>
      </id>
      <id><uid>10</uid><idType>Email Address</idType><idNumber>jane@example.org</idNumber></id>
      <id><uid>11</uid><idType>Nationality Country</idType><idNumber>Spain</idNumber></id>
    </idList>
    <akaList>
      <aka>
        <uid>12</uid>
        <type>n.k.a.</type>
        <category>strong</category>
        <lastName>DOE DE PEREZ</lastName>
        <firstName>Jane</firstName>
      </aka>
      <aka>
        <uid>13</uid><type>a.k.a.</type><category>weak</category><lastName>LA JEFA</lastName>
      </aka>
    </akaList>
    <addressList>
      <address>
        <uid>14</uid>
        <address1>Avenida Principal 1</address1>
        <address2>Torre A</address2>
        <city>Caracas</city>
        <stateOrProvince>Distrito Capital</stateOrProvince>
        <postalCode>1010</postalCode>
        <country>Venezuela</country>
      </address>
    </addressList>
    <nationalityList>
      <nationality><uid>15</uid><country>Venezuela</country><mainEntry>true</mainEntry></nationality>
    </nationalityList>
    <citizenshipList>
      <citizenship><uid>16</uid><country>Spain</country><mainEntry>false</mainEntry></citizenship>
    </citizenshipList>
    <dateOfBirthList>
      <dateOfBirthItem>
        <uid>17</uid><dateOfBirth>12 Mar 1966</dateOfBirth><mainEntry>true</mainEntry>
      </dateOfBirthItem>
      <dateOfBirthItem>
        <uid>18</uid><dateOfBirth>circa 1966</dateOfBirth><mainEntry>false</mainEntry>
      </dateOfBirthItem>
      <dateOfBirthItem>
        <uid>19</uid><dateOfBirth>1966 to 1968</dateOfBirth><mainEntry>false</mainEntry>
      </dateOfBirthItem>
    </dateOfBirthList>
    <placeOfBirthList>
      <placeOfBirthItem>
        <uid>20</uid><placeOfBirth>Maracaibo, Venezuela</placeOfBirth><mainEntry>true</mainEntry>
      </placeOfBirthItem>
    </placeOfBirthList>
  </sdnEntry>
</sdnList>
"""


@pytest.fixture(scope="module")
def adapter() -> OfacAdapter:
    return OfacAdapter()


def order(notice: NoticeEnvelope) -> FreezeOrder:
    assert isinstance(notice.body, FreezeOrder)
    return notice.body


def by_id(notices: list[NoticeEnvelope]) -> dict[str, NoticeEnvelope]:
    return {notice.source.original_id or "": notice for notice in notices}


def sdn_list(*entries: str, publish_date: str = "05/06/2024") -> bytes:
    """A small sdnList document in the 2024 namespace around the given sdnEntry texts."""
    body = "\n".join(entries)
    return (
        '<?xml version="1.0" standalone="yes"?>\n'
        f'<sdnList xmlns="{NAMESPACE_2024.decode()}">\n'
        f"  <publshInformation><Publish_Date>{publish_date}</Publish_Date>"
        "<Record_Count>1</Record_Count></publshInformation>\n"
        f"{body}\n</sdnList>\n"
    ).encode()


def entry(uid: str = "1", **children: str) -> str:
    """An sdnEntry with a name and type, its children replaced or added by keyword."""
    fields = {"uid": uid, "lastName": "EXAMPLE TRADING LLC", "sdnType": "Entity"} | children
    inner = "".join(f"<{tag}>{text}</{tag}>" for tag, text in fields.items())
    return f"<sdnEntry>{inner}</sdnEntry>"


@pytest.fixture(scope="module")
def fixture_notices() -> list[NoticeEnvelope]:
    return list(OfacAdapter().translate(context(FIXTURE.read_bytes())))


# The real Consolidated list excerpt


def test_every_entry_of_the_excerpt_becomes_one_notice_in_order(
    fixture_notices: list[NoticeEnvelope],
) -> None:
    ids = [notice.notice_id for notice in fixture_notices]

    assert len(ids) == 100 == len(set(ids))
    assert ids[:3] == ["ofac-cons-9639", "ofac-cons-9640", "ofac-cons-9641"]
    assert ids[-1] == "ofac-cons-18273"


def test_a_plc_member_with_a_year_of_birth(fixture_notices: list[NoticeEnvelope]) -> None:
    raw = FIXTURE.read_bytes()
    notice = fixture_notices[0]
    element = next(etree.fromstring(raw).iterfind("{*}sdnEntry"))

    assert notice == NoticeEnvelope(
        notice_id="ofac-cons-9639",
        version=1,
        msg_type=MsgType.ALERT,
        notice_type=NoticeType.FREEZE_ORDER,
        originator=ORIGINATOR,
        issued_at=PUBLISHED,
        classification=Classification(
            level=Level.UNCLASSIFIED,
            tlp=Tlp.CLEAR,
            national_marking="OFAC Consolidated Sanctions List (public, unmarked)",
        ),
        source=Source(
            format=CONSOLIDATED,
            original_id="9639",
            adapter="ofac",
            adapter_version="1.0.0",
            received_at=RECEIVED_AT,
            sha256=hashlib.sha256(etree.tostring(element, method="c14n")).hexdigest(),
        ),
        body=FreezeOrder(
            listing_reference="9639",
            programmes=["NS-PLC"],
            measures=[Measure.OTHER],
            subject=ListedSubject(
                kind=SubjectKind.INDIVIDUAL,
                names=[person("Ismail Abdul Salah", "HANIYA")],
                aliases=[
                    Alias(name=person("Ismail", "HANIYA"), quality=AliasQuality.STRONG),
                    Alias(name=person("Ismaeel", "HANIYYA"), quality=AliasQuality.STRONG),
                ],
                dates_of_birth=[DateSpan(earliest=PartialDate(year=1962))],
                places_of_birth=["Shati"],
            ),
        ),
    )


def test_an_sdgt_member_with_gender_weak_aliases_and_a_region(
    fixture_notices: list[NoticeEnvelope],
) -> None:
    body = order(by_id(fixture_notices)["9647"])

    assert body.programmes == ["NS-PLC", "SDGT"]
    assert body.legal_basis == [LegalAct(authority=PRESIDENT, reference="Executive Order 13224")]
    subject = body.subject
    assert subject.sex is Sex.MALE
    assert subject.aliases == [
        Alias(name=person("Mahmoud Khaled", "AL ZAHAR"), quality=AliasQuality.STRONG),
        Alias(name=whole("ZAHAR, Mahmoud"), quality=AliasQuality.WEAK),
        Alias(name=whole("AL-ZAHAR, Mahmoud"), quality=AliasQuality.WEAK),
    ]
    assert subject.addresses == [Address(country="PS")]
    assert subject.nationalities == ["PS"]
    assert subject.dates_of_birth == [DateSpan(earliest=PartialDate(year=1945))]
    assert subject.places_of_birth == ["Gaza Strip"]
    assert subject.identifiers == []


def test_an_ssi_bank_with_its_overloaded_id_list(fixture_notices: list[NoticeEnvelope]) -> None:
    body = order(by_id(fixture_notices)["17013"])

    assert body.programmes == ["UKRAINE-EO13662", "RUSSIA-EO14024"]
    assert body.legal_basis == [
        LegalAct(authority=PRESIDENT, reference="Executive Order 13662"),
        LegalAct(authority=PRESIDENT, reference="Executive Order 14024"),
        LegalAct(authority="US Treasury OFAC", reference="Executive Order 13662 Directive 1"),
    ]
    subject = body.subject
    assert subject.kind is SubjectKind.ENTITY
    assert subject.names == [whole("VTB BANK PUBLIC JOINT STOCK COMPANY")]
    assert len(subject.aliases) == 26
    assert subject.aliases[0] == Alias(name=whole("JSC VTB BANK"), quality=AliasQuality.STRONG)
    assert subject.sex is Sex.UNKNOWN
    # Organization Established Date: the registration date of an entity.
    assert subject.dates_of_birth == [DateSpan(earliest=PartialDate(year=1990, month=10, day=17))]
    assert subject.identifiers == [
        document("REGISTRATION_NUMBER", "1027739609391", "RU", note="Registration ID"),
        document("REGISTRATION_NUMBER", "00032520", "RU", note="Government Gazette Number"),
        document("TAX_ID", "7702070139", "RU", note="Tax ID No."),
        document("LICENCE", "1000", "RU", note="License"),
        document("LEI", "253400V1H6ART1UQ0N98", "RU", note="Legal Entity Number"),
        document("SWIFT_BIC", "VTBRRUMM"),
        document("WEBSITE", "www.vtb.com"),
        document("WEBSITE", "www.vtb.ru"),
        document("BIK", "044030707", note="BIK (RU)"),
        document("BIK", "044525187", note="BIK (RU)"),
    ]
    assert subject.addresses[0] == Address(
        street="29, Bolshaya Morskaya str.",
        city="St. Petersburg",
        postal_code="190000",
        country="RU",
    )
    assert len(subject.addresses) == 9


def test_a_part_561_bank_with_former_names_and_branches(
    fixture_notices: list[NoticeEnvelope],
) -> None:
    body = order(by_id(fixture_notices)["15268"])

    assert body.legal_basis == [
        LegalAct(
            authority="US Treasury OFAC",
            reference="Iranian Financial Sanctions Regulations, 31 CFR part 561",
        )
    ]
    subject = body.subject
    assert [alias.name.full_name for alias in subject.aliases] == [
        "KARAMAY URBAN CREDIT COOPERATIVES",
        "KARAMAY CITY COMMERCIAL BANK CO LTD.",
    ]
    assert subject.identifiers == [document("SWIFT_BIC", "CKLBCNBJ")]
    assert subject.addresses[2] == Address(
        street="No. 7 Century Ave, (Registered Office)",
        city="Xinjiang",
        region="Karamay",
        postal_code="834000",
        country="CN",
    )


def test_every_notice_is_a_public_version_one_alert(
    fixture_notices: list[NoticeEnvelope],
) -> None:
    for notice in fixture_notices:
        assert (notice.version, notice.msg_type, notice.references) == (1, MsgType.ALERT, [])
        assert notice.notice_type is NoticeType.FREEZE_ORDER
        assert (notice.originator, notice.issued_at) == (ORIGINATOR, PUBLISHED)
        assert notice.classification.level is Level.UNCLASSIFIED
        assert notice.source.received_at == RECEIVED_AT
        assert order(notice).measures == [Measure.OTHER]
        assert order(notice).listing_reference == notice.source.original_id
    digests = {notice.source.sha256 for notice in fixture_notices}
    assert len(digests) == 100, "each entry carries the digest of its own bytes"


def test_the_excerpt_leaves_nothing_unmapped(adapter: OfacAdapter) -> None:
    _, ctx = translate(adapter, FIXTURE.read_bytes())

    assert ctx.unmapped == Counter()


def test_the_sdn_list_blocks_property(adapter: OfacAdapter) -> None:
    notices, _ = SDN_FEED.translate(adapter, FIXTURE.read_bytes())

    assert notices[0].notice_id == "ofac-9639"
    assert notices[0].classification.national_marking == "OFAC SDN List (public, unmarked)"
    assert {tuple(order(notice).measures) for notice in notices} == {(Measure.ASSET_FREEZE,)}


def test_the_older_namespace_gives_the_same_notices(
    adapter: OfacAdapter, fixture_notices: list[NoticeEnvelope]
) -> None:
    """Only the provenance digest differs: it covers the entry's bytes, namespace included."""
    raw = FIXTURE.read_bytes()
    assert raw.count(NAMESPACE_2024) == 1
    notices, ctx = translate(adapter, raw.replace(NAMESPACE_2024, NAMESPACE_OLD))

    assert ctx.unmapped == Counter()
    assert [without_digest(n) for n in notices] == [without_digest(n) for n in fixture_notices]
    assert notices[0].source.sha256 != fixture_notices[0].source.sha256


def test_a_document_without_namespace_gives_the_same_notices(
    adapter: OfacAdapter, fixture_notices: list[NoticeEnvelope]
) -> None:
    raw = FIXTURE.read_bytes().replace(b' xmlns="' + NAMESPACE_2024 + b'"', b"")
    notices, _ = translate(adapter, raw)

    assert [without_digest(n) for n in notices] == [without_digest(n) for n in fixture_notices]


# Made-up entries: what the excerpt lacks


def test_a_vessel(adapter: OfacAdapter) -> None:
    notices, ctx = SDN_FEED.translate(adapter, MADE_UP)
    notice = notices[0]

    assert notice.notice_id == "ofac-90001"
    assert notice.issued_at == dt.datetime(2019, 12, 31, tzinfo=dt.UTC)
    body = order(notice)
    assert body.measures == [Measure.ASSET_FREEZE]
    assert body.legal_basis == [
        LegalAct(authority=PRESIDENT, reference="Executive Order 13846"),
        LegalAct(authority=PRESIDENT, reference="Executive Order 13224"),
    ]
    assert body.subject == ListedSubject(
        kind=SubjectKind.VESSEL,
        names=[whole("OCEAN SPIRIT")],
        aliases=[Alias(name=whole("SEA BREEZE"), quality=AliasQuality.STRONG)],
        nationalities=["PA"],
        identifiers=[
            document("IMO_NUMBER", "IMO 9999999", note="Vessel Registration Identification"),
            document("MMSI", "123456789"),
            document("OTHER", "Red", note="Hull Colour"),
            document("CALL_SIGN", "9HA0000"),
        ],
    )
    assert ctx.unmapped == Counter(["/sdnList/sdnEntry/idList/id.idType=Hull Colour"])


def test_an_individual_with_documents_dates_and_a_current_name(adapter: OfacAdapter) -> None:
    notices, _ = SDN_FEED.translate(adapter, MADE_UP)
    body = order(notices[1])

    assert body.legal_basis == [LegalAct(authority=PRESIDENT, reference="Executive Order 13818")]
    assert body.subject == ListedSubject(
        kind=SubjectKind.INDIVIDUAL,
        names=[person("Jane Example", "DOE"), person("Jane", "DOE DE PEREZ")],
        aliases=[Alias(name=whole("LA JEFA"), quality=AliasQuality.WEAK)],
        sex=Sex.FEMALE,
        dates_of_birth=[
            DateSpan(earliest=PartialDate(year=1966, month=3, day=12)),
            DateSpan(earliest=PartialDate(year=1966, approximate=True)),
            DateSpan(earliest=PartialDate(year=1966), latest=PartialDate(year=1968)),
        ],
        places_of_birth=["Maracaibo, Venezuela"],
        nationalities=["VE", "ES"],
        identifiers=[
            IdentityDocument(
                kind="PASSPORT",
                number="X1234567",
                issuing_country="VE",
                issued_on=PartialDate(year=2010, month=3, day=12),
                expires_on=PartialDate(year=2020, month=3, day=11),
            ),
            document("NATIONAL_ID", "V-1234567", "VE", note="Cedula No."),
            document(
                "CRYPTO_WALLET", "1ExampleBitcoinAddress", note="Digital Currency Address - XBT"
            ),
            document("EMAIL", "jane@example.org", note="Email Address"),
        ],
        addresses=[
            Address(
                street="Avenida Principal 1, Torre A",
                city="Caracas",
                region="Distrito Capital",
                postal_code="1010",
                country="VE",
            )
        ],
    )


# Field rules


def test_unknown_codes_are_counted_and_never_guessed(adapter: OfacAdapter) -> None:
    raw = sdn_list(
        entry(
            sdnType="Submarine",
            programList="<program>NEW-PROGRAMME</program>",
            akaList="<aka><uid>2</uid><type>x.k.a.</type><category>medium</category>"
            "<lastName>EXAMPLE</lastName></aka>",
            addressList="<address><uid>3</uid><country>Atlantis</country></address>",
        )
    )
    notices, ctx = translate(adapter, raw)
    body = order(notices[0])

    assert body.subject.kind is SubjectKind.UNKNOWN
    assert body.subject.aliases == [Alias(name=whole("EXAMPLE"), quality=AliasQuality.UNKNOWN)]
    assert body.subject.addresses == []
    assert (body.programmes, body.legal_basis) == (["NEW-PROGRAMME"], [])
    assert ctx.unmapped == Counter(
        [
            "/sdnList/sdnEntry.sdnType=Submarine",
            "/sdnList/sdnEntry.programList/program=NEW-PROGRAMME",
            "/sdnList/sdnEntry/akaList/aka.type=x.k.a.",
            "/sdnList/sdnEntry/akaList/aka.category=medium",
            "/sdnList/sdnEntry/addressList/address.country=Atlantis",
        ]
    )


def test_an_element_nobody_maps_is_counted_where_it_is(adapter: OfacAdapter) -> None:
    raw = sdn_list(entry(vesselInfo="<hullColour>red</hullColour>", riskScore="9"))
    _, ctx = translate(adapter, raw)

    assert ctx.unmapped == Counter(
        ["/sdnList/sdnEntry.riskScore", "/sdnList/sdnEntry/vesselInfo.hullColour"]
    )


def test_blank_values_are_absent(adapter: OfacAdapter) -> None:
    raw = sdn_list(
        entry(
            firstName="\u00a0",
            remarks=" ",
            idList="<id><uid>1</uid><idType>Passport</idType><idNumber> </idNumber></id>",
            dateOfBirthList="<dateOfBirthItem><uid>2</uid><dateOfBirth/></dateOfBirthItem>",
        )
    )
    notices, ctx = translate(adapter, raw)
    subject = order(notices[0]).subject

    assert subject.names == [whole("EXAMPLE TRADING LLC")]
    assert (subject.identifiers, subject.dates_of_birth) == ([], [])
    assert ctx.unmapped == Counter()


def test_a_missing_publish_date_falls_back_to_the_receipt_time(adapter: OfacAdapter) -> None:
    notices, _ = translate(adapter, sdn_list(entry(), publish_date=""))

    assert notices[0].issued_at == RECEIVED_AT


def test_entries_are_translated_one_at_a_time(adapter: OfacAdapter) -> None:
    """The first notice is out before a fault further down is even parsed."""
    raw = sdn_list(entry("1"), entry("2"), "<sdnEntry><uid>3</uid><lastName>X</lastName>")
    notices = adapter.translate(context(raw))

    assert next(notices).notice_id == "ofac-cons-1"
    assert next(notices).notice_id == "ofac-cons-2"
    with pytest.raises(TranslationError, match="invalid XML"):
        next(notices)


def test_memory_follows_the_entry_not_the_list(adapter: OfacAdapter) -> None:
    def peak(entries: int) -> int:
        raw = sdn_list(*(entry(str(uid), remarks="x" * 2000) for uid in range(entries)))
        return FEED.peak_memory(adapter, raw)

    small, large = peak(200), peak(2000)

    assert large < small * 2, f"peak {large} bytes for 2000 entries, {small} for 200"


# Malformed payloads


def test_invalid_xml_is_placed_by_line_and_column(adapter: OfacAdapter) -> None:
    error = failure(adapter, b"<sdnList>\n  <sdnEntry><uid>1</uid>\n</sdnList>")

    assert error.where == "line 3 column 11"
    assert error.reason.startswith("invalid XML: ")


def test_a_tag_with_an_undeclared_prefix_is_refused(adapter: OfacAdapter) -> None:
    error = failure(adapter, sdn_list(entry().replace("<uid>1</uid>", "<N:uid>1</N:uid>")))

    assert error.where.startswith("line ")
    assert error.reason.startswith("invalid XML: ")


def test_entity_declarations_are_refused(adapter: OfacAdapter) -> None:
    raw = b'<?xml version="1.0"?>\n<!DOCTYPE sdnList [<!ENTITY x "y">]>\n<sdnList/>'
    error = failure(adapter, raw)

    assert error.where == "line 1 (DOCTYPE)"


@pytest.mark.parametrize(
    ("raw", "where", "why"),
    [
        (b"<export><sdnEntry><uid>1</uid></sdnEntry></export>", "/export/sdnEntry[1]", "outside"),
        (b'<sdnList xmlns="x:y"><publshInformation/></sdnList>', "document", "no sdnEntry"),
        (b"<CONSOLIDATED_LIST/>", "document", "not an OFAC sdnList list"),
    ],
)
def test_a_document_that_is_not_an_sdn_list(
    adapter: OfacAdapter, raw: bytes, where: str, why: str
) -> None:
    error = failure(adapter, raw)

    assert error.where.startswith(where)
    assert why in error.reason


BAD_BIRTH_DATE = "<dateOfBirthItem><dateOfBirth>31 Feb 1970</dateOfBirth></dateOfBirthItem>"
BAD_ISSUE_DATE = (
    "<id><idType>Passport</idType><idNumber>1</idNumber><issueDate>soon</issueDate></id>"
)


@pytest.mark.parametrize(
    ("fields", "where", "why"),
    [
        ({"uid": ""}, "/sdnList/sdnEntry[1]/uid (line 4)", "None is not an OFAC uid"),
        ({"uid": "12a"}, "/sdnList/sdnEntry[1]/uid (line 4)", "'12a' is not an OFAC uid"),
        ({"lastName": " "}, "/sdnList/sdnEntry[1]/lastName (line 4)", "no name"),
        (
            {"dateOfBirthList": BAD_BIRTH_DATE},
            "/sdnList/sdnEntry[1]/dateOfBirthList[1]/dateOfBirthItem[1]/dateOfBirth (line 4)",
            "'31 Feb 1970' is not a calendar date",
        ),
        (
            {"idList": BAD_ISSUE_DATE},
            "/sdnList/sdnEntry[1]/idList[1]/id[1]/issueDate (line 4)",
            "'soon' is not a date",
        ),
    ],
)
def test_faulty_entries_are_placed(
    adapter: OfacAdapter, fields: dict[str, str], where: str, why: str
) -> None:
    error = failure(adapter, sdn_list(entry(**fields)))

    assert error.where == where
    assert why in error.reason


def test_a_publish_date_that_is_not_one(adapter: OfacAdapter) -> None:
    error = failure(adapter, sdn_list(entry(), publish_date="13/06/2024"))

    assert error.where == "/sdnList/publshInformation[1]/Publish_Date (line 3)"
    assert "'13/06/2024' is not a publish date" in error.reason


def test_a_format_this_adapter_does_not_read(adapter: OfacAdapter) -> None:
    error = replace(FEED, format="ofac-advanced-xml").failure(adapter, MADE_UP)

    assert error.where == "header 'format'"


# Detection and tables


def test_detects_sdn_lists_of_both_namespaces_and_nothing_else(adapter: OfacAdapter) -> None:
    raw = FIXTURE.read_bytes()

    assert adapter.detect(raw[:65536])
    assert adapter.detect(MADE_UP)
    for other in (
        "eu_fsf_xml_v1.1_2018-12-21_excerpt.xml",
        "un_sc_consolidated_2020-03-20_excerpt.xml",
    ):
        assert not adapter.detect((FIXTURES / "sanctions" / other).read_bytes()[:65536])
    assert not adapter.detect(b'{"sdnList": []}')


def test_mapping_tables_are_validated() -> None:
    tables = mapping_tables("ofac", OfacMapping)

    with pytest.raises(ValidationError, match="more than one table"):
        twice = tables["id_types"] | {"ignored": tables["id_types"]["ignored"] | {"Passport": "?"}}
        OfacMapping.model_validate(tables | {"id_types": twice})
    with pytest.raises(ValidationError, match="authorities"):
        OfacMapping.model_validate(
            tables | {"programmes": {"SDGT": {"by": "senate", "reference": "x"}}}
        )


# Fuzzing: mutated real payloads give notices or a located TranslationError, nothing else


def fixture_entries(first: int, last: int) -> list[str]:
    found = re.findall(rb"<sdnEntry>.*?</sdnEntry>", FIXTURE.read_bytes(), re.DOTALL)
    return [text.decode() for text in found[first:last]]


# The gender-and-weak-alias entry with its neighbours, the SSI banks, and the made-up entries.
SEEDS = [sdn_list(*fixture_entries(7, 10)), sdn_list(*fixture_entries(79, 81)), MADE_UP]
FUZZ_ADAPTER = OfacAdapter()
RENAMES = [b"uid", b"lastName", b"sdnEntry", b"idList", b"country"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=st.one_of(
        [damaged_xml(seed, nest_at=[seed.index(b"</sdnEntry>")], renames=RENAMES) for seed in SEEDS]
    ),
    feed=st.sampled_from([FEED, SDN_FEED]),
)
def test_mutated_payloads_give_notices_or_a_located_error(raw: bytes, feed: Feed) -> None:
    notices = notices_or_placed_error(FUZZ_ADAPTER, feed.context(raw))
    assert all(isinstance(notice.body, FreezeOrder) for notice in notices)


# Helpers


def person(given: str, family: str) -> Name:
    return Name(full_name=f"{given} {family}", given_names=given, family_name=family, script="Latn")


def whole(text: str) -> Name:
    return Name(full_name=text, script="Latn")


def document(
    kind: str, number: str, country: str | None = None, note: str | None = None
) -> IdentityDocument:
    return IdentityDocument(kind=kind, number=number, issuing_country=country, note=note)


def without_digest(notice: NoticeEnvelope) -> dict[str, Any]:
    dumped = notice.model_dump()
    del dumped["source"]["sha256"]
    return dumped
