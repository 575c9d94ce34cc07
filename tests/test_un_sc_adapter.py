"""The UN Security Council Consolidated List adapter on the real excerpt and on made-up entries.

The real excerpt (first 60 individuals and 25 entities of the 2020-03-20 list) is read from
shared/ beside the repository, never copied into it. Made-up entries are written inline in
the list's own shape, to pin down fields the excerpt lacks and faults it does not have.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from lxml import etree
from pydantic import ValidationError

from adapters.base import TranslationContext
from adapters.un_sc import UnScAdapter
from adapters.un_sc.translate import UnScMapping
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
    SubjectKind,
    Tlp,
)
from tests.adapter_helpers import Feed, damaged_xml, mapping_tables, notices_or_placed_error
from tests.conftest import FIXTURES

FIXTURE = FIXTURES / "sanctions" / "un_sc_consolidated_2020-03-20_excerpt.xml"
FORMAT = "un-sc-consolidated-xml"
RECEIVED_AT = dt.datetime(2020, 3, 21, 6, 0, tzinfo=dt.UTC)
ORIGINATOR = Originator(agency_id="un-sc")
UNSC = "UN Security Council"
AL_QAIDA = [
    LegalAct(
        authority=UNSC,
        reference="S/RES/1267 (1999)",
        title="ISIL (Da'esh) and Al-Qaida sanctions",
        url="https://www.un.org/securitycouncil/sanctions/1267",
    ),
    LegalAct(authority=UNSC, reference="S/RES/1989 (2011)"),
    LegalAct(authority=UNSC, reference="S/RES/2253 (2015)"),
]
ALL_MEASURES = [Measure.ASSET_FREEZE, Measure.TRAVEL_BAN, Measure.ARMS_EMBARGO]
MISSING_NUMBER = "/CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL/INDIVIDUAL_DOCUMENT/NUMBER=<missing>"
"""TAi.121 gives a tazkira whose number is only in TYPE_OF_DOCUMENT2: no number, no document."""
FEED = Feed(FORMAT, ORIGINATOR, RECEIVED_AT)
context, translate, failure = FEED.context, FEED.translate, FEED.failure


@pytest.fixture(scope="module")
def adapter() -> UnScAdapter:
    return UnScAdapter()


@pytest.fixture(scope="module")
def listed(adapter: UnScAdapter) -> dict[str, NoticeEnvelope]:
    """The real excerpt's notices by UN reference number."""
    return {order(notice).listing_reference or "": notice for notice in real_notices(adapter)[0]}


def real_notices(adapter: UnScAdapter) -> tuple[list[NoticeEnvelope], TranslationContext]:
    ctx = context(path=FIXTURE)
    return list(adapter.translate(ctx)), ctx


def order(notice: NoticeEnvelope) -> FreezeOrder:
    assert isinstance(notice.body, FreezeOrder)
    return notice.body


def document(*entries: str, root: str = 'dateGenerated="2020-03-20T19:09:21.822-04:00"') -> bytes:
    individuals = "".join(entry for entry in entries if entry.startswith("<INDIVIDUAL>"))
    entities = "".join(entry for entry in entries if entry.startswith("<ENTITY>"))
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><CONSOLIDATED_LIST {root}>'
        f"<INDIVIDUALS>{individuals}</INDIVIDUALS><ENTITIES>{entities}</ENTITIES>"
        "</CONSOLIDATED_LIST>"
    ).encode()


def individual(*children: str, reference: str = "KPi.900", listed_on: str = "2016-11-30") -> str:
    """A made-up DPRK listing with the children given."""
    return (
        "<INDIVIDUAL><DATAID>9000001</DATAID><VERSIONNUM>1</VERSIONNUM>"
        "<FIRST_NAME>KIM</FIRST_NAME><SECOND_NAME>MADE UP</SECOND_NAME>"
        f"<UN_LIST_TYPE>DPRK</UN_LIST_TYPE><REFERENCE_NUMBER>{reference}</REFERENCE_NUMBER>"
        f"<LISTED_ON>{listed_on}</LISTED_ON>{''.join(children)}</INDIVIDUAL>"
    )


def only(adapter: UnScAdapter, *children: str) -> FreezeOrder:
    notices, _ = translate(adapter, document(individual(*children)))
    assert len(notices) == 1
    return order(notices[0])


