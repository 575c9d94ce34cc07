"""The UK adapters on small lists of real targets and on made-up rows.

OFSI's Consolidated List (UkOfsiAdapter):

No copy of OFSI's ConList.xml was found in public reach, so tests/data/uk_ofsi_sample.xml was
written for these tests: ten rows of four real targets (OFSI group ids 12703, 7172, 6899 and
14124), with values copied from the public repository GSmiguel/sanctions_lists_etl
(tests/fixtures/sample_uk_sanctions.xml, an excerpt of the FCDO UK Sanctions List that gives
each designation's OFSIGroupID) and from FCDO UK-Sanctions-List.csv excerpts quoted in public
repositories, laid out as OFSI's "2022 format" file is (namespace, lowercase name1..name5
beside Name6, Individual_*/Entity_*/Ship_* fields, i:nil for empty values, rows scattered by
name order) per OpenSanctions' crawler of the live file (opensanctions/opensanctions,
datasets/gb/hmt/crawler.py). The file's comment says the same. Rows made up in this module
(``target``) describe invented targets.

The FCDO's UK Sanctions List (UkSanctionsListAdapter): DESIGNATIONS below is written from the
same real designations (AFG0001, AFG0006, BEL0107, DPR0075) as published in the FCDO's XML,
in the shape of GSmiguel/sanctions_lists_etl tests/fixtures/sample_uk_sanctions.xml (trimmed:
free-text fields shortened), plus writing quirks the FCDO's file is publicly reported to have
(dd/09/1958, 19yy years, Name elements with no part, "ALias").
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import replace
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pydantic import ValidationError

from adapters.uk_ofsi import UkOfsiAdapter, UkSanctionsListAdapter
from adapters.uk_ofsi.mapping import OfsiMapping
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
from tests.conftest import FIXTURES, REPO_ROOT

SAMPLE = REPO_ROOT / "tests" / "data" / "uk_ofsi_sample.xml"
FORMAT = "uk-ofsi-xml"
NAMESPACE = "http://schemas.hmtreasury.gov.uk/ofsi/consolidatedlist"
RECEIVED_AT = dt.datetime(2026, 5, 1, 7, 0, tzinfo=dt.UTC)
ORIGINATOR = Originator(agency_id="gb-ofsi", country="GB")
UK = "HM Government (United Kingdom)"
AFGHANISTAN = LegalAct(
    authority=UK, reference="The Afghanistan (Sanctions) (EU Exit) Regulations 2020"
)
ROW = "/ArrayOfFinancialSanctionsTarget/FinancialSanctionsTarget"
FEED = Feed(FORMAT, ORIGINATOR, RECEIVED_AT)
context, translate, failure = FEED.context, FEED.translate, FEED.failure
# On both lists (OFSI group 7172, FCDO AFG0006): both adapters must read his names the same.
AKHUND = [
    Name(
        full_name="MOHAMMAD HASSAN AKHUND",
        given_names="MOHAMMAD HASSAN",
        family_name="AKHUND",
        script="Latn",
    ),
    Name(full_name="محمد حسن آخوند", script="Arab"),
]
AKHWAND = Name(
    full_name="Mohammad Akhwand", given_names="Mohammad", family_name="Akhwand", script="Latn"
)


@pytest.fixture(scope="module")
def adapter() -> UkOfsiAdapter:
    return UkOfsiAdapter()


def order(notice: NoticeEnvelope) -> FreezeOrder:
    assert isinstance(notice.body, FreezeOrder)
    return notice.body


def target(**fields: str | None) -> dict[str, str | None]:
    """A made-up row: an entity's primary name, its other fields replaced or added by keyword."""
    return {
        "Name6": "EXAMPLE TRADING LLC",
        "GroupTypeDescription": "Entity",
        "AliasType": "Primary name",
        "RegimeName": "Russia",
        "GroupID": "1",
    } | fields


def ofsi_list(*rows: dict[str, str | None], namespace: str = NAMESPACE) -> bytes:
    """An OFSI list of the given rows, None values written as OFSI writes them (i:nil)."""

    def element(tag: str, value: str | None) -> str:
        return f'<{tag} i:nil="true" />' if value is None else f"<{tag}>{escape(value)}</{tag}>"

    body = "\n".join(
        "  <FinancialSanctionsTarget>"
        + "".join(element(tag, value) for tag, value in row.items())
        + "</FinancialSanctionsTarget>"
        for row in rows
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<ArrayOfFinancialSanctionsTarget xmlns:i="http://www.w3.org/2001/XMLSchema-instance"'
        f' xmlns="{namespace}">\n{body}\n</ArrayOfFinancialSanctionsTarget>\n'
    ).encode()


@pytest.fixture(scope="module")
def sample() -> dict[str, NoticeEnvelope]:
    notices = UkOfsiAdapter().translate(context(SAMPLE.read_bytes()))
    return {notice.source.original_id or "": notice for notice in notices}


# The sample of real targets


def test_one_notice_per_target_when_its_last_row_is_read(adapter: UkOfsiAdapter) -> None:
    notices, ctx = translate(adapter, SAMPLE.read_bytes())

    assert [notice.notice_id for notice in notices] == [
        "uk-ofsi-6899",
        "uk-ofsi-12703",
        "uk-ofsi-7172",
        "uk-ofsi-14124",
    ]
    assert ctx.unmapped == Counter()


