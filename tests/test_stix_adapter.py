"""The STIX 2.0/2.1 adapter on real bundles and on small made-up ones: pure translation.

The real bundles are read from shared/ beside the repository, never copied into it. The
made-up bundles below use the fixed TLP marking ids of the standards and invented content.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from adapters.stix import StixAdapter
from adapters.stix.patterns import Comparison, equalities
from adapters.stix.tables import StixMapping
from broker.errors import TranslationError, UnknownMarking
from broker.models import (
    Classification,
    FieldMarking,
    Indicator,
    IntelBulletin,
    Level,
    MsgType,
    NoticeEnvelope,
    NoticeReference,
    NoticeType,
    Originator,
    RelatedEntity,
    Source,
    Tlp,
)
from broker.schema_catalog import SchemaCatalog
from broker.serde import NoticeSerde
from tests.adapter_helpers import (
    JSON_VALUES,
    Feed,
    damaged_json,
    mapping_tables,
    notices_or_placed_error,
)
from tests.conftest import FIXTURES

INTEL = FIXTURES / "intel"
STIX21_DOC = INTEL / "stix21_using-marking-definitions_cti-documentation.json"
STIX20_GRANULAR = INTEL / "stix20_using-granular-markings_cti-stix2-json-schemas.json"
STIX21_DANGLING = INTEL / "stix21_interop-objectmarking-test_cti-stix2-json-schemas.json"
FORMAT = "stix2-json"
RECEIVED_AT = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)
ORIGINATOR = Originator(agency_id="nl-ncsc", country="NL")
FEED = Feed(FORMAT, ORIGINATOR, RECEIVED_AT)
context, failure = FEED.context, FEED.failure

TLP1_WHITE = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
TLP1_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
TLP1_AMBER = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
TLP1_RED = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
TLP2_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
TLP2_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
TLP2_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
TLP2_AMBER_STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
TLP2_RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

INDICATOR_ID = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
IDENTITY_ID = "identity--c7f3b3a0-8c4b-4c43-9f2a-1c3c3b6b2f11"
MALWARE_ID = "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"
REPORT_ID = "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3"
IPV4_ID = "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"
CREATED = "2024-02-20T10:00:00.000Z"
WHEN = dt.datetime(2024, 2, 20, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def adapter() -> StixAdapter:
    return StixAdapter()


def translate(adapter: StixAdapter, raw: bytes) -> tuple[list[NoticeEnvelope], Counter[str]]:
    notices, ctx = FEED.translate(adapter, raw)
    return notices, ctx.unmapped


def bundle(*objects: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objects}
    )


def indicator(**fields: Any) -> dict[str, Any]:
    """A STIX 2.1 indicator; fields set to None are left out."""
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": INDICATOR_ID,
        "created": CREATED,
        "modified": CREATED,
        "name": "Loader C2 address",
        "description": "Command and control server of the loader.",
        "indicator_types": ["malicious-activity"],
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": CREATED,
    } | fields
    return {key: value for key, value in obj.items() if value is not None}


def tlp2_definition(marking_id: str, level: str, **fields: Any) -> dict[str, Any]:
    """A TLP 2.0 marking definition as the STIX TLP 2.0 extension writes it."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": marking_id,
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{level.upper()}",
        "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}},
    } | fields


def only(notices: list[NoticeEnvelope]) -> NoticeEnvelope:
    assert len(notices) == 1
    return notices[0]


def bulletin(notice: NoticeEnvelope) -> IntelBulletin:
    assert isinstance(notice.body, IntelBulletin)
    return notice.body


def red_field(path: str) -> FieldMarking:
    return FieldMarking(path=path, level=Level.RESTRICTED, caveats=["TLP:RED"])


# The real bundles


def test_stix21_indicator_with_tlp_amber_and_a_copyright_statement(adapter: StixAdapter) -> None:
    raw = STIX21_DOC.read_bytes()
    notices, unmapped = translate(adapter, raw)
    issued = dt.datetime(2017, 4, 14, 13, 7, 49, 812000, tzinfo=dt.UTC)

    assert only(notices) == NoticeEnvelope(
        notice_id="stix-indicator--33fe3b22-0201-47cf-85d0-97c02164528d",
        version=1,
        msg_type=MsgType.ALERT,
        notice_type=NoticeType.INTEL_BULLETIN,
        originator=ORIGINATOR,
        issued_at=issued,
        classification=Classification(
            level=Level.RESTRICTED,
            national_marking="TLP:AMBER; Copyright (c) Stark Industries 2017.",
            tlp=Tlp.AMBER,
            # The author's identity carries no marking: its name is TLP:RED by default.
            field_markings=[red_field("related_entities.[0]")],
        ),
        source=Source(
            format=FORMAT,
            original_id="indicator--33fe3b22-0201-47cf-85d0-97c02164528d",
            adapter="stix",
            adapter_version="1.0.0",
            received_at=RECEIVED_AT,
            sha256=hashlib.sha256(raw).hexdigest(),
        ),
        body=IntelBulletin(
            title="Known malicious IP Address",
            text="Detected malicious activity from this address",
            topics=["malicious-activity"],
            indicators=[Indicator(kind="ipv4-addr", value="10.0.0.0")],
            related_entities=[
                RelatedEntity(
                    kind="author",
                    name="Stark Industries",
                    ref="identity--611d9d41-dba5-4e13-9b29-e22488058ffc",
                )
            ],
            valid_from=issued,
        ),
    )
    assert unmapped == Counter()