def entry_digest(reference: str) -> str:
    """The canonical-XML digest of one entry of the real list, computed independently."""
    tree = etree.parse(str(FIXTURE))
    (element,) = tree.xpath(f"//*[normalize-space(REFERENCE_NUMBER)='{reference}']")
    return hashlib.sha256(etree.tostring(element, method="c14n")).hexdigest()


# The real list


def test_every_entry_becomes_one_alert_in_document_order(adapter: UnScAdapter) -> None:
    notices, ctx = real_notices(adapter)

    assert len(notices) == 85
    assert [notice.notice_id for notice in notices[:4]] == [
        "un-sc-kpi.033",
        "un-sc-kpi.037",
        "un-sc-kpi.038",
        "un-sc-kpi.034",
    ]
    assert notices[-1].notice_id == "un-sc-qde.112"
    kinds = Counter(order(notice).subject.kind for notice in notices)
    assert kinds == {SubjectKind.INDIVIDUAL: 60, SubjectKind.ENTITY: 25}
    assert len({notice.notice_id for notice in notices}) == 85
    assert all((n.version, n.msg_type, n.references) == (1, MsgType.ALERT, []) for n in notices)
    assert ctx.unmapped == Counter([MISSING_NUMBER])


def test_a_dprk_listing_in_full(listed: dict[str, NoticeEnvelope]) -> None:
    notice = listed["KPi.033"]

    assert notice.notice_id == "un-sc-kpi.033"
    assert notice.notice_type is NoticeType.FREEZE_ORDER
    assert notice.originator == ORIGINATOR
    assert notice.issued_at == dt.datetime(2016, 11, 30, tzinfo=dt.UTC)
    assert notice.classification == Classification(
        level=Level.UNCLASSIFIED,
        tlp=Tlp.CLEAR,
        national_marking="UN Security Council Consolidated List (public)",
    )
    assert notice.source.model_dump() == {
        "format": FORMAT,
        "original_id": "6908555",
        "adapter": "un-sc",
        "adapter_version": "1.0.0",
        "received_at": RECEIVED_AT,
        "sha256": entry_digest("KPi.033"),
    }
    assert notice.source.sha256 != hashlib.sha256(FIXTURE.read_bytes()).hexdigest()
    assert order(notice) == FreezeOrder(
        legal_basis=[
            LegalAct(
                authority=UNSC,
                reference="S/RES/1718 (2006)",
                title="Democratic People's Republic of Korea sanctions",
                url="https://www.un.org/securitycouncil/sanctions/1718",
            )
        ],
        listing_reference="KPi.033",
        programmes=["DPRK"],
        subject=ListedSubject(
            kind=SubjectKind.INDIVIDUAL,
            names=[Name(full_name="RI WON HO", script="Latn")],
            dates_of_birth=[DateSpan(earliest=PartialDate(year=1964, month=7, day=17))],
            nationalities=["KP"],
            identifiers=[IdentityDocument(kind="PASSPORT", number="381310014")],
        ),
        measures=[Measure.ASSET_FREEZE, Measure.TRAVEL_BAN],
        listed_on=dt.date(2016, 11, 30),
    )


def test_aliases_keep_their_quality_and_the_arabic_name_its_script(
    listed: dict[str, NoticeEnvelope],
) -> None:
    body = order(listed["QDi.012"])
    subject = body.subject

    assert subject.names == [
        Name(full_name="NASHWAN ABD AL-RAZZAQ ABD AL-BAQI", script="Latn"),
        Name(full_name="نشوان عبد الرزاق عبد الباقي", script="Arab"),
    ]
    assert [(alias.name.full_name, alias.quality) for alias in subject.aliases] == [
        ("Abdal Al-Hadi Al-Iraqi", AliasQuality.STRONG),
        ("Abd Al-Hadi Al-Iraqi", AliasQuality.STRONG),
        ("Abu Abdallah", AliasQuality.WEAK),
        ("Omar Uthman Mohammed", AliasQuality.STRONG),
        ("Abdul Hadi Arif Ali", AliasQuality.STRONG),
        ("Abdul Hadi al-Taweel", AliasQuality.WEAK),
        ("Abd al-Hadi al-Ansari", AliasQuality.WEAK),
        ("Abd al-Muhayman", AliasQuality.WEAK),
        ("Abu Ayub", AliasQuality.WEAK),
    ]
    assert Counter(alias.quality for alias in subject.aliases) == {
        AliasQuality.STRONG: 4,
        AliasQuality.WEAK: 5,
    }
    assert subject.sex is Sex.MALE
    assert subject.dates_of_birth == [DateSpan(earliest=PartialDate(year=1961))]
    assert subject.places_of_birth == ["Mosul, Iraq"]
    assert subject.identifiers == [
        IdentityDocument(kind="NATIONAL_ID", number="0094195", note="Ration Card no")
    ]
    assert body.legal_basis == AL_QAIDA
    assert body.measures == ALL_MEASURES
    assert (body.listed_on, body.amended_on) == (dt.date(2001, 10, 6), dt.date(2015, 12, 10))


