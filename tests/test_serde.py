"""Single-object encoding: framing, fingerprints, schema evolution and typed failures."""

from __future__ import annotations

import copy
import json

import pytest
from fastavro.schema import parse_schema

from broker.errors import MalformedMessage, UnknownSchema
from broker.schema_catalog import SchemaCatalog, crc64_fingerprint, load_envelope_schema
from broker.serde import MAGIC, NoticeSerde, encode_record, to_record
from tests.samples import sample_notice


@pytest.fixture(scope="module")
def catalog() -> SchemaCatalog:
    return SchemaCatalog.from_directory()


def test_fingerprint_matches_the_avro_spec_test_vector() -> None:
    # CRC-64-AVRO of the schema "int" is 0x7275d51a3f395c8f in the Java implementation,
    # written little-endian after the marker.
    assert crc64_fingerprint(parse_schema("int")) == bytes.fromhex("8f5c393f1ad57572")


def test_frame_is_marker_fingerprint_then_datum(catalog: SchemaCatalog) -> None:
    data = NoticeSerde(catalog).encode(sample_notice())
    assert data[:2] == MAGIC == b"\xc3\x01"
    assert data[2:10] == catalog.reader.fingerprint


def newer_schema_with_optional_field() -> dict[str, object]:
    """The current envelope plus one optional field, as a later release might add it."""
    schema = copy.deepcopy(load_envelope_schema())
    schema["fields"].append(
        {
            "name": "handling_instructions",
            "type": ["null", "string"],
            "default": None,
            "doc": "Added in a later release.",
        }
    )
    plain: dict[str, object] = json.loads(json.dumps(schema))
    return plain


def test_current_reader_decodes_a_newer_writer(catalog: SchemaCatalog) -> None:
    notice = sample_notice()
    newer = catalog.add_writer(newer_schema_with_optional_field())
    assert newer.fingerprint != catalog.reader.fingerprint
    record = {**to_record(notice), "handling_instructions": "do not copy to liaison officers"}
    data = encode_record(newer, record)

    assert NoticeSerde(catalog).decode(data) == notice


def test_unknown_fingerprint_is_a_typed_error_holding_the_message(
    catalog: SchemaCatalog,
) -> None:
    newer = SchemaCatalog.from_directory().add_writer(newer_schema_with_optional_field())
    data = encode_record(newer, {**to_record(sample_notice()), "handling_instructions": None})
    fresh = SchemaCatalog.from_directory()

    with pytest.raises(UnknownSchema) as caught:
        NoticeSerde(fresh).decode(data)
    assert caught.value.fingerprint == newer.fingerprint
    assert caught.value.data == data
    assert newer.fingerprint.hex() in str(caught.value)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "single-object marker"),
        (b'{"notice_id": "x"}', "single-object marker"),
        (b"\xc3\x01\x00", "single-object marker"),
    ],
)
def test_bytes_that_are_not_single_object_encoding_are_malformed(
    catalog: SchemaCatalog, data: bytes, reason: str
) -> None:
    with pytest.raises(MalformedMessage, match=reason) as caught:
        NoticeSerde(catalog).decode(data)
    assert caught.value.data == data


def test_truncated_datum_is_malformed(catalog: SchemaCatalog) -> None:
    data = NoticeSerde(catalog).encode(sample_notice())[:-20]
    with pytest.raises(MalformedMessage, match="does not parse"):
        NoticeSerde(catalog).decode(data)
