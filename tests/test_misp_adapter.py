"""The MISP adapter on a real CIRCL event and sharing-group index, and on made-up events built
here field by field: pure translation, no Kafka.

The real files are read from shared/ beside the repository, never copied into it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from adapters.base import TranslationContext
from adapters.lookups import load_mapping
from adapters.misp import MispAdapter
from adapters.misp.content import NOT_FOR_DETECTION
from adapters.misp.distribution import Distribution, MarkingRules, Scope
from adapters.misp.sharing_groups import (
    MispOrganisation,
    SharingGroup,
    SharingGroupFault,
    parse_sharing_groups_index,
)
from adapters.misp.translate import MispMapping
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
    SourceReliability,
    ThreatLevel,
    Tlp,
)
from tests.adapter_helpers import JSON_VALUES, Feed, damaged_json, notices_or_placed_error
from tests.conftest import FIXTURES

EVENT_FILE = FIXTURES / "intel" / "misp_event_circl_9747_existing_event.json"
GROUPS_FILE = FIXTURES / "intel" / "misp_sharing_groups_index.json"
FORMAT = "misp-event-json"
RECEIVED_AT = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)
ORIGINATOR = Originator(agency_id="lu-circl", country="LU")
EVENT_UUID = "5a3c2fcd-8328-42bb-a95e-4f4402de0b81"
CIRCL = "55f6ea5e-2c60-40e5-964f-47a8950d210f"
PIFPAFPOUM = "56bf12a7-c19c-4b98-83e7-d9bb02de0b81"
MADE_UP_UUID = "0b6e2f3a-6a51-4c55-9a6e-2d3c8f1e7a10"
FEED = Feed(FORMAT, ORIGINATOR, RECEIVED_AT)


@pytest.fixture(scope="module")
def plain() -> MispAdapter:
    """The adapter as installed: mapping.yml knows no organisation, community or group."""
    return MispAdapter()


@pytest.fixture(scope="module")
def adapter(plain: MispAdapter) -> MispAdapter:
    """The adapter configured as a hub that knows CIRCL's MISP would configure it."""
    configured = plain.mapping.markings.model_dump(mode="json") | {
        "communities": {
            "lu-circl": {"this_community": ["group:EU"], "connected_communities": ["group:NATO"]}
        },
        "organisations": {CIRCL: "lu-circl", "PifPafPoum": "fr-pifpaf"},
        "sharing_groups": {
            "lu-circl": {
                group_id: group.model_dump(mode="json")
                for group_id, group in parse_sharing_groups_index(groups_index()).items()
            }
        },
    }
    validated = MarkingRules.model_validate(configured)
    return MispAdapter(plain.mapping.model_copy(update={"markings": validated}))


def groups_index() -> Any:
    return orjson.loads(GROUPS_FILE.read_bytes())


def fixture_event() -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(EVENT_FILE.read_bytes())
    return data


def written(payload: Any) -> bytes:
    """Most events are built here as data; faults in the JSON itself need bytes."""
    return payload if isinstance(payload, bytes) else orjson.dumps(payload)


def translate(
    adapter: MispAdapter, payload: Any
) -> tuple[list[NoticeEnvelope], TranslationContext]:
    return FEED.translate(adapter, written(payload))


def only(adapter: MispAdapter, payload: Any) -> NoticeEnvelope:
    notices, _ = translate(adapter, payload)
    assert len(notices) == 1
    return notices[0]


def failure(adapter: MispAdapter, payload: Any) -> TranslationError:
    return FEED.failure(adapter, written(payload))


def bulletin(notice: NoticeEnvelope) -> IntelBulletin:
    assert isinstance(notice.body, IntelBulletin)
    return notice.body


def tags(*names: str) -> list[dict[str, Any]]:
    return [{"name": name, "colour": "#ffffff", "exportable": True} for name in names]


def attribute(value: Any = "evil.example", kind: str = "domain", **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "category": "Network activity",
        "value": value,
        "to_ids": True,
        "distribution": "5",
        "sharing_group_id": "0",
        "deleted": False,
        "comment": "",
        "uuid": "5f0c1d2e-0000-4000-8000-000000000001",
        "timestamp": "1709280000",
    } | fields


def event(**fields: Any) -> dict[str, Any]:
    """A made-up event with MISP's mandatory fields; ``fields`` replace or add to them."""
    return {
        "uuid": MADE_UP_UUID,
        "info": "Phishing wave against customs brokers",
        "date": "2024-02-28",
        "distribution": "3",
        "sharing_group_id": "0",
        "threat_level_id": "2",
        "analysis": "1",
        "published": True,
        "timestamp": "1709280000",
        "publish_timestamp": "1709283600",
        "Orgc": {"id": "2", "name": "CIRCL", "uuid": CIRCL},
        "Tag": tags("tlp:green"),
        "Attribute": [attribute()],
    } | fields