def test_stix20_granular_markings_become_field_markings(adapter: StixAdapter) -> None:
    notices, unmapped = translate(adapter, STIX20_GRANULAR.read_bytes())
    _, fake_email = notices

    assert fake_email.notice_id == "stix-indicator--1ed8caa7-a708-4706-b651-f1186ede6ca1"
    # No object-level marking: name, pattern and labels.[0] are TLP:GREEN, so the notice is;
    # the rest is marked above it: description RED, labels.[1] AMBER, and what no marking
    # covers (valid_from, the author, the relationship to The Joker) RED by default.
    assert fake_email.classification == Classification(
        level=Level.RESTRICTED,
        tlp=Tlp.GREEN,
        field_markings=[
            red_field("text"),
            FieldMarking(path="topics.[1]", level=Level.RESTRICTED, caveats=["TLP:AMBER"]),
            red_field("related_entities.[0]"),
            red_field("related_entities.[1]"),
            red_field("valid_from"),
        ],
    )
    assert bulletin(fake_email) == IntelBulletin(
        title="Fake email address",
        text="Known to be used by The Joker.",
        topics=["malicious-activity", "attribution"],
        indicators=[
            Indicator(
                kind="stix-pattern",
                value=r"[email-message:from_ref.value MATCHES '.+\\banking@g0thamnatl\\.com$']",
            )
        ],
        related_entities=[
            RelatedEntity(
                kind="author",
                name="Gotham National Bank",
                ref="identity--b38dfe21-7477-40d1-aa90-5c8671ce51ca",
            ),
            RelatedEntity(
                kind="threat-actor",
                name="The Joker",
                ref="threat-actor--8b6297fe-cae7-47c6-9256-5584b417849c",
            ),
        ],
        valid_from=dt.datetime(2017, 4, 27, 16, 18, 24, 318000, tzinfo=dt.UTC),
    )
    assert unmapped == Counter()


def test_stix20_threat_actor_marked_tlp_red(adapter: StixAdapter) -> None:
    notices, _ = translate(adapter, STIX20_GRANULAR.read_bytes())
    joker, _ = notices

    assert joker.notice_id == "stix-threat-actor--8b6297fe-cae7-47c6-9256-5584b417849c"
    assert (joker.version, joker.msg_type) == (1, MsgType.ALERT)
    assert joker.issued_at == dt.datetime(2017, 4, 27, 16, 18, 24, 318000, tzinfo=dt.UTC)
    assert joker.classification == Classification(
        level=Level.RESTRICTED, national_marking="TLP:RED", tlp=Tlp.RED
    )
    assert bulletin(joker) == IntelBulletin(
        title="The Joker",
        summary="Aliases: Joe Kerr, The Clown Prince of Crime\nRoles: director\n"
        "Resource level: team\nPrimary motivation: personal-satisfaction",
        topics=["criminal", "terrorist"],
        related_entities=[
            RelatedEntity(
                kind="author",
                name="Gotham National Bank",
                ref="identity--b38dfe21-7477-40d1-aa90-5c8671ce51ca",
            ),
            RelatedEntity(
                kind="indicator",
                name="Fake email address",
                ref="indicator--1ed8caa7-a708-4706-b651-f1186ede6ca1",
            ),
        ],
    )


def test_a_dangling_marking_reference_is_an_unknown_marking(adapter: StixAdapter) -> None:
    error = failure(adapter, STIX21_DANGLING.read_bytes())

    assert isinstance(error, UnknownMarking)
    assert error.where == "$.object_marking_refs[1]"
    assert error.marking == "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ec"
    assert error.reason.startswith("unknown marking: STIX marking-definition")


def test_the_dangling_fixture_without_its_dangling_reference(adapter: StixAdapter) -> None:
    campaign = orjson.loads(STIX21_DANGLING.read_bytes())
    campaign["object_marking_refs"] = campaign["object_marking_refs"][:1]
    notices, unmapped = translate(adapter, orjson.dumps(campaign))
    notice = only(notices)

    assert notice.notice_id == "stix-campaign--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061"
    assert notice.classification == Classification(
        level=Level.RESTRICTED, national_marking="TLP:RED", tlp=Tlp.RED
    )
    author = "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"
    assert bulletin(notice) == IntelBulletin(
        title="Spear Phishing",
        topics=["capec:CAPEC-163"],
        # The author's identity is not in the payload: named by its id, it says no more.
        related_entities=[RelatedEntity(kind="author", name=author, ref=author)],
    )
    assert unmapped == Counter()


@pytest.mark.parametrize(
    ("path", "expected"),
    [(STIX21_DOC, True), (STIX20_GRANULAR, True), (STIX21_DANGLING, True)]
    + [(path, False) for path in sorted(FIXTURES.glob("[!i]*/*")) if path.is_file()]
    + [(path, False) for path in sorted(INTEL.glob("misp*"))],
)
def test_detect_claims_stix_and_nothing_else(
    adapter: StixAdapter, path: Path, expected: bool
) -> None:
    assert adapter.detect(path.read_bytes()[:65536]) is expected