@pytest.mark.parametrize(
    ("reference", "dates"),
    [
        ("TAi.024", [DateSpan(earliest=PartialDate(year=1968, approximate=True))]),
        (
            "TAi.091",
            [
                DateSpan(earliest=PartialDate(year=1958, approximate=True)),
                DateSpan(earliest=PartialDate(year=1953, approximate=True)),
            ],
        ),
        (
            "TAi.174",
            [
                DateSpan(earliest=PartialDate(year=1960)),
                DateSpan(earliest=PartialDate(year=1962)),
                DateSpan(earliest=PartialDate(year=1965, approximate=True)),
            ],
        ),
        (
            "QDi.420",
            [DateSpan(earliest=PartialDate(year=1965), latest=PartialDate(year=1969))],
        ),
        (
            "QDi.316",  # the second date comes with the alias it was used under
            [
                DateSpan(earliest=PartialDate(year=1958)),
                DateSpan(earliest=PartialDate(year=1958, month=1, day=1)),
            ],
        ),
    ],
)
def test_dates_of_birth_keep_their_precision(
    listed: dict[str, NoticeEnvelope], reference: str, dates: list[DateSpan]
) -> None:
    assert order(listed[reference]).subject.dates_of_birth == dates


def test_places_of_birth_include_the_one_used_with_an_alias(
    listed: dict[str, NoticeEnvelope],
) -> None:
    subject = order(listed["QDi.316"]).subject

    assert subject.places_of_birth == [
        "Abeibara, Kidal Region, Mali",
        "Bouressa, Bourem Region, Mali",
    ]
    assert subject.aliases == [
        Alias(
            name=Name(full_name="Sidi Mohamed Arhali", script="Latn"), quality=AliasQuality.STRONG
        )
    ]


def test_one_alias_value_may_hold_several_spellings_and_scripts(
    listed: dict[str, NoticeEnvelope],
) -> None:
    aliases = order(listed["QDi.309"]).subject.aliases

    assert [(a.name.full_name, a.name.script, a.quality) for a in aliases] == [
        ("Abdul Rehman", "Latn", AliasQuality.STRONG),
        ("Abd Ur-Rehman", "Latn", AliasQuality.STRONG),
        ("Abdur Rahman", "Latn", AliasQuality.STRONG),
        ("عبد الرحمن السيندي", "Arab", AliasQuality.STRONG),
        ("عبدالله السندي", "Arab", AliasQuality.STRONG),
        ("Abdullah Sindhi", "Latn", AliasQuality.STRONG),
        ("Abdur Rehman Muhammad Yamin", "Latn", AliasQuality.WEAK),
    ]


def test_cyrillic_original_script_in_the_name_and_in_alias_notes(
    listed: dict[str, NoticeEnvelope],
) -> None:
    subject = order(listed["QDi.363"]).subject

    assert subject.names == [
        Name(full_name="MAGHOMED MAGHOMEDZAKIROVICH ABDURAKHMANOV", script="Latn"),
        Name(full_name="Абдурахманов Магомед Магомедзакирович", script="Cyrl"),
    ]
    assert [(a.name.full_name, a.name.script, a.quality) for a in subject.aliases] == [
        ("Abu Banat", "Latn", AliasQuality.WEAK),
        ("Абу Банат", "Cyrl", AliasQuality.WEAK),  # noqa: RUF001 (Cyrillic by design)
        ("Abu al Banat", "Latn", AliasQuality.WEAK),
        ("Абу аль Банат", "Cyrl", AliasQuality.WEAK),  # noqa: RUF001 (Cyrillic by design)
    ]
    assert subject.addresses == [
        Address(full="Turkey, possible location", country="TR"),
        Address(
            full="Syrian Arab Republic, previous confirmed location since Sep. 2012", country="SY"
        ),
    ]


