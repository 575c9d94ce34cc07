"""Notices to bytes and back: Avro binary in the spec's single-object encoding.

Framing (Avro specification, "Single-object encoding"): the two marker bytes 0xC3 0x01, the
8-byte little-endian CRC-64-AVRO fingerprint of the writer schema, then the Avro datum. The
fingerprint lets a reader find the writer schema in its catalog and resolve it against its
own, so a reader on an older schema reads messages written with a newer one.

The conversion between models and Avro records is kept apart from the framing
(``to_record`` / ``from_record``), as confluent-kafka's serializers keep ``to_dict`` apart.
"""

from __future__ import annotations

import io
from typing import Any

from fastavro import schemaless_reader, schemaless_writer
from pydantic import ValidationError

from broker.errors import MalformedMessage
from broker.models import BODY_TYPES, NoticeEnvelope
from broker.schema_catalog import SchemaCatalog, SchemaEntry

MAGIC = b"\xc3\x01"
HEADER_LENGTH = len(MAGIC) + 8
_NAMESPACE = "noticebroker"
_BODY_BY_RECORD_NAME = {f"{_NAMESPACE}.{cls.__name__}": cls for cls in BODY_TYPES.values()}


def to_record(notice: NoticeEnvelope) -> dict[str, Any]:
    """The Avro record for ``notice``; the body names its union branch explicitly."""
    record = notice.model_dump(mode="python")
    record["body"] = (f"{_NAMESPACE}.{type(notice.body).__name__}", record["body"])
    return record


def from_record(record: dict[str, Any]) -> NoticeEnvelope:
    """The model for an Avro record read with ``return_record_name=True``."""
    branch, body = record["body"]
    return NoticeEnvelope.model_validate(
        {**record, "body": _BODY_BY_RECORD_NAME[branch].model_validate(body)}
    )


def encode_record(writer: SchemaEntry, record: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    out.write(MAGIC)
    out.write(writer.fingerprint)
    schemaless_writer(out, writer.schema, record)
    return out.getvalue()


class NoticeSerde:
    """Encodes with the catalog's current schema; decodes anything the catalog knows."""

    def __init__(self, catalog: SchemaCatalog) -> None:
        self.catalog = catalog

    def encode(self, notice: NoticeEnvelope) -> bytes:
        return encode_record(self.catalog.reader, to_record(notice))

    def decode(self, data: bytes) -> NoticeEnvelope:
        """Decode one message; every failure is a typed WireFormatError holding ``data``."""
        if len(data) < HEADER_LENGTH or data[: len(MAGIC)] != MAGIC:
            raise MalformedMessage(
                f"does not start with the single-object marker {MAGIC.hex()} and a fingerprint",
                data=data,
            )
        writer = self.catalog.writer(data[len(MAGIC) : HEADER_LENGTH], data=data)
        try:
            record = schemaless_reader(
                io.BytesIO(data[HEADER_LENGTH:]),
                writer.schema,
                self.catalog.reader.schema,
                return_record_name=True,
                return_record_name_override=True,
            )
            if not isinstance(record, dict):
                raise TypeError(f"datum is a {type(record).__name__}, not a record")
            return from_record(record)
        except (EOFError, ValueError, IndexError, KeyError, TypeError) as exc:
            if isinstance(exc, ValidationError):
                reason = f"decoded record is not a valid notice: {exc}"
            else:
                reason = f"Avro datum does not parse with its writer schema: {exc!r}"
            raise MalformedMessage(reason, data=data) from exc