def classification(adapter: MispAdapter, **fields: Any) -> Classification:
    return only(adapter, event(**fields)).classification


# The real CIRCL event


def test_real_event_envelope(plain: MispAdapter) -> None:
    raw = EVENT_FILE.read_bytes()
    notice = only(plain, raw)

    assert notice.notice_id == f"misp-{EVENT_UUID}"
    assert (notice.version, notice.msg_type, notice.references) == (1, MsgType.ALERT, [])
    assert notice.notice_type is NoticeType.INTEL_BULLETIN
    assert notice.originator == ORIGINATOR
    # Never published (publish_timestamp "0"): issued at its last change, "1513948642".
    assert notice.issued_at == dt.datetime(2017, 12, 22, 13, 17, 22, tzinfo=dt.UTC)
    assert notice.classification == Classification(
        level=Level.UNCLASSIFIED,
        national_marking="tlp:white; MISP distribution 3 (All communities)",
        tlp=Tlp.CLEAR,
    )
    assert notice.source.model_dump() == {
        "format": FORMAT,
        "original_id": EVENT_UUID,
        "adapter": "misp",
        "adapter_version": "1.0.0",
        "received_at": RECEIVED_AT,
        "sha256": hashlib.sha256(raw).hexdigest(),
    }


def test_real_event_bulletin(plain: MispAdapter) -> None:
    body = bulletin(only(plain, EVENT_FILE.read_bytes()))

    assert body.title == "OSINT - Sednit update: How Fancy Bear Spent the Year"
    assert body.summary == "CIRCL; 2017-12-21; threat level low; analysis initial; not published"
    assert body.threat_level is ThreatLevel.LOW
    assert body.valid_from == dt.datetime(2017, 12, 21, tzinfo=dt.UTC)
    assert body.valid_until is None
    assert (body.source_reliability, body.information_credibility) == (None, None)
    assert body.text is not None
    assert body.text.startswith("The Sednit group — also known as Strontium, APT28, Fancy Bear")
    assert body.text.endswith("a new version of their flagship malware: Xagent.")
    assert "\r" not in body.text


def test_real_event_indicators(plain: MispAdapter) -> None:
    """9 event attributes (one is the prose above) and 113 in 49 objects, 37 of them prose."""
    indicators = bulletin(only(plain, EVENT_FILE.read_bytes())).indicators

    assert len(indicators) == 84
    assert Counter(i.kind for i in indicators) == Counter(
        {"sha1": 37, "domain": 19, "filename": 15, "ip-dst": 12, "link": 1}
    )
    assert indicators[0] == Indicator(
        kind="link",
        value="https://www.welivesecurity.com/2017/12/21/sednit-update-fancy-bear-spent-year/",
        description=NOT_FOR_DETECTION,
    )
    assert indicators[1] == Indicator(
        kind="domain", value="movieultimate.com", description="Xagent Samples"
    )
    assert indicators[9] == Indicator(
        kind="sha1",
        value="68064fc152e23d56e541714af52651cb4ba81aaf",
        description="file/sha1; Win32/Sednit.AX; state: Malicious",
    )
    assert indicators[60] == Indicator(
        kind="ip-dst", value="87.236.211.182", description="domain-ip/ip"
    )


def test_real_event_tags_become_topics_and_galaxies_related_entities(plain: MispAdapter) -> None:
    body = bulletin(only(plain, EVENT_FILE.read_bytes()))

    assert body.topics == [
        'workflow:state="incomplete"',
        'workflow:todo="create-missing-misp-galaxy-cluster-values"',
        'workflow:todo="create-missing-misp-galaxy-cluster"',
        'misp-galaxy:threat-actor="Sofacy"',
        'misp-galaxy:exploit-kit="Sednit EK"',
        'misp-galaxy:tool="GAMEFISH"',
        'misp-galaxy:mitre-malware="JHUHUGIT"',
        'misp-galaxy:tool="X-Tunnel"',
        'misp-galaxy:mitre-malware="XTunnel"',
        'misp-galaxy:mitre-malware="ADVSTORESHELL"',
        'misp-galaxy:tool="EVILTOSS"',
        'misp-galaxy:mitre-malware="USBStealer"',
        'misp-galaxy:tool="X-Agent"',
        'misp-galaxy:mitre-malware="XAgentOSX"',
        'misp-galaxy:mitre-malware="CHOPSTICK"',
        'misp-galaxy:exploit-kit="DealersChoice"',
        'misp-galaxy:mitre-malware="Downdelph"',
    ]
    assert "tlp:white" not in body.topics
    assert len(body.related_entities) == 15
    assert body.related_entities[:3] == [
        RelatedEntity(kind="reporting-organisation", name="CIRCL", ref=CIRCL),
        RelatedEntity(
            kind="threat-actor", name="Sofacy", ref="7cdff317-a673-4474-84ec-4f1754947823"
        ),
        RelatedEntity(
            kind="exploit-kit", name="Sednit EK", ref="454f4e78-bd7c-11e6-a4a6-cec0c932ce01"
        ),
    ]