def test_documents_with_issue_and_expiry_dates_and_a_revoked_citizenship(
    listed: dict[str, NoticeEnvelope],
) -> None:
    subject = order(listed["QDi.391"]).subject

    assert subject.nationalities == []  # "Bahrain (citizenship revoked in Jan. 2015)"
    assert subject.identifiers == [
        IdentityDocument(
            kind="PASSPORT",
            number="2231616",
            issuing_country="BH",
            issued_on=PartialDate(year=2013, month=1, day=2),
            expires_on=PartialDate(year=2023, month=1, day=2),
            note="expires on 2 Jan. 2023",
        ),
        IdentityDocument(
            kind="PASSPORT",
            number="1272611",
            issuing_country="BH",
            issued_on=PartialDate(year=2003, month=4, day=1),
            note="previous",
        ),
        IdentityDocument(kind="NATIONAL_ID", number="840901356"),
    ]


def test_where_a_document_was_issued_goes_to_its_note(listed: dict[str, NoticeEnvelope]) -> None:
    passport = order(listed["TAi.130"]).subject.identifiers[0]

    assert passport == IdentityDocument(
        kind="PASSPORT",
        number="D 000933",
        issuing_country="AF",
        issued_on=PartialDate(year=1998, month=9, day=13),
        note="issued in KABUL",
    )


def test_an_entity_gets_no_travel_ban_and_its_aliases_no_grade(
    listed: dict[str, NoticeEnvelope],
) -> None:
    body = order(listed["QDe.001"])

    assert body.subject == ListedSubject(
        kind=SubjectKind.ENTITY,
        names=[Name(full_name="ABU SAYYAF GROUP", script="Latn")],
        aliases=[
            Alias(
                name=Name(full_name="Al Harakat Al Islamiyya", script="Latn"),
                quality=AliasQuality.UNKNOWN,
            )
        ],
        addresses=[Address(full="Philippines", country="PH")],
    )
    assert body.measures == [Measure.ASSET_FREEZE, Measure.ARMS_EMBARGO]
    assert order(listed["IRe.001"]).measures == [Measure.ASSET_FREEZE]
    assert order(listed["QDe.139"]).subject.names[1] == Name(
        full_name="الموقعون بالدم", script="Arab"
    )


def test_entity_addresses_keep_their_parts(listed: dict[str, NoticeEnvelope]) -> None:
    addresses = order(listed["IQe.197"]).subject.addresses

    assert addresses[2] == Address(
        full="Villa in the Harasiyah area, Baghdad, Iraq",
        street="Villa in the Harasiyah area",
        city="Baghdad",
        country="IQ",
    )


def test_empty_placeholders_are_absent(listed: dict[str, NoticeEnvelope]) -> None:
    """KPi.033 has an alias, an address and a place of birth that are all empty elements."""
    subject = order(listed["KPi.033"]).subject

    assert (subject.aliases, subject.addresses, subject.places_of_birth) == ([], [], [])


# Field rules on made-up entries


def test_issued_at_falls_back_on_the_list_date_then_on_receipt(adapter: UnScAdapter) -> None:
    unlisted = individual().replace("<LISTED_ON>2016-11-30</LISTED_ON>", "")

    [dated], _ = translate(adapter, document(unlisted))
    [undated], _ = translate(adapter, document(unlisted, root=""))

    assert dated.issued_at == dt.datetime(2020, 3, 20, 23, 9, 21, 822000, tzinfo=dt.UTC)
    assert undated.issued_at == RECEIVED_AT
    assert order(dated).listed_on is None


def test_an_unreadable_list_date_is_counted_and_receipt_time_used(adapter: UnScAdapter) -> None:
    unlisted = individual().replace("<LISTED_ON>2016-11-30</LISTED_ON>", "")

    [notice], ctx = translate(adapter, document(unlisted, root='dateGenerated="yesterday"'))

    assert notice.issued_at == RECEIVED_AT
    assert ctx.unmapped == Counter(["/CONSOLIDATED_LIST/@dateGenerated=yesterday"])


