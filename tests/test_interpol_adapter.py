"""The INTERPOL adapter on a real list page and on made-up details: pure translation, no Kafka.

The real page is read from shared/ beside the repository, never copied into it; the made-up
payloads live in examples/interpol/ and describe invented people.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from adapters.interpol import InterpolAdapter
from adapters.interpol.translate import InterpolMapping
from adapters.lookups import load_mapping
from adapters.registry import default_registry
from broker.errors import TranslationError
from broker.models import (
    Alias,
    Charge,
    Classification,
    DateSpan,
    LastSeen,
    Level,
    MsgType,
    Name,
    NoticeEnvelope,
    NoticeType,
    Originator,
    PartialDate,
    PhotoRef,
    RelatedEntity,
    Relative,
    RequestedAction,
    Sex,
    Tlp,
    WantedPersonNotice,
    Warrant,
)
from tests.adapter_helpers import Feed, mapping_tables
from tests.conftest import FIXTURES, REPO_ROOT

FIXTURE = FIXTURES / "wanted" / "interpol_red_notices_list_page1_2021-12-11.json"
EXAMPLES = REPO_ROOT / "examples" / "interpol"
FORMAT = "interpol-notice-json"
RECEIVED_AT = dt.datetime(2021, 12, 11, 8, 30, tzinfo=dt.UTC)
ORIGINATOR = Originator(agency_id="interpol")
FEED = Feed(FORMAT, ORIGINATOR, RECEIVED_AT)
context, translate, failure = FEED.context, FEED.translate, FEED.failure
DROP = object()
"""A field value meaning: leave the field out of the payload."""

FIXTURE_IDS = [
    "2021/75051",
    "2021/77523",
    "2021/15457",
    "2021/73739",
    "2021/75365",
    "2021/70940",
    "2021/73114",
    "2021/76557",
    "2021/76569",
    "2021/76135",
    "2021/72237",
    "2021/72446",
    "2021/57079",
    "2021/73583",
    "2021/72348",
    "2021/70866",
    "2021/72286",
    "2021/69577",
    "2021/70593",
    "2021/71925",
]


@pytest.fixture(scope="module")
def adapter() -> InterpolAdapter:
    return InterpolAdapter()


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((EXAMPLES / name).read_bytes())
    return data


def red_detail(**fields: Any) -> bytes:
    """The made-up red notice detail with some fields replaced (or left out, with DROP)."""
    payload = example("red_notice_detail.json") | fields
    return orjson.dumps({key: value for key, value in payload.items() if value is not DROP})


def fixture_page(change: Callable[[list[dict[str, Any]]], None]) -> bytes:
    """The real page with its notices changed in place by ``change``."""
    page: dict[str, Any] = orjson.loads(FIXTURE.read_bytes())
    change(page["_embedded"]["notices"])
    return orjson.dumps(page)


def only(notices: list[NoticeEnvelope]) -> NoticeEnvelope:
    assert len(notices) == 1
    return notices[0]


def wanted(notice: NoticeEnvelope) -> WantedPersonNotice:
    assert isinstance(notice.body, WantedPersonNotice)
    return notice.body


# The real list page


def test_real_page_yields_every_notice_in_order(adapter: InterpolAdapter) -> None:
    notices, _ = translate(adapter, FIXTURE.read_bytes())

    assert [n.source.original_id for n in notices] == FIXTURE_IDS
    assert [n.notice_id for n in notices] == [f"interpol-red-{i}" for i in FIXTURE_IDS]


@pytest.mark.parametrize(
    ("index", "given", "family", "born", "nationality"),
    [
        (0, "EDGAR GONZALO", "PINTOS MONTERO", PartialDate(year=1979, month=1, day=17), "UY"),
        (2, "PIOTR ROBERT", "RYBA", PartialDate(year=1970, month=10, day=14), "PL"),
        (7, "GYURDZHAN", "ANGELOV (STOYANOV)", PartialDate(year=2000, month=3, day=13), "BG"),
        (19, "AZA", "CHEMKHILGOVA", PartialDate(year=1994, month=7, day=28), "RU"),
    ],
)
def test_real_page_names_dates_of_birth_and_nationalities(
    adapter: InterpolAdapter,
    index: int,
    given: str,
    family: str,
    born: PartialDate,
    nationality: str,
) -> None:
    subject = wanted(translate(adapter, FIXTURE.read_bytes())[0][index]).subject

    assert subject.names == [
        Name(full_name=f"{given} {family}", given_names=given, family_name=family, script="Latn")
    ]
    assert subject.aliases == []
    assert subject.dates_of_birth == [DateSpan(earliest=born)]
    assert subject.nationalities == [nationality]


def test_real_page_notices_are_public_red_alerts(adapter: InterpolAdapter) -> None:
    raw = FIXTURE.read_bytes()
    notices, _ = translate(adapter, raw)

    for notice in notices:
        assert (notice.version, notice.msg_type, notice.references) == (1, MsgType.ALERT, [])
        assert notice.notice_type is NoticeType.WANTED_PERSON
        assert notice.originator == ORIGINATOR
        assert notice.issued_at == RECEIVED_AT
        assert notice.classification == Classification(
            level=Level.UNCLASSIFIED, tlp=Tlp.CLEAR, national_marking="INTERPOL public notice"
        )
        assert notice.source.model_dump() == {
            "format": FORMAT,
            "original_id": notice.source.original_id,
            "adapter": "interpol",
            "adapter_version": "1.0.0",
            "received_at": RECEIVED_AT,
            "sha256": hashlib.sha256(raw).hexdigest(),
        }
        assert wanted(notice).action_requested is RequestedAction.ARREST
        assert wanted(notice).charges == []
        assert wanted(notice).warrant is None


def test_thumbnail_is_the_photo_and_a_notice_without_one_has_none(
    adapter: InterpolAdapter,
) -> None:
    notices, _ = translate(adapter, FIXTURE.read_bytes())

    assert wanted(notices[0]).subject.photos == [
        PhotoRef(uri="https://ws-public.interpol.int/notices/v1/red/2021-75051/images/62311920")
    ]
    assert wanted(notices[6]).subject.names[0].full_name == "MIRIAM BWANALI"
    assert wanted(notices[6]).subject.photos == []


def test_a_real_page_leaves_no_field_unread(adapter: InterpolAdapter) -> None:
    _, ctx = translate(adapter, FIXTURE.read_bytes())

    assert ctx.unmapped == Counter()


def test_a_field_the_adapter_does_not_know_is_counted_where_it_is(
    adapter: InterpolAdapter,
) -> None:
    def add_field(notices: list[dict[str, Any]]) -> None:
        notices[3]["hair_style"] = "mohawk"

    _, ctx = translate(adapter, fixture_page(add_field))

    assert ctx.unmapped == Counter(["$._embedded.notices[3].hair_style"])


# Made-up details and pages (examples/interpol/)


def test_red_detail_with_arrest_warrants(adapter: InterpolAdapter) -> None:
    notices, ctx = translate(adapter, (EXAMPLES / "red_notice_detail.json").read_bytes())
    notice = only(notices)
    body = wanted(notice)

    assert notice.notice_id == "interpol-red-2023/41872"
    assert body.charges == [
        Charge(
            offence="Tráfico ilícito de drogas agravado (artículo 297 del Código Penal)",
            offence_translation="Aggravated illicit drug trafficking (article 297 of the "
            "Criminal Code)",
            jurisdiction="PE",
        ),
        Charge(offence="Lavado de activos", jurisdiction="PE"),
    ]
    assert body.warrant == Warrant(authority="PE")
    subject = body.subject
    assert subject.names == [
        Name(
            full_name="JULIAN ANDRES QUILCA VALDERRAMA",
            given_names="JULIAN ANDRES",
            family_name="QUILCA VALDERRAMA",
            script="Latn",
        )
    ]
    assert subject.sex is Sex.MALE
    assert subject.dates_of_birth == [DateSpan(earliest=PartialDate(year=1982, month=7))]
    assert (subject.place_of_birth, subject.country_of_birth) == ("AREQUIPA", "PE")
    assert (subject.height_m, subject.weight_kg) == (1.74, 78.0)
    assert subject.languages == ["es", "en"]
    assert subject.description == (
        "Eyes: brown\nHair: black\nDistinguishing marks: Scar on the left forearm"
    )
    assert subject.photos == [
        PhotoRef(uri="https://ws-public.interpol.int/notices/v1/red/2023-41872/images/63100417")
    ]
    assert body.requesting_country == "PE"
    assert (body.last_seen, body.relatives, body.related) == (None, [], [])
    assert ctx.unmapped == Counter()


def test_red_detail_from_a_tribunal_with_only_a_birth_year(adapter: InterpolAdapter) -> None:
    raw = (EXAMPLES / "red_notice_detail_tribunal.json").read_bytes()
    body = wanted(only(translate(adapter, raw)[0]))

    assert body.charges[0].jurisdiction is None
    assert body.warrant == Warrant(authority="International Criminal Court (ICC)")
    subject = body.subject
    assert subject.dates_of_birth == [DateSpan(earliest=PartialDate(year=1968))]
    assert subject.nationalities == ["XK"]
    assert (subject.height_m, subject.weight_kg) == (None, None)
    assert (subject.sex, subject.place_of_birth, subject.country_of_birth) == (
        Sex.UNKNOWN,
        None,
        None,
    )
    assert subject.languages == ["sr", "sq"]
    assert subject.description == "Hair: greying"
    assert subject.photos == []


def test_yellow_notice_asks_to_locate_a_missing_person(adapter: InterpolAdapter) -> None:
    notices, ctx = translate(adapter, (EXAMPLES / "yellow_notice_detail.json").read_bytes())
    notice = only(notices)
    body = wanted(notice)

    assert notice.notice_id == "interpol-yellow-2023/58310"
    assert body.action_requested is RequestedAction.LOCATE
    assert (body.charges, body.warrant) == ([], None)
    subject = body.subject
    assert subject.names[0].full_name == "MAJA SOFIA KOVALCHUK"
    assert subject.aliases == [Alias(name=Name(full_name="LINDQVIST", script="Latn"))]
    assert subject.sex is Sex.FEMALE
    assert subject.dates_of_birth == [DateSpan(earliest=PartialDate(year=2009, month=4, day=18))]
    assert subject.nationalities == ["SE", "UA"]
    assert (subject.height_m, subject.weight_kg) == (1.58, None)
    assert subject.languages == ["sv", "uk", "en"]
    assert subject.description == (
        "Eyes: light blue\nHair: blond\n"
        "Distinguishing marks: Pierced left ear; small birthmark on the neck"
    )
    assert body.last_seen == LastSeen(
        date=PartialDate(year=2023, month=8, day=2), place="GOTEBORG", country="SE"
    )
    assert body.relatives == [
        Relative(
            relation="father",
            name=Name(
                full_name="OLEKSANDR KOVALCHUK",
                given_names="OLEKSANDR",
                family_name="KOVALCHUK",
                script="Latn",
            ),
        ),
        Relative(
            relation="mother",
            name=Name(
                full_name="EMMA LINDQVIST",
                given_names="EMMA",
                family_name="LINDQVIST",
                script="Latn",
            ),
        ),
    ]
    assert body.likely_destinations == ["UA", "NO"]
    assert body.requesting_country == "SE"
    assert ctx.unmapped == Counter()


def test_made_up_list_page(adapter: InterpolAdapter) -> None:
    notices, _ = translate(adapter, (EXAMPLES / "red_notices_list_page.json").read_bytes())
    subjects = [wanted(n).subject for n in notices]

    assert [n.notice_id for n in notices] == [
        "interpol-red-2022/30518",
        "interpol-red-2023/7706",
        "interpol-red-2022/119453",
    ]
    assert subjects[0].dates_of_birth == [DateSpan(earliest=PartialDate(year=1975))]
    assert subjects[0].nationalities == ["PL", "DE"]
    assert subjects[1].names == [
        Name(full_name="ZARMALWAL", family_name="ZARMALWAL", script="Latn")
    ]
    assert subjects[1].photos == []
    assert subjects[2].dates_of_birth[0].earliest == PartialDate(year=1988, month=11, day=30)


# Field rules


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1975", PartialDate(year=1975)),
        ("1982/07", PartialDate(year=1982, month=7)),
        (" 1979/01/17 ", PartialDate(year=1979, month=1, day=17)),
        ("2000/02/29", PartialDate(year=2000, month=2, day=29)),
    ],
)
def test_partial_dates_stay_partial(
    adapter: InterpolAdapter, raw: str, expected: PartialDate
) -> None:
    notice = only(translate(adapter, red_detail(date_of_birth=raw))[0])

    assert wanted(notice).subject.dates_of_birth == [DateSpan(earliest=expected)]


@pytest.mark.parametrize("absent", [None, "", DROP])
def test_no_date_of_birth_is_no_date(adapter: InterpolAdapter, absent: Any) -> None:
    notice = only(translate(adapter, red_detail(date_of_birth=absent))[0])

    assert wanted(notice).subject.dates_of_birth == []


@pytest.mark.parametrize("zero", [0, 0.0])
def test_zero_height_and_weight_mean_unknown(adapter: InterpolAdapter, zero: float) -> None:
    subject = wanted(only(translate(adapter, red_detail(height=zero, weight=zero))[0])).subject

    assert (subject.height_m, subject.weight_kg) == (None, None)


@pytest.mark.parametrize("blank", [None, "", "   ", "-", DROP])
def test_blank_forename_is_absent(adapter: InterpolAdapter, blank: Any) -> None:
    subject = wanted(only(translate(adapter, red_detail(forename=blank))[0])).subject

    assert subject.names == [
        Name(full_name="QUILCA VALDERRAMA", family_name="QUILCA VALDERRAMA", script="Latn")
    ]


def test_surrounding_whitespace_is_stripped(adapter: InterpolAdapter) -> None:
    raw = red_detail(name="\u00a0QUILCA VALDERRAMA  ", place_of_birth=" ", nationalities=[" PE"])
    subject = wanted(only(translate(adapter, raw)[0])).subject

    assert subject.names[0].family_name == "QUILCA VALDERRAMA"
    assert subject.place_of_birth is None
    assert subject.nationalities == ["PE"]


def test_interpol_country_codes_are_mapped_and_repeats_dropped(adapter: InterpolAdapter) -> None:
    raw = red_detail(nationalities=["PE", "UNK", "PE"], country_of_birth_id="UNK")
    subject = wanted(only(translate(adapter, raw)[0])).subject

    assert subject.nationalities == ["PE", "XK"]
    assert subject.country_of_birth == "XK"


def test_unknown_codes_are_counted_and_never_guessed(adapter: InterpolAdapter) -> None:
    raw = red_detail(
        sex_id="X",
        eyes_colors_id=["PUR"],
        hairs_id=["BLA", "ZZZ"],
        languages_spoken_ids=["QQQ", "SPA"],
        distinguishing_marks=None,
    )
    notices, ctx = translate(adapter, raw)
    subject = wanted(only(notices)).subject

    assert subject.sex is Sex.UNKNOWN
    assert subject.description == "Eyes: PUR\nHair: black, ZZZ"
    assert subject.languages == ["QQQ", "es"]
    assert ctx.unmapped == Counter(
        [
            "$.sex_id=X",
            "$.eyes_colors_id[0]=PUR",
            "$.hairs_id[1]=ZZZ",
            "$.languages_spoken_ids[0]=QQQ",
        ]
    )


def test_unknown_issuer_is_kept_as_the_authority_and_counted(adapter: InterpolAdapter) -> None:
    warrants = [{"issuing_country_id": "AT,BE,BG", "charge": "Fraud", "charge_translation": None}]
    notices, ctx = translate(adapter, red_detail(arrest_warrants=warrants))
    body = wanted(only(notices))

    assert body.charges == [Charge(offence="Fraud")]
    assert body.warrant == Warrant(authority="AT,BE,BG")
    assert ctx.unmapped["$.arrest_warrants[0].issuing_country_id=AT,BE,BG"] == 1


def test_unmapped_warrant_fields_are_counted_where_they_are(adapter: InterpolAdapter) -> None:
    warrants = [
        {"issuing_country_id": "PE", "charge": "Lavado de activos", "warrant_number": "88-2023"}
    ]
    _, ctx = translate(adapter, red_detail(arrest_warrants=warrants))

    assert ctx.unmapped["$.arrest_warrants[0].warrant_number"] == 1


def test_no_arrest_warrants_means_no_warrant(adapter: InterpolAdapter) -> None:
    for warrants in ([], None, DROP):
        body = wanted(only(translate(adapter, red_detail(arrest_warrants=warrants))[0]))
        assert (body.charges, body.warrant) == ([], None)


def test_a_byte_order_mark_is_accepted(adapter: InterpolAdapter) -> None:
    notices, _ = translate(adapter, b"\xef\xbb\xbf" + red_detail())

    assert only(notices).notice_id == "interpol-red-2023/41872"


# Malformed payloads


def test_invalid_json_is_placed_by_line_and_column(adapter: InterpolAdapter) -> None:
    error = failure(adapter, b'{\n  "entity_id": "2021/75051",\n  "name": \n}')

    assert error.format == FORMAT
    assert error.where == "line 4 column 1"
    assert error.reason.startswith("invalid JSON: ")


def test_bytes_that_are_not_utf8_are_placed(adapter: InterpolAdapter) -> None:
    error = failure(adapter, b'{\n "name": "M\xdcLLER"}')

    assert error.where == "line 2 column 12"
    assert "not UTF-8" in error.reason


def test_missing_entity_id_in_a_list_page(adapter: InterpolAdapter) -> None:
    def drop_id(notices: list[dict[str, Any]]) -> None:
        del notices[3]["entity_id"]

    error = failure(adapter, fixture_page(drop_id))

    assert error.where == "$._embedded.notices[3].entity_id"
    assert error.reason == "missing or empty"


def test_entity_id_not_in_interpol_form(adapter: InterpolAdapter) -> None:
    error = failure(adapter, red_detail(entity_id="2023-41872"))

    assert error.where == "$.entity_id"
    assert "YYYY/NNNNN" in error.reason


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("1970/13/45", "month must be in 1..12"),
        ("1970/02/30", "day is out of range for month"),
        ("0000", "year 0 is out of range"),
        ("17/01/1979", "is not a date"),
        ("1979-01-17", "is not a date"),
    ],
)
def test_impossible_date_of_birth(adapter: InterpolAdapter, raw: str, why: str) -> None:
    error = failure(adapter, red_detail(date_of_birth=raw))

    assert error.where == "$.date_of_birth"
    assert raw in error.reason
    assert why in error.reason


def test_nationality_that_is_not_a_country_code(adapter: InterpolAdapter) -> None:
    def three_letters(notices: list[dict[str, Any]]) -> None:
        notices[0]["nationalities"] = ["URY"]

    error = failure(adapter, fixture_page(three_letters))

    assert error.where == "$._embedded.notices[0].nationalities[0]"
    assert "'URY' is not an ISO 3166-1 alpha-2 country code" in error.reason


@pytest.mark.parametrize(
    ("payload", "found"),
    [
        ({"total": 0, "query": {"page": 1}}, "an object with keys query, total"),
        ({"_embedded": {"links": []}}, "an object with keys _embedded"),
        ([{"entity_id": "2021/75051"}], "an array"),
        ("red notice", "a string"),
        (None, "null"),
    ],
)
def test_payload_that_is_neither_a_list_page_nor_a_detail(
    adapter: InterpolAdapter, payload: Any, found: str
) -> None:
    error = failure(adapter, orjson.dumps(payload))

    assert error.where == "$"
    assert error.reason.startswith("neither a notice list page (_embedded.notices) nor a notice")
    assert error.reason.endswith(f"found {found}")


@pytest.mark.parametrize(
    ("fields", "where", "why"),
    [
        (
            {"nationalities": "PE"},
            "$.nationalities",
            "expected an array of strings, found a string",
        ),
        ({"nationalities": ["PE", 7]}, "$.nationalities[1]", "expected a string, found a number"),
        ({"height": "1.74"}, "$.height", "expected a number, found a string"),
        ({"weight": True}, "$.weight", "expected a number, found a boolean"),
        ({"height": -1.7}, "$.height", "-1.7 is negative"),
        ({"arrest_warrants": {}}, "$.arrest_warrants", "expected an array of objects"),
        ({"arrest_warrants": ["murder"]}, "$.arrest_warrants[0]", "expected an object"),
        ({"arrest_warrants": [{"charge": " "}]}, "$.arrest_warrants[0].charge", "missing"),
        ({"_links": []}, "$._links", "expected an object, found an array"),
    ],
)
def test_fields_of_the_wrong_shape(
    adapter: InterpolAdapter, fields: dict[str, Any], where: str, why: str
) -> None:
    error = failure(adapter, red_detail(**fields))

    assert error.where == where
    assert why in error.reason


@pytest.mark.parametrize(
    ("links", "why"),
    [
        ({}, "missing: the notice colour (red, yellow) is read from it"),
        (
            {"self": {"href": "https://ws-public.interpol.int/notices/v1/un/persons/2023-41872"}},
            "'un/persons' notices are not wanted-person notices (red, yellow)",
        ),
        (
            {"self": {"href": "https://ws-public.interpol.int/notices/v1/red/2023-41873"}},
            "links to notice 2023-41873, but entity_id is 2023/41872",
        ),
        ({"self": {"href": "https://example.org/"}}, "is not a notice link"),
    ],
)
def test_the_colour_comes_from_a_consistent_self_link(
    adapter: InterpolAdapter, links: dict[str, Any], why: str
) -> None:
    error = failure(adapter, red_detail(_links=links))

    assert error.where == "$._links.self.href"
    assert why in error.reason


def test_a_fault_anywhere_yields_nothing(adapter: InterpolAdapter) -> None:
    """The whole payload goes to the dead-letter topic, so none of it may be published."""

    def break_last(notices: list[dict[str, Any]]) -> None:
        notices[-1]["date_of_birth"] = "1994/07/32"

    with pytest.raises(TranslationError):
        adapter.translate(context(fixture_page(break_last)))


# The mapping tables


def test_mapping_tables_reject_unknown_tables_and_values() -> None:
    tables = mapping_tables("interpol", InterpolMapping)

    with pytest.raises(ValidationError, match=r"sex\.M"):
        InterpolMapping.model_validate(tables | {"sex": {"M": "MAN"}})


def test_a_broken_mapping_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "broken_tables"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "mapping.yml").write_text("sex: [M, F]\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    with pytest.raises(ValueError, match=r"invalid mapping file broken_tables/mapping\.yml"):
        load_mapping("broken_tables", "mapping.yml", InterpolMapping)


def test_the_registry_routes_the_format_here() -> None:
    assert isinstance(default_registry().for_format(FORMAT), InterpolAdapter)


@pytest.mark.parametrize(("forename", "name"), [(None, None), ("-", None), ("", " "), ("-", "-")])
def test_a_notice_published_without_a_name_still_goes_out(
    adapter: InterpolAdapter, forename: str | None, name: str | None
) -> None:
    [notice], _ = translate(adapter, red_detail(forename=forename, name=name))

    assert isinstance(notice.body, WantedPersonNotice)
    assert notice.body.subject.names == []
    assert notice.body.charges, "what identifies the person is kept"


def test_linked_notices_become_related_people(adapter: InterpolAdapter) -> None:
    # The shape of _embedded.links in real detail responses (here 2016/33382, May 2023).
    links = [
        {
            "forename": "TAMARA",
            "color": "RED",
            "name": "GOROBETS",
            "entity_id": "2016/33387",
            "_links": {
                "self": {"href": "https://ws-public.interpol.int/notices/v1/red/2016-33387"},
            },
        }
    ]
    notices, ctx = translate(adapter, red_detail(_embedded={"links": links}))

    assert wanted(only(notices)).related == [
        RelatedEntity(kind="person", name="TAMARA GOROBETS", ref="interpol-red-2016/33387")
    ]
    assert ctx.unmapped == Counter()


@pytest.mark.parametrize(
    ("forename", "name", "full_name"),
    [
        ("N/A", "HANIF", "HANIF"),
        ("ABDUL", "NA", "ABDUL NA"),
        ("MARY", "O", "MARY O"),
        ("ANA  MARIA", "GONZALEZ  MORALES", "ANA MARIA GONZALEZ MORALES"),
    ],
)
def test_placeholders_are_blank_but_short_names_are_names(
    adapter: InterpolAdapter, forename: str, name: str, full_name: str
) -> None:
    [notice], _ = translate(adapter, red_detail(forename=forename, name=name))

    assert wanted(notice).subject.names[0].full_name == full_name


@pytest.mark.parametrize(("code", "expected"), [("ZR", "CD"), ("TP", "TL"), ("YU", "YU")])
def test_withdrawn_country_codes(adapter: InterpolAdapter, code: str, expected: str) -> None:
    """Renamed countries get their successor; a split country's code is kept and counted."""
    notices, ctx = translate(adapter, red_detail(nationalities=[code]))

    assert wanted(only(notices)).subject.nationalities == [expected]
    assert (ctx.unmapped["$.nationalities[0]=YU"] == 1) is (code == "YU")