def test_fixture_notices_survive_the_avro_round_trip(adapter: StixAdapter) -> None:
    serde = NoticeSerde(SchemaCatalog.from_directory())
    notices = [
        *translate(adapter, STIX21_DOC.read_bytes())[0],
        *translate(adapter, STIX20_GRANULAR.read_bytes())[0],
    ]

    assert [serde.decode(serde.encode(notice)) for notice in notices] == notices


# TLP 1.0 and 2.0 markings


@pytest.mark.parametrize(
    ("marking", "tlp", "text"),
    [
        (TLP1_WHITE, Tlp.CLEAR, "TLP:WHITE"),
        (TLP1_GREEN, Tlp.GREEN, "TLP:GREEN"),
        (TLP1_AMBER, Tlp.AMBER, "TLP:AMBER"),
        (TLP1_RED, Tlp.RED, "TLP:RED"),
        (TLP2_CLEAR, Tlp.CLEAR, "TLP:CLEAR"),
        (TLP2_GREEN, Tlp.GREEN, "TLP:GREEN"),
        (TLP2_AMBER, Tlp.AMBER, "TLP:AMBER"),
        (TLP2_AMBER_STRICT, Tlp.AMBER_STRICT, "TLP:AMBER+STRICT"),
        (TLP2_RED, Tlp.RED, "TLP:RED"),
    ],
)
def test_fixed_tlp_ids_need_no_definition_in_the_bundle(
    adapter: StixAdapter, marking: str, tlp: Tlp, text: str
) -> None:
    notice = only(translate(adapter, bundle(indicator(object_marking_refs=[marking])))[0])

    level = Level.UNCLASSIFIED if tlp is Tlp.CLEAR else Level.RESTRICTED
    assert notice.classification == Classification(level=level, national_marking=text, tlp=tlp)


def test_tlp2_extension_marking_with_an_id_of_its_own(adapter: StixAdapter) -> None:
    own_id = "marking-definition--0f4e1e0b-7e0b-4f0e-9b1a-2b7c0b4c1d2e"
    raw = bundle(tlp2_definition(own_id, "amber+strict"), indicator(object_marking_refs=[own_id]))
    notice = only(translate(adapter, raw)[0])

    assert notice.classification == Classification(
        level=Level.RESTRICTED, national_marking="TLP:AMBER+STRICT", tlp=Tlp.AMBER_STRICT
    )


def test_tlp2_definition_repeating_its_label_as_definition_type(adapter: StixAdapter) -> None:
    definition = tlp2_definition(TLP2_RED, "red", definition_type="TLP:RED")
    notice = only(
        translate(adapter, bundle(definition, indicator(object_marking_refs=[TLP2_RED])))[0]
    )

    assert notice.classification.tlp is Tlp.RED


def test_the_most_restrictive_of_several_tlp_markings_wins(adapter: StixAdapter) -> None:
    raw = bundle(indicator(object_marking_refs=[TLP2_GREEN, TLP2_AMBER_STRICT, TLP1_AMBER]))
    notice = only(translate(adapter, raw)[0])

    assert notice.classification.tlp is Tlp.AMBER_STRICT
    assert notice.classification.national_marking == "TLP:GREEN; TLP:AMBER+STRICT; TLP:AMBER"


def test_a_fixed_id_redefined_more_openly_keeps_its_fixed_meaning(adapter: StixAdapter) -> None:
    forged = {
        "type": "marking-definition",
        "id": TLP1_RED,
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "definition": {"tlp": "white"},
    }
    notice = only(translate(adapter, bundle(forged, indicator(object_marking_refs=[TLP1_RED])))[0])

    assert notice.classification.tlp is Tlp.RED
    assert notice.classification.national_marking == "TLP:RED"


def test_no_marking_at_all_reads_as_tlp_red(adapter: StixAdapter) -> None:
    notice = only(translate(adapter, bundle(indicator()))[0])

    assert notice.classification == Classification(level=Level.RESTRICTED, tlp=Tlp.RED)


def test_a_statement_alone_restricts_nothing_and_is_kept(adapter: StixAdapter) -> None:
    statement_id = "marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f"
    statement = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": statement_id,
        "created": CREATED,
        "definition_type": "statement",
        "definition": {"statement": "Not for attribution."},
    }
    raw = bundle(statement, indicator(object_marking_refs=[statement_id]))
    notice = only(translate(adapter, raw)[0])

    assert notice.classification == Classification(
        level=Level.RESTRICTED, national_marking="Not for attribution.", tlp=Tlp.RED
    )