def test_names_lose_invisible_controls_and_runs_of_spaces(adapter: UnScAdapter) -> None:
    body = only(
        adapter,
        "<NAME_ORIGINAL_SCRIPT>\u200f\u202bكيم  ميد\u202c </NAME_ORIGINAL_SCRIPT>",
        "<INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY>"
        "<ALIAS_NAME>\u00a0Kim\u00a0 Made-Up </ALIAS_NAME></INDIVIDUAL_ALIAS>",
    )

    assert body.subject.names[1] == Name(full_name="كيم ميد", script="Arab")
    assert body.subject.aliases == [
        Alias(name=Name(full_name="Kim Made-Up", script="Latn"), quality=AliasQuality.STRONG)
    ]


def test_dates_written_with_a_time_zone_or_as_placeholders(adapter: UnScAdapter) -> None:
    body = only(
        adapter,
        "<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE>"
        "<DATE>1960-01-01-05:00</DATE></INDIVIDUAL_DATE_OF_BIRTH>",
        "<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>APPROXIMATELY</TYPE_OF_DATE>"
        "<DATE>1962-11-09</DATE></INDIVIDUAL_DATE_OF_BIRTH>",
        "<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE>"
        "<DATE>Invalid date</DATE></INDIVIDUAL_DATE_OF_BIRTH>",
        "<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE/></INDIVIDUAL_DATE_OF_BIRTH>",
    )

    assert body.subject.dates_of_birth == [
        DateSpan(earliest=PartialDate(year=1960, month=1, day=1)),
        DateSpan(earliest=PartialDate(year=1962, month=11, day=9, approximate=True)),
    ]


def test_a_document_issued_abroad_and_one_in_a_free_text_country(adapter: UnScAdapter) -> None:
    body = only(
        adapter,
        "<INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Passport</TYPE_OF_DOCUMENT>"
        "<NUMBER>03824970</NUMBER><ISSUING_COUNTRY>Yemen</ISSUING_COUNTRY>"
        "<CITY_OF_ISSUE>Muscat</CITY_OF_ISSUE><COUNTRY_OF_ISSUE>Oman</COUNTRY_OF_ISSUE>"
        "<NOTE>expired on 4 April 2004</NOTE></INDIVIDUAL_DOCUMENT>",
        "<INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Passport</TYPE_OF_DOCUMENT>"
        "<NUMBER>6620505</NUMBER><COUNTRY_OF_ISSUE>Iran (Islamic Republic of)</COUNTRY_OF_ISSUE>"
        "</INDIVIDUAL_DOCUMENT>",
        "<NATIONALITY><VALUE>Sudan/South Sudan</VALUE><VALUE>Sudan</VALUE></NATIONALITY>",
    )

    assert body.subject.identifiers == [
        IdentityDocument(
            kind="PASSPORT",
            number="03824970",
            issuing_country="YE",
            expires_on=PartialDate(year=2004, month=4, day=4),
            note="issued in Muscat, Oman; expired on 4 April 2004",
        ),
        IdentityDocument(kind="PASSPORT", number="6620505", issuing_country="IR"),
    ]
    assert body.subject.nationalities == ["SD", "SS"]


def test_an_entry_marked_delisted_is_no_listing(adapter: UnScAdapter) -> None:
    delisted = individual("<DELISTED_ON>2021-01-01</DELISTED_ON>", reference="KPi.901")
    notices, _ = translate(adapter, document(individual(), delisted))

    assert [notice.notice_id for notice in notices] == ["un-sc-kpi.900"]


def test_a_repeated_entry_is_left_to_the_snapshot_stage(adapter: UnScAdapter) -> None:
    """broker.snapshots keeps the first of two entries under one id and counts the second."""
    notices, _ = translate(adapter, document(individual(), individual().replace("MADE UP", "X")))

    assert [notice.notice_id for notice in notices] == ["un-sc-kpi.900", "un-sc-kpi.900"]


