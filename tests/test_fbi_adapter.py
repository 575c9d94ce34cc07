"""The FBI Wanted API adapter on a real list page and on variations of its posters: no Kafka.

The page is read from shared/fixtures beside the repository, never copied into it. Variations
are made by changing one poster of the real page (``poster(...)``), so every test starts from
what the FBI actually publishes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections import Counter
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from adapters.base import TranslationContext
from adapters.fbi import FbiWantedAdapter
from adapters.fbi.tables import FbiMapping
from broker.errors import TranslationError
from broker.models import (
    Alias,
    AliasQuality,
    Charge,
    Classification,
    DateSpan,
    IdentityDocument,
    IntelBulletin,
    LastSeen,
    Level,
    MsgType,
    Name,
    NoticeEnvelope,
    NoticeReference,
    NoticeType,
    Originator,
    PartialDate,
    PhotoRef,
    RelatedEntity,
    RequestedAction,
    Sex,
    Tlp,
    WantedPersonNotice,
)
from tests.adapter_helpers import (
    JSON_VALUES,
    Feed,
    damaged_json,
    mapping_tables,
    notices_or_placed_error,
)
from tests.conftest import FIXTURES

FIXTURE = FIXTURES / "wanted" / "fbi_wanted_api_list_page1_2021-07.json"
INTERPOL_FIXTURE = FIXTURES / "wanted" / "interpol_red_notices_list_page1_2021-12-11.json"
FORMAT = "fbi-wanted-json"
RECEIVED_AT = dt.datetime(2021, 7, 2, 9, 0, tzinfo=dt.UTC)
ORIGINATOR = Originator(agency_id="fbi", country="US")
DROP = object()
"""A field value meaning: leave the field out of the poster."""
FEED = Feed(FORMAT, ORIGINATOR, RECEIVED_AT)
context, translate, failure = FEED.context, FEED.translate, FEED.failure

UIDS = [
    "b4dbb62605454cb48f49c084c3a3c928",
    "499588a6625b4e7a9a0aded42fd7df30",
    "5a1fbe2607b145f88ca93722ef86b06c",
    "e2de6b05-41a6-4b4d-9dbe-3d10ea915524",
    "8774527c934e485297718c705533307a",
    "530ad53b83ec4ae08afa44fbf38339a8",
    "85f01ac58b4048fea3f6f6e287238e7e",
    "d522b4fabaa44c979ea540957f0ec254",
    "bd72ac5cc6c64f98aa3798c7d60341ec",
    "f23b652a5da343b39f0c8f3a87ad1552",
    "f09ecb6fb5ce4278b30a5a919caaf421",
    "f56cf8152b8f49e7bdfe3212f1c7e548",
    "158e42deee764ce18ad6cd276f1f725d",
    "1da7c4799445404796c7d14f3dfa12d2",
    "55bf77de514e44b8999f07ddc349a77c",
    "26314afd02214e038010b6820d1506b9",
    "0def72efb79f45de8699adb57302d667",
    "f3147ca468b94127bd3d8ba9ec65780f",
    "1b2499b59b8e4dd3a80209c3762fb120",
    "0027d6b2170437e0964b43c1fac08121",
]
ARREST, LOCATE, INFORM = RequestedAction.ARREST, RequestedAction.LOCATE, RequestedAction.INFORM
BULLETIN = None
# What each poster of the page asks, in order: fugitives (additional, law-enforcement-
# assistance, murders, cac, cei), the unknown suspect, the brush fire, the dead Jane Doe and the
# homicide victims of /seeking-info/ (bulletins), unidentified remains (INFORM), missing and
# abducted people (LOCATE).
ACTIONS = [
    ARREST,
    ARREST,
    BULLETIN,
    INFORM,
    LOCATE,
    ARREST,
    BULLETIN,
    BULLETIN,
    BULLETIN,
    BULLETIN,
    BULLETIN,
    BULLETIN,
    ARREST,
    BULLETIN,
    LOCATE,
    ARREST,
    ARREST,
    BULLETIN,
    ARREST,
    ARREST,
]


@pytest.fixture(scope="module")
def adapter() -> FbiWantedAdapter:
    return FbiWantedAdapter()


@pytest.fixture(scope="module")
def page_notices(adapter: FbiWantedAdapter) -> list[NoticeEnvelope]:
    return translate(adapter, FIXTURE.read_bytes())[0]


def page() -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(FIXTURE.read_bytes())
    return data


def item(index: int) -> dict[str, Any]:
    found: dict[str, Any] = page()["items"][index]
    return found


def poster(index: int, **fields: Any) -> bytes:
    """One poster of the real page as a detail payload, some fields replaced (DROP: removed)."""
    changed = item(index) | fields
    return orjson.dumps({key: value for key, value in changed.items() if value is not DROP})


def one(adapter: FbiWantedAdapter, raw: bytes) -> tuple[NoticeEnvelope, TranslationContext]:
    notices, ctx = translate(adapter, raw)
    assert len(notices) == 1
    return notices[0], ctx


def wanted(notice: NoticeEnvelope) -> WantedPersonNotice:
    assert isinstance(notice.body, WantedPersonNotice)
    return notice.body


def bulletin(notice: NoticeEnvelope) -> IntelBulletin:
    assert isinstance(notice.body, IntelBulletin)
    return notice.body


def latin(full_name: str) -> Name:
    return Name(full_name=full_name, script="Latn")


def day(year: int, month: int, day: int) -> DateSpan:
    return DateSpan(earliest=PartialDate(year=year, month=month, day=day))


# The real list page


def test_every_poster_becomes_one_notice_in_order(page_notices: list[NoticeEnvelope]) -> None:
    assert [n.notice_id for n in page_notices] == [f"fbi-{uid}" for uid in UIDS]
    assert [n.source.original_id for n in page_notices] == UIDS


def test_what_each_poster_asks(page_notices: list[NoticeEnvelope]) -> None:
    asked = [getattr(n.body, "action_requested", None) for n in page_notices]
    types = [n.notice_type for n in page_notices]

    assert asked == ACTIONS
    assert types == [
        NoticeType.INTEL_BULLETIN if action is None else NoticeType.WANTED_PERSON
        for action in ACTIONS
    ]


def test_public_posters_are_unclassified_and_tlp_clear(
    page_notices: list[NoticeEnvelope],
) -> None:
    for notice, raw in zip(page_notices, page()["items"], strict=True):
        assert notice.originator == ORIGINATOR
        assert notice.classification == Classification(
            level=Level.UNCLASSIFIED,
            tlp=Tlp.CLEAR,
            national_marking="FBI public wanted poster (api.fbi.gov, unmarked)",
        )
        assert notice.source.model_dump() == {
            "format": FORMAT,
            "original_id": raw["uid"],
            "adapter": "fbi-wanted",
            "adapter_version": "1.0.0",
            "received_at": RECEIVED_AT,
            "sha256": hashlib.sha256(orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)).hexdigest(),
        }


def test_captured_fugitives_cancel_their_alert(page_notices: list[NoticeEnvelope]) -> None:
    lifecycle = [(n.msg_type, n.version, n.references) for n in page_notices]
    cancelled = {0: "b4dbb62605454cb48f49c084c3a3c928", 5: "530ad53b83ec4ae08afa44fbf38339a8"}

    for index, (msg_type, version, references) in enumerate(lifecycle):
        if index in cancelled:
            notice_id = f"fbi-{cancelled[index]}"
            assert (msg_type, version) == (MsgType.CANCEL, 2)
            assert references == [NoticeReference(notice_id=notice_id, version=1)]
        else:
            assert (msg_type, version, references) == (MsgType.ALERT, 1, [])


def test_issued_at_is_the_publication_in_washington_time_or_the_cancelling_change(
    page_notices: list[NoticeEnvelope],
) -> None:
    assert page_notices[0].issued_at == dt.datetime(2021, 7, 1, 12, 34, 38, tzinfo=dt.UTC)
    assert page_notices[1].issued_at == dt.datetime(2021, 6, 24, 18, 50, tzinfo=dt.UTC)  # EDT
    assert page_notices[14].issued_at == dt.datetime(2021, 1, 7, 15, 38, tzinfo=dt.UTC)  # EST


def test_a_captured_fugitive_in_full(page_notices: list[NoticeEnvelope]) -> None:
    body = wanted(page_notices[0])
    subject = body.subject

    assert subject.names == [latin("DEMARIO LAMAR COTTON")]
    assert subject.aliases == [
        Alias(name=latin("Kountry Kane")),
        Alias(name=latin("Demario Cotton")),
        Alias(name=latin("Demario L. Cotton")),
        Alias(name=latin("Big Kountry"), quality=AliasQuality.WEAK),
    ]
    assert subject.sex is Sex.MALE
    assert subject.dates_of_birth == [day(1982, 8, 17)]
    assert (subject.place_of_birth, subject.country_of_birth) == ("Mississippi", "US")
    assert subject.nationalities == ["US"]
    assert subject.identity_documents == [
        IdentityDocument(
            kind="OTHER",
            number="W774020147",
            issuing_country="US",
            note="FBI National Crime Information Center (NCIC) record number",
        )
    ]
    assert (subject.height_m, subject.weight_kg) == (1.88, 113.4)
    assert subject.languages == []
    assert subject.photos == [
        PhotoRef(uri="https://www.fbi.gov/wanted/additional/demario-lamar-cotton/@@images/image"),
        PhotoRef(uri="https://www.fbi.gov/wanted/additional/demario-lamar-cotton/cotton2.jpg"),
        PhotoRef(uri="https://www.fbi.gov/wanted/additional/demario-lamar-cotton/cotton3.jpg"),
    ]
    assert body.charges == [
        Charge(
            offence="Assaulting, Resisting or Impeding Federal Law Enforcement Officer, Who Was "
            "Engaged in the Performance of Official Duties, by Use of a Deadly Weapon",
            jurisdiction="US",
        ),
        Charge(
            offence="Using, Carrying, Discharging a Firearm During and In Relation to a Crime "
            "of Violence that is Assaulting, Resisting or Impeding Certain Officers",
            jurisdiction="US",
        ),
    ]
    assert body.warrant is None
    assert body.requesting_country == "US"
    assert body.caution_flags == ["ARMED", "DANGEROUS"]
    assert (body.last_seen, body.likely_destinations, body.related) == (None, [], [])
    assert subject.description == (
        "Hair: Black\nEyes: Brown\nRace: Black\nHeight: 74 inches\nWeight: 250 pounds\n"
        "Scars and marks: Cotton has several tattoos on his left arm along with the word THUG "
        "on his right hand and the word LIFE on his left hand.\n"
        "Warning: SHOULD BE CONSIDERED ARMED AND DANGEROUS\n"
        "FBI field offices: jackson\n"
        "Remarks: Cotton is a known member of the Gangster Disciples street gang.\n"
        "Caution: Demario Lamar Cotton is wanted for his alleged assault on a federal law "
        "enforcement officer by use of a deadly weapon in Jackson, Mississippi, on June 26, "
        "2021. On June 27, 2021, a federal arrest warrant was issued by the United States "
        "District Court for the Southern District of Mississippi, Jackson, Mississippi, after "
        "Cotton was charged with assaulting an FBI Special Agent.\n"
        "Reward: The FBI is offering a reward of up to $50,000 for information leading to the "
        "arrest and conviction of Demario Lamar Cotton.\n"
        "Categories: Additional Violent Crimes\n"
        "Poster: https://www.fbi.gov/wanted/additional/demario-lamar-cotton"
    )


def test_extremely_dangerous_is_also_dangerous(page_notices: list[NoticeEnvelope]) -> None:
    assert wanted(page_notices[1]).caution_flags == ["ARMED", "DANGEROUS", "EXTREMELY_DANGEROUS"]


def test_unidentified_remains_are_described_to_be_named(
    page_notices: list[NoticeEnvelope],
) -> None:
    body = wanted(page_notices[3])
    subject = body.subject

    assert body.action_requested is INFORM
    assert (subject.names, subject.sex, subject.dates_of_birth) == ([], Sex.MALE, [])
    assert (subject.height_m, subject.weight_kg) == (1.61, 51.3)
    assert subject.description is not None
    assert subject.description.splitlines()[:7] == [
        "Poster title: JOHN DOE - GREENBELT, MARYLAND",
        "Age: 15 to 25 years old",
        "Hair: Black",
        "Race: Black",
        "Height: 62 to 65 inches",
        "Weight: 106 to 120 pounds",
        "Case: Greenbelt, Maryland; August 3, 1981",
    ]
    assert body.charges == []


def test_a_missing_person_is_to_be_located_from_where_he_was_last_seen(
    page_notices: list[NoticeEnvelope],
) -> None:
    body = wanted(page_notices[4])

    assert body.action_requested is LOCATE
    assert body.subject.names == [latin("RANDY STEWART DORAN")]
    assert body.last_seen == LastSeen(
        date=PartialDate(year=1978, month=4, day=1), place="New Orleans, Louisiana", country="US"
    )
    assert body.charges == []
    assert body.subject.description is not None
    assert body.subject.description.startswith(
        "Poster title: RANDY STEWART DORAN - NEW ORLEANS, LOUISIANA\n"
        "Age: 22 (at time of disappearance)\nHair: Brown, Collar Length\nEyes: Blue /Hazel\n"
    )


def test_an_abducted_victim_is_to_be_located_abroad(page_notices: list[NoticeEnvelope]) -> None:
    body = wanted(page_notices[14])

    assert body.action_requested is LOCATE
    assert body.subject.names == [latin("CYDNEY MIZELL")]
    assert body.subject.sex is Sex.FEMALE
    assert body.subject.languages == ["en", "ps"]
    assert body.last_seen == LastSeen(
        date=PartialDate(year=2008, month=1), place="Kandahar City, Afghanistan", country="AF"
    )


def test_weight_comes_from_the_prose_when_the_numbers_disagree(
    page_notices: list[NoticeEnvelope],
) -> None:
    subject = wanted(page_notices[15]).subject  # "209 pounds (95 kilograms)", min 209, max 95

    assert subject.weight_kg == 94.8
    assert subject.height_m is None
    assert subject.nationalities == ["NZ"]
    assert subject.country_of_birth == "NZ"
    assert subject.aliases[-1] == Alias(name=latin("Mark"), quality=AliasQuality.WEAK)
    assert len(wanted(page_notices[15]).charges) == 5


def test_several_dates_of_birth_and_ranges(page_notices: list[NoticeEnvelope]) -> None:
    assert wanted(page_notices[16]).subject.dates_of_birth == [
        day(1997, 9, 28),
        day(1997, 9, 29),
    ]
    anderson = wanted(page_notices[12]).subject
    assert (anderson.height_m, anderson.weight_kg) == (1.66, 70.3)


def test_possible_countries_and_states_are_likely_destinations(
    page_notices: list[NoticeEnvelope],
) -> None:
    body = wanted(page_notices[19])

    assert body.likely_destinations == ["VE", "US"]
    assert body.subject.place_of_birth == "LaGuaira, Venezuela"
    assert body.subject.country_of_birth == "VE"
    assert body.subject.description is not None
    assert "Possible countries: VEN\nPossibly in: Florida (US-FL)\n" in body.subject.description


def test_an_appeal_about_an_event_is_a_bulletin(page_notices: list[NoticeEnvelope]) -> None:
    body = bulletin(page_notices[6])

    assert body.title == "HUMAN-CAUSED BRUSH FIRE"
    assert body.summary == "Warm Springs, Oregon\nJune 21, 2021"
    assert body.topics == ["Seeking Information", "Indian Country"]
    assert body.text == (
        "FBI field offices: portland\n"
        "Details: On June 21, 2021, at 8:41 pm, emergency crews responded to a brush fire on "
        "the Confederated Tribes of Warm Springs Reservation in Warm Springs, Oregon. The fire "
        "burned approximately 42 acres of brush and grass on the Fish Hatchery Grade between "
        "mile posts 13 and 14 on Highway 3. Investigators believe the fire was human caused.\n"
        "Reward: The FBI is offering a reward of up to $5,000 for information leading to the "
        "identification, arrest, and conviction of the person or people responsible for "
        "setting this fire.\n"
        "Categories: Seeking Information; Indian Country\n"
        "Poster: https://www.fbi.gov/wanted/seeking-info/human-caused-brush-fire\n"
        "Photos: https://www.fbi.gov/wanted/seeking-info/human-caused-brush-fire/@@images/image;"
        " https://www.fbi.gov/wanted/seeking-info/human-caused-brush-fire/warmspringsbrush2.jpg"
    )


def test_a_homicide_victim_is_never_a_wanted_person(page_notices: list[NoticeEnvelope]) -> None:
    """ROYCE PERRY, SR. is the 'Main' person of his poster: the man whose killer is sought."""
    body = bulletin(page_notices[10])

    assert body.title == "ROYCE PERRY, SR."
    assert body.text is not None
    assert body.text.startswith(
        "Sex: male\nDates of birth: 1973-11-11\nPlace of birth: Lander, Wyoming\n"
    )


def test_a_bulletin_keeps_what_the_poster_says_of_the_person(
    page_notices: list[NoticeEnvelope],
) -> None:
    text = bulletin(page_notices[13]).text

    assert text is not None
    assert text.startswith("Aliases: D-Street (weak); Deschene D. Darrell\n")
    suspects = bulletin(page_notices[9]).text
    assert suspects is not None
    assert (
        "Suspects: The suspect is described as a White male, weighing approximately 220 "
        "pounds, approximately 6'0\", with a muscular build. He also had a bald, shaved head.\n"
    ) in suspects


def test_the_real_page_leaves_no_field_unread(adapter: FbiWantedAdapter) -> None:
    _, ctx = translate(adapter, FIXTURE.read_bytes())

    assert ctx.unmapped == Counter()


def test_a_field_the_adapter_does_not_know_is_counted_where_it_is(
    adapter: FbiWantedAdapter,
) -> None:
    data = page()
    data["items"][3]["shoe_size"] = "44"
    data["items"][3]["images"][0]["license"] = "public domain"
    data["next"] = "page 2"

    _, ctx = translate(adapter, orjson.dumps(data))

    assert ctx.unmapped == Counter(
        ["$.items[3].shoe_size", "$.items[3].images[0].license", "$.next"]
    )


def test_a_detail_payload_is_one_poster_with_the_digest_it_has_on_a_page(
    adapter: FbiWantedAdapter, page_notices: list[NoticeEnvelope]
) -> None:
    notice, ctx = one(adapter, orjson.dumps(item(19), option=orjson.OPT_INDENT_2))

    assert notice == page_notices[19]
    assert ctx.unmapped == Counter()


def test_detect_claims_fbi_payloads_only(adapter: FbiWantedAdapter) -> None:
    assert adapter.detect(FIXTURE.read_bytes()[:65536])
    assert adapter.detect(poster(3))
    assert not adapter.detect(INTERPOL_FIXTURE.read_bytes()[:65536])
    assert not adapter.detect(b'{"uid": "x", "title": "X"}')


# Lifecycle and what a poster becomes


@pytest.mark.parametrize("status", ["captured", "surrendered", "located", "recovered", "deceased"])
def test_every_ended_request_cancels(adapter: FbiWantedAdapter, status: str) -> None:
    notice, _ = one(adapter, poster(1, status=status.upper()))

    assert (notice.msg_type, notice.version) == (MsgType.CANCEL, 2)
    assert notice.references == [NoticeReference(notice_id=f"fbi-{UIDS[1]}", version=1)]
    assert notice.issued_at == dt.datetime(2021, 6, 30, 16, 54, 8, tzinfo=dt.UTC)


def test_an_unknown_status_keeps_the_alert_and_is_counted(adapter: FbiWantedAdapter) -> None:
    notice, ctx = one(adapter, poster(1, status="escaped"))

    assert (notice.msg_type, notice.version) == (MsgType.ALERT, 1)
    assert ctx.unmapped == Counter(["$.status=escaped"])


@pytest.mark.parametrize("absent", [None, "", DROP])
def test_without_status_or_dates_a_poster_is_an_alert_issued_when_received(
    adapter: FbiWantedAdapter, absent: Any
) -> None:
    raw = poster(1, status=absent, publication=absent, modified=absent)
    notice, _ = one(adapter, raw)

    assert (notice.msg_type, notice.issued_at) == (MsgType.ALERT, RECEIVED_AT)


def test_a_victim_on_a_fugitive_poster_becomes_a_bulletin(adapter: FbiWantedAdapter) -> None:
    notice, ctx = one(adapter, poster(12, person_classification="Victim"))

    assert bulletin(notice).title == "DEVONTAY DAVOUCCI ANDERSON"
    assert ctx.unmapped == Counter()


def test_an_unknown_role_is_never_arrested(adapter: FbiWantedAdapter) -> None:
    notice, ctx = one(adapter, poster(12, person_classification="Witness"))

    assert notice.notice_type is NoticeType.INTEL_BULLETIN
    assert ctx.unmapped == Counter(["$.person_classification=Witness"])


def test_an_accomplice_is_wanted_like_the_main_person(adapter: FbiWantedAdapter) -> None:
    notice, _ = one(adapter, poster(12, person_classification="Accomplice"))

    assert wanted(notice).action_requested is ARREST


@pytest.mark.parametrize(
    ("fields", "action", "unmapped"),
    [
        ({"path": "/wanted/topten/x"}, ARREST, []),
        ({"path": "/wanted/vicap/unidentified-persons/x"}, INFORM, []),
        ({"path": "/wanted/ecap/x"}, INFORM, []),
        ({"path": "/wanted/kidnap/x", "poster_classification": "kidnapping"}, LOCATE, []),
        (
            {"path": "/wanted/newsection/x", "poster_classification": "missing"},
            LOCATE,
            ["$.path=newsection"],
        ),
        (
            {"path": "/wanted/newsection/x", "poster_classification": "brand-new"},
            ARREST,  # subjects: Violent Crime - Murders
            ["$.path=newsection", "$.poster_classification=brand-new"],
        ),
        (
            {"path": DROP, "subjects": ["Case of the Week", "ViCAP Missing Persons"]},
            LOCATE,
            [],
        ),
        ({"path": DROP, "subjects": ["Case of the Week"]}, None, []),
        ({"path": "/wanted/seeking-info/x"}, None, []),
    ],
)
def test_what_a_poster_becomes_comes_from_its_section_then_classification_then_subjects(
    adapter: FbiWantedAdapter,
    fields: dict[str, Any],
    action: RequestedAction | None,
    unmapped: list[str],
) -> None:
    notice, ctx = one(adapter, poster(12, **fields))

    assert getattr(notice.body, "action_requested", None) is action
    assert ctx.unmapped == Counter(unmapped)


# Field rules


@pytest.mark.parametrize(
    ("title", "names", "nicknames", "poster_title"),
    [
        ('JOSE "PEPE" GARCIA', ["JOSE GARCIA"], ["PEPE"], True),
        ("JOHN DOE 45", [], [], True),
        ("UNKNOWN SUSPECT", [], [], True),
        ("JANE DOE - CATOCTIN MOUNTAIN PARK", [], [], True),
        ("ROSALES-CASTILLO", ["ROSALES-CASTILLO"], [], False),
        ("ROYCE PERRY, SR.", ["ROYCE PERRY, SR."], [], False),
    ],
)
def test_names_from_titles(
    adapter: FbiWantedAdapter,
    title: str,
    names: list[str],
    nicknames: list[str],
    poster_title: bool,
) -> None:
    notice, _ = one(adapter, poster(12, title=title, aliases=None))
    subject = wanted(notice).subject

    assert subject.names == [latin(name) for name in names]
    assert subject.aliases == [
        Alias(name=latin(nick), quality=AliasQuality.WEAK) for nick in nicknames
    ]
    assert subject.description is not None
    assert subject.description.startswith(f"Poster title: {title}\n") is poster_title


def test_aliases_split_nicknames_and_drop_repeats(adapter: FbiWantedAdapter) -> None:
    aliases = ['"D-Street," Deschene D. Darrell', "“Dee”", "Dee", "devontay davoucci anderson"]
    notice, _ = one(adapter, poster(12, aliases=aliases))

    assert wanted(notice).subject.aliases == [
        Alias(name=latin("D-Street"), quality=AliasQuality.WEAK),
        Alias(name=latin("Deschene D. Darrell")),
        Alias(name=latin("Dee"), quality=AliasQuality.WEAK),
    ]


def test_an_alias_in_another_script_says_so(adapter: FbiWantedAdapter) -> None:
    notice, _ = one(adapter, poster(12, aliases=["عبد الله", "Иван Петров", "Ivan Петров"]))

    assert [a.name.script for a in wanted(notice).subject.aliases] == ["Arab", "Cyrl", None]


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["1966"], [DateSpan(earliest=PartialDate(year=1966))]),
        (["Approximately 1962"], [DateSpan(earliest=PartialDate(year=1962, approximate=True))]),
        (["June 1, 1966, August 5, 1967"], [day(1966, 6, 1), day(1967, 8, 5)]),
        (
            ["June 1966; 1967 or 1968"],
            [
                DateSpan(earliest=PartialDate(year=1966, month=6)),
                DateSpan(earliest=PartialDate(year=1967)),
                DateSpan(earliest=PartialDate(year=1968)),
            ],
        ),
        (
            ["1960 to 1965"],
            [DateSpan(earliest=PartialDate(year=1960), latest=PartialDate(year=1965))],
        ),
        (["May 24, 1999", "May 24, 1999", "Unknown", ""], [day(1999, 5, 24)]),
    ],
)
def test_dates_of_birth_as_english_prose(
    adapter: FbiWantedAdapter, dates: list[str], expected: list[DateSpan]
) -> None:
    notice, _ = one(adapter, poster(12, dates_of_birth_used=dates))

    assert wanted(notice).subject.dates_of_birth == expected


@pytest.mark.parametrize(
    ("text", "low", "high", "kilograms"),
    [
        ("Approximately 180 to 190 pounds", None, None, 83.9),
        ("95 kilograms", None, None, 95.0),
        ("160-180 lbs", 160, 180, 77.1),
        (None, 150, 160, 70.3),
        (None, 150, None, 68.0),
        (None, 0, 0, None),
    ],
)
def test_weight_in_kilograms(
    adapter: FbiWantedAdapter,
    text: str | None,
    low: int | None,
    high: int | None,
    kilograms: float | None,
) -> None:
    notice, ctx = one(adapter, poster(12, weight=text, weight_min=low, weight_max=high))

    assert wanted(notice).subject.weight_kg == kilograms
    assert ctx.unmapped == Counter()


def test_weight_prose_without_a_number_is_kept_counted_and_the_numbers_used(
    adapter: FbiWantedAdapter,
) -> None:
    notice, ctx = one(adapter, poster(12, weight="Heavy build"))  # weight_min/max 150/160

    assert wanted(notice).subject.weight_kg == 70.3
    assert "Weight: Heavy build" in (wanted(notice).subject.description or "")
    assert ctx.unmapped == Counter(["$.weight=Heavy build"])


@pytest.mark.parametrize(
    ("nationality", "codes", "unmapped"),
    [
        ("Mexican/American", ["MX", "US"], []),
        ("American and Canadian", ["US", "CA"], []),
        ("United States", ["US"], []),
        ("Congolese", [], ["$.nationality=Congolese"]),
        ("Unknown", [], []),
    ],
)
def test_nationalities_from_demonyms(
    adapter: FbiWantedAdapter, nationality: str, codes: list[str], unmapped: list[str]
) -> None:
    notice, ctx = one(adapter, poster(12, nationality=nationality))

    assert wanted(notice).subject.nationalities == codes
    assert ctx.unmapped == Counter(unmapped)


@pytest.mark.parametrize(
    ("place", "country", "unmapped"),
    [
        ("Lander, Wyoming", "US", []),
        ("Mexico City, Mexico", "MX", []),
        ("Atlanta, Georgia", None, []),  # a state and a country: no guess
        ("Atlantis", None, ["$.place_of_birth=Atlantis"]),
    ],
)
def test_country_of_birth(
    adapter: FbiWantedAdapter, place: str, country: str | None, unmapped: list[str]
) -> None:
    notice, ctx = one(adapter, poster(12, place_of_birth=place))

    assert wanted(notice).subject.country_of_birth == country
    assert ctx.unmapped == Counter(unmapped)


def test_languages_and_unknown_codes(adapter: FbiWantedAdapter) -> None:
    languages = ["English", "Haitian Creole", "French-Based Creoles and Pidgins", "Klingonese"]
    notice, ctx = one(adapter, poster(12, languages=languages, possible_states=["US-ZZ"]))

    assert wanted(notice).subject.languages == ["en", "ht", "cpf", "Klingonese"]
    assert ctx.unmapped == Counter(["$.languages[3]=Klingonese", "$.possible_states[0]=US-ZZ"])


@pytest.mark.parametrize(
    ("warning", "flags"),
    [
        ("SHOULD BE CONSIDERED AN ESCAPE RISK", ["ESCAPE_RISK"]),
        (
            "Should be considered armed, dangerous and suicidal",
            ["ARMED", "DANGEROUS", "SUICIDE_RISK"],
        ),
    ],
)
def test_caution_flags(adapter: FbiWantedAdapter, warning: str, flags: list[str]) -> None:
    notice, _ = one(adapter, poster(12, warning_message=warning))

    assert wanted(notice).caution_flags == flags


def test_an_unknown_warning_is_kept_and_counted(adapter: FbiWantedAdapter) -> None:
    notice, ctx = one(adapter, poster(12, warning_message="MAY CARRY A KNIFE"))

    assert wanted(notice).caution_flags == []
    assert "Warning: MAY CARRY A KNIFE" in (wanted(notice).subject.description or "")
    assert ctx.unmapped == Counter(["$.warning_message=MAY CARRY A KNIFE"])


def test_html_is_read_as_text_and_poster_links_become_related_people(
    adapter: FbiWantedAdapter,
) -> None:
    details = (
        '<p>Hansel was picked up by his father, <a data-urltype="/view" href="https://www.fbi'
        '.gov/wanted/parental-kidnappings/felipe-de-jesus-quiroz-jimenez">Felipe De Jesus\r\n'
        "Quiroz-Jimenez</a>, for a visit&nbsp;&amp; never returned.\u00a0"
        'See <a href="https://example.org/news">the news</a>.</p>\r\n<p>\u200b</p>'
    )
    notice, _ = one(adapter, poster(4, details=details))
    body = wanted(notice)

    assert body.related == [
        RelatedEntity(
            kind="person",
            name="Felipe De Jesus Quiroz-Jimenez",
            ref="https://www.fbi.gov/wanted/parental-kidnappings/felipe-de-jesus-quiroz-jimenez",
        )
    ]
    assert (
        "Details: Hansel was picked up by his father, Felipe De Jesus Quiroz-Jimenez, for a "
        "visit & never returned. See the news.\n"
    ) in (body.subject.description or "")


def test_suspects_given_as_a_list(adapter: FbiWantedAdapter) -> None:
    notice, _ = one(adapter, poster(9, suspects=["<p>A tall man</p>", "A woman"]))

    assert "Suspects: A tall man; A woman\n" in (bulletin(notice).text or "")


def test_coordinates_and_locations_are_places(adapter: FbiWantedAdapter) -> None:
    coordinates = [{"lat": 25.76, "lng": -80.19, "formatted": "Miami, Florida"}]
    notice, ctx = one(adapter, poster(12, locations=["Chicago"], coordinates=coordinates))

    assert "Locations: Chicago; Miami, Florida\n" in (wanted(notice).subject.description or "")
    assert ctx.unmapped == Counter()


# Malformed payloads


def test_invalid_json_is_placed_by_line_and_column(adapter: FbiWantedAdapter) -> None:
    error = failure(adapter, b'{\n  "items": [\n    {"uid": }\n  ]\n}')

    assert error.format == FORMAT
    assert error.where == "line 3 column 13"
    assert error.reason.startswith("invalid JSON: ")


def test_bytes_that_are_not_utf8_are_placed(adapter: FbiWantedAdapter) -> None:
    error = failure(adapter, b'{"items": [\n{"title": "M\xdcLLER"}]}')

    assert error.where == "line 2 column 13"
    assert "not UTF-8" in error.reason


@pytest.mark.parametrize(
    ("payload", "where", "why"),
    [
        ({"total": 0}, "$", "found an object with keys total"),
        ([{"uid": "x"}], "$", "found an array"),
        ({"items": {"uid": "x"}}, "$.items", "expected an array of objects, found an object"),
        ({"items": [item(0), "poster"]}, "$.items[1]", "expected an object, found a string"),
    ],
)
def test_payload_shapes(adapter: FbiWantedAdapter, payload: Any, where: str, why: str) -> None:
    error = failure(adapter, orjson.dumps(payload))

    assert error.where == where
    assert why in error.reason


def test_an_empty_page_has_no_notices(adapter: FbiWantedAdapter) -> None:
    assert translate(adapter, b'{"total": 0, "items": [], "page": 5}')[0] == []


@pytest.mark.parametrize(
    ("fields", "where", "why"),
    [
        ({"uid": None}, "$.uid", "missing or empty"),
        ({"uid": "../etc/passwd"}, "$.uid", "is not an FBI poster uid"),
        ({"title": " "}, "$.title", "missing or empty"),
        ({"sex": 1}, "$.sex", "expected a string, found a number"),
        ({"aliases": "Big Kountry"}, "$.aliases", "expected an array of strings"),
        ({"height_min": "74"}, "$.height_min", "expected a number, found a string"),
        ({"images": [["x"]]}, "$.images[0]", "expected an object, found an array"),
        ({"publication": "June 28, 2021"}, "$.publication", "is not an ISO 8601 date"),
        ({"modified": "9999-12-31T23:00:00-05:00"}, "$.modified", "is not an ISO 8601 date"),
        ({"dates_of_birth_used": ["1982", "Summer 1982"]}, "$.dates_of_birth_used[1]", "Summer"),
        ({"caution": "<p>" + "<b>" * 300 + "x"}, "$.caution", "unreadable HTML: Excessive depth"),
    ],
)
def test_faults_are_placed(
    adapter: FbiWantedAdapter, fields: dict[str, Any], where: str, why: str
) -> None:
    data = page()
    data["items"][7] = item(0) | fields
    error = failure(adapter, orjson.dumps(data))

    assert error.where == f"$.items[7]{where[1:]}"
    assert why in error.reason


def test_a_fault_anywhere_yields_nothing(adapter: FbiWantedAdapter) -> None:
    """The whole payload goes to the dead-letter topic, so none of it may be published."""
    data = page()
    data["items"][-1]["dates_of_birth_used"] = ["February 30, 1966"]

    with pytest.raises(TranslationError):
        adapter.translate(context(orjson.dumps(data)))


# The mapping tables


def test_mapping_tables_reject_unknown_tables_and_bad_values() -> None:
    tables = mapping_tables("fbi", FbiMapping)

    with pytest.raises(ValidationError, match=r"statuses\.na"):
        FbiMapping.model_validate(tables | {"statuses": {"na": "OPEN"}})
    with pytest.raises(ValidationError, match="not a regular expression"):
        FbiMapping.model_validate(tables | {"unnamed_titles": ["(JOHN"]})
    with pytest.raises(ValidationError, match="no time zone"):
        FbiMapping.model_validate(tables | {"publication_time_zone": "America/Atlantis"})


# Fuzzing: mutated real pages either translate or fail with a located TranslationError

MARKUP = st.text(alphabet="<>/!?-[]&#;=\"' abpx\u00a0\x00\r\n", max_size=300)
FIXTURE_ITEMS: list[dict[str, Any]] = orjson.loads(FIXTURE.read_bytes())["items"]


@st.composite
def mutated_posters(draw: st.DrawFn) -> bytes:
    """The real page with one field of one poster replaced, added or changed inside."""
    data: dict[str, Any] = orjson.loads(FIXTURE.read_bytes())
    target = data["items"][draw(st.integers(0, len(FIXTURE_ITEMS) - 1))]
    how = draw(st.sampled_from(["value", "inner", "markup", "prose"]))
    if how == "inner":
        key = draw(st.sampled_from([k for k, v in sorted(target.items()) if v]))
        value = target[key]
        if isinstance(value, list):
            value[draw(st.integers(0, len(value) - 1))] = draw(JSON_VALUES)
        elif isinstance(value, dict):
            value[draw(st.sampled_from(sorted(value)))] = draw(JSON_VALUES)
        else:
            target[key] = [value, draw(JSON_VALUES)]
    else:
        key = draw(st.sampled_from([*sorted(target), "a_field_nobody_maps"]))
        target[key] = draw(
            {"value": JSON_VALUES, "markup": MARKUP, "prose": st.text(max_size=200)}[how]
        )
    return orjson.dumps(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=mutated_posters() | damaged_json(FIXTURE.read_bytes()))
def test_mutated_pages_translate_or_fail_with_a_place(raw: bytes) -> None:
    started = time.monotonic()
    notices_or_placed_error(FbiWantedAdapter(), context(raw))
    assert time.monotonic() - started < 10