def test_real_event_leaves_no_field_unread(plain: MispAdapter) -> None:
    _, ctx = translate(plain, EVENT_FILE.read_bytes())

    assert ctx.unmapped == Counter()


@pytest.mark.parametrize(
    "wrap",
    [
        lambda e: {"Event": e},
        lambda e: [{"Event": e}],
        lambda e: [e],
        lambda e: {"response": [{"Event": e}]},
        lambda e: {"Event": e, "action": "publish"},
    ],
    ids=["wrapped", "index-list", "bare-list", "rest-search", "kafka-publish"],
)
def test_every_payload_shape_gives_the_same_bulletin(plain: MispAdapter, wrap: Any) -> None:
    expected = only(plain, EVENT_FILE.read_bytes())
    notice = only(plain, wrap(fixture_event()))

    assert notice.body == expected.body
    assert notice.classification == expected.classification
    assert (notice.notice_id, notice.msg_type) == (expected.notice_id, MsgType.ALERT)


def test_a_list_of_events_gives_one_notice_each_in_order(plain: MispAdapter) -> None:
    second = "1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b"
    notices, _ = translate(plain, {"response": [{"Event": fixture_event()}, event(uuid=second)]})

    assert [n.notice_id for n in notices] == [f"misp-{EVENT_UUID}", f"misp-{second}"]


def test_an_empty_search_result_has_no_notices(plain: MispAdapter) -> None:
    assert translate(plain, {"response": []})[0] == []


def test_a_deleted_event_from_the_kafka_plugin_cancels_the_notice(plain: MispAdapter) -> None:
    # What MISP's Kafka plugin sends on deletion: the event's own row, and the action.
    row = {k: v for k, v in event().items() if k not in ("Tag", "Attribute", "Orgc")}
    notice = only(plain, {"Event": row, "action": "delete"})

    assert (notice.version, notice.msg_type) == (2, MsgType.CANCEL)
    assert notice.references == [NoticeReference(notice_id=f"misp-{MADE_UP_UUID}", version=1)]
    assert notice.issued_at == RECEIVED_AT  # the row's timestamp is its last edit, not deletion
    assert bulletin(notice).title == "Phishing wave against customs brokers"


def test_a_zeromq_notification_has_orgc_and_tags_beside_the_event(plain: MispAdapter) -> None:
    row = {k: v for k, v in event().items() if k not in ("Tag", "Orgc")}
    payload = {
        "Event": row,
        "Orgc": {"id": "2", "name": "CIRCL", "uuid": CIRCL},
        "EventTag": [{"id": "7", "local": False, "Tag": {"id": "3", "name": "tlp:amber"}}],
        "action": "edit",
    }
    notices, ctx = translate(plain, payload)

    assert notices[0].msg_type is MsgType.ALERT
    assert notices[0].classification.tlp is Tlp.AMBER
    assert bulletin(notices[0]).related_entities[0].name == "CIRCL"
    assert ctx.unmapped == Counter()


# The sharing groups index


def test_sharing_groups_index_parses_into_groups_by_id() -> None:
    groups = parse_sharing_groups_index(groups_index())
    members = (
        MispOrganisation(uuid=CIRCL, name="CIRCL"),
        MispOrganisation(uuid=PIFPAFPOUM, name="PifPafPoum"),
    )

    assert groups == {
        "1": SharingGroup(name="PrivateTrustedGroup", organisations=members),
        "2": SharingGroup(name="test", organisations=members),
    }


def test_sharing_groups_index_as_the_rest_api_wraps_it() -> None:
    assert parse_sharing_groups_index({"response": groups_index()}).keys() == {"1", "2"}


@pytest.mark.parametrize(
    ("index", "where"),
    [
        ({"SharingGroup": {}}, "$"),
        ([{"Organisation": {}}], "$[0]"),
        ([{"SharingGroup": {"name": "no id"}}], "$[0].id"),
        (
            [{"SharingGroup": {"id": "3", "name": "x"}, "SharingGroupOrg": {}}],
            "$[0].SharingGroupOrg",
        ),
    ],
)
def test_a_malformed_sharing_groups_index_is_placed(index: Any, where: str) -> None:
    with pytest.raises(SharingGroupFault) as caught:
        parse_sharing_groups_index(index)

    assert caught.value.where == where