def test_a_money_exchange_with_branches_and_aliases_of_both_qualities(
    sample: dict[str, NoticeEnvelope],
) -> None:
    rows = [
        row
        for row in etree.parse(str(SAMPLE)).getroot()
        if row.findtext(f"{{{NAMESPACE}}}GroupID") == "12703"
    ]
    digests = "".join(
        hashlib.sha256(etree.tostring(row, method="c14n")).hexdigest() for row in rows
    )

    assert sample["12703"] == NoticeEnvelope(
        notice_id="uk-ofsi-12703",
        version=1,
        msg_type=MsgType.ALERT,
        notice_type=NoticeType.FREEZE_ORDER,
        originator=ORIGINATOR,
        issued_at=dt.datetime(2026, 4, 16, tzinfo=dt.UTC),
        classification=Classification(
            level=Level.UNCLASSIFIED,
            tlp=Tlp.CLEAR,
            national_marking="OFSI Consolidated List (public, unmarked)",
        ),
        source=Source(
            format=FORMAT,
            original_id="12703",
            adapter="uk-ofsi",
            adapter_version="1.0.0",
            received_at=RECEIVED_AT,
            sha256=hashlib.sha256(digests.encode()).hexdigest(),
        ),
        body=FreezeOrder(
            legal_basis=[AFGHANISTAN],
            listing_reference="AFG0001",
            programmes=["Afghanistan"],
            measures=[Measure.ASSET_FREEZE],
            listed_on=dt.date(2012, 6, 29),
            amended_on=dt.date(2026, 4, 16),
            subject=ListedSubject(
                kind=SubjectKind.ENTITY,
                names=[
                    latin("HAJI KHAIRULLAH HAJI SATTAR MONEY EXCHANGE"),
                    Name(full_name="حاجی خيرالله و حاجی ستار صرافی", script="Arab"),
                ],
                aliases=[
                    Alias(name=latin("Haji Alim Hawala"), quality=AliasQuality.STRONG),
                    Alias(name=latin("Haji Hakim Hawala"), quality=AliasQuality.WEAK),
                ],
                identifiers=[
                    document("UN_REFERENCE", "TAe.010"),
                    document("PHONE", "0202-104748"),
                    document("EMAIL", "helmand_exchange_msp@yahoo.com"),
                ],
                addresses=[
                    Address(
                        full="Branch Office 2, Peshawar, Khyber Paktunkhwa Province", country="PK"
                    ),
                    Address(full="Branch Office 14, Dubai", country="AE"),
                ],
            ),
        ),
    )


def test_an_individual_whose_dates_of_birth_are_on_several_rows(
    sample: dict[str, NoticeEnvelope],
) -> None:
    body = order(sample["7172"])

    assert (body.listing_reference, body.listed_on) == ("AFG0006", dt.date(2001, 1, 25))
    assert body.subject == ListedSubject(
        kind=SubjectKind.INDIVIDUAL,
        names=AKHUND,
        aliases=[Alias(name=AKHWAND)],
        sex=Sex.MALE,
        dates_of_birth=[
            DateSpan(earliest=PartialDate(year=1958, month=5, day=12)),
            DateSpan(earliest=PartialDate(year=1945)),
            DateSpan(earliest=PartialDate(year=1946)),
        ],
        places_of_birth=["Pashmul village, Panjwai District, Afghanistan"],
        nationalities=["AF"],
        identifiers=[
            document(
                "PASSPORT",
                "P04581926",
                "Afghanistan passport number P04581926, issued in Kandahar (expires 7 August 2034)",
            ),
            document(
                "NATIONAL_ID", "2132370", "Afghan national identification card (tazkira) number"
            ),
            document("UN_REFERENCE", "TAi.002"),
        ],
        addresses=[Address(full="Kabul", country="AF")],
    )


def test_an_individual_with_given_names_only_and_a_year_of_birth(
    sample: dict[str, NoticeEnvelope],
) -> None:
    notice = sample["6899"]
    body = order(notice)

    assert notice.issued_at == dt.datetime(2021, 11, 15, tzinfo=dt.UTC)
    assert body.legal_basis == [
        LegalAct(
            authority=UK,
            reference="The ISIL (Da'esh) and Al-Qaida (United Nations Sanctions) (EU Exit) "
            "Regulations 2019",
        )
    ]
    assert body.subject.names == [latin("Fadhil Harun")]
    assert body.subject.dates_of_birth == [DateSpan(earliest=PartialDate(year=1972))]
    assert body.subject.places_of_birth == ["Moroni, Comoros"]
    assert body.subject.nationalities == ["KM"]


def test_a_uk_company_with_its_registration_and_website(
    sample: dict[str, NoticeEnvelope],
) -> None:
    subject = order(sample["14124"]).subject

    assert subject.aliases == [
        Alias(name=latin("BNK UK Limited"), quality=AliasQuality.STRONG),
        Alias(name=latin("BNK"), quality=AliasQuality.WEAK),
    ]
    assert subject.identifiers == [
        document("REGISTRATION_NUMBER", "UK Company no. 06527449"),
        document("WEBSITE", "http://www.belnaft.co.uk/"),
    ]
    assert subject.addresses == [
        Address(
            full="Salatin House, 19 Cedar Road, Sutton, Surrey", postal_code="SM2 5DA", country="GB"
        )
    ]


# Made-up rows: what the sample lacks


