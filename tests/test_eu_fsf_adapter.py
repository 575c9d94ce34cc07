"""The EU Financial Sanctions File adapter on the real excerpt and on made-up entries.

The real excerpt (one person, one enterprise with 19 spellings of its name) is read from
shared/ beside the repository, never copied into it. Made-up entries are written inline in
the file's own shape, to pin down what the excerpt lacks: partial and approximate birth
dates, citizenships, documents, addresses, UN-derived entries, and faults.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from lxml import etree
from pydantic import ValidationError

from adapters.eu_fsf import EuFsfAdapter
from adapters.eu_fsf.translate import EuFsfMapping
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

FIXTURE = FIXTURES / "sanctions" / "eu_fsf_xml_v1.1_2018-12-21_excerpt.xml"
FORMAT = "eu-fsf-xml"
RECEIVED_AT = dt.datetime(2018, 12, 21, 15, 0, tzinfo=dt.UTC)
GENERATED_AT = dt.datetime(2018, 12, 21, 13, 39, 54, 511000, tzinfo=dt.UTC)
ORIGINATOR = Originator(agency_id="eu-fsf")
NAMESPACE = "http://eu.europa.ec/fpi/fsd/export"
PERSON = '<subjectType code="person" classificationCode="P"/>'
ENTRY = "/export/sanctionEntity"
FEED = Feed(FORMAT, ORIGINATOR, RECEIVED_AT)
translate, failure = FEED.translate, FEED.failure


@pytest.fixture(scope="module")
def adapter() -> EuFsfAdapter:
    return EuFsfAdapter()


@pytest.fixture(scope="module")
def real(adapter: EuFsfAdapter) -> list[NoticeEnvelope]:
    return translate(adapter, FIXTURE.read_bytes())[0]


def order(notice: NoticeEnvelope) -> FreezeOrder:
    assert isinstance(notice.body, FreezeOrder)
    return notice.body


def element(tag: str, children: str = "", **attributes: str) -> str:
    attrs = "".join(f" {key}={quoteattr(value)}" for key, value in attributes.items())
    return f"<{tag}{attrs}>{children}</{tag}>"


def entry(*children: str, logical_id: str = "9001", **attributes: str) -> str:
    """A made-up person entry; it is named Ivan Petrov unless the children name it."""
    named = any(child.startswith("<nameAlias") for child in children)
    name = element(
        "nameAlias", firstName="Ivan", lastName="Petrov", wholeName="Ivan Petrov", strong="true"
    )
    fields = {"euReferenceNumber": "EU.9001.1", "logicalId": logical_id} | attributes
    return element("sanctionEntity", PERSON + ("" if named else name) + "".join(children), **fields)


def export(*entries: str, root: str = 'generationDate="2018-12-21T14:39:54.511+01:00"') -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><export xmlns="{NAMESPACE}" {root}>'
        + "".join(entries)
        + "</export>"
    ).encode()


def only(
    adapter: EuFsfAdapter, *children: str, **attributes: str
) -> tuple[FreezeOrder, Counter[str]]:
    notices, ctx = translate(adapter, export(entry(*children, **attributes)))
    assert len(notices) == 1
    return order(notices[0]), ctx.unmapped


def entry_digest(index: int) -> str:
    tree = etree.parse(str(FIXTURE))
    found = tree.getroot().findall(f"{{{NAMESPACE}}}sanctionEntity")
    return hashlib.sha256(etree.tostring(found[index], method="c14n")).hexdigest()


# The real file


def test_every_entry_becomes_one_alert_and_nothing_is_left_unread(adapter: EuFsfAdapter) -> None:
    notices, ctx = translate(adapter, FIXTURE.read_bytes())

    assert [notice.notice_id for notice in notices] == ["eu-fsf-1", "eu-fsf-207"]
    assert all((n.version, n.msg_type, n.references) == (1, MsgType.ALERT, []) for n in notices)
    assert ctx.unmapped == Counter()


def test_a_person_in_full(real: list[NoticeEnvelope]) -> None:
    notice = real[0]

    assert notice.notice_type is NoticeType.FREEZE_ORDER
    assert notice.originator == ORIGINATOR
    assert notice.issued_at == GENERATED_AT  # no listing date: the file's generation time
    assert notice.classification == Classification(
        level=Level.UNCLASSIFIED,
        tlp=Tlp.CLEAR,
        national_marking="EU Financial Sanctions File (public)",
    )
    assert notice.source.model_dump() == {
        "format": FORMAT,
        "original_id": "1",
        "adapter": "eu-fsf",
        "adapter_version": "1.0.0",
        "received_at": RECEIVED_AT,
        "sha256": entry_digest(0),
    }
    assert order(notice) == FreezeOrder(
        legal_basis=[
            LegalAct(
                authority="European Commission",
                reference="2018/223 (OJ L43)",
                url="http://eur-lex.europa.eu/legal-content/EN/TXT/PDF/?uri=CELEX:32018R0223&from=EN",
            ),
            LegalAct(
                authority="European Union",
                reference="898/2005 (OJ L153)",
                url="http://eur-lex.europa.eu/LexUriServ/LexUriServ.do?uri=OJ:L:2005:153:0009:0014:EN:PDF",
            ),
            LegalAct(
                authority="European Union",
                reference="151/2012 (OJ L49)",
                url="http://eur-lex.europa.eu/LexUriServ/LexUriServ.do?uri=OJ:L:2012:049:0002:0016:EN:PDF",
            ),
        ],
        listing_reference="EU.36.64",
        programmes=["ZWE"],
        subject=ListedSubject(
            kind=SubjectKind.INDIVIDUAL,
            names=[
                Name(
                    full_name="Robert Gabriel Mugabe",
                    given_names="Robert Gabriel",
                    family_name="Mugabe",
                    script="Latn",
                )
            ],
            sex=Sex.MALE,
            dates_of_birth=[DateSpan(earliest=PartialDate(year=1924, month=2, day=21))],
            identifiers=[IdentityDocument(kind="PASSPORT", number="AD001095", note="(passport)")],
        ),
        measures=[Measure.ASSET_FREEZE],
        amended_on=dt.date(2018, 2, 16),
    )


def test_the_enterprise_and_its_19_spellings_with_languages_and_scripts(
    real: list[NoticeEnvelope],
) -> None:
    subject = order(real[1]).subject

    assert subject.kind is SubjectKind.ENTITY
    turkish = "İslami Büyük Doğu Akıncılar Cephesi"  # noqa: RUF001 (dotless i is Turkish)
    assert subject.names == [Name(full_name=turkish, script="Latn")]
    assert all(alias.quality is AliasQuality.STRONG for alias in subject.aliases)
    spellings = [(name.full_name, name.lang, name.script) for name in subject.names] + [
        (alias.name.full_name, alias.name.lang, alias.name.script) for alias in subject.aliases
    ]
    assert spellings == [
        (turkish, None, "Latn"),
        ("Great Islamic Eastern Warriors Front", None, "Latn"),
        ("Фронт на великите ислямски източни воини", "bg", "Cyrl"),
        ("Grande Frente Islâmica Oriental de Combatentes", "pt", "Latn"),
        ("Fronta islamskih bojevnikov velikega vzhoda", "sl", "Latn"),
        ("Islamský front veľkých východných bojovníkov", "sk", "Latn"),
        ("Islamski Front Bojowników o Wielki Wschód", "pl", "Latn"),
        ("Nagy Iszlám Keleti Harci Front", "hu", "Latn"),
        ("Didysis islamo rytų karių frontas", "lt", "Latn"),
        ("Lielā Islāma Austrumu cīnītāju fronte", "lv", "Latn"),
        ("Suur Islami Idavõitlejate Rinne", "et", "Latn"),
        ("Fronta islámských bojovníků Velkého východu", "cs", "Latn"),
        ("Fronte islamico dei combattenti del grande oriente", "it", "Latn"),
        ("Front der islamischen Kämpfer des Großen Ostens", "de", "Latn"),
        # The file types Greek mu as MICRO SIGN; the spelling stays as published.
        ("Μέγα Ισλαµικό Μέτωπο των Πολεµιστών της Ανατολής", "el", "Grek"),
        ("Frente de Guerreros del Gran Oriente Islámico", "es", "Latn"),
        ("Front islamique des combattants du Grand Orient", "fr", "Latn"),
        ("IBDA-C", None, "Latn"),
        ("Marele Front Islamic de Est al Războinicilor", "ro", "Latn"),
    ]
    assert subject.sex is Sex.UNKNOWN


def test_the_enterprise_names_every_act_that_built_its_entry(real: list[NoticeEnvelope]) -> None:
    body = order(real[1])

    assert [(act.authority, act.reference) for act in body.legal_basis] == [
        ("Council of the European Union", "2018/468 (OJ L79)"),
        ("European Union", "2007/868/EC (OJ L340)"),
        ("European Union", "2003/902/EC (OJ L340)"),
        ("European Union", "2007/445/EC (OJ L169)"),
        ("European Union", "2005/930/EC (OJ L340)"),
        ("European Union", "2005/221/CFSP (OJ L69)"),
        ("European Union", "2004/306/EC (OJ L99)"),
    ]
    assert (body.listing_reference, body.programmes) == ("EU.3523.13", ["TERR"])
    assert (body.listed_on, body.amended_on) == (None, dt.date(2018, 3, 23))


# Field rules on made-up entries


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"year": "1961"}, DateSpan(earliest=PartialDate(year=1961))),
        ({"year": "1965", "monthOfYear": "3"}, DateSpan(earliest=PartialDate(year=1965, month=3))),
        (
            {"circa": "true", "year": "1967"},
            DateSpan(earliest=PartialDate(year=1967, approximate=True)),
        ),
        (
            {"birthdate": "1960-04-10", "circa": "false"},
            DateSpan(earliest=PartialDate(year=1960, month=4, day=10)),
        ),
        (
            {"circa": "true", "yearRangeFrom": "1953", "yearRangeTo": "1958"},
            DateSpan(
                earliest=PartialDate(year=1953, approximate=True),
                latest=PartialDate(year=1958, approximate=True),
            ),
        ),
        (
            {
                "calendarType": "GREGORIAN",
                "birthdate": "1937-04-28",
                "year": "1937",
                "monthOfYear": "4",
                "dayOfMonth": "28",
            },
            DateSpan(earliest=PartialDate(year=1937, month=4, day=28)),
        ),
    ],
)
def test_birth_dates_keep_their_precision(
    adapter: EuFsfAdapter, attributes: dict[str, str], expected: DateSpan
) -> None:
    body, unmapped = only(adapter, element("birthdate", **attributes))

    assert body.subject.dates_of_birth == [expected]
    assert unmapped == Counter()


def test_a_birth_place_and_a_birthdate_with_only_a_place(adapter: EuFsfAdapter) -> None:
    body, _ = only(
        adapter,
        element(
            "birthdate",
            city="Bloomington, Indiana",
            birthdate="1960-04-10",
            countryIso2Code="US",
            countryDescription="UNITED STATES",
        ),
        element(
            "birthdate", city="Minsk", year="", countryIso2Code="BY", countryDescription="BELARUS"
        ),
    )

    assert body.subject.places_of_birth == ["Bloomington, Indiana, UNITED STATES", "Minsk, BELARUS"]
    assert body.subject.dates_of_birth == [
        DateSpan(earliest=PartialDate(year=1960, month=4, day=10))
    ]


def test_birth_dates_it_cannot_state_are_counted(adapter: EuFsfAdapter) -> None:
    body, unmapped = only(
        adapter,
        element("birthdate", calendarType="ISLAMIC", year="1380"),
        element("birthdate", yearRangeTo="1958"),
    )

    assert body.subject.dates_of_birth == []
    assert unmapped == Counter(
        [f"{ENTRY}/birthdate/@calendarType=ISLAMIC", f"{ENTRY}/birthdate/@yearRangeFrom=<missing>"]
    )


def test_citizenships_by_code_with_the_description_as_fallback(adapter: EuFsfAdapter) -> None:
    body, unmapped = only(
        adapter,
        element("citizenship", countryIso2Code="RU", countryDescription="RUSSIA"),
        element("citizenship", countryIso2Code="00", countryDescription="UNKNOWN"),
        element("citizenship", countryIso2Code="XK", countryDescription="KOSOVO"),
        element("citizenship", countryIso2Code="", countryDescription="IRAQ"),
        element("citizenship", countryIso2Code="QQ", countryDescription="NARNIA"),
        element("citizenship", countryIso2Code="RU", countryDescription="RUSSIAN FEDERATION"),
    )

    assert body.subject.nationalities == ["RU", "XK", "IQ"]
    assert unmapped == Counter(
        [
            f"{ENTRY}/citizenship/@countryIso2Code=QQ",
            f"{ENTRY}/citizenship/@countryDescription=NARNIA",
        ]
    )


def test_documents_carry_their_flags_and_remarks_in_the_note(adapter: EuFsfAdapter) -> None:
    body, unmapped = only(
        adapter,
        element(
            "identification",
            element("remark", "(usa national identification no)"),
            diplomatic="false",
            knownExpired="false",
            knownFalse="true",
            number="SSN 156-92-9858",
            identificationTypeCode="id",
            identificationTypeDescription="National identification card",
            countryIso2Code="US",
            countryDescription="UNITED STATES",
            issuedBy="Social Security",
            issueDate="1990-05-02",
        ),
        element(
            "identification",
            number="Ш 123",
            latinNumber="SH 123",
            identificationTypeCode="passport",
            countryIso2Code="00",
            countryDescription="UNKNOWN",
            nameOnDocument="I. Petrov",
        ),
        element(
            "identification",
            number="M0887925",
            identificationTypeCode="other",
            identificationTypeDescription="Other identification number",
        ),
        element(
            "identification",
            number="77",
            identificationTypeCode="seabook",
            identificationTypeDescription="Seaman's book",
        ),
        element("identification", identificationTypeCode="passport", number=""),
    )

    assert body.subject.identifiers == [
        IdentityDocument(
            kind="NATIONAL_ID",
            number="SSN 156-92-9858",
            issuing_country="US",
            issued_on=PartialDate(year=1990, month=5, day=2),
            note="known to be false; issued by Social Security; (usa national identification no)",
        ),
        IdentityDocument(
            kind="PASSPORT",
            number="Ш 123",
            note="name on document: I. Petrov; in Latin script: SH 123",
        ),
        IdentityDocument(kind="OTHER", number="M0887925", note="Other identification number"),
        IdentityDocument(kind="OTHER", number="77", note="Seaman's book"),
    ]
    assert unmapped == Counter(
        [
            f"{ENTRY}/identification/@identificationTypeCode=seabook",
            f"{ENTRY}/identification/@number=<missing>",
        ]
    )


def test_addresses_keep_their_parts_and_remarks(adapter: EuFsfAdapter) -> None:
    body, unmapped = only(
        adapter,
        element(
            "address",
            element("remark", "Head office")
            + element("contactInfo", key="PHONE", value="+95 1 234"),
            street="Corner of Ahlone road & Kannar road",
            poBox="77",
            city="Yangon",
            zipCode="11011",
            region="",
            place="",
            asAtListingTime="true",
            countryIso2Code="MM",
            countryDescription="MYANMAR",
        ),
        element("address", countryIso2Code="00", countryDescription="UNKNOWN"),
    )

    assert body.subject.addresses == [
        Address(
            full="Corner of Ahlone road & Kannar road, PO Box 77, Yangon, 11011, MYANMAR, "
            "Head office",
            street="Corner of Ahlone road & Kannar road, PO Box 77",
            city="Yangon",
            postal_code="11011",
            country="MM",
        )
    ]
    assert unmapped == Counter()


def test_alias_quality_and_the_first_strong_spelling_as_the_name(adapter: EuFsfAdapter) -> None:
    body, _ = only(
        adapter,
        element("nameAlias", wholeName="Vanya", strong="false"),
        element(
            "nameAlias",
            firstName="Ivan",
            middleName="Ivanovich",
            lastName="Petrov",
            wholeName="Ivan Ivanovich Petrov",
            gender="M",
            strong="true",
        ),
        element(
            "nameAlias",
            element("remark", "Low quality alias."),
            wholeName="Petrov the Elder",
            strong="true",
        ),
        element("nameAlias", wholeName="Иван Петров", nameLanguage="RU", strong="true"),
        element("nameAlias", wholeName="", strong="true"),
    )

    assert body.subject.names == [
        Name(
            full_name="Ivan Ivanovich Petrov",
            given_names="Ivan Ivanovich",
            family_name="Petrov",
            script="Latn",
        )
    ]
    assert body.subject.aliases == [
        Alias(name=Name(full_name="Vanya", script="Latn"), quality=AliasQuality.WEAK),
        Alias(name=Name(full_name="Petrov the Elder", script="Latn"), quality=AliasQuality.WEAK),
        Alias(
            name=Name(full_name="Иван Петров", script="Cyrl", lang="ru"),
            quality=AliasQuality.STRONG,
        ),
    ]
    assert body.subject.sex is Sex.MALE


def test_a_name_given_only_in_parts(adapter: EuFsfAdapter) -> None:
    body, _ = only(
        adapter, element("nameAlias", firstName="Jane", middleName="Q", lastName="Public")
    )

    assert body.subject.names == [
        Name(full_name="Jane Q Public", given_names="Jane Q", family_name="Public", script="Latn")
    ]


def test_a_un_derived_entry_listed_by_a_regulation(adapter: EuFsfAdapter) -> None:
    regulation = element(
        "regulation",
        element("publicationUrl", "http://eur-lex.europa.eu/1"),
        regulationType="regulation",
        organisationType="council",
        publicationDate="2016-12-13",
        entryIntoForceDate="2016-12-14",
        numberTitle="2016/2215 (OJ L334)",
        programme="PRK",
    )
    [notice], ctx = translate(adapter, export(entry(regulation, unitedNationId="KPi.033")))

    assert order(notice).legal_basis == [
        LegalAct(
            authority="Council of the European Union",
            reference="2016/2215 (OJ L334)",
            url="http://eur-lex.europa.eu/1",
        ),
        LegalAct(
            authority="UN Security Council",
            reference="KPi.033",
            title="UN Security Council listing implemented by this entry",
        ),
    ]
    assert (order(notice).listed_on, order(notice).amended_on) == (dt.date(2016, 12, 14), None)
    assert notice.issued_at == dt.datetime(2016, 12, 14, tzinfo=dt.UTC)
    assert ctx.unmapped == Counter()


def test_a_designation_date_is_the_listing_date(adapter: EuFsfAdapter) -> None:
    [notice], _ = translate(adapter, export(entry(designationDate="2022-02-23")))

    assert order(notice).listed_on == dt.date(2022, 2, 23)
    assert notice.issued_at == dt.datetime(2022, 2, 23, tzinfo=dt.UTC)


def test_issued_at_falls_back_on_receipt_without_a_generation_date(adapter: EuFsfAdapter) -> None:
    [notice], _ = translate(adapter, export(entry(), root='globalFileId="1"'))

    assert notice.issued_at == RECEIVED_AT
    assert order(notice).listing_reference == "EU.9001.1"


def test_unknown_codes_are_counted_and_never_guessed(adapter: EuFsfAdapter) -> None:
    regulation = element(
        "regulation",
        organisationType="parliament",
        regulationType="corrigendum",
        programme="ATL",
        numberTitle="1/2030",
    )
    raw = export(
        element(
            "sanctionEntity",
            element("subjectType", code="vessel")
            + element(
                "nameAlias", wholeName="Sea Star", nameLanguage="XX", gender="N", strong="maybe"
            )
            + regulation
            + element("hairColour", "black"),
            logicalId="9002",
            extra="1",
        )
    )

    [notice], ctx = translate(adapter, raw)
    body = order(notice)

    assert body.subject.kind is SubjectKind.UNKNOWN
    assert body.subject.names == [Name(full_name="Sea Star", script="Latn")]
    assert body.programmes == ["ATL"]
    assert body.legal_basis == [LegalAct(authority="European Union", reference="1/2030")]
    assert body.listing_reference == "9002"
    assert ctx.unmapped == Counter(
        [
            f"{ENTRY}.hairColour",
            f"{ENTRY}.@extra",
            f"{ENTRY}/subjectType/@code=vessel",
            f"{ENTRY}/nameAlias/@nameLanguage=XX",
            f"{ENTRY}/nameAlias/@gender=N",
            f"{ENTRY}/nameAlias/@strong=maybe",
            f"{ENTRY}/regulation/@organisationType=parliament",
            f"{ENTRY}/regulation/@regulationType=corrigendum",
            f"{ENTRY}/regulation/@programme=ATL",
        ]
    )


# Faults, each placed


def test_an_entry_without_a_logical_id(adapter: EuFsfAdapter) -> None:
    error = failure(adapter, export(entry(), entry(logical_id="")))

    assert error.format == FORMAT
    assert error.where == f"{ENTRY}[2]/@logicalId (line 1)"
    assert "identifies the entry" in error.reason


def test_an_entry_without_a_name(adapter: EuFsfAdapter) -> None:
    error = failure(adapter, export(entry(element("nameAlias", wholeName=" ", strong="true"))))

    assert error.where == f"{ENTRY}[1] (line 1)"
    assert error.reason == "no name: every nameAlias is empty"


@pytest.mark.parametrize(
    ("child", "where", "why"),
    [
        (
            element("birthdate", year="1970", dayOfMonth="5"),
            "birthdate[1]/@dayOfMonth",
            "without a month",
        ),
        (
            element("birthdate", year="1970", monthOfYear="13"),
            "birthdate[1]/@year",
            "month must be in 1..12",
        ),
        (element("birthdate", year="197O"), "birthdate[1]/@year", "'197O' is not a date"),
        (
            element("birthdate", yearRangeFrom="1960", yearRangeTo="1950"),
            "birthdate[1]/@yearRangeTo",
            "range ends (1950) before it starts (1960)",
        ),
        (
            element("regulation", entryIntoForceDate="2018"),
            "regulation[1]/@entryIntoForceDate",
            "'2018' is not a full date",
        ),
        (
            element("identification", number="1", issueDate="yesterday"),
            "identification[1]/@issueDate",
            "'yesterday' is not a date",
        ),
        (
            element(
                "nameAlias",
                element("regulationSummary", publicationDate="2005-02-30"),
                wholeName="A",
            ),
            "nameAlias[1]/regulationSummary[1]/@publicationDate",
            "is not a calendar date",
        ),
    ],
)
def test_impossible_dates_are_placed(
    adapter: EuFsfAdapter, child: str, where: str, why: str
) -> None:
    error = failure(adapter, export(entry(child)))

    assert error.where == f"{ENTRY}[1]/{where} (line 1)"
    assert why in error.reason


def test_an_empty_file_is_refused(adapter: EuFsfAdapter) -> None:
    error = failure(adapter, export())

    assert error.where == "/export"
    assert "empty snapshot" in error.reason


def test_invalid_xml_is_placed_by_line_and_column(adapter: EuFsfAdapter) -> None:
    error = failure(adapter, b'<export>\n<sanctionEntity logicalId="1">\n<nameAlias wholeName="A>')

    assert error.where.startswith("line 3 column")
    assert error.reason.startswith("invalid XML")


# Detection and tables


def test_detects_the_sanctions_file_and_nothing_else(adapter: EuFsfAdapter) -> None:
    sanctions = FIXTURES / "sanctions"

    assert adapter.detect(FIXTURE.read_bytes())
    assert adapter.detect(b'<export generationDate="x"><sanctionEntity logicalId="1">')
    un_list = sanctions / "un_sc_consolidated_2020-03-20_excerpt.xml"
    assert not adapter.detect(un_list.read_bytes()[:65536])
    ofac = sanctions / "ofac_consolidated_nonsdn_sdnList_2024-05-06_excerpt.xml"
    assert not adapter.detect(ofac.read_bytes()[:65536])


def test_mapping_tables_reject_unknown_tables_and_values() -> None:
    tables = mapping_tables("eu_fsf", EuFsfMapping)

    with pytest.raises(ValidationError, match=r"document_kinds\.passport"):
        EuFsfMapping.model_validate(tables | {"document_kinds": {"passport": "PASS"}})
    with pytest.raises(ValidationError, match=r"regulation_types\.regulation"):
        EuFsfMapping.model_validate(tables | {"regulation_types": {"regulation": "repeal"}})


# Fuzzing: any damage to the real file yields notices or a placed TranslationError


_RAW = FIXTURE.read_bytes()
_VALUES = tuple(m.span(m.lastindex or 0) for m in re.finditer(rb'>([^<]+)<|="([^"]*)"', _RAW))
_TAG_ENDS = tuple(match.end() for match in re.finditer(rb">", _RAW))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=damaged_xml(_RAW, nest_at=_TAG_ENDS, texts=_VALUES))
def test_damaged_files_translate_or_fail_with_a_place(adapter: EuFsfAdapter, raw: bytes) -> None:
    notices_or_placed_error(adapter, FEED.context(raw))