# Distribution and TLP (mapping.yml's markings table)


@pytest.mark.parametrize(
    ("distribution", "tlp_tags", "tlp", "releasable_to", "orcon"),
    [
        ("0", [], Tlp.AMBER_STRICT, ["lu-circl"], True),
        ("0", ["tlp:clear"], Tlp.AMBER_STRICT, ["lu-circl"], True),
        ("0", ["tlp:red"], Tlp.RED, ["lu-circl"], True),
        ("1", [], Tlp.GREEN, ["group:EU"], False),
        ("1", ["tlp:white"], Tlp.GREEN, ["group:EU"], False),
        ("1", ["tlp:amber"], Tlp.AMBER, ["group:EU", "lu-circl"], False),
        ("2", [], Tlp.GREEN, ["group:EU", "group:NATO"], False),
        ("3", ["tlp:white"], Tlp.CLEAR, [], False),
        ("3", ["tlp:clear"], Tlp.CLEAR, [], False),
        ("3", [], Tlp.GREEN, [], False),
        (
            "3",
            ["tlp:green", "tlp:amber+strict", "tlp:white"],
            Tlp.AMBER_STRICT,
            ["lu-circl"],
            False,
        ),
        ("3", ["TLP:RED"], Tlp.RED, ["lu-circl"], False),
        (3, ["tlp:green"], Tlp.GREEN, [], False),
    ],
)
def test_distribution_and_tlp_tags_give_the_stricter_reading(
    adapter: MispAdapter,
    distribution: Any,
    tlp_tags: list[str],
    tlp: Tlp,
    releasable_to: list[str],
    orcon: bool,
) -> None:
    found = classification(adapter, distribution=distribution, Tag=tags(*tlp_tags))

    assert (found.tlp, found.releasable_to, found.originator_controlled) == (
        tlp,
        releasable_to,
        orcon,
    )
    assert found.level is Level.UNCLASSIFIED


def test_communities_nobody_configured_reach_the_originators_tlp_community(
    plain: MispAdapter,
) -> None:
    found = classification(plain, distribution="1", Tag=[])

    assert (found.tlp, found.releasable_to) == (Tlp.GREEN, [])
    assert found.national_marking == "MISP distribution 1 (This community only)"


def test_a_known_sharing_group_releases_to_its_mapped_members(adapter: MispAdapter) -> None:
    found = classification(adapter, distribution="4", sharing_group_id="1", Tag=tags("tlp:green"))

    assert found == Classification(
        level=Level.UNCLASSIFIED,
        national_marking="tlp:green; MISP distribution 4 (Sharing group): PrivateTrustedGroup",
        tlp=Tlp.AMBER,
        releasable_to=["lu-circl", "fr-pifpaf"],
        originator_controlled=True,
    )


def test_an_inline_sharing_group_is_used_and_unmapped_members_are_counted(
    plain: MispAdapter,
) -> None:
    inline = {
        "id": "9",
        "name": "Benelux CERTs",
        "uuid": "6a4f5e2d-1c3b-4a59-8e7f-0d1c2b3a4f5e",
        "Organisation": {"id": "1", "name": "CIRCL", "uuid": CIRCL},
        "SharingGroupOrg": [
            {"extend": True, "Organisation": {"id": "1", "name": "CIRCL", "uuid": CIRCL}},
            {"extend": False, "Organisation": {"id": "4", "name": "CERT.be", "uuid": PIFPAFPOUM}},
        ],
        "SharingGroupServer": [{"all_orgs": True, "server_id": "3"}],
    }
    notices, ctx = translate(
        plain, event(distribution="4", sharing_group_id="9", SharingGroup=inline)
    )

    assert notices[0].classification.releasable_to == ["lu-circl"]
    assert str(notices[0].classification.national_marking).endswith(": Benelux CERTs")
    assert ctx.unmapped == Counter(
        [
            f"$.sharing_group_id=organisation CIRCL {CIRCL}",
            f"$.sharing_group_id=organisation CERT.be {PIFPAFPOUM}",
            "$.sharing_group_id=all organisations of server 3",
        ]
    )