@pytest.mark.parametrize(
    ("definition", "where", "marking"),
    [
        (
            {"definition_type": "acs", "definition": {"classification": "S"}},
            "$.objects[0].definition_type",
            "acs",
        ),
        (
            {"definition_type": "tlp", "definition": {"tlp": "purple"}},
            "$.objects[0].definition.tlp",
            "purple",
        ),
        (
            {
                "extensions": {
                    "extension-definition--3a65884d-005a-4290-8335-cb2d778a83ce": {
                        "extension_type": "property-extension",
                        "classification": "S",
                    }
                }
            },
            "$.objects[0].extensions",
            "extension-definition--3a65884d-005a-4290-8335-cb2d778a83ce",
        ),
        (
            {
                "extensions": {
                    TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": "pink"}
                }
            },
            f"$.objects[0].extensions.{TLP2_EXTENSION}.tlp_2_0",
            "pink",
        ),
        ({}, "$.objects[0]", "marking-definition--0f4e1e0b-7e0b-4f0e-9b1a-2b7c0b4c1d2e"),
    ],
)
def test_markings_nobody_knows_go_to_the_dead_letter_topic(
    adapter: StixAdapter, definition: dict[str, Any], where: str, marking: str
) -> None:
    marking_id = "marking-definition--0f4e1e0b-7e0b-4f0e-9b1a-2b7c0b4c1d2e"
    definition = {"type": "marking-definition", "id": marking_id, "created": CREATED} | definition
    error = failure(adapter, bundle(definition, indicator(object_marking_refs=[marking_id])))

    assert isinstance(error, UnknownMarking)
    assert (error.where, error.marking) == (where, marking)


def test_a_dangling_granular_marking_is_an_unknown_marking(adapter: StixAdapter) -> None:
    dangling = "marking-definition--11111111-2222-4333-8444-555555555555"
    granular = [{"marking_ref": dangling, "selectors": ["description"]}]
    error = failure(adapter, bundle(indicator(granular_markings=granular)))

    assert isinstance(error, UnknownMarking)
    assert error.where == "$.objects[0].granular_markings[0].marking_ref"


def test_a_marking_reference_that_is_no_marking_id(adapter: StixAdapter) -> None:
    error = failure(adapter, bundle(indicator(object_marking_refs=[IDENTITY_ID])))

    assert not isinstance(error, UnknownMarking)
    assert error.where == "$.objects[0].object_marking_refs[0]"
    assert "is no marking-definition id" in error.reason


# Granular markings


def test_a_granular_marking_stricter_than_the_object_marks_its_field(adapter: StixAdapter) -> None:
    granular = [{"marking_ref": TLP2_RED, "selectors": ["description", "pattern"]}]
    raw = bundle(indicator(object_marking_refs=[TLP2_AMBER], granular_markings=granular))
    notice = only(translate(adapter, raw)[0])

    assert notice.classification == Classification(
        level=Level.RESTRICTED,
        national_marking="TLP:AMBER",
        tlp=Tlp.AMBER,
        field_markings=[red_field("text"), red_field("indicators.[0]")],
    )


def test_a_granular_marking_never_widens_the_object_marking(adapter: StixAdapter) -> None:
    granular = [{"marking_ref": TLP2_CLEAR, "selectors": ["name", "description"]}]
    raw = bundle(indicator(object_marking_refs=[TLP2_AMBER], granular_markings=granular))
    notice = only(translate(adapter, raw)[0])

    assert (notice.classification.tlp, notice.classification.field_markings) == (Tlp.AMBER, [])


def test_granular_list_markings_follow_their_items_into_topics(adapter: StixAdapter) -> None:
    """Topics merge labels and indicator_types: a marked item is marked where it lands."""
    granular = [
        {"marking_ref": TLP2_RED, "selectors": ["indicator_types.[0]"]},
        {"marking_ref": TLP2_AMBER_STRICT, "selectors": ["labels.[0]"]},
    ]
    raw = bundle(
        indicator(
            object_marking_refs=[TLP2_GREEN],
            labels=["finance", "loader"],
            indicator_types=["loader", "c2"],
            granular_markings=granular,
        )
    )
    notice = only(translate(adapter, raw)[0])

    assert bulletin(notice).topics == ["finance", "loader", "c2"]
    assert notice.classification.field_markings == [
        FieldMarking(path="topics.[0]", level=Level.RESTRICTED, caveats=["TLP:AMBER+STRICT"]),
        red_field("topics.[1]"),
    ]


def test_a_marking_on_a_whole_list_marks_every_item(adapter: StixAdapter) -> None:
    granular = [{"marking_ref": TLP2_RED, "selectors": ["indicator_types"]}]
    raw = bundle(
        indicator(
            object_marking_refs=[TLP2_GREEN],
            indicator_types=["anomalous-activity", "attribution"],
            granular_markings=granular,
        )
    )
    notice = only(translate(adapter, raw)[0])

    assert notice.classification.field_markings == [
        red_field("topics.[0]"),
        red_field("topics.[1]"),
    ]


def test_a_marking_inside_a_property_marks_the_field_made_of_it(adapter: StixAdapter) -> None:
    references = [{"source_name": "cve", "external_id": "CVE-2024-3400", "url": "https://x"}]
    granular = [{"marking_ref": TLP2_RED, "selectors": ["external_references.[0].url"]}]
    raw = bundle(
        indicator(
            object_marking_refs=[TLP2_GREEN],
            external_references=references,
            granular_markings=granular,
        )
    )
    notice = only(translate(adapter, raw)[0])

    assert bulletin(notice).topics == ["malicious-activity", "cve:CVE-2024-3400"]
    assert notice.classification.field_markings == [red_field("topics.[1]")]