def test_unknown_codes_are_counted_and_never_guessed(adapter: UnScAdapter) -> None:
    raw = document(
        individual(
            "<GENDER>Unknown</GENDER>",
            "<HAIR_COLOUR>black</HAIR_COLOUR>",
            "<NATIONALITY><VALUE>Atlantis</VALUE></NATIONALITY>",
            "<INDIVIDUAL_ALIAS><QUALITY>Medium</QUALITY><ALIAS_NAME>Kim</ALIAS_NAME>"
            "</INDIVIDUAL_ALIAS>",
            "<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>BEFORE</TYPE_OF_DATE><YEAR>1970</YEAR>"
            "</INDIVIDUAL_DATE_OF_BIRTH>",
            "<INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Seaman's book</TYPE_OF_DOCUMENT>"
            "<NUMBER>S-1</NUMBER></INDIVIDUAL_DOCUMENT>",
        ).replace("<UN_LIST_TYPE>DPRK", "<UN_LIST_TYPE>Narnia")
    )

    [notice], ctx = translate(adapter, raw)
    body = order(notice)

    assert (body.legal_basis, body.measures, body.programmes) == ([], [], ["Narnia"])
    assert body.subject.sex is Sex.UNKNOWN
    assert body.subject.nationalities == []
    assert body.subject.aliases == [
        Alias(name=Name(full_name="Kim", script="Latn"), quality=AliasQuality.UNKNOWN)
    ]
    assert body.subject.dates_of_birth == []
    assert body.subject.identifiers == [IdentityDocument(kind="OTHER", number="S-1")]
    entry = "/CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL"
    assert ctx.unmapped == Counter(
        [
            f"{entry}.HAIR_COLOUR",
            f"{entry}/UN_LIST_TYPE=Narnia",
            f"{entry}/GENDER=Unknown",
            f"{entry}/NATIONALITY/VALUE=Atlantis",
            f"{entry}/INDIVIDUAL_ALIAS/QUALITY=Medium",
            f"{entry}/INDIVIDUAL_DATE_OF_BIRTH/TYPE_OF_DATE=BEFORE",
            f"{entry}/INDIVIDUAL_DOCUMENT/TYPE_OF_DOCUMENT=Seaman's book",
        ]
    )


def test_the_list_is_streamed_entry_by_entry(adapter: UnScAdapter) -> None:
    """The first listing comes out before the parser has read the end of the payload."""
    raw = FIXTURE.read_bytes()
    broken = raw[: raw.rindex(b"</ENTITIES>")] + b"<ENTITY><oops></ENTITIES>"
    notices = adapter.translate(context(broken))

    assert next(notices).notice_id == "un-sc-kpi.033"
    with pytest.raises(TranslationError):
        list(notices)


# Faults, each placed


def test_a_listing_without_its_reference_number(adapter: UnScAdapter) -> None:
    raw = document(individual(), individual(reference=" "))

    error = failure(adapter, raw)

    assert error.format == FORMAT
    assert error.where == "/CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL[2]/REFERENCE_NUMBER (line 1)"
    assert "permanent reference number" in error.reason


@pytest.mark.parametrize(
    ("child", "where", "why"),
    [
        (
            "<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>1964-02-30</DATE>"
            "</INDIVIDUAL_DATE_OF_BIRTH>",
            "INDIVIDUAL_DATE_OF_BIRTH[1]/DATE",
            "is not a calendar date",
        ),
        (
            "<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><YEAR>19x4</YEAR>"
            "</INDIVIDUAL_DATE_OF_BIRTH>",
            "INDIVIDUAL_DATE_OF_BIRTH[1]/YEAR",
            "'19x4' is not a date",
        ),
        (
            "<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>BETWEEN</TYPE_OF_DATE>"
            "<FROM_YEAR>1965</FROM_YEAR></INDIVIDUAL_DATE_OF_BIRTH>",
            "INDIVIDUAL_DATE_OF_BIRTH[1]",
            "needs both FROM_YEAR and TO_YEAR",
        ),
        (
            "<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>BETWEEN</TYPE_OF_DATE>"
            "<FROM_YEAR>1969</FROM_YEAR><TO_YEAR>1965</TO_YEAR></INDIVIDUAL_DATE_OF_BIRTH>",
            "INDIVIDUAL_DATE_OF_BIRTH[1]/TO_YEAR",
            "range ends (1965) before it starts (1969)",
        ),
        (
            "<LAST_DAY_UPDATED><VALUE>2019</VALUE></LAST_DAY_UPDATED>",
            "LAST_DAY_UPDATED[1]/VALUE",
            "'2019' is not a full date",
        ),
        (
            "<INDIVIDUAL_DOCUMENT><NUMBER>1</NUMBER><DATE_OF_ISSUE>soon</DATE_OF_ISSUE>"
            "</INDIVIDUAL_DOCUMENT>",
            "INDIVIDUAL_DOCUMENT[1]/DATE_OF_ISSUE",
            "'soon' is not a date",
        ),
    ],
)
def test_impossible_dates_are_placed(
    adapter: UnScAdapter, child: str, where: str, why: str
) -> None:
    error = failure(adapter, document(individual(child)))

    assert error.where == f"/CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL[1]/{where} (line 1)"
    assert why in error.reason