@pytest.mark.parametrize(
    ("fields", "where", "marking", "scheme"),
    [
        ({"distribution": "4", "sharing_group_id": "7"}, "$.sharing_group_id", "7", "group"),
        ({"distribution": "4", "sharing_group_id": "0"}, "$.sharing_group_id", "0", "group"),
        (
            {
                "distribution": "4",
                "sharing_group_id": "1",
                "SharingGroup": {"id": "2", "name": "x"},
            },
            "$.sharing_group_id",
            "1, but the event's SharingGroup is 2",
            "group",
        ),
        ({"distribution": "5"}, "$.distribution", "5", "distribution"),
        ({"distribution": "6"}, "$.distribution", "6", "distribution"),
        ({"distribution": "all"}, "$.distribution", "all", "distribution"),
        ({"Tag": tags("tlp:green", "tlp:ex:chr")}, "$.Tag[1].name", "tlp:ex:chr", "TLP"),
        ({"Tag": tags("tlp:unclear")}, "$.Tag[0].name", "tlp:unclear", "TLP"),
        (
            {"Tag": tags('nato:classification="NX"')},
            "$.Tag[0].name",
            'nato:classification="NX"',
            "classification",
        ),
        (
            {"Tag": tags('fr-classif:special-france="SPECIAL_FRANCE"')},
            "$.Tag[0].name",
            'fr-classif:special-france="SPECIAL_FRANCE"',
            "classification",
        ),
        (
            {"Attribute": [attribute(Tag=tags("tlp:ex:chr"))]},
            "$.Attribute[0].Tag[0].name",
            "tlp:ex:chr",
            "TLP",
        ),
        (
            {"Attribute": [attribute(distribution="8")]},
            "$.Attribute[0].distribution",
            "8",
            "distribution",
        ),
    ],
)
def test_unknown_markings_are_never_guessed(
    adapter: MispAdapter, fields: dict[str, Any], where: str, marking: str, scheme: str
) -> None:
    error = failure(adapter, event(**fields))

    assert isinstance(error, UnknownMarking)
    assert (error.where, error.marking) == (where, marking)
    assert scheme in error.scheme
    assert error.reason.startswith("unknown marking")


def test_an_event_without_a_distribution_reads_as_its_feed_is_configured(
    plain: MispAdapter,
) -> None:
    feed_event = {k: v for k, v in event().items() if k not in ("distribution", "sharing_group_id")}
    found = only(plain, feed_event).classification
    assert (found.tlp, found.releasable_to, found.originator_controlled) == (
        Tlp.AMBER_STRICT,
        ["lu-circl"],
        True,
    )

    markings = plain.mapping.markings.model_copy(
        update={"absent_distribution_by_agency": {"lu-circl": Distribution.ALL_COMMUNITIES}}
    )
    feed = MispAdapter(plain.mapping.model_copy(update={"markings": markings}))
    assert only(feed, feed_event).classification.tlp is Tlp.GREEN


def test_classification_tags_set_the_level_and_caveats(plain: MispAdapter) -> None:
    found = classification(
        plain,
        Tag=tags("tlp:amber", 'nato:classification="NR"', 'nato:classification="NS-A"'),
    )

    assert found.level is Level.SECRET
    assert found.caveats == ["ATOMAL"]
    assert found.national_marking == (
        'tlp:amber; nato:classification="NR"; nato:classification="NS-A"; '
        "MISP distribution 3 (All communities)"
    )


# Attribute-level markings


@pytest.mark.parametrize(
    ("element", "event_scope", "narrower"),
    [
        (Scope(Distribution.INHERIT), Scope(Distribution.ALL_COMMUNITIES), False),
        (Scope(Distribution.INHERIT), Scope(Distribution.SHARING_GROUP, "1"), False),
        (Scope(Distribution.ALL_COMMUNITIES), Scope(Distribution.THIS_COMMUNITY_ONLY), False),
        (Scope(Distribution.THIS_COMMUNITY_ONLY), Scope(Distribution.THIS_COMMUNITY_ONLY), False),
        (Scope(Distribution.YOUR_ORGANISATION_ONLY), Scope(Distribution.ALL_COMMUNITIES), True),
        (Scope(Distribution.THIS_COMMUNITY_ONLY), Scope(Distribution.CONNECTED_COMMUNITIES), True),
        (Scope(Distribution.SHARING_GROUP, "1"), Scope(Distribution.ALL_COMMUNITIES), True),
        (Scope(Distribution.SHARING_GROUP, "1"), Scope(Distribution.SHARING_GROUP, "1"), False),
        (Scope(Distribution.SHARING_GROUP, "2"), Scope(Distribution.SHARING_GROUP, "1"), True),
        (Scope(Distribution.SHARING_GROUP, None), Scope(Distribution.SHARING_GROUP, "1"), True),
        (Scope(Distribution.ALL_COMMUNITIES), Scope(Distribution.SHARING_GROUP, "1"), False),
        (Scope(Distribution.CONNECTED_COMMUNITIES), Scope(Distribution.SHARING_GROUP, "1"), True),
        (Scope(Distribution.SHARING_GROUP, "1"), Scope(Distribution.YOUR_ORGANISATION_ONLY), False),
    ],
)
def test_which_element_scopes_reach_fewer_than_their_event(
    element: Scope, event_scope: Scope, narrower: bool
) -> None:
    assert element.narrower_than(event_scope) is narrower