def test_the_field_names_of_files_before_2022(adapter: UkOfsiAdapter) -> None:
    raw = ofsi_list(
        {
            "Name6": "EXAMPLE",
            "Name1": "Omar",
            "Name2": "Ali",
            "DOB": "00/06/1955",
            "TownOfBirth": "Aleppo",
            "CountryOfBirth": "Syria",
            "Nationality": "(1) Syrian (2) Iraqi",
            "PassportDetails": "Syria number 012345, issued 2005",
            "NINumber": "(1) 111 (2) 222",
            "Position": "Governor",
            "GroupType": "Individual",
            "AliasType": "Prime Alias",
            "Regime": "Syria",
            "ListedOn": "01/12/2011",
            "LastUpdated": "15/03/2019",
            "GroupID": "90001",
        }
    )
    notices, ctx = translate(adapter, raw)
    body = order(notices[0])

    assert notices[0].issued_at == dt.datetime(2019, 3, 15, tzinfo=dt.UTC)
    assert body.measures == [Measure.ASSET_FREEZE]
    assert (body.listed_on, body.amended_on) == (dt.date(2011, 12, 1), dt.date(2019, 3, 15))
    assert body.legal_basis == [
        LegalAct(authority=UK, reference="The Syria (Sanctions) (EU Exit) Regulations 2019")
    ]
    assert body.subject == ListedSubject(
        kind=SubjectKind.INDIVIDUAL,
        names=[
            Name(
                full_name="Omar Ali EXAMPLE",
                given_names="Omar Ali",
                family_name="EXAMPLE",
                script="Latn",
            )
        ],
        dates_of_birth=[DateSpan(earliest=PartialDate(year=1955, month=6))],
        places_of_birth=["Aleppo, Syria"],
        nationalities=["SY", "IQ"],
        identifiers=[
            document("PASSPORT", "Syria number 012345, issued 2005"),
            document("NATIONAL_ID", "111"),
            document("NATIONAL_ID", "222"),
        ],
    )
    assert ctx.unmapped == Counter()


def test_a_ship(adapter: UkOfsiAdapter) -> None:
    raw = ofsi_list(
        target(
            Name6="SEA EXAMPLE",
            GroupTypeDescription="Ship",
            Ship_IMONumber="9999999",
            Ship_Flag="Cameroon",
            Ship_PreviousFlags="(1) Panama (2) Gabon",
            Ship_Type="Crude Oil Tanker",
            Ship_Tonnage="81000",
            Ship_Length="250",
            Ship_YearBuilt="2001",
            Ship_CurrentOwners="EXAMPLE SHIPPING LTD",
        )
    )
    notices, ctx = translate(adapter, raw)

    assert order(notices[0]).subject == ListedSubject(
        kind=SubjectKind.VESSEL,
        names=[latin("SEA EXAMPLE")],
        nationalities=["CM"],
        identifiers=[document("IMO_NUMBER", "9999999")],
    )
    assert ctx.unmapped == Counter()


@pytest.mark.parametrize(
    ("statuses", "measures"),
    [
        (["A", "A"], [Measure.ASSET_FREEZE]),
        (["I"], [Measure.OTHER]),
        (["A", "I"], [Measure.ASSET_FREEZE, Measure.OTHER]),
        ([None], [Measure.ASSET_FREEZE]),
    ],
)
def test_group_status_decides_the_measures(
    adapter: UkOfsiAdapter, statuses: list[str | None], measures: list[Measure]
) -> None:
    raw = ofsi_list(*(target(GrpStatus=status) for status in statuses))

    assert order(translate(adapter, raw)[0][0]).measures == measures


def test_a_numbered_list_gives_one_document_each(adapter: UkOfsiAdapter) -> None:
    raw = ofsi_list(
        target(
            GroupTypeDescription="Individual",
            Individual_PassportNumber="(1) A1234567 (2) B7654321.",
            Individual_PassportDetails="Both Russian passports",
            EmailAddress="one@example.org; two@example.org",
        )
    )
    subject = order(translate(adapter, raw)[0][0]).subject

    assert subject.identifiers == [
        document("PASSPORT", "A1234567", "Both Russian passports"),
        document("PASSPORT", "B7654321", "Both Russian passports"),
        document("EMAIL", "one@example.org"),
        document("EMAIL", "two@example.org"),
    ]


def test_a_group_without_a_primary_name_takes_its_first_row(adapter: UkOfsiAdapter) -> None:
    raw = ofsi_list(
        target(Name6="FIRST NAME LLC", AliasType="AKA"),
        target(Name6="SECOND NAME LLC", AliasType="AKA"),
    )
    subject = order(translate(adapter, raw)[0][0]).subject

    assert subject.names == [latin("FIRST NAME LLC")]
    assert subject.aliases == [Alias(name=latin("SECOND NAME LLC"))]


def test_non_latin_names_keep_their_script_and_language(adapter: UkOfsiAdapter) -> None:
    raw = ofsi_list(
        target(
            NameNonLatinScript="\u202bЛЮДИ\u202c",
            NonLatinScriptType="Cyrillic",
            NonLatinScriptLanguage="Russian",
        ),
        target(
            AliasType="AKA",
            Name6="PRIMER",
            NameNonLatinScript="例子",
            NonLatinScriptLanguage="Chinese",
        ),
    )
    subject = order(translate(adapter, raw)[0][0]).subject

    assert subject.names == [
        latin("EXAMPLE TRADING LLC"),
        Name(full_name="ЛЮДИ", script="Cyrl", lang="ru"),
    ]
    assert subject.aliases == [
        Alias(name=latin("PRIMER")),
        Alias(name=Name(full_name="例子", script="Hani", lang="zh")),
    ]