def test_a_selector_that_selects_nothing_binds_every_field(adapter: StixAdapter) -> None:
    granular = [{"marking_ref": TLP2_RED, "selectors": ["descriptoin"]}]
    raw = bundle(indicator(object_marking_refs=[TLP2_GREEN], granular_markings=granular))
    notices, unmapped = translate(adapter, raw)
    notice = only(notices)

    assert (notice.classification.tlp, notice.classification.field_markings) == (Tlp.RED, [])
    assert unmapped == Counter(["$.objects[0].granular_markings[0].selectors[0]=descriptoin"])


def test_a_language_granular_marking_is_no_access_marking(adapter: StixAdapter) -> None:
    granular = [{"lang": "de", "selectors": ["description"]}]
    raw = bundle(indicator(object_marking_refs=[TLP2_GREEN], granular_markings=granular))
    notices, unmapped = translate(adapter, raw)

    assert only(notices).classification.field_markings == []
    assert unmapped == Counter()


@pytest.mark.parametrize(
    ("granular", "where", "why"),
    [
        (
            [{"marking_ref": TLP2_RED, "selectors": ["labels[0]"]}],
            "$.objects[0].granular_markings[0].selectors[0]",
            "'labels[0]' is not a STIX selector",
        ),
        (
            [{"selectors": ["description"]}],
            "$.objects[0].granular_markings[0]",
            "needs marking_ref or lang",
        ),
        (
            [{"marking_ref": TLP2_RED, "selectors": "description"}],
            "$.objects[0].granular_markings[0].selectors",
            "expected an array of strings",
        ),
    ],
)
def test_malformed_granular_markings(
    adapter: StixAdapter, granular: list[dict[str, Any]], where: str, why: str
) -> None:
    error = failure(adapter, bundle(indicator(granular_markings=granular)))

    assert error.where == where
    assert why in error.reason


# STIX 2.0 and 2.1 forms


def test_stix20_labels_and_stix21_indicator_types_are_the_same_topics(
    adapter: StixAdapter,
) -> None:
    stix21 = indicator(indicator_types=["malicious-activity", "attribution"])
    stix20 = indicator(
        spec_version=None,
        pattern_type=None,
        indicator_types=None,
        labels=["malicious-activity", "attribution"],
    )
    raw20 = orjson.dumps(
        {
            "type": "bundle",
            "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
            "spec_version": "2.0",
            "objects": [stix20],
        }
    )
    body21 = bulletin(only(translate(adapter, bundle(stix21))[0]))
    body20 = bulletin(only(translate(adapter, raw20)[0]))

    assert body20 == body21
    assert body21.topics == ["malicious-activity", "attribution"]
    assert body21.indicators == [Indicator(kind="ipv4-addr", value="198.51.100.7")]


def test_a_taxii_envelope_and_a_single_object_are_payloads_too(adapter: StixAdapter) -> None:
    envelope = orjson.dumps({"more": False, "objects": [indicator()]})
    single = orjson.dumps(indicator())

    assert only(translate(adapter, envelope)[0]).notice_id == f"stix-{INDICATOR_ID}"
    assert only(translate(adapter, single)[0]).notice_id == f"stix-{INDICATOR_ID}"
    assert translate(adapter, b'{"more": false}') == ([], Counter())
    assert translate(
        adapter, b'{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"}'
    ) == ([], Counter())


def test_a_revoked_object_cancels_its_notice(adapter: StixAdapter) -> None:
    notice = only(translate(adapter, bundle(indicator(revoked=True)))[0])

    assert (notice.version, notice.msg_type) == (2, MsgType.CANCEL)
    assert notice.references == [NoticeReference(notice_id=f"stix-{INDICATOR_ID}", version=1)]


def test_of_several_versions_of_an_object_the_newest_is_translated(adapter: StixAdapter) -> None:
    newer = indicator(modified="2024-02-21T08:00:00.123456789Z", name="Renamed")
    raw = bundle(newer, indicator(), indicator(modified="2024-02-20T11:00:00Z", name="Middle"))
    notice = only(translate(adapter, raw)[0])

    assert bulletin(notice).title == "Renamed"
    assert notice.issued_at == dt.datetime(2024, 2, 21, 8, 0, 0, 123456, tzinfo=dt.UTC)


def test_a_timestamp_with_an_offset_is_read_as_its_utc_instant(adapter: StixAdapter) -> None:
    notice = only(translate(adapter, bundle(indicator(modified="2024-02-21T10:00:00+02:00")))[0])

    assert notice.issued_at == dt.datetime(2024, 2, 21, 8, 0, tzinfo=dt.UTC)