@pytest.mark.parametrize(
    ("event_fields", "attribute_fields", "kept", "why"),
    [
        ({"distribution": "3"}, {"distribution": "5"}, True, None),
        ({"distribution": "3"}, {"distribution": 5}, True, None),
        ({"distribution": "1"}, {"distribution": "3"}, True, None),
        ({"distribution": "3"}, {}, True, None),
        (
            {"distribution": "3"},
            {"distribution": "0"},
            False,
            "distribution 0 reaches fewer than the event's",
        ),
        (
            {"distribution": "3"},
            {"distribution": "4", "sharing_group_id": "1"},
            False,
            "distribution 4 reaches fewer than the event's",
        ),
        ({"distribution": "4", "sharing_group_id": "1"}, {"distribution": "5"}, True, None),
        (
            {"distribution": "4", "sharing_group_id": "1"},
            {"distribution": "4", "sharing_group_id": "1"},
            True,
            None,
        ),
        (
            {"distribution": "4", "sharing_group_id": "1"},
            {"distribution": "4", "sharing_group_id": "2"},
            False,
            "distribution 4 reaches fewer than the event's",
        ),
        ({}, {"Tag": tags("tlp:green")}, True, None),
        ({}, {"Tag": tags("tlp:red")}, False, "TLP RED is stricter than the notice's"),
        ({}, {"deleted": True}, False, "deleted"),
        ({}, {"deleted": "1"}, False, "deleted"),
    ],
)
def test_attributes_reaching_fewer_than_the_notice_are_withheld_and_counted(
    adapter: MispAdapter,
    event_fields: dict[str, Any],
    attribute_fields: dict[str, Any],
    kept: bool,
    why: str | None,
) -> None:
    fields = attribute() | attribute_fields
    if "distribution" not in attribute_fields and not event_fields:
        fields["distribution"] = "5"
    elif "distribution" not in attribute_fields:
        del fields["distribution"]
    payload = event(Attribute=[attribute("kept.example"), fields], **event_fields)
    notices, ctx = translate(adapter, payload)

    values = [i.value for i in bulletin(notices[0]).indicators]
    assert values == (["kept.example", "evil.example"] if kept else ["kept.example"])
    assert ctx.unmapped == (Counter() if kept else Counter([f"$.Attribute[1]=withheld: {why}"]))


def test_a_classified_attribute_is_kept_under_a_field_marking(plain: MispAdapter) -> None:
    payload = event(
        Attribute=[
            attribute("public.example"),
            attribute("source.example", Tag=tags('nato:classification="NR"')),
        ]
    )
    notice = only(plain, payload)

    assert notice.classification.level is Level.UNCLASSIFIED
    assert notice.classification.field_markings == [
        FieldMarking(path="indicators.[1]", level=Level.RESTRICTED)
    ]
    assert [i.value for i in bulletin(notice).indicators] == ["public.example", "source.example"]


def test_a_classified_narrative_marks_the_text(plain: MispAdapter) -> None:
    prose = attribute("Seen at the port of Antwerp.", kind="text", Tag=tags("euci:EU-CONFIDENTIAL"))
    notice = only(plain, event(Attribute=[prose]))

    assert bulletin(notice).text == "Seen at the port of Antwerp."
    assert notice.classification.field_markings == [
        FieldMarking(path="text", level=Level.CONFIDENTIAL)
    ]


def test_objects_deleted_or_narrower_are_withheld_whole(plain: MispAdapter) -> None:
    def file_object(**fields: Any) -> dict[str, Any]:
        return {
            "name": "file",
            "comment": "",
            "deleted": False,
            "distribution": "5",
            "Attribute": [attribute("a.exe", kind="filename", object_relation="filename")],
        } | fields

    payload = event(
        Attribute=[],
        Object=[file_object(), file_object(deleted=True), file_object(distribution="0")],
    )
    notices, ctx = translate(plain, payload)

    assert bulletin(notices[0]).indicators == [
        Indicator(kind="filename", value="a.exe", description="file/filename")
    ]
    assert ctx.unmapped == Counter(
        [
            "$.Object[1]=withheld: deleted",
            "$.Object[2]=withheld: distribution 0 reaches fewer than the event's",
        ]
    )