def test_unknown_codes_are_counted_and_never_guessed(adapter: UkOfsiAdapter) -> None:
    raw = ofsi_list(
        target(
            GroupTypeDescription="Aircraft",
            AliasType="Nickname",
            AliasQuality="Medium",
            Individual_Gender="Other",
            Country="Atlantis",
            RegimeName="Moon",
            GrpStatus="Z",
            NameNonLatinScript="Пример",
            NonLatinScriptLanguage="Elvish",
        )
    )
    notices, ctx = translate(adapter, raw)
    body = order(notices[0])

    assert body.subject.kind is SubjectKind.UNKNOWN
    assert body.subject.sex is Sex.UNKNOWN
    assert body.subject.addresses == []
    assert (body.programmes, body.legal_basis) == (["Moon"], [])
    assert body.measures == [Measure.OTHER]
    assert ctx.unmapped == Counter(
        f"{ROW}.{key}"
        for key in [
            "GroupTypeDescription=Aircraft",
            "AliasType=Nickname",
            "AliasQuality=Medium",
            "Individual_Gender=Other",
            "Country=Atlantis",
            "RegimeName=Moon",
            "GrpStatus=Z",
            "NonLatinScriptLanguage=Elvish",
        ]
    )


def test_an_element_nobody_maps_is_counted(adapter: UkOfsiAdapter) -> None:
    _, ctx = translate(adapter, ofsi_list(target(RiskScore="9")))

    assert ctx.unmapped == Counter([f"{ROW}.RiskScore"])


def test_nil_and_blank_values_are_absent(adapter: UkOfsiAdapter) -> None:
    raw = ofsi_list(
        target(
            name1=None,
            Individual_DateOfBirth="00/00/0000",
            Individual_Nationality=" ",
            Address1=None,
            Country=None,
            LastUpdated=None,
        )
    )
    notices, ctx = translate(adapter, raw)
    subject = order(notices[0]).subject

    assert notices[0].issued_at == RECEIVED_AT
    assert (subject.dates_of_birth, subject.nationalities, subject.addresses) == ([], [], [])
    assert ctx.unmapped == Counter()


def test_a_document_without_namespace_reads_the_same(
    adapter: UkOfsiAdapter, sample: dict[str, NoticeEnvelope]
) -> None:
    raw = SAMPLE.read_bytes().replace(f' xmlns="{NAMESPACE}"'.encode(), b"")
    notices, _ = translate(adapter, raw)

    assert [order(notice) for notice in notices] == [order(notice) for notice in sample.values()]


def test_memory_follows_the_open_targets_not_the_list(adapter: UkOfsiAdapter) -> None:
    """A hundred times the bytes, in the same targets, takes about the same memory.

    What grows with the list is the row count kept per group id between the two passes.
    """

    def peak(reasons: int) -> int:
        raw = ofsi_list(
            *(target(GroupID=str(i), UKStatementOfReasons="x" * reasons) for i in range(300))
        )
        return FEED.peak_memory(adapter, raw)

    small, large = peak(100), peak(10_000)

    assert large < small * 2, f"peak {large} bytes for 3 MB of rows, {small} for 30 kB"


# Malformed payloads


def test_invalid_xml_is_placed_by_line_and_column(adapter: UkOfsiAdapter) -> None:
    error = failure(adapter, b"<ArrayOfFinancialSanctionsTarget>\n<FinancialSanctionsTarget>\n")

    assert error.where.startswith("line 3 column")
    assert error.reason.startswith("invalid XML: ")


def test_a_tag_with_an_undeclared_prefix_is_refused(
    adapter: UkOfsiAdapter, uk_list: UkSanctionsListAdapter
) -> None:
    error = failure(adapter, ofsi_list(target(**{"N:Name6": "X"})))
    assert error.where.startswith("line ") and error.reason.startswith("invalid XML: ")

    raw = DESIGNATIONS.replace(b"<UniqueID>AFG0001</UniqueID>", b"<N:UniqueID>1</N:UniqueID>")
    assert UK_LIST_FEED.failure(uk_list, raw).where.startswith("line ")


def test_entity_declarations_are_refused(adapter: UkOfsiAdapter) -> None:
    raw = b'<!DOCTYPE x [<!ENTITY a "b">]>\n<ArrayOfFinancialSanctionsTarget/>'

    assert failure(adapter, raw).where == "line 1 (DOCTYPE)"


@pytest.mark.parametrize(
    ("raw", "where", "why"),
    [
        (b"<ArrayOfFinancialSanctionsTarget/>", "document", "no FinancialSanctionsTarget"),
        (b"<sdnList><sdnEntry/></sdnList>", "document", "not an OFSI Consolidated List"),
        (
            b"<Designations><FinancialSanctionsTarget/></Designations>",
            "/Designations/FinancialSanctionsTarget[1] (line 1)",
            "outside an OFSI list",
        ),
    ],
)
def test_a_document_that_is_not_an_ofsi_list(
    adapter: UkOfsiAdapter, raw: bytes, where: str, why: str
) -> None:
    error = failure(adapter, raw)

    assert error.where == where
    assert why in error.reason