def test_a_report_points_to_observables_and_entities(adapter: StixAdapter) -> None:
    identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": IDENTITY_ID,
        "created": CREATED,
        "modified": CREATED,
        "name": "Jane Analyst",
        "identity_class": "individual",
    }
    malware = {
        "type": "malware",
        "spec_version": "2.1",
        "id": MALWARE_ID,
        "created": CREATED,
        "modified": CREATED,
        "name": "IcedID",
        "is_family": True,
        "malware_types": ["trojan"],
        "object_marking_refs": [TLP2_GREEN],
    }
    address = {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": IPV4_ID,
        "value": "203.0.113.9",
        "object_marking_refs": [TLP2_RED],
    }
    missing = "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5"
    relationship = "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad"
    report = {
        "type": "report",
        "spec_version": "2.1",
        "id": REPORT_ID,
        "created": CREATED,
        "modified": CREATED,
        "name": "IcedID campaign against banks",
        "published": "2024-02-20T09:00:00Z",
        "report_types": ["campaign"],
        "confidence": 85,
        "object_refs": [MALWARE_ID, IPV4_ID, IDENTITY_ID, relationship, missing],
        "object_marking_refs": [TLP2_GREEN],
    }
    notices, unmapped = translate(adapter, bundle(identity, malware, address, report))
    icedid, report_notice = notices

    assert bulletin(report_notice) == IntelBulletin(
        title="IcedID campaign against banks",
        summary="Published: 2024-02-20T09:00:00Z",
        topics=["campaign"],
        indicators=[Indicator(kind="ipv4-addr", value="203.0.113.9")],
        related_entities=[
            RelatedEntity(kind="malware", name="IcedID", ref=MALWARE_ID),
            RelatedEntity(kind="person", name="Jane Analyst", ref=IDENTITY_ID),
        ],
        information_credibility=1,
    )
    assert report_notice.classification == Classification(
        level=Level.RESTRICTED,
        national_marking="TLP:GREEN",
        tlp=Tlp.GREEN,
        field_markings=[red_field("indicators.[0]"), red_field("related_entities.[1]")],
    )
    assert bulletin(icedid).summary == "Malware family: yes"
    assert unmapped == Counter([f"$.objects[3].object_refs[4]={missing}"])


def test_observed_data_of_stix20_holds_its_observables_inline(adapter: StixAdapter) -> None:
    observed = {
        "type": "observed-data",
        "id": "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
        "created": CREATED,
        "modified": CREATED,
        "first_observed": "2024-02-19T00:00:00Z",
        "last_observed": "2024-02-19T23:59:59Z",
        "number_observed": 3,
        "objects": {
            "0": {
                "type": "file",
                "name": "invoice.pdf.exe",
                "hashes": {"MD5": "3773a88f65a5e780c8dff9cdc3a056f3", "sha256": "a" * 64},
            },
            "1": {"type": "x-custom-thing", "value": "?"},
        },
        "object_marking_refs": [TLP1_AMBER],
    }
    notices, unmapped = translate(adapter, bundle(observed))
    body = bulletin(only(notices))

    assert body.title == "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf"
    assert body.summary == "Times observed: 3"
    assert body.indicators == [
        Indicator(kind="file-name", value="invoice.pdf.exe"),
        Indicator(kind="file-md5", value="3773a88f65a5e780c8dff9cdc3a056f3"),
        Indicator(kind="file-sha256", value="a" * 64),
    ]
    assert (body.valid_from, body.valid_until) == (
        dt.datetime(2024, 2, 19, tzinfo=dt.UTC),
        dt.datetime(2024, 2, 19, 23, 59, 59, tzinfo=dt.UTC),
    )
    assert unmapped == Counter(["$.objects[0].objects.1.type=x-custom-thing"])


def test_relationships_link_both_ends_and_a_revoked_one_links_nothing(
    adapter: StixAdapter,
) -> None:
    malware = {
        "type": "malware",
        "spec_version": "2.1",
        "id": MALWARE_ID,
        "created": CREATED,
        "modified": CREATED,
        "name": "IcedID",
        "is_family": True,
        "object_marking_refs": [TLP2_AMBER],
    }

    def relationship(uuid: str, **fields: Any) -> dict[str, Any]:
        return {
            "type": "relationship",
            "spec_version": "2.1",
            "id": f"relationship--{uuid}",
            "created": CREATED,
            "modified": CREATED,
            "relationship_type": "indicates",
            "source_ref": INDICATOR_ID,
            "target_ref": MALWARE_ID,
            "object_marking_refs": [TLP2_AMBER],
        } | fields

    raw = bundle(
        indicator(object_marking_refs=[TLP2_AMBER]),
        malware,
        relationship("44298a74-ba52-4f0c-87a3-1824e67d7fad"),
        relationship("6598bf44-1c10-4218-af9f-75b5b71c23a7", target_ref=IPV4_ID, revoked=True),
    )
    the_indicator, the_malware = translate(adapter, raw)[0]

    assert bulletin(the_indicator).related_entities == [
        RelatedEntity(kind="malware", name="IcedID", ref=MALWARE_ID)
    ]
    assert bulletin(the_malware).related_entities == [
        RelatedEntity(kind="indicator", name="Loader C2 address", ref=INDICATOR_ID)
    ]
    assert the_indicator.classification.field_markings == []


@pytest.mark.parametrize(
    ("confidence", "credibility"),
    [(0, 5), (19, 5), (20, 4), (50, 3), (79, 2), (80, 1), (100, 1), (None, None)],
)
def test_confidence_on_the_admiralty_credibility_scale(
    adapter: StixAdapter, confidence: int | None, credibility: int | None
) -> None:
    body = bulletin(only(translate(adapter, bundle(indicator(confidence=confidence)))[0]))

    assert body.information_credibility == credibility