def test_an_object_of_prose_only_becomes_text(plain: MispAdapter) -> None:
    report = {
        "name": "report",
        "comment": "Europol EC3 briefing",
        "distribution": "5",
        "Attribute": [attribute("Three arrests in Lyon.", kind="text", object_relation="summary")],
    }
    body = bulletin(only(plain, event(Attribute=[], Object=[report])))

    assert body.indicators == []
    assert body.text == "report: Europol EC3 briefing\nsummary: Three arrests in Lyon."


def test_event_reports_lead_the_text(plain: MispAdapter) -> None:
    reports = [
        {"name": "Summary", "content": "# Findings\nA new loader.", "distribution": "5"},
        {"name": "Draft", "content": "old", "distribution": "5", "deleted": True},
    ]
    prose = attribute("An abstract.", kind="comment")
    notices, ctx = translate(plain, event(EventReport=reports, Attribute=[prose]))

    assert bulletin(notices[0]).text == "Summary\n\n# Findings\nA new loader.\n\nAn abstract."
    assert ctx.unmapped == Counter(["$.EventReport[1]=withheld: deleted"])


# Other fields


def test_threat_levels_analysis_and_publication(plain: MispAdapter) -> None:
    notice = only(plain, event(threat_level_id="1", analysis="2"))
    body = bulletin(notice)

    assert body.threat_level is ThreatLevel.SEVERE
    assert body.summary == "CIRCL; 2024-02-28; threat level high; analysis completed; published"
    assert notice.issued_at == dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)  # publish_timestamp


def test_an_unknown_threat_level_is_counted_not_guessed(plain: MispAdapter) -> None:
    notices, ctx = translate(plain, event(threat_level_id="7"))

    assert bulletin(notices[0]).threat_level is ThreatLevel.UNKNOWN
    assert ctx.unmapped == Counter(["$.threat_level_id=7"])


def test_admiralty_tags_grade_the_bulletin(plain: MispAdapter) -> None:
    grading = (
        'admiralty-scale:source-reliability="b"',
        'admiralty-scale:information-credibility="2"',
    )
    body = bulletin(only(plain, event(Tag=tags("tlp:green", *grading, "PAP:AMBER"))))

    assert (body.source_reliability, body.information_credibility) == (SourceReliability.B, 2)
    assert body.topics == ["PAP:AMBER"]


def test_disputed_or_unknown_grades_are_counted(plain: MispAdapter) -> None:
    grading = (
        'admiralty-scale:source-reliability="b"',
        'admiralty-scale:source-reliability="c"',
        'admiralty-scale:information-credibility="9"',
    )
    notices, ctx = translate(plain, event(Tag=tags(*grading)))

    body = bulletin(notices[0])
    assert (body.source_reliability, body.information_credibility) == (None, None)
    assert ctx.unmapped == Counter(
        [
            f"$.Tag[0].name={grading[0]} (disputed)",
            f"$.Tag[1].name={grading[1]} (disputed)",
            f"$.Tag[2].name={grading[2]}",
        ]
    )


def test_local_tags_restrict_but_are_never_published(plain: MispAdapter) -> None:
    local = [
        {"name": "tlp:amber", "local": True},
        {"name": "internal:case=4711", "exportable": False},
        {"name": "ransomware"},
    ]
    notice = only(plain, event(Tag=local))

    assert notice.classification.tlp is Tlp.AMBER
    assert bulletin(notice).topics == ["ransomware"]


def test_an_extended_event_is_related(plain: MispAdapter) -> None:
    parent = "4e2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a"
    body = bulletin(only(plain, event(extends_uuid=parent)))

    assert body.related_entities[-1] == RelatedEntity(
        kind="misp-event", name=parent, ref=f"misp-{parent}"
    )


def test_an_extended_event_that_is_no_uuid_is_counted(plain: MispAdapter) -> None:
    notices, ctx = translate(plain, event(extends_uuid="9616"))

    assert [e.kind for e in bulletin(notices[0]).related_entities] == ["reporting-organisation"]
    assert ctx.unmapped == Counter(["$.extends_uuid=9616"])


def test_a_field_nobody_maps_is_counted_where_it_is(plain: MispAdapter) -> None:
    _, ctx = translate(plain, event(Attribute=[attribute(colour_of_hat="grey")], threat="x"))

    assert ctx.unmapped == Counter(["$.threat", "$.Attribute[0].colour_of_hat"])


# Malformed payloads


def test_invalid_json_is_placed_by_line_and_column(plain: MispAdapter) -> None:
    error = failure(plain, b'{\n  "uuid": "x",\n  "info": \n}')

    assert error.where == "line 4 column 1"
    assert error.reason.startswith("invalid JSON")