@pytest.mark.parametrize(
    ("fields", "at", "why"),
    [
        ({"GroupID": None}, "GroupID", "None is not an OFSI group id"),
        ({"GroupID": "12 703"}, "GroupID", "'12 703' is not an OFSI group id"),
        ({"DateListed": "2012-13-01T00:00:00"}, "DateListed", "month must be in 1..12"),
        ({"LastUpdated": "yesterday"}, "LastUpdated", "'yesterday' is not a date"),
    ],
)
def test_faulty_rows_are_placed(
    adapter: UkOfsiAdapter, fields: dict[str, str | None], at: str, why: str
) -> None:
    error = failure(adapter, ofsi_list(target(), target(**({"GroupID": "2"} | fields))))

    assert error.where == f"{ROW}[2]/{at} (line 4)"
    assert why in error.reason


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("12/05/1958", PartialDate(year=1958, month=5, day=12)),
        ("00/00/1955", PartialDate(year=1955)),
        ("00/06/1955", PartialDate(year=1955, month=6)),
        ("15/00/1955", PartialDate(year=1955)),
        ("dd/mm/1945", PartialDate(year=1945)),
        ("dd/09/1958", PartialDate(year=1958, month=9)),
        ("15/mm/1975", PartialDate(year=1975)),
        ("06/1955", PartialDate(year=1955, month=6)),
        ("1962", PartialDate(year=1962)),
        ("circa 1962", PartialDate(year=1962, approximate=True)),
    ],
)
def test_dates_of_birth_keep_the_precision_written(
    adapter: UkOfsiAdapter, written: str, read: PartialDate
) -> None:
    raw = ofsi_list(target(GroupTypeDescription="Individual", Individual_DateOfBirth=written))

    assert order(translate(adapter, raw)[0][0]).subject.dates_of_birth == [DateSpan(earliest=read)]


@pytest.mark.parametrize("written", ["15/08/19yy", "31/02/1970", "unknown"])
def test_an_unreadable_date_of_birth_is_left_out_and_counted(
    adapter: UkOfsiAdapter, written: str
) -> None:
    """Typed by hand, kept out of the notice rather than sending the whole list to the DLQ."""
    raw = ofsi_list(target(), target(Individual_DateOfBirth=written, AliasType="AKA", Name6="X"))
    notices, ctx = translate(adapter, raw)

    assert order(notices[0]).subject.dates_of_birth == []
    assert ctx.unmapped == Counter([f"{ROW}.Individual_DateOfBirth={written}"])


def test_a_fault_in_a_group_yields_no_notice_for_it(adapter: UkOfsiAdapter) -> None:
    raw = ofsi_list(
        target(GroupID="1"),
        target(GroupID="2"),
        target(GroupID="2", AliasType="AKA", Name6="X", DateListed="never"),
    )
    notices = adapter.translate(context(raw))

    assert next(notices).notice_id == "uk-ofsi-1"
    with pytest.raises(TranslationError, match="'never' is not a date"):
        next(notices)


# Detection and tables


def test_detects_ofsi_lists_and_nothing_else(adapter: UkOfsiAdapter) -> None:
    assert adapter.detect(SAMPLE.read_bytes()[:65536])
    for other in (
        "ofac_consolidated_nonsdn_sdnList_2024-05-06_excerpt.xml",
        "eu_fsf_xml_v1.1_2018-12-21_excerpt.xml",
        "un_sc_consolidated_2020-03-20_excerpt.xml",
    ):
        assert not adapter.detect((FIXTURES / "sanctions" / other).read_bytes()[:65536])


def test_mapping_tables_are_validated() -> None:
    tables = mapping_tables("uk_ofsi", OfsiMapping)

    with pytest.raises(ValidationError, match="name_types"):
        OfsiMapping.model_validate(tables | {"name_types": {"AKA": "nickname"}})
    with pytest.raises(ValidationError, match="languages"):
        OfsiMapping.model_validate(tables | {"languages": {"Farsi": "Persian"}})


# The FCDO's UK Sanctions List

