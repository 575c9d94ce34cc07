"""The CAP adapter on the CAP 1.2 specification's examples and real NWS and Environment Canada
alerts (read from shared/fixtures, never copied here), and on variants of them made in the
tests: other scopes, lifecycles, encodings, a signature, wrappers and faults. Pure: no Kafka.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from adapters.cap import CapAdapter
from adapters.cap.tables import CapMapping
from adapters.cap.translate import translate as translate_with
from adapters.interpol import InterpolAdapter
from adapters.lookups import load_mapping
from adapters.registry import AdapterRegistry
from broker.errors import TranslationError, UnknownMarking
from broker.models import (
    Classification,
    DateSpan,
    Indicator,
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
    PersonSubject,
    PhotoRef,
    RelatedEntity,
    RequestedAction,
    Sex,
    ThreatLevel,
    Tlp,
    WantedPersonNotice,
)
from broker.schema_catalog import SchemaCatalog
from broker.serde import NoticeSerde
from broker.translation import DeadLetter, translate_record
from tests.adapter_helpers import Feed, damaged_xml, notices_or_placed_error
from tests.conftest import FIXTURES

ALERTS = FIXTURES / "alerts"
A1 = "cap12_v1dot2_appendix_adot1.xml"
A2 = "cap12_v1dot2_appendix_adot2.xml"
A3 = "cap12_v1dot2_appendix_adot3.xml"
A4 = "cap12_v1dot2_appendix_adot4.xml"
NWS = "cap12_nws-5c2cf27b1f56885d61654dc47fa411d5.xml"
CANADA = "cap12_canada_ec_update_bilingual.cap"
FIXTURE_FILES = [A1, A2, A3, A4, NWS, CANADA]
FORMAT = "cap-1.2-xml"
ORIGINATOR = Originator(agency_id="us-fema", country="US")
RECEIVED_AT = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)
FEED = Feed(FORMAT, ORIGINATOR, RECEIVED_AT)
context, translate, failure = FEED.context, FEED.translate, FEED.failure
PUBLIC = Classification(
    level=Level.UNCLASSIFIED, tlp=Tlp.CLEAR, national_marking="CAP scope Public"
)
SIGNATURE = (
    '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>'
    '<CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
    '<Reference URI=""><DigestValue>Hii1ETfoubLyO2l54F3jt7a7g5whJ7GXHM4VMwcO96M=</DigestValue>'
    "</Reference></SignedInfo><SignatureValue>Xh25o/ljLm2QiA2U==</SignatureValue></Signature>"
)


def tz(hours: int) -> dt.timezone:
    return dt.timezone(dt.timedelta(hours=hours))


@pytest.fixture(scope="module")
def adapter() -> CapAdapter:
    return CapAdapter()


def raw_fixture(name: str) -> bytes:
    return (ALERTS / name).read_bytes()


def fixture_text(name: str) -> str:
    return raw_fixture(name).decode("utf-8")


def changed(name: str, *replacements: tuple[str, str]) -> bytes:
    """The fixture with each (old, new) replaced once; a missing ``old`` fails the test."""
    text = fixture_text(name)
    for old, new in replacements:
        assert old in text, f"{old!r} is not in {name}"
        text = text.replace(old, new, 1)
    return text.encode("utf-8")


def only(adapter: CapAdapter, raw: bytes) -> NoticeEnvelope:
    notices, ctx = translate(adapter, raw)
    assert len(notices) == 1
    assert ctx.unmapped == Counter()
    return notices[0]


def bulletin(notice: NoticeEnvelope) -> IntelBulletin:
    assert isinstance(notice.body, IntelBulletin)
    return notice.body


def wanted(notice: NoticeEnvelope) -> WantedPersonNotice:
    assert isinstance(notice.body, WantedPersonNotice)
    return notice.body


def mapping_with(**tables: Any) -> CapMapping:
    base = load_mapping("adapters.cap", "mapping.yml", CapMapping)
    return CapMapping.model_validate(base.model_dump() | tables)


# Every fixture


@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_each_fixture_is_one_public_notice_with_nothing_unread(
    adapter: CapAdapter, name: str
) -> None:
    raw = raw_fixture(name)
    notices, ctx = translate(adapter, raw)

    assert len(notices) == 1
    notice = notices[0]
    assert ctx.unmapped == Counter()
    assert notice.classification == PUBLIC
    assert notice.originator == ORIGINATOR
    assert notice.not_before is None
    assert notice.source.model_dump() == {
        "format": FORMAT,
        "original_id": notice.source.original_id,
        "adapter": "cap",
        "adapter_version": "1.0.0",
        "received_at": RECEIVED_AT,
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    assert adapter.detect(raw[:65536])


def test_fixture_notices_survive_the_wire(adapter: CapAdapter) -> None:
    serde = NoticeSerde(SchemaCatalog.from_directory())

    for name in FIXTURE_FILES:
        notice = only(adapter, raw_fixture(name))
        assert serde.decode(serde.encode(notice)) == notice


def test_the_hub_error_boundary_dead_letters_an_unknown_marking_and_skips_an_ack(
    adapter: CapAdapter,
) -> None:
    registry = AdapterRegistry([adapter])
    restricted = changed(
        A1,
        (
            "<scope>Public</scope>",
            "<scope>Restricted</scope><restriction>Kirkwood duty roster only</restriction>",
        ),
    )
    ack = changed(A1, ("<msgType>Alert</msgType>", "<msgType>Ack</msgType>"))

    assert translate_record(registry, context(restricted)) == DeadLetter(
        "UnknownMarking",
        "//alert[1]/restriction[1] (line 8)",
        "unknown marking: CAP restriction 'Kirkwood duty roster only'",
    )
    assert translate_record(registry, context(ack)) == []


def test_appendix_a1_homeland_security_advisory_is_a_bulletin(adapter: CapAdapter) -> None:
    notice = only(adapter, raw_fixture(A1))

    assert notice.notice_id == "cap-hsas@dhs.gov,43b080713727"
    assert (notice.version, notice.msg_type, notice.references) == (1, MsgType.ALERT, [])
    assert notice.notice_type is NoticeType.INTEL_BULLETIN
    assert notice.issued_at == dt.datetime(2003, 4, 2, 14, 39, 1, tzinfo=tz(-5))
    assert notice.expires_at is None
    assert notice.source.original_id == "hsas@dhs.gov,43b080713727,2003-04-02T14:39:01-05:00"
    assert notice.body == IntelBulletin(
        title="Homeland Security Sets Code ORANGE",
        summary="The Department of Homeland Security has elevated the Homeland Security Advisory\n"
        "System threat level to ORANGE / High in response to intelligence which may indicate a "
        "heightened\nthreat of terrorism.",
        text="A High Condition is declared when there is a high risk of terrorist attacks. In\n"
        "addition to the Protective Measures taken in the previous Threat Conditions, Federal "
        "departments\nand agencies should consider agency-specific Protective Measures in "
        "accordance with their\nexisting plans.\n\n"
        "Web: http://www.dhs.gov/dhspublic/display?theme=29",
        threat_level=ThreatLevel.SEVERE,
        topics=["security", "Homeland Security Advisory System Update"],
        indicators=[Indicator(kind="x-cap-parameter", value="ORANGE", description="HSAS")],
        related_entities=[
            RelatedEntity(
                kind="organisation",
                name="U.S. Government, Department of Homeland Security",
                ref="hsas@dhs.gov",
            ),
            RelatedEntity(kind="area", name="U.S. nationwide and interests worldwide"),
            RelatedEntity(
                kind="resource",
                name="Image file (GIF)",
                ref="http://www.dhs.gov/dhspublic/getAdvisoryImage",
            ),
        ],
        information_credibility=2,
        valid_from=dt.datetime(2003, 4, 2, 14, 39, 1, tzinfo=tz(-5)),
    )


def test_appendix_a2_thunderstorm_warning_expires_and_names_its_counties(
    adapter: CapAdapter,
) -> None:
    notice = only(adapter, raw_fixture(A2))
    body = bulletin(notice)

    expires = dt.datetime(2003, 6, 17, 16, 0, tzinfo=tz(-7))
    assert notice.notice_id == "cap-ksto@nws.noaa.gov,KSTO1055887203"
    assert notice.expires_at == expires
    assert (body.valid_from, body.valid_until) == (notice.issued_at, expires)
    assert body.title == "SEVERE THUNDERSTORM WARNING"
    assert body.text == (
        "TAKE COVER IN A SUBSTANTIAL SHELTER UNTIL THE STORM PASSES.\n\n"
        "Response: Shelter\nContact: BARUFFALDI/JUSKIE"
    )
    assert body.threat_level is ThreatLevel.SEVERE
    assert body.information_credibility == 1
    assert body.topics == ["meteorological", "SEVERE THUNDERSTORM", "SAME=SVR"]
    counties = (
        "EXTREME NORTH CENTRAL TUOLUMNE COUNTY IN CALIFORNIA, EXTREME NORTHEASTERN CALAVERAS "
        "COUNTY IN CALIFORNIA, SOUTHWESTERN ALPINE COUNTY IN CALIFORNIA"
    )
    assert body.related_entities == [
        RelatedEntity(
            kind="organisation",
            name="NATIONAL WEATHER SERVICE SACRAMENTO CA",
            ref="KSTO@NWS.NOAA.GOV",
        ),
        RelatedEntity(kind="area", name=counties, ref="SAME=006109"),
        RelatedEntity(kind="area", name=counties, ref="SAME=006009"),
        RelatedEntity(kind="area", name=counties, ref="SAME=006003"),
    ]


def test_appendix_a3_update_follows_the_earthquake_alert_it_references(
    adapter: CapAdapter,
) -> None:
    notice = only(adapter, raw_fixture(A3))
    body = bulletin(notice)

    assert notice.notice_id == "cap-trinet@caltech.edu,TRI13970876.1"
    assert (notice.version, notice.msg_type) == (2, MsgType.UPDATE)
    assert notice.references == [
        NoticeReference(notice_id="cap-trinet@caltech.edu,TRI13970876.1", version=1)
    ]
    assert notice.source.original_id == "trinet@caltech.edu,TRI13970876.2,2003-06-11T20:56:00-07:00"
    assert body.title == "EQ 3.4 Imperial County CA"
    assert body.threat_level is ThreatLevel.LOW  # Minor, and Past
    assert body.topics == ["geophysical", "Earthquake"]
    assert body.indicators == [
        Indicator(kind="x-cap-parameter", value="13970876", description="EventID"),
        Indicator(kind="x-cap-parameter", value="1", description="Version"),
        Indicator(kind="x-cap-parameter", value="3.4 Ml", description="Magnitude"),
        Indicator(kind="x-cap-parameter", value="11.8 mi.", description="Depth"),
        Indicator(kind="x-cap-parameter", value="Excellent", description="Quality"),
    ]
    assert body.related_entities[1] == RelatedEntity(
        kind="area",
        name="1 mi. WSW of Brawley, CA; 11 mi. N of El Centro, CA; 30 mi. E of OCOTILLO (quarry); "
        "1 mi. N of the Imperial Fault",
    )
    assert body.text == "Web: http://www.trinet.org/scsn/scsn.html"


def test_appendix_a4_amber_alert_asks_to_locate_the_child(adapter: CapAdapter) -> None:
    notice = only(adapter, raw_fixture(A4))

    assert notice.notice_id == "cap-karo@clets.doj.ca.gov,KAR0-0306112239-SW"
    assert notice.notice_type is NoticeType.WANTED_PERSON
    assert notice.issued_at == dt.datetime(2003, 6, 11, 22, 39, tzinfo=tz(-7))
    assert notice.body == WantedPersonNotice(
        subject=PersonSubject(
            names=[Name(full_name="KHAYRI DOE JR.", script="Latn")],
            sex=Sex.MALE,
            dates_of_birth=[DateSpan(earliest=PartialDate(year=2001, month=6, day=24))],
            height_m=0.91,
            weight_kg=18.1,
            description="Amber Alert in Los Angeles County\n\n"
            "DATE/TIME: 06/11/03, 1915 HRS. VICTIM(S): KHAYRI DOE JR. M/B BLK/BRO 3'0\", 40\n"
            "LBS. LIGHT COMPLEXION. DOB 06/24/01. WEARING RED SHORTS, WHITE T-SHIRT, W/BLUE "
            "COLLAR.\nLOCATION: 5721 DOE ST., LOS ANGELES, CA. SUSPECT(S): KHAYRI DOE SR. DOB "
            "04/18/71 M/B, BLK HAIR,\nBRO EYE. VEHICLE: 81' BUICK 2-DR, BLUE (4XXX000).\n\n"
            "Contact: DET. SMITH, 77TH DIV, LOS ANGELES POLICE DEPT-LAPD AT 213 485-2389\n"
            "Source: SW\n\n"
            "[es-US] Alerta Amber en el condado de Los Ángeles\n"
            "DATE/TIME: 06/11/03, 1915 HORAS. VÍCTIMAS: KHAYRI DOE JR. M/B BLK/BRO 3'0\", 40\n"
            "LIBRAS. TEZ LIGERA. DOB 06/24/01. CORTOCIRCUITOS ROJOS QUE USAN, CAMISETA BLANCA, "
            "COLLAR DE\nW/BLUE. LOCALIZACIÓN: 5721 DOE ST., LOS ÁNGELES. SOSPECHOSO: KHAYRI DOE "
            "ST. DOB 04/18/71 M/B,\nPELO DEL NEGRO, OJO DE BRO. VEHÍCULO: 81' BUICK 2-DR, AZUL "
            "(4XXX000)",
        ),
        last_seen=LastSeen(
            date=PartialDate(year=2003, month=6, day=11), place="5721 DOE ST., LOS ANGELES, CA"
        ),
        related=[
            RelatedEntity(kind="suspect", name="KHAYRI DOE SR."),
            RelatedEntity(kind="vehicle", name="81' BUICK 2-DR, BLUE (4XXX000)"),
            RelatedEntity(
                kind="organisation",
                name="Los Angeles Police Dept - LAPD",
                ref="KARO@CLETS.DOJ.CA.GOV",
            ),
            RelatedEntity(kind="area", name="Los Angeles County", ref="SAME=006037"),
        ],
        action_requested=RequestedAction.LOCATE,
    )


def test_nws_blizzard_warning_parameters_become_indicators(adapter: CapAdapter) -> None:
    notice = only(adapter, raw_fixture(NWS))
    body = bulletin(notice)

    assert notice.notice_id == (
        "cap-w-nws.webmaster@noaa.gov,NOAA-NWS-ALERTS-MN1261CB03F0E0.BlizzardWarning."
        "1261CB10BF00MN.DLHWSWDLH.5c2cf27b1f56885d61654dc47fa411d5"
    )
    assert notice.issued_at == dt.datetime(2021, 12, 27, 10, 8, tzinfo=tz(-6))
    assert notice.expires_at == dt.datetime(2021, 12, 27, 18, 0, tzinfo=tz(-6))
    # WMOHEADER and TIME...MOT...LOC are sent empty: nothing to search for.
    assert body.indicators == [
        Indicator(kind="x-cap-parameter", value="MNZ020-021", description="UGC"),
        Indicator(
            kind="x-cap-parameter",
            value="/O.CON.KDLH.BZ.W.0002.000000T0000Z-211228T0000Z/",
            description="VTEC",
        ),
    ]
    assert body.title == (
        "Blizzard Warning issued December 27 at 10:08AM CST until December 27 at 6:00PM CST by "
        "NWS Duluth"
    )
    assert body.summary is not None
    assert body.summary.splitlines()[:3] == [
        "...BLIZZARD WARNING REMAINS IN EFFECT UNTIL 6 PM CST THIS",
        "EVENING...",
        "* WHAT...Blizzard conditions. Additional snow accumulations of 8",
    ]
    assert body.text is not None
    assert body.text.endswith(
        "511wi.gov for Wisconsin.\n\nNote: Alert for Southern Cook, North Shore; Southern Lake, "
        "North Shore (Minnesota) Issued by the National Weather Service"
    )
    assert (body.threat_level, body.information_credibility) == (ThreatLevel.SEVERE, 2)
    assert body.topics == ["meteorological", "Blizzard Warning", "SAME=BZW"]
    area = "Southern Cook, North Shore; Southern Lake, North Shore"
    assert [(e.kind, e.name, e.ref) for e in body.related_entities[1:]] == [
        ("area", area, "FIPS6=027031"),
        ("area", area, "FIPS6=027075"),
        ("area", area, "UGC=MNZ020"),
        ("area", area, "UGC=MNZ021"),
    ]
    assert (body.valid_from, body.valid_until) == (notice.issued_at, notice.expires_at)


def test_canada_bilingual_update_references_both_earlier_messages(adapter: CapAdapter) -> None:
    notice = only(adapter, raw_fixture(CANADA))
    body = bulletin(notice)

    first = "cap-cap@ec.gc.ca,2.49.0.1.124.a3f342a4.2012"
    assert notice.notice_id == first
    assert (notice.version, notice.msg_type) == (3, MsgType.UPDATE)
    assert notice.references == [
        NoticeReference(notice_id=first, version=1),
        NoticeReference(notice_id=first, version=2),
    ]
    assert notice.source.original_id == (
        "cap@ec.gc.ca,2.49.0.1.124.6bddbc91.2012,2012-05-02T23:21:04-00:00"
    )
    assert notice.issued_at == dt.datetime(2012, 5, 2, 23, 21, 4, tzinfo=dt.UTC)
    assert notice.expires_at == dt.datetime(2012, 5, 3, 0, 20, tzinfo=dt.UTC)
    # English first, French kept in the text and its event among the topics.
    assert body.title == "severe thunderstorm watch"
    assert body.summary == (
        "This is a test - this CAP message was created for testing and evaluation purposes only."
    )
    assert body.text == (
        "Monitor local conditions and take appropriate precautions\n\n"
        "Response: AllClear\n"
        "Audience: General Public\n"
        "Web: http://www.weatheroffice.gc.ca/warnings/warnings_e.html\n"
        "Source: Environment Canada - Environnement Canada - Toronto (CWTO)\n\n"
        "[fr-CA] veille d'orages violents\n"
        "C'est l'épreuve - ce message de PAC a été créé pour les buts d'essai seulement.\n"
        "Surveiller les conditions locales et prendre les précautions qui s'imposent"
    )
    assert body.topics == [
        "meteorological",
        "thunderstorm",
        "orages",
        "profile:CAP-CP:Event:0.4=thunderstorm",
        "SAME=SVA",
        "profile:CAP-CP:0.4",
        "layer:EC-MSC-SMC:1.0",
        "layer:SOREM:1.0",
    ]
    assert (body.threat_level, body.information_credibility) == (ThreatLevel.LOW, 1)
    assert [i.description for i in body.indicators] == [
        "layer:EC-MSC-SMC:1.0:Alert_Type",
        "layer:EC-MSC-SMC:1.0:Broadcast_Intrusive",
        "layer:SOREM:1.0:Broadcast_Immediately",
        "layer:EC-MSC-SMC:1.0:Parent_URI",
        "layer:EC-MSC-SMC:1.0:CAP_count",
    ]
    areas = [e for e in body.related_entities if e.kind == "area"]
    assert {e.name for e in areas} == {
        "Windsor - Leamington - Essex County",
        "Chatham-Kent - Rondeau Park",
    }
    assert len(areas) == 13
    assert areas[0].ref == "layer:EC-MSC-SMC:1.0:CLC=041420"
    assert areas[-1].ref == "profile:CAP-CP:Location:0.3=3536029"


def test_detect_claims_cap_alerts_only(adapter: CapAdapter) -> None:
    atom_index = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" '
        b'xmlns:cap="urn:oasis:names:tc:emergency:cap:1.1"><entry><cap:event>Blizzard'
        b"</cap:event></entry></feed>"
    )
    prefixed = b'<cap:alert xmlns:cap="urn:oasis:names:tc:emergency:cap:1.2"><cap:identifier>'

    assert adapter.detect(prefixed)
    assert not adapter.detect(atom_index)
    assert not adapter.detect(b'{"entity_id": "2021/1", "href": "https://interpol.int"}')
    assert not adapter.detect(b"<alert><identifier>x</identifier></alert>")
    registry = AdapterRegistry([InterpolAdapter(), adapter])
    assert registry.detect(raw_fixture(A4)) == FORMAT


# Lifecycle


def test_references_are_ordered_oldest_first_without_duplicates_or_itself(
    adapter: CapAdapter,
) -> None:
    references = (
        "trinet@caltech.edu,TRI.3,2003-06-11T20:50:00-07:00 "
        "TRINET@caltech.edu,TRI.1,2003-06-11T20:30:00-07:00 "
        "trinet@caltech.edu,TRI13970876.2,2003-06-11T20:56:00-07:00 "
        "trinet@caltech.edu,TRI.2,2003-06-12T03:40:00Z "
        "trinet@caltech.edu,TRI.1,2003-06-11T20:30:00-07:00"
    )
    raw = changed(
        A3,
        (
            "<references>trinet@caltech.edu,TRI13970876.1,2003-06-11T20:30:00-07:00",
            f"<references>{references}",
        ),
    )
    notice = only(adapter, raw)

    # TRI.2 was sent at 20:40 Pacific time, between TRI.1 and TRI.3.
    assert notice.notice_id == "cap-trinet@caltech.edu,TRI.1"
    assert notice.version == 4
    assert [r.version for r in notice.references] == [1, 2, 3]


def test_cancel_withdraws_and_never_expires(adapter: CapAdapter) -> None:
    raw = changed(
        A3,
        ("<msgType>Update</msgType>", "<msgType>Cancel</msgType>"),
        ("<headline>", "<expires>2003-06-11T21:00:00-07:00</expires><headline>"),
    )
    notice = only(adapter, raw)

    assert (notice.msg_type, notice.version) == (MsgType.CANCEL, 2)
    assert notice.notice_id == "cap-trinet@caltech.edu,TRI13970876.1"
    assert notice.expires_at is None
    assert bulletin(notice).valid_until == dt.datetime(2003, 6, 11, 21, 0, tzinfo=tz(-7))


def test_cancel_without_info_is_titled_by_its_note(adapter: CapAdapter) -> None:
    text = fixture_text(A3)
    raw = (
        text[: text.index("<info>")].replace(
            "<msgType>Update</msgType>", "<msgType>Cancel</msgType>"
        )
        + "<note>Sent in error.\nDisregard.</note></alert>"
    ).encode()
    notice = only(adapter, raw)
    body = bulletin(notice)

    assert (notice.msg_type, notice.notice_type) == (MsgType.CANCEL, NoticeType.INTEL_BULLETIN)
    assert (body.title, body.text, body.summary) == (
        "Sent in error.",
        "Note: Sent in error.\nDisregard.",
        None,
    )
    assert (body.valid_from, body.threat_level, body.topics) == (None, ThreatLevel.UNKNOWN, [])


@pytest.mark.parametrize(
    ("element", "counted"),
    [
        ("<msgType>Ack</msgType>", "//alert/msgType=Ack"),
        ("<msgType>Error</msgType>", "//alert/msgType=Error"),
        ("<status>Draft</status>", "//alert/status=Draft"),
        ("<status>System</status>", "//alert/status=System"),
    ],
)
def test_acknowledgements_errors_drafts_and_system_messages_yield_nothing(
    adapter: CapAdapter, element: str, counted: str
) -> None:
    old = "<msgType>Alert</msgType>" if "msgType" in element else "<status>Actual</status>"
    notices, ctx = translate(adapter, changed(A1, (old, element)))

    assert notices == []
    assert ctx.unmapped == Counter([counted])


@pytest.mark.parametrize(("status", "caveat"), [("Exercise", "CAP-EXERCISE"), ("Test", "CAP-TEST")])
def test_exercises_and_tests_reach_only_their_participants(
    adapter: CapAdapter, status: str, caveat: str
) -> None:
    notice = only(adapter, changed(A1, ("<status>Actual</status>", f"<status>{status}</status>")))

    assert notice.classification.caveats == [caveat]


def test_an_alert_mentioning_other_messages_still_starts_its_own_notice(
    adapter: CapAdapter,
) -> None:
    reference = "hsas@dhs.gov,43b080713726,2003-04-01T10:00:00-05:00"
    notice = only(
        adapter,
        changed(
            A1,
            ("<scope>Public</scope>", f"<scope>Public</scope><references>{reference}</references>"),
        ),
    )

    assert (notice.notice_id, notice.version, notice.references) == (
        "cap-hsas@dhs.gov,43b080713727",
        1,
        [],
    )
    assert bulletin(notice).related_entities[-1] == RelatedEntity(
        kind="cap-message", name=reference
    )


# Sharing: scope, restriction, addresses, EDXL-DE


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (
            "<scope>Restricted</scope>",
            Classification(
                level=Level.RESTRICTED, tlp=Tlp.AMBER, national_marking="CAP scope Restricted"
            ),
        ),
        (
            "<scope>Restricted</scope><restriction>DIFFUSION RESTREINTE</restriction>",
            Classification(
                level=Level.RESTRICTED, tlp=Tlp.AMBER, national_marking="DIFFUSION RESTREINTE"
            ),
        ),
        (
            "<scope>Restricted</scope><restriction>Secret UE</restriction>",
            Classification(level=Level.SECRET, tlp=Tlp.AMBER, national_marking="Secret UE"),
        ),
        (
            "<scope>Restricted</scope><restriction>TLP:RED</restriction>",
            Classification(level=Level.RESTRICTED, tlp=Tlp.RED, national_marking="TLP:RED"),
        ),
        (
            "<scope>Restricted</scope><restriction>TLP:CLEAR</restriction>",
            Classification(level=Level.RESTRICTED, tlp=Tlp.AMBER, national_marking="TLP:CLEAR"),
        ),
        (
            "<scope>Public</scope><restriction>NATO CONFIDENTIAL</restriction>",
            Classification(
                level=Level.CONFIDENTIAL, tlp=Tlp.AMBER, national_marking="NATO CONFIDENTIAL"
            ),
        ),
        (
            "<scope>Restricted</scope><addresses>bka DE</addresses>",
            Classification(
                level=Level.RESTRICTED,
                tlp=Tlp.AMBER,
                national_marking="CAP scope Restricted",
                releasable_to=["bka", "DE"],
            ),
        ),
        ("<scope>Public</scope><addresses>ops@dhs.gov</addresses>", PUBLIC),
        (
            '<scope>Private</scope><addresses>bka "fr-dgsi" DE bka</addresses>',
            Classification(
                level=Level.RESTRICTED,
                tlp=Tlp.RED,
                national_marking="CAP scope Private",
                releasable_to=["bka", "fr-dgsi", "DE"],
                originator_controlled=True,
            ),
        ),
    ],
)
def test_scope_restriction_and_addresses(
    adapter: CapAdapter, scope: str, expected: Classification
) -> None:
    notice = only(adapter, changed(A1, ("<scope>Public</scope>", scope)))

    assert notice.classification == expected


def test_an_unknown_restriction_rule_is_never_guessed(adapter: CapAdapter) -> None:
    raw = changed(
        A1,
        (
            "<scope>Public</scope>",
            "<scope>Restricted</scope><restriction>Alpine County fire crews only</restriction>",
        ),
    )
    error = failure(adapter, raw)

    assert isinstance(error, UnknownMarking)
    assert (error.marking, error.scheme) == ("Alpine County fire crews only", "CAP restriction")
    assert error.where == "//alert[1]/restriction[1] (line 8)"


def test_restriction_and_address_tables_of_mapping_yml() -> None:
    mapping = mapping_with(
        restrictions={
            "Law enforcement agencies only": {"level": "RESTRICTED", "tlp": "AMBER_STRICT"}
        },
        addresses={"Duty Officer Europol": "europol"},
    )
    raw = changed(
        A1,
        (
            "<scope>Public</scope>",
            "<scope>Private</scope><restriction>LAW-ENFORCEMENT agencies only</restriction>"
            '<addresses>"duty officer  EUROPOL" nl-knp</addresses>',
        ),
    )
    ctx = context(raw)
    (notice,) = translate_with(ctx, CapAdapter(), mapping)

    assert notice.classification == Classification(
        level=Level.RESTRICTED,
        tlp=Tlp.RED,
        national_marking="LAW-ENFORCEMENT agencies only",
        releasable_to=["europol", "nl-knp"],
        originator_controlled=True,
    )


@pytest.mark.parametrize(
    ("scope", "error_type", "where", "reason"),
    [
        (
            '<scope>Private</scope><addresses>bka "Duty Desk" ops@police.example</addresses>',
            UnknownMarking,
            "//alert[1]/addresses[1] (line 8)",
            "unknown marking: CAP address 'Duty Desk'",
        ),
        (
            "<scope>Private</scope>",
            TranslationError,
            "//alert[1]/addresses (line 2)",
            "missing: a Private alert goes only to its <addresses>, and it names none",
        ),
        (
            '<scope>Private</scope><addresses>bka "fr</addresses>',
            TranslationError,
            "//alert[1]/addresses[1] (line 8)",
            "unbalanced double quote in 'bka \"fr'",
        ),
        (
            "<scope>Confidential</scope>",
            UnknownMarking,
            "//alert[1]/scope[1] (line 8)",
            "unknown marking: CAP scope 'Confidential'",
        ),
        (
            "",
            TranslationError,
            "//alert[1]/scope (line 2)",
            "missing: <scope> decides who may receive the alert",
        ),
    ],
)
def test_scope_faults(
    adapter: CapAdapter, scope: str, error_type: type[TranslationError], where: str, reason: str
) -> None:
    error = failure(adapter, changed(A1, ("<scope>Public</scope>", scope)))

    assert type(error) is error_type
    assert (error.where, error.reason) == (where, reason)


def edxl(*objects: tuple[str | None, str]) -> bytes:
    """An EDXL-DE 1.0 distribution of the fixtures named, each with its confidentiality."""
    content = "".join(
        "<contentObject>"
        + (f"<confidentiality>{confidentiality}</confidentiality>" if confidentiality else "")
        + "<xmlContent><embeddedXMLContent>"
        + fixture_text(name).split("?>", 1)[1]
        + "</embeddedXMLContent></xmlContent></contentObject>"
        for confidentiality, name in objects
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<EDXLDistribution xmlns="urn:oasis:names:tc:emergency:EDXL:DE:1.0">'
        "<distributionID>hub-1</distributionID><senderID>ops@fema.gov</senderID>"
        "<combinedConfidentiality>UNCLASSIFIED AND NOT SENSITIVE</combinedConfidentiality>"
        f"{content}</EDXLDistribution>"
    ).encode()


def test_edxl_de_wrapper_each_alert_with_its_confidentiality_and_digest(
    adapter: CapAdapter,
) -> None:
    raw = edxl(("NATO RESTRICTED", A1), (None, A2))
    notices, ctx = translate(adapter, raw)

    assert ctx.unmapped == Counter()
    assert [n.notice_id for n in notices] == [
        "cap-hsas@dhs.gov,43b080713727",
        "cap-ksto@nws.noaa.gov,KSTO1055887203",
    ]
    assert notices[0].classification == Classification(
        level=Level.RESTRICTED,
        tlp=Tlp.AMBER,
        national_marking="CAP scope Public; NATO RESTRICTED; UNCLASSIFIED AND NOT SENSITIVE",
    )
    assert notices[1].classification == PUBLIC.model_copy(
        update={"national_marking": "CAP scope Public; UNCLASSIFIED AND NOT SENSITIVE"}
    )
    alerts = etree.fromstring(raw).findall(".//{urn:oasis:names:tc:emergency:cap:1.2}alert")
    assert [n.source.sha256 for n in notices] == [
        hashlib.sha256(etree.tostring(alert, method="c14n")).hexdigest() for alert in alerts
    ]
    assert bulletin(notices[0]) == bulletin(only(adapter, raw_fixture(A1)))


def test_edxl_de_confidentiality_nobody_knows_is_never_guessed(adapter: CapAdapter) -> None:
    error = failure(adapter, edxl(("HANDLE PER ANNEX 7", A1)))

    assert isinstance(error, UnknownMarking)
    assert (error.marking, error.scheme) == (
        "HANDLE PER ANNEX 7",
        "EDXL-DE confidentiality",
    )
    assert error.where == "contentObject/confidentiality (line 1)"


# Encodings and signatures


def test_iso_8859_1_declared_encoding_is_honoured(adapter: CapAdapter) -> None:
    text = fixture_text(A4).replace('encoding = "UTF-8"', 'encoding = "ISO-8859-1"')
    latin1 = only(adapter, text.encode("iso-8859-1"))

    assert latin1.body == only(adapter, raw_fixture(A4)).body
    assert "Alerta Amber en el condado de Los Ángeles" in (wanted(latin1).subject.description or "")


def test_windows_1252_bytes_in_a_latin_1_file_are_read_as_meant(adapter: CapAdapter) -> None:
    text = fixture_text(A1).replace('encoding = "UTF-8"', 'encoding = "ISO-8859-1"')
    text = text.replace("Sets Code ORANGE", "Sets \u201cCode ORANGE\u201d \u2013 High")
    notice = only(adapter, text.encode("cp1252"))

    assert bulletin(notice).title == "Homeland Security Sets \u201cCode ORANGE\u201d \u2013 High"


def test_a_signed_alert_is_hashed_as_received_and_translated_alike(adapter: CapAdapter) -> None:
    raw = fixture_text(A1).replace("</alert>", f"{SIGNATURE}</alert>").encode()
    notice = only(adapter, raw)

    assert notice.source.sha256 == hashlib.sha256(raw).hexdigest()
    assert notice.body == only(adapter, raw_fixture(A1)).body


# Fields


def test_cap_1_0_name_value_pairs_are_read(adapter: CapAdapter) -> None:
    raw = changed(
        A2,
        (
            "<eventCode>\n            <valueName>SAME</valueName>\n            <value>SVR</value>\n"
            "        </eventCode>",
            "<eventCode>same=SVR</eventCode>",
        ),
        (
            "<geocode>\n                <valueName>SAME</valueName>\n                "
            "<value>006109</value>\n            </geocode>",
            "<geocode>fips6=006109</geocode><geocode>fips6=</geocode>",
        ),
    )
    body = bulletin(only(adapter, raw))

    assert "same=SVR" in body.topics
    assert body.related_entities[1].ref == "fips6=006109"
    assert len(body.related_entities) == 4


def test_fields_and_codes_nobody_maps_are_counted_where_they_are(adapter: CapAdapter) -> None:
    raw = changed(
        A1,
        (
            "<category>Security</category>",
            "<category>Security</category><category>Cyber</category>",
        ),
        ("<severity>Severe</severity>", "<severity>Catastrophic</severity><priority>1</priority>"),
    )
    notices, ctx = translate(adapter, raw)

    assert ctx.unmapped == Counter(
        [
            "//alert/info/category=Cyber",
            "//alert/info/severity=Catastrophic",
            "//alert/info.priority",
        ]
    )
    assert bulletin(notices[0]).topics[:2] == ["security", "Cyber"]
    assert bulletin(notices[0]).threat_level is ThreatLevel.UNKNOWN


@pytest.mark.parametrize(
    ("severity", "urgency", "expected"),
    [
        ("Extreme", "Immediate", ThreatLevel.CRITICAL),
        ("Extreme", "Future", ThreatLevel.SUBSTANTIAL),
        ("Severe", "Past", ThreatLevel.LOW),
        ("Moderate", "Expected", ThreatLevel.MODERATE),
        ("Unknown", "Past", ThreatLevel.UNKNOWN),
    ],
)
def test_threat_level_is_severity_capped_by_urgency(
    adapter: CapAdapter, severity: str, urgency: str, expected: ThreatLevel
) -> None:
    raw = changed(
        A1,
        ("<urgency>Immediate</urgency>", f"<urgency>{urgency}</urgency>"),
        ("<severity>Severe</severity>", f"<severity>{severity}</severity>"),
    )

    assert bulletin(only(adapter, raw)).threat_level is expected


@pytest.mark.parametrize(
    ("old", "new", "where", "reason"),
    [
        (
            "<sent>2003-04-02T14:39:01-05:00</sent>",
            "<sent>2003-04-02T14:39:01</sent>",
            "//alert[1]/sent[1] (line 5)",
            "'2003-04-02T14:39:01' has no UTC offset (CAP requires one)",
        ),
        (
            "<identifier>43b080713727</identifier>",
            "<identifier> </identifier>",
            "//alert[1]/identifier (line 2)",
            "missing or empty (required by CAP)",
        ),
        (
            "<sender>hsas@dhs.gov</sender>",
            "<sender>hsas@dhs.gov,x</sender>",
            "//alert[1]/sender[1] (line 4)",
            "'hsas@dhs.gov,x' contains a space, comma, '<' or '&', which CAP forbids: "
            "references could not name this message",
        ),
        (
            "<msgType>Alert</msgType>",
            "<msgType>Update</msgType>",
            "//alert[1]/references (line 2)",
            "missing: a CAP Update must name the messages it supersedes",
        ),
        (
            "<msgType>Alert</msgType>",
            "<msgType>Update</msgType><references>hsas@dhs.gov,43b0807137</references>",
            "//alert[1]/references[1] (line 7)",
            "'hsas@dhs.gov,43b0807137' is not a message reference (sender,identifier,sent)",
        ),
        (
            "<msgType>Alert</msgType>",
            "<msgType>Notice</msgType>",
            "//alert[1]/msgType[1] (line 7)",
            "msgType 'Notice' is not one of Alert, Update, Cancel, Ack, Error",
        ),
        (
            "<status>Actual</status>",
            "<status>Real</status>",
            "//alert[1]/status[1] (line 6)",
            "unknown marking: CAP status 'Real'",
        ),
        (
            "<headline>",
            "<expires>soon</expires><headline>",
            "//alert[1]/info[1]/expires[1] (line 16)",
            "'soon' is not a CAP date and time (YYYY-MM-DDThh:mm:ss±hh:mm)",
        ),
        (
            "<valueName>HSAS</valueName>",
            "",
            "//alert[1]/info[1]/parameter[1]/valueName (line 25)",
            "value 'ORANGE' has no valueName",
        ),
        (
            'xmlns = "urn:oasis:names:tc:emergency:cap:1.2"',
            'xmlns = "urn:example:alerts"',
            "//alert[1] (line 2)",
            "not a CAP alert: namespace 'urn:example:alerts' is not CAP's",
        ),
        (
            "<headline>",
            "<headline><",
            "line 16 column 38",
            "invalid XML: Specification mandates value for attribute Security, line 16, column 38",
        ),
    ],
)
def test_faults_say_where_they_are(
    adapter: CapAdapter, old: str, new: str, where: str, reason: str
) -> None:
    error = failure(adapter, changed(A1, (old, new)))

    assert (error.where, error.reason) == (where, reason)


def test_a_payload_without_an_alert_is_a_fault(adapter: CapAdapter) -> None:
    error = failure(adapter, b'<feed xmlns="http://www.w3.org/2005/Atom"><entry/></feed>')

    assert (error.where, error.reason) == ("document", "no CAP <alert> element")


def test_an_entity_declaration_is_refused(adapter: CapAdapter) -> None:
    raw = (
        b'<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY x "boom">]>'
        + changed(A1).split(b"?>", 1)[1]
    )

    assert failure(adapter, raw).where == "line 1 (DOCTYPE)"


# Wanted persons


def amber(description: str, event_code: str = "CAE", event: str = "Child Abduction") -> bytes:
    text = fixture_text(A4)
    english = text[: text.index("<info>", text.index("</info>"))] + "</alert>"
    english = re.sub(
        r"<description>.*?</description>",
        f"<description>{description}</description>",
        english,
        flags=re.S,
    )
    english = english.replace("<value>CAE</value>", f"<value>{event_code}</value>", 1)
    return english.replace("<event>Child Abduction</event>", f"<event>{event}</event>").encode()


def test_an_amber_alert_without_labels_still_asks_to_locate_someone(adapter: CapAdapter) -> None:
    notice = only(
        adapter, amber("A girl was taken from a park this evening.", event="Alerte Amber")
    )
    body = wanted(notice)

    assert notice.notice_type is NoticeType.WANTED_PERSON
    assert body.action_requested is RequestedAction.LOCATE
    assert body.subject.names == []
    assert body.subject.description is not None
    assert "A girl was taken from a park this evening." in body.subject.description
    assert body.last_seen is None


def test_a_date_read_either_way_round_keeps_only_its_year(adapter: CapAdapter) -> None:
    raw = amber("VICTIM: JANE ROE, F/W 4'2\", 60 LBS, DOB 04/05/99. LAST SEEN: ELM PARK.")
    subject = wanted(only(adapter, raw)).subject

    assert subject.names == [Name(full_name="JANE ROE", script="Latn")]
    assert subject.sex is Sex.FEMALE
    assert subject.dates_of_birth == [DateSpan(earliest=PartialDate(year=1999))]
    assert (subject.height_m, subject.weight_kg) == (1.27, 27.2)
    assert wanted(only(adapter, raw)).last_seen == LastSeen(place="ELM PARK")


def test_a_blue_alert_is_about_the_suspect(adapter: CapAdapter) -> None:
    raw = amber(
        "SUSPECT: JOHN Q PUBLIC, MALE, 180 CM, DOB 1980-01-01. VEHICLE: GREY VAN.",
        event_code="BLU",
        event="Blue Alert",
    )
    body = wanted(only(adapter, raw))

    assert body.subject.names == [Name(full_name="JOHN Q PUBLIC", script="Latn")]
    assert (body.subject.sex, body.subject.height_m) == (Sex.MALE, 1.8)
    assert body.subject.dates_of_birth == []
    assert body.related[0] == RelatedEntity(kind="vehicle", name="GREY VAN")


def test_image_resources_are_the_subject_photos(adapter: CapAdapter) -> None:
    raw = amber("VICTIM: JANE ROE.").replace(
        b"<area>",
        b"<resource><resourceDesc>Photo</resourceDesc><mimeType>image/jpeg</mimeType>"
        b"<uri>https://amber.example/roe.jpg</uri><digest>3b4c</digest></resource>"
        b"<resource><resourceDesc>Flyer</resourceDesc><mimeType>application/pdf</mimeType>"
        b"<uri>https://amber.example/roe.pdf</uri></resource><area>",
    )
    body = wanted(only(adapter, raw))

    assert body.subject.photos == [PhotoRef(uri="https://amber.example/roe.jpg")]
    assert (
        RelatedEntity(kind="resource", name="Flyer", ref="https://amber.example/roe.pdf")
        in body.related
    )


# Fuzzing: any mutation of any fixture either translates or fails with a located fault


@st.composite
def _without_a_leaf(draw: st.DrawFn, raw: bytes) -> bytes:
    """An alert missing one of its fields: CAP makes most optional, a few not."""
    tag = draw(st.sampled_from(re.findall(rb"<([A-Za-z]+)>[^<]*</\1>", raw)))
    return re.sub(rb"<" + tag + rb">[^<]*</" + tag + rb">", b"", raw, count=1)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=st.one_of(
        [
            damaged_xml(raw, nest_at=[raw.index(b"<info>")]) | _without_a_leaf(raw)
            for raw in map(raw_fixture, FIXTURE_FILES)
        ]
    )
)
def test_fuzzed_fixtures_translate_or_fail_with_a_location(adapter: CapAdapter, raw: bytes) -> None:
    notices_or_placed_error(adapter, context(raw))