@pytest.mark.parametrize(
    ("payload", "where", "why"),
    [
        ({"total": 0}, "$", "found an object with keys total"),
        ("event", "$", "found a string"),
        ([{"Event": event()}, 7], "$[1]", "expected an event, found a number"),
        ({"response": {"Event": {}}}, "$.response", "expected an array of objects"),
        (event(uuid="9747"), "$.uuid", "'9747' is not a UUID"),
        (event(info=" "), "$.info", "missing or empty"),
        (event(date="21/12/2017"), "$.date", "is not a date"),
        (event(date="2017-02-30"), "$.date", "day is out of range"),
        (event(timestamp="yesterday"), "$.timestamp", "not a count of seconds"),
        (event(timestamp="999999999999"), "$.timestamp", "year"),
        (event(published="yes"), "$.published", "expected a boolean"),
        (event(distribution=["3"]), "$.distribution", "expected a string, found an array"),
        (event(Tag={"name": "tlp:red"}), "$.Tag", "expected an array of objects"),
        (event(Tag=[{"colour": "#fff"}]), "$.Tag[0].name", "missing or empty"),
        (event(Attribute=[attribute(type=None)]), "$.Attribute[0].type", "missing or empty"),
        (event(Attribute=[attribute(value=42)]), "$.Attribute[0].value", "expected a string"),
        ({"Event": event(), "action": "shred"}, "$.action", "'shred' is not an action"),
        (
            event(distribution="4", SharingGroup={"id": "3"}),
            "$.SharingGroup.name",
            "Field required",
        ),
    ],
)
def test_faults_are_placed_by_json_path(
    plain: MispAdapter, payload: Any, where: str, why: str
) -> None:
    error = failure(plain, payload)

    assert error.format == FORMAT
    assert error.where == where
    assert why in error.reason


def test_a_fault_in_any_event_yields_nothing(plain: MispAdapter) -> None:
    with pytest.raises(TranslationError):
        plain.translate(FEED.context(orjson.dumps([event(), event(date="never")])))


# Detection and tables


def test_detect_claims_misp_events_only(plain: MispAdapter) -> None:
    head = EVENT_FILE.read_bytes()[: 64 * 1024]

    assert plain.detect(head)
    assert plain.detect(orjson.dumps({"Event": event(Attribute=[])}))
    assert not plain.detect(GROUPS_FILE.read_bytes())
    interpol = FIXTURES / "wanted" / "interpol_red_notices_list_page1_2021-12-11.json"
    assert not plain.detect(interpol.read_bytes()[: 64 * 1024])


def test_the_mapping_tables_refuse_incomplete_or_lax_distribution_rules() -> None:
    tables = load_mapping("adapters.misp", "mapping.yml", MispMapping).model_dump(mode="json")
    rules = tables["markings"]

    with pytest.raises(ValidationError, match="extra_forbidden"):
        MispMapping.model_validate(tables | {"colours": {}})
    without_4 = {k: v for k, v in rules["distribution"].items() if k != "4"}
    with pytest.raises(ValidationError, match=r"a rule for each of 0\.\.4"):
        MarkingRules.model_validate(rules | {"distribution": without_4})
    lax = rules["distribution"] | {"0": rules["distribution"]["0"] | {"tlp_when_untagged": "CLEAR"}}
    with pytest.raises(ValidationError, match="laxer than tlp_at_least"):
        MarkingRules.model_validate(rules | {"distribution": lax})
    with pytest.raises(ValidationError, match="cannot be read as inherit"):
        MarkingRules.model_validate(rules | {"absent_distribution": 5})
    with pytest.raises(ValidationError, match="communities"):
        MarkingRules.model_validate(rules | {"communities": {"x": {"this_community": ["Europe"]}}})


# Fuzzing: damaged real payloads fail cleanly or translate


_ORIGINALS = {
    "event": EVENT_FILE.read_bytes(),
    "wrapped": orjson.dumps({"Event": orjson.loads(EVENT_FILE.read_bytes()), "action": "edit"}),
    "sharing-group event": orjson.dumps(
        event(distribution="4", sharing_group_id="1", Object=[], Tag=tags("tlp:amber"))
    ),
}
_VALUES = JSON_VALUES | st.sampled_from(["0", "4", "5", "tlp:ex:chr", "", "2017-13-01", "-1"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=st.one_of([damaged_json(raw, _VALUES) for raw in _ORIGINALS.values()]))
def test_damaged_payloads_translate_or_fail_with_a_place(
    adapter: MispAdapter, payload: bytes
) -> None:
    notices_or_placed_error(adapter, FEED.context(payload))