UK_LIST = "uk-sanctions-list-xml"
UK_LIST_FEED = replace(FEED, format=UK_LIST)
DESIGNATIONS = """<?xml version="1.0" encoding="utf-8"?>
<Designations xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <DateGenerated>10/09/2026</DateGenerated>
  <Designation>
    <LastUpdated>04/08/2026</LastUpdated>
    <DateDesignated>29/06/2012</DateDesignated>
    <UniqueID>AFG0001</UniqueID>
    <OFSIGroupID>12703</OFSIGroupID>
    <UNReferenceNumber>TAe.010</UNReferenceNumber>
    <Names>
      <Name><Name6>HAJI KHAIRULLAH MONEY EXCHANGE</Name6><NameType>Primary Name</NameType></Name>
      <Name><Name6>Haji Alim Hawala</Name6><NameType>ALias</NameType></Name>
      <Name><NameType>Alias</NameType></Name>
    </Names>
    <NonLatinNames>
      <NonLatinName>
        <NameNonLatinScript>حاجی خيرالله صرافی</NameNonLatinScript>
        <NonLatinScriptType>Arabic</NonLatinScriptType>
        <NonLatinScriptLanguage>Dari</NonLatinScriptLanguage>
      </NonLatinName>
    </NonLatinNames>
    <RegimeName>The Afghanistan (Sanctions) (EU Exit) Regulations 2020</RegimeName>
    <IndividualEntityShip>Entity</IndividualEntityShip>
    <DesignationSource>UN</DesignationSource>
    <SanctionsImposed>Asset freeze</SanctionsImposed>
    <SanctionsImposedIndicators><AssetFreeze>true</AssetFreeze></SanctionsImposedIndicators>
    <OtherInformation>Afghan Money Service Provider License Number: 044.</OtherInformation>
    <UKStatementofReasons>
</UKStatementofReasons>
    <Addresses>
      <Address>
        <AddressLine1>Ansari Market, 2nd Floor</AddressLine1>
        <AddressLine6>Nimroz Province</AddressLine6>
        <AddressCountry>Afghanistan</AddressCountry>
      </Address>
      <Address>
        <AddressLine1>Branch Office 14</AddressLine1>
        <AddressLine6>Dubai</AddressLine6>
        <AddressCountry>United Arab Emirates</AddressCountry>
      </Address>
    </Addresses>
    <PhoneNumbers><PhoneNumber>0202-104748</PhoneNumber></PhoneNumbers>
    <EmailAddresses><EmailAddress>helmand_exchange_msp@yahoo.com</EmailAddress></EmailAddresses>
  </Designation>
  <Designation>
    <LastUpdated>14/04/2026</LastUpdated>
    <DateDesignated>25/01/2001</DateDesignated>
    <UniqueID>AFG0006</UniqueID>
    <OFSIGroupID>7172</OFSIGroupID>
    <UNReferenceNumber>TAi.002</UNReferenceNumber>
    <Names>
      <Name>
        <Name1>MOHAMMAD</Name1><Name2>HASSAN  </Name2><Name6>AKHUND</Name6>
        <NameType>Primary Name</NameType>
      </Name>
      <Name>
        <Name1>Mohammad</Name1><Name6>Akhwand</Name6>
        <NameType>Primary Name Variation</NameType>
        <AliasStrength>Good quality a.k.a</AliasStrength>
      </Name>
    </Names>
    <NonLatinNames>
      <NonLatinName><NameNonLatinScript>محمد حسن آخوند</NameNonLatinScript></NonLatinName>
    </NonLatinNames>
    <Titles><Title>Mullah</Title></Titles>
    <RegimeName>The Afghanistan (Sanctions) (EU Exit) Regulations 2020</RegimeName>
    <IndividualEntityShip>Individual</IndividualEntityShip>
    <DesignationSource>UK|UN</DesignationSource>
    <SanctionsImposed>Asset freeze|Travel Ban</SanctionsImposed>
    <Addresses><Address><AddressLine6>Kabul</AddressLine6><AddressCountry>Afghanistan</AddressCountry></Address></Addresses>
    <IndividualDetails>
      <Individual>
        <DOBs><DOB>12/05/1958</DOB><DOB>dd/mm/1945</DOB><DOB>dd/09/1958</DOB><DOB>15/08/19yy</DOB></DOBs>
        <Nationalities><Nationality>Afghanistan</Nationality></Nationalities>
        <Genders><Gender>Male</Gender></Genders>
        <Positions><Position>Deputy Minister</Position></Positions>
        <PassportDetails>
          <Passport>
            <PassportNumber>P04581926</PassportNumber>
            <PassportAdditionalInformation>
              Afghanistan passport, issued in Kandahar
            </PassportAdditionalInformation>
          </Passport>
          <Passport>
            <PassportNumber>P04581926</PassportNumber>
            <PassportAdditionalInformation>
              Afghanistan passport, issued in Kandahar
            </PassportAdditionalInformation>
          </Passport>
          <Passport>
            <PassportAdditionalInformation>An older passport</PassportAdditionalInformation>
          </Passport>
        </PassportDetails>
        <NationalIdentifierDetails>
          <NationalIdentifier>
            <NationalIdentifierNumber>2132370</NationalIdentifierNumber>
            <NationalIdentifierAdditionalInformation>tazkira</NationalIdentifierAdditionalInformation>
          </NationalIdentifier>
        </NationalIdentifierDetails>
        <BirthDetails>
          <Location>
            <TownOfBirth>Pashmul village, Panjwai District</TownOfBirth>
            <CountryOfBirth>Afghanistan</CountryOfBirth>
          </Location>
        </BirthDetails>
      </Individual>
    </IndividualDetails>
  </Designation>
  <Designation>
    <LastUpdated>09/04/2025</LastUpdated>
    <DateDesignated>21/06/2021</DateDesignated>
    <UniqueID>BEL0107</UniqueID>
    <OFSIGroupID>14124</OFSIGroupID>
    <Names>
      <Name><Name6>BNK (UK) Ltd</Name6><NameType>Primary Name</NameType></Name>
      <Name>
        <Name6>BNK UK Limited</Name6><NameType>Alias</NameType>
        <AliasStrength>Good quality a.k.a</AliasStrength>
      </Name>
      <Name>
        <Name6>BNK</Name6><NameType>Alias</NameType><AliasStrength>Low quality a.k.a</AliasStrength>
      </Name>
    </Names>
    <NonLatinNames />
    <RegimeName>The Republic of Belarus (Sanctions) (EU Exit) Regulations 2019</RegimeName>
    <IndividualEntityShip>Entity</IndividualEntityShip>
    <SanctionsImposed>Asset freeze|Director Disqualification Sanction</SanctionsImposed>
    <Addresses>
      <Address>
        <AddressLine1>Salatin House, 19 Cedar Road</AddressLine1>
        <AddressLine5>Sutton, Surrey</AddressLine5>
        <AddressPostalCode>SM2 5DA</AddressPostalCode>
        <AddressCountry>United Kingdom</AddressCountry>
      </Address>
    </Addresses>
    <Websites><Website>http://www.belnaft.co.uk/</Website></Websites>
    <EntityDetails>
      <Entity>
        <TypeOfEntities><TypeOfEntity>Oil trading company</TypeOfEntity></TypeOfEntities>
        <BusinessRegistrationNumbers>
          <BusinessRegistrationNumber>UK Company no. 06527449</BusinessRegistrationNumber>
        </BusinessRegistrationNumbers>
        <ParentCompanies>
          <ParentCompany>CJSC Belarusian Oil Company</ParentCompany>
        </ParentCompanies>
        <Subsidiaries><Subsidiary>BNK (Deutschland) GmbH</Subsidiary></Subsidiaries>
      </Entity>
    </EntityDetails>
  </Designation>
  <Designation>
    <LastUpdated>18/12/2021</LastUpdated>
    <DateDesignated>03/10/2017</DateDesignated>
    <UniqueID>DPR0075</UniqueID>
    <UNReferenceNumber>KPv.001</UNReferenceNumber>
    <Names>
      <Name><Name6>Petrel 8</Name6><NameType>Primary Name</NameType></Name>
      <Name><Name6>Tian Tai 36</Name6><NameType>Alias</NameType></Name>
    </Names>
    <RegimeName>
      The Democratic People's Republic of Korea (Sanctions) (EU Exit) Regulations 2019
    </RegimeName>
    <IndividualEntityShip>Ship</IndividualEntityShip>
    <SanctionsImposed>Prohibition of port entry</SanctionsImposed>
    <ShipDetails>
      <Ship>
        <IMONumbers><IMONumber>IMO9562233</IMONumber></IMONumbers>
        <CurrentOwnerOperators>
          <CurrentOwnerOperator>Global United Shipping India</CurrentOwnerOperator>
        </CurrentOwnerOperators>
        <CurrentBelievedFlagOfShips>
          <CurrentBelievedFlagOfShip>Comoros</CurrentBelievedFlagOfShip>
        </CurrentBelievedFlagOfShips>
        <PreviousFlags><PreviousFlag>India</PreviousFlag></PreviousFlags>
        <TypeOfShipDetails><TypeOfShip>Bulk Carrier</TypeOfShip></TypeOfShipDetails>
        <TonnageOfShipDetails><TonnageOfShip>7078</TonnageOfShip></TonnageOfShipDetails>
        <LengthOfShipDetails><LengthOfShip>134.5</LengthOfShip></LengthOfShipDetails>
      </Ship>
    </ShipDetails>
  </Designation>
</Designations>
""".encode()


