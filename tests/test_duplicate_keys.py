"""A key given twice in one JSON object is refused, never resolved (``adapters/json_fields.py``).

JSON leaves it to the reader which of two values counts. The hub's parser keeps the last; an
agency's own tools may keep the first. A payload that names one marking first and another
last would be enforced by the hub at one level and read by a person at the other, so each
JSON adapter sends it to the dead-letter topic, placed at the repeated key.

Every case takes a real sample and writes one member again *before* the original, so the
hub's parser alone would read exactly the sample it had before.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pytest

from adapters.base import TranslationContext
from adapters.json_fields import parse_json
from adapters.registry import default_registry
from broker.errors import TranslationError
from broker.models import Originator
from broker.translation import DeadLetter, translate_record
from tests.conftest import FIXTURES, REPO_ROOT

INTEL = FIXTURES / "intel"
STIX21 = INTEL / "stix21_using-marking-definitions_cti-documentation.json"
STIX20 = INTEL / "stix20_using-granular-markings_cti-stix2-json-schemas.json"
MISP = INTEL / "misp_event_circl_9747_existing_event.json"
INTERPOL = REPO_ROOT / "examples" / "interpol" / "red_notice_detail.json"
FBI = FIXTURES / "wanted" / "fbi_wanted_api_list_page1_2021-07.json"
TLP_CLEAR = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"


def context(fmt: str, raw: bytes) -> TranslationContext:
    return TranslationContext(fmt, Originator(agency_id="x"), dt.datetime.now(dt.UTC), raw)


def repeated(sample: Path, member: str, again: str) -> bytes:
    """``sample`` with ``again`` written just before the first occurrence of ``member``."""
    text = sample.read_text("utf-8")
    assert member in text, member
    return text.replace(member, f"{again}, {member}", 1).encode()


CASES = [
    pytest.param(
        "stix2-json",
        STIX21,
        '"object_marking_refs": [',
        f'"object_marking_refs": ["{TLP_CLEAR}"]',
        "$.objects[1].object_marking_refs",
        id="stix-object_marking_refs",
    ),
    pytest.param(
        "stix2-json",
        STIX21,
        '"tlp": "amber"',
        '"tlp": "clear"',
        "$.objects[2].definition.tlp",
        id="stix-marking-definition-tlp",
    ),
    pytest.param(
        "stix2-json",
        STIX20,
        '"granular_markings": [',
        '"granular_markings": []',
        "$.objects[5].granular_markings",
        id="stix-granular_markings",
    ),
    pytest.param(
        "stix2-json",
        STIX20,
        '"marking_ref": "marking-definition--5e57c739',
        f'"marking_ref": "{TLP_CLEAR}"',
        "$.objects[5].granular_markings[0].marking_ref",
        id="stix-granular-marking_ref",
    ),
    pytest.param(
        "misp-event-json",
        MISP,
        '\n  "distribution": "3"',
        '\n  "distribution": "1"',
        "$.distribution",
        id="misp-distribution",
    ),
    pytest.param(
        "misp-event-json",
        MISP,
        '"sharing_group_id": "0",\n  "threat_level_id"',
        '"sharing_group_id": "1"',
        "$.sharing_group_id",
        id="misp-sharing_group_id",
    ),
    pytest.param(
        "misp-event-json",
        MISP,
        '"name": "osint:source-type=\\"blog-post\\""',
        '"name": "tlp:white"',
        "$.Attribute[0].Tag[0].name",
        id="misp-tag-name",
    ),
    pytest.param(
        "interpol-notice-json",
        INTERPOL,
        '"entity_id": "2023/41872"',
        '"entity_id": "2023/00001"',
        "$.entity_id",
        id="interpol-entity_id",
    ),
    pytest.param(
        "fbi-wanted-json",
        FBI,
        '"uid": "b4dbb62605454cb48f49c084c3a3c928"',
        '"uid": "00000000000000000000000000000000"',
        "$.items[0].uid",
        id="fbi-uid",
    ),
]


@pytest.mark.parametrize(("fmt", "sample", "member", "again", "where"), CASES)
def test_a_repeated_key_is_dead_lettered_at_its_path(
    fmt: str, sample: Path, member: str, again: str, where: str
) -> None:
    tampered = repeated(sample, member, again)
    original = sample.read_bytes()
    assert orjson.loads(tampered) == orjson.loads(original), "last-wins would hide it"
    assert not isinstance(translate_record(default_registry(), context(fmt, original)), DeadLetter)

    key = where.rpartition(".")[2]
    assert translate_record(default_registry(), context(fmt, tampered)) == DeadLetter(
        "TranslationError",
        where,
        f"duplicate key {key!r}: refused rather than resolved, since readers may take either value",
    )


def test_an_escaped_colon_does_not_hide_a_repeated_key() -> None:
    """The cheap check counts colons; one written as an escape sends it to the full check."""
    raw = b'{"note": "a\\u003ab", "tlp": "red", "tlp": "clear"}'
    with pytest.raises(TranslationError) as refused:
        parse_json(context("stix2-json", raw))
    assert refused.value.where == "$.tlp"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"note": "a\\u003ab", "tlp": "red"}',
        b'{"a": {"b": "c"}, "b": {"a": "c"}, "url": "https://x.example:443/?q=a:b"}',
        b'[{"a": 1}, {"a": 2}]',
        b"[" * 400 + b"]" * 400,
    ],
    ids=["escaped-colon", "same-key-in-other-objects", "same-key-in-list-items", "deep"],
)
def test_what_only_looks_repeated_is_read(raw: bytes) -> None:
    assert parse_json(context("stix2-json", raw)) == orjson.loads(raw)