def test_custom_types_properties_and_extensions_are_counted(adapter: StixAdapter) -> None:
    extension = "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e"
    custom = {
        "type": "x-acme-case",
        "id": "x-acme-case--0f4e1e0b-7e0b-4f0e-9b1a-2b7c0b4c1d2e",
        "created": CREATED,
        "modified": CREATED,
    }
    raw = bundle(
        indicator(
            x_acme_priority="high",
            extensions={extension: {"extension_type": "property-extension", "rank": 4}},
        ),
        custom,
    )
    _, unmapped = translate(adapter, raw)

    assert unmapped == Counter(
        [
            "$.objects[0].x_acme_priority",
            f"$.objects[0].extensions.{extension}",
            "$.objects[1].type=x-acme-case",
        ]
    )


def test_properties_ignored_on_purpose_are_not_counted(adapter: StixAdapter) -> None:
    software = "software--a1827f6d-ca53-5605-9e93-4316cd22a00a"
    malware = {
        "type": "malware",
        "spec_version": "2.1",
        "id": MALWARE_ID,
        "created": CREATED,
        "modified": CREATED,
        "name": "IcedID",
        "is_family": True,
        "lang": "en",
        "operating_system_refs": [software],
    }
    raw = bundle(malware, indicator(pattern_version="2.1"))
    notices, unmapped = translate(adapter, raw)

    assert [bulletin(notice).related_entities for notice in notices] == [[], []]
    assert unmapped == Counter()


# Patterns


@pytest.mark.parametrize(
    ("pattern", "indicators"),
    [
        ("[domain-name:value = 'evil.example']", [("domain-name", "evil.example")]),
        (
            "[url:value = 'http://a.example/x' OR url:value = 'http://b.example/y']",
            [("url", "http://a.example/x"), ("url", "http://b.example/y")],
        ),
        (
            "[ipv4-addr:value = '192.0.2.1'] OR ([ipv6-addr:value = '2001:db8::1'])",
            [("ipv4-addr", "192.0.2.1"), ("ipv6-addr", "2001:db8::1")],
        ),
        (
            "[file:hashes.'SHA-256' = 'ab12' OR file:hashes.MD5 = 'cd34']",
            [("file-sha256", "ab12"), ("file-md5", "cd34")],
        ),
        (
            "[ipv4-addr:value IN ('192.0.2.1', '192.0.2.2')]",
            [("ipv4-addr", "192.0.2.1"), ("ipv4-addr", "192.0.2.2")],
        ),
        ("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", [("ipv4-addr", "198.51.100.0/24")]),
        ("[email-message:from_ref.value = 'ceo@example.com']", [("email-addr", "ceo@example.com")]),
        ("[autonomous-system:number = 64496]", [("autonomous-system", "64496")]),
        ("[file:name = 'it''s.exe']", [("stix-pattern", "[file:name = 'it''s.exe']")]),
        ("[file:name = 'it\\'s.exe']", [("file-name", "it's.exe")]),
        # Conjunctions, sequences, qualifiers, other operators: one pattern, kept whole.
        (
            "[file:hashes.MD5 = 'cd34' AND file:size = 1024]",
            [("stix-pattern", "[file:hashes.MD5 = 'cd34' AND file:size = 1024]")],
        ),
        (
            "[ipv4-addr:value = '192.0.2.1'] FOLLOWEDBY [domain-name:value = 'x.example']",
            [
                (
                    "stix-pattern",
                    "[ipv4-addr:value = '192.0.2.1'] FOLLOWEDBY [domain-name:value = 'x.example']",
                )
            ],
        ),
        (
            "[ipv4-addr:value = '192.0.2.1'] REPEATS 5 TIMES WITHIN 10 SECONDS",
            [("stix-pattern", "[ipv4-addr:value = '192.0.2.1'] REPEATS 5 TIMES WITHIN 10 SECONDS")],
        ),
        (
            "[ipv4-addr:value != '192.0.2.1']",
            [("stix-pattern", "[ipv4-addr:value != '192.0.2.1']")],
        ),
        (
            "[network-traffic:dst_port = 443]",
            [("stix-pattern", "[network-traffic:dst_port = 443]")],
        ),
        (
            "[domain-name:value ISSUBSET 'x']",
            [("stix-pattern", "[domain-name:value ISSUBSET 'x']")],
        ),
        ("not a pattern at all", [("stix-pattern", "not a pattern at all")]),
        (
            "(" * 500 + "[url:value = 'x']" + ")" * 500,
            [("stix-pattern", "(" * 500 + "[url:value = 'x']" + ")" * 500)],
        ),
    ],
)
def test_patterns_become_indicators_when_they_list_values(
    adapter: StixAdapter, pattern: str, indicators: list[tuple[str, str]]
) -> None:
    body = bulletin(only(translate(adapter, bundle(indicator(pattern=pattern)))[0]))

    assert [(i.kind, i.value) for i in body.indicators] == indicators


def test_a_pattern_in_another_language_is_one_indicator_of_that_kind(adapter: StixAdapter) -> None:
    rule = 'rule Loader { strings: $a = "xyz" condition: $a }'
    body = bulletin(
        only(translate(adapter, bundle(indicator(pattern=rule, pattern_type="yara", name=None)))[0])
    )

    assert body.indicators == [Indicator(kind="yara", value=rule)]
    assert body.title == rule