@pytest.fixture(scope="module")
def uk_list() -> UkSanctionsListAdapter:
    return UkSanctionsListAdapter()


def test_uk_list_one_notice_per_designation(uk_list: UkSanctionsListAdapter) -> None:
    ctx = UK_LIST_FEED.context(DESIGNATIONS)
    notices = list(uk_list.translate(ctx))

    assert [notice.notice_id for notice in notices] == [
        "uk-sl-AFG0001",
        "uk-sl-AFG0006",
        "uk-sl-BEL0107",
        "uk-sl-DPR0075",
    ]
    assert {notice.classification.national_marking for notice in notices} == {
        "UK Sanctions List (public, unmarked)"
    }
    # The one date of birth without a year is the only thing left unread.
    assert ctx.unmapped == Counter(
        ["/Designations/Designation/IndividualDetails/Individual.DOBs/DOB=15/08/19yy"]
    )


def test_uk_list_an_entity_with_its_original_script_name(uk_list: UkSanctionsListAdapter) -> None:
    notice = next(uk_list.translate(UK_LIST_FEED.context(DESIGNATIONS)))
    body = order(notice)

    assert notice.issued_at == dt.datetime(2026, 8, 4, tzinfo=dt.UTC)
    assert (body.listed_on, body.amended_on) == (dt.date(2012, 6, 29), dt.date(2026, 8, 4))
    assert body.legal_basis == [AFGHANISTAN]
    assert body.programmes == ["The Afghanistan (Sanctions) (EU Exit) Regulations 2020"]
    assert body.measures == [Measure.ASSET_FREEZE]
    assert body.subject == ListedSubject(
        kind=SubjectKind.ENTITY,
        names=[
            latin("HAJI KHAIRULLAH MONEY EXCHANGE"),
            Name(full_name="حاجی خيرالله صرافی", script="Arab", lang="prs"),
        ],
        aliases=[Alias(name=latin("Haji Alim Hawala"))],
        identifiers=[
            document("UN_REFERENCE", "TAe.010"),
            document("OFSI_GROUP_ID", "12703"),
            document("PHONE", "0202-104748"),
            document("EMAIL", "helmand_exchange_msp@yahoo.com"),
        ],
        addresses=[
            Address(full="Ansari Market, 2nd Floor, Nimroz Province", country="AF"),
            Address(full="Branch Office 14, Dubai", country="AE"),
        ],
    )