def test_a_listing_date_that_is_not_a_date(adapter: UnScAdapter) -> None:
    error = failure(adapter, document(individual(listed_on="2016-11")))

    assert error.where == "/CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL[1]/LISTED_ON (line 1)"
    assert "'2016-11' is not a full date" in error.reason


def test_a_listing_without_any_name(adapter: UnScAdapter) -> None:
    nameless = individual().replace(
        "<FIRST_NAME>KIM</FIRST_NAME><SECOND_NAME>MADE UP</SECOND_NAME>", ""
    )

    error = failure(adapter, document(nameless))

    assert error.where == "/CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL[1] (line 1)"
    assert error.reason.startswith("no name")


def test_an_empty_list_is_refused(adapter: UnScAdapter) -> None:
    error = failure(adapter, document())

    assert error.where == "/CONSOLIDATED_LIST"
    assert "empty snapshot" in error.reason


def test_another_document_is_refused(adapter: UnScAdapter) -> None:
    error = failure(adapter, b"<sdnList><sdnEntry><uid>1</uid></sdnEntry></sdnList>")

    assert error.where == "/CONSOLIDATED_LIST"


def test_invalid_xml_is_placed_by_line_and_column(adapter: UnScAdapter) -> None:
    error = failure(adapter, b"<CONSOLIDATED_LIST>\n<INDIVIDUALS>\n<INDIVIDUAL></INDIVIDUALS>")

    assert error.where == "line 3 column 27"
    assert error.reason.startswith("invalid XML")


def test_entity_declarations_are_refused(adapter: UnScAdapter) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE CONSOLIDATED_LIST [<!ENTITY a "aaaa">]>'
        b"<CONSOLIDATED_LIST><INDIVIDUALS>" + individual().encode() + b"</INDIVIDUALS>"
        b"</CONSOLIDATED_LIST>"
    )

    error = failure(adapter, bomb)

    assert error.where == "line 1 (DOCTYPE)"


# Detection and tables


def test_detects_the_consolidated_list_and_nothing_else(adapter: UnScAdapter) -> None:
    sanctions = FIXTURES / "sanctions"

    assert adapter.detect(FIXTURE.read_bytes()[:65536])
    assert not adapter.detect((sanctions / "eu_fsf_xml_v1.1_2018-12-21_excerpt.xml").read_bytes())
    ofac = sanctions / "ofac_consolidated_nonsdn_sdnList_2024-05-06_excerpt.xml"
    assert not adapter.detect(ofac.read_bytes()[:65536])


def test_mapping_tables_reject_unknown_tables_and_values() -> None:
    tables = mapping_tables("un_sc", UnScMapping)

    with pytest.raises(ValidationError, match=r"regimes\.DPRK\.measures\.0"):
        regimes = tables["regimes"] | {"DPRK": {"acts": [{"reference": "x"}], "measures": ["BAN"]}}
        UnScMapping.model_validate(tables | {"regimes": regimes})
    with pytest.raises(ValidationError, match=r"countries\.Atlantis\.0"):
        UnScMapping.model_validate(tables | {"countries": {"Atlantis": ["ATL"]}})


# Fuzzing: any damage to a real list yields notices or a placed TranslationError


def _sample(raw: bytes, individuals: int, entities: int) -> bytes:
    """The real list cut to its first entries of each kind, so that each example stays quick."""
    individuals_end = [m.end() for m in re.finditer(rb"</INDIVIDUAL>", raw)][individuals - 1]
    entities_end = [m.end() for m in re.finditer(rb"</ENTITY>", raw)][entities - 1]
    return (
        raw[:individuals_end]
        + raw[raw.index(b"</INDIVIDUALS>") : entities_end]
        + b"</ENTITIES></CONSOLIDATED_LIST>"
    )


_RAW = _sample(FIXTURE.read_bytes(), individuals=16, entities=6)
_TAG_ENDS = tuple(match.end() for match in re.finditer(rb">", _RAW))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=damaged_xml(_RAW, nest_at=_TAG_ENDS))
def test_damaged_lists_translate_or_fail_with_a_place(adapter: UnScAdapter, raw: bytes) -> None:
    notices_or_placed_error(adapter, context(raw))