def test_an_unknown_hash_algorithm_is_kept_and_counted(adapter: StixAdapter) -> None:
    pattern = "[file:hashes.'BLAKE3' = 'ef56']"
    notices, unmapped = translate(adapter, bundle(indicator(pattern=pattern)))

    assert bulletin(only(notices)).indicators == [Indicator(kind="file-blake3", value="ef56")]
    assert unmapped == Counter(["$.objects[0].pattern=BLAKE3"])


def test_equalities_reads_quoted_properties_and_indexes() -> None:
    assert equalities("[email-message:to_refs[0].value = 'a@example.org']") == [
        Comparison("email-message", "to_refs[*].value", "a@example.org")
    ]


# Malformed payloads


@pytest.mark.parametrize(
    ("raw", "where", "why"),
    [
        (b'{"type": "bundle",\n "objects": [', "line 2 column 14", "invalid JSON"),
        (
            b'{"type": "bundle", "objects": [{"type": "indicator", "id": "M\xfcller"}]}',
            "line 1 column 62",
            "not UTF-8",
        ),
        (b"[]", "$", "expected a STIX bundle or object, found an array"),
        (b'{"total": 0}', "$", "neither a STIX bundle"),
        (b'{"type": "bundle", "objects": {}}', "$.objects", "expected an array of objects"),
        (b'{"type": "bundle", "objects": [7]}', "$.objects[0]", "expected an object"),
        (
            bundle({"type": "indicator", "id": "indicator--1"}),
            "$.objects[0].id",
            "is not a STIX id of a indicator",
        ),
        (bundle(indicator(id=MALWARE_ID)), "$.objects[0].id", "is not a STIX id of a indicator"),
        (bundle(indicator(spec_version="3.0")), "$.objects[0].spec_version", "STIX 3.0"),
        (
            bundle(indicator(modified="2024-02-20 10:00")),
            "$.objects[0].modified",
            "not a STIX timestamp",
        ),
        (
            bundle(indicator(valid_from="2024-02-30T00:00:00Z")),
            "$.objects[0].valid_from",
            "not a calendar time",
        ),
        (
            bundle(indicator(valid_until="0001-01-01T00:00:00+01:00")),
            "$.objects[0].valid_until",
            "not a calendar time",
        ),
        (bundle(indicator(name=["x"])), "$.objects[0].name", "expected a string"),
        (
            bundle(indicator(indicator_types="x")),
            "$.objects[0].indicator_types",
            "expected an array",
        ),
        (bundle(indicator(confidence=101)), "$.objects[0].confidence", "no confidence"),
        (bundle(indicator(revoked="yes")), "$.objects[0].revoked", "expected a boolean"),
        (bundle(indicator(created_by_ref="Stark")), "$.objects[0].created_by_ref", "not a STIX id"),
        (
            bundle(indicator(kill_chain_phases=[{"kill_chain_name": "lmco"}])),
            "$.objects[0].kill_chain_phases[0].phase_name",
            "missing",
        ),
        (
            bundle(indicator(aliases=[{"name": "x"}])),
            "$.objects[0].aliases[0]",
            "expected a text, number or boolean",
        ),
    ],
)
def test_faults_are_placed(adapter: StixAdapter, raw: bytes, where: str, why: str) -> None:
    error = failure(adapter, raw)

    assert error.format == FORMAT
    assert error.where == where
    assert why in error.reason


def test_a_fault_anywhere_yields_nothing(adapter: StixAdapter) -> None:
    """The whole payload goes to the dead-letter topic, so none of it may be published."""
    second = indicator(id="indicator--0b5b6e4f-8d5c-4d8f-9c57-0c1c4c4b4a11", valid_from="x")

    with pytest.raises(TranslationError):
        adapter.translate(context(bundle(indicator(), second)))


# The mapping table


def test_mapping_table_rejects_unknown_tables_and_markings() -> None:
    tables = mapping_tables("stix", StixMapping)

    with pytest.raises(ValidationError, match="unknown marking"):
        StixMapping.model_validate(tables | {"fixed_markings": {TLP1_RED: "TLP:PURPLE"}})
    with pytest.raises(ValidationError, match="no level for"):
        StixMapping.model_validate(tables | {"tlp_levels": {"RED": "SECRET"}})


# Fuzzing: whatever the bytes, notices or a placed TranslationError, nothing else.

FIXTURE_BYTES = [path.read_bytes() for path in (STIX21_DOC, STIX20_GRANULAR, STIX21_DANGLING)]
ODD_STRINGS = ["", " ", "marking-definition--00000000-0000-4000-8000-000000000000", "x.[9]"]
"""Strings where a reference, a path or a name is expected."""
VALUES = JSON_VALUES | st.text(max_size=40) | st.sampled_from(ODD_STRINGS)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of([damaged_json(raw, VALUES) for raw in FIXTURE_BYTES]))
def test_mutated_payloads_translate_or_fail_with_a_place(raw: bytes) -> None:
    notices_or_placed_error(StixAdapter(), context(raw))