def test_uk_list_an_individual(uk_list: UkSanctionsListAdapter) -> None:
    body = order(list(uk_list.translate(UK_LIST_FEED.context(DESIGNATIONS)))[1])

    assert body.measures == [Measure.ASSET_FREEZE, Measure.TRAVEL_BAN]
    assert body.subject == ListedSubject(
        kind=SubjectKind.INDIVIDUAL,
        names=AKHUND,
        aliases=[Alias(name=AKHWAND, quality=AliasQuality.STRONG)],
        sex=Sex.MALE,
        dates_of_birth=[
            DateSpan(earliest=PartialDate(year=1958, month=5, day=12)),
            DateSpan(earliest=PartialDate(year=1945)),
            DateSpan(earliest=PartialDate(year=1958, month=9)),
        ],
        places_of_birth=["Pashmul village, Panjwai District, Afghanistan"],
        nationalities=["AF"],
        identifiers=[
            document("PASSPORT", "P04581926", "Afghanistan passport, issued in Kandahar"),
            document("NATIONAL_ID", "2132370", "tazkira"),
            document("UN_REFERENCE", "TAi.002"),
            document("OFSI_GROUP_ID", "7172"),
        ],
        addresses=[Address(full="Kabul", country="AF")],
    )


def test_uk_list_a_company_and_a_ship(uk_list: UkSanctionsListAdapter) -> None:
    company, ship = (order(n) for n in UK_LIST_FEED.translate(uk_list, DESIGNATIONS)[0][2:])

    assert company.measures == [Measure.ASSET_FREEZE, Measure.OTHER]
    assert company.subject.aliases == [
        Alias(name=latin("BNK UK Limited"), quality=AliasQuality.STRONG),
        Alias(name=latin("BNK"), quality=AliasQuality.WEAK),
    ]
    assert company.subject.identifiers == [
        document("REGISTRATION_NUMBER", "UK Company no. 06527449"),
        document("OFSI_GROUP_ID", "14124"),
        document("WEBSITE", "http://www.belnaft.co.uk/"),
    ]
    assert ship.measures == [Measure.OTHER]
    assert ship.subject == ListedSubject(
        kind=SubjectKind.VESSEL,
        names=[latin("Petrel 8")],
        aliases=[Alias(name=latin("Tian Tai 36"))],
        nationalities=["KM"],
        identifiers=[document("IMO_NUMBER", "IMO9562233"), document("UN_REFERENCE", "KPv.001")],
    )


def test_uk_list_unknown_sanctions_and_elements_are_counted(
    uk_list: UkSanctionsListAdapter,
) -> None:
    raw = DESIGNATIONS.replace(
        b"Prohibition of port entry", b"Prohibition of port entry|Charter ban"
    )
    raw = raw.replace(
        b"<UniqueID>DPR0075</UniqueID>", b"<UniqueID>DPR0075</UniqueID><Risk>9</Risk>"
    )
    ctx = UK_LIST_FEED.context(raw)
    ship = order(list(uk_list.translate(ctx))[3])

    assert ship.measures == [Measure.OTHER]
    assert ctx.unmapped["/Designations/Designation.SanctionsImposed=Charter ban"] == 1
    assert ctx.unmapped["/Designations/Designation.Risk"] == 1


@pytest.mark.parametrize(
    ("old", "new", "where", "why"),
    [
        (b"<UniqueID>AFG0006</UniqueID>", b"<UniqueID>AFG 6</UniqueID>", "UniqueID", "not a UK"),
        (b"<LastUpdated>14/04/2026", b"<LastUpdated>14/14/2026", "LastUpdated", "month must be"),
    ],
)
def test_uk_list_faults_are_placed(
    uk_list: UkSanctionsListAdapter, old: bytes, new: bytes, where: str, why: str
) -> None:
    error = UK_LIST_FEED.failure(uk_list, DESIGNATIONS.replace(old, new))

    assert error.where.startswith(f"/Designations/Designation[2]/{where} (line ")
    assert why in error.reason


def test_uk_list_refuses_an_empty_list_and_other_lists(uk_list: UkSanctionsListAdapter) -> None:
    for raw, where in [
        (b"<Designations><DateGenerated>10/09/2026</DateGenerated></Designations>", "document"),
        (SAMPLE.read_bytes(), "document"),
        (b"<Other><Designation/></Other>", "/Other/Designation[1] (line 1)"),
    ]:
        assert UK_LIST_FEED.failure(uk_list, raw).where == where


def test_each_adapter_detects_its_own_list(
    adapter: UkOfsiAdapter, uk_list: UkSanctionsListAdapter
) -> None:
    assert uk_list.detect(DESIGNATIONS) and not adapter.detect(DESIGNATIONS)
    assert adapter.detect(SAMPLE.read_bytes()) and not uk_list.detect(SAMPLE.read_bytes())


# Fuzzing: mutated payloads give notices or a located TranslationError, nothing else

FUZZ_ADAPTER = UkOfsiAdapter()
FUZZ_UK_LIST = UkSanctionsListAdapter()
SEEDS = [SAMPLE.read_bytes(), DESIGNATIONS]
RENAMES = [b"GroupID", b"Name6", b"FinancialSanctionsTarget", b"Designation"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=st.one_of(
        [damaged_xml(seed, nest_at=[seed.index(b"</Name6>")], renames=RENAMES) for seed in SEEDS]
    )
)
def test_mutated_payloads_give_notices_or_a_located_error(raw: bytes) -> None:
    """Each list through its own adapter and through the other one."""
    for adapter, feed in ((FUZZ_ADAPTER, FEED), (FUZZ_UK_LIST, UK_LIST_FEED)):
        notices = notices_or_placed_error(adapter, feed.context(raw))
        assert all(isinstance(notice.body, FreezeOrder) for notice in notices)


# Helpers


def latin(full_name: str) -> Name:
    return Name(full_name=full_name, script="Latn")


def document(kind: str, number: str, note: str | None = None) -> IdentityDocument:
    return IdentityDocument(kind=kind, number=number, note=note)
