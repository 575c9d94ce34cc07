"""Notices to bytes and back: Avro binary, in either of the two framings readers tell apart
by the first byte.

- Single-object encoding (Avro specification; the default, needing nothing but schemas/): the
  two marker bytes 0xC3 0x01, the 8-byte little-endian CRC-64-AVRO fingerprint of the writer
  schema, then the datum. The catalog resolves the fingerprint.
- The Confluent wire format (``broker.framing``), written when a schema registry is
  configured: 0x00, the writer schema's 4-byte registry id, then the datum. The registry
  resolves the id, once per id.

Either way a reader resolves the writer schema against its own, so a reader on an older
schema reads messages written with a newer one. The conversion between models and Avro
records is kept apart from the framing (``to_record`` / ``from_record``), as
confluent-kafka's serializers keep ``to_dict`` apart.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from fastavro import schemaless_reader, schemaless_writer
from pydantic import ValidationError

from broker import framing
from broker.errors import MalformedMessage, UnknownSchemaId
from broker.models import BODY_TYPES, NoticeEnvelope
from broker.registry_client import SchemaRegistryClient
from broker.schema_catalog import SchemaCatalog, SchemaEntry
from broker.settings import Settings

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
    """Encodes with the catalog's current schema; decodes anything the catalog or the
    registry knows.

    With a registry, :meth:`encode_for` writes the Confluent wire format; its calls to the
    registry are synchronous and happen once per subject (writing) or per unknown schema id
    (reading), so they block an event loop for one short request at those moments only.
    :meth:`register` makes them happen at a service's start instead.
    """

    def __init__(
        self, catalog: SchemaCatalog, registry: SchemaRegistryClient | None = None
    ) -> None:
        self.catalog = catalog
        self.registry = None if registry is None else framing.RegistrySchemas(registry, catalog)
        self._last_datum: tuple[NoticeEnvelope, SchemaEntry, bytes] | None = None
        """The last notice encoded, the schema it was written with, its datum (``_datum``)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> NoticeSerde:
        """The serde a service runs with: the registry of ``schema_registry_url``, if set."""
        url = settings.schema_registry_url
        registry = None if url is None else SchemaRegistryClient(url)
        return cls(SchemaCatalog.from_directory(), registry)

    def encode(self, notice: NoticeEnvelope) -> bytes:
        """Single-object encoding, whatever the configuration."""
        return MAGIC + self.catalog.reader.fingerprint + self._datum(notice)

    def _datum(self, notice: NoticeEnvelope) -> bytes:
        """The Avro datum of ``notice`` with the current schema, unframed.

        Performance (issue #7): the distributor encodes the very same notice object once per
        recipient it delivers to, and encoding was its largest cost at 10 and 50 recipients.
        The last notice's datum is kept, by identity, so a fan-out encodes once. Notices are
        immutable facts (frozen models: a variant is a ``model_copy``, a new object), and the
        cache holds a reference, so the identity cannot pass to another notice meanwhile.
        """
        writer = self.catalog.reader
        last = self._last_datum
        if last is not None and last[0] is notice and last[1] is writer:
            return last[2]
        out = io.BytesIO()
        schemaless_writer(out, writer.schema, to_record(notice))
        datum = out.getvalue()
        self._last_datum = (notice, writer, datum)
        return datum

    def encode_for(self, topic: str, notice: NoticeEnvelope) -> bytes:
        """``notice`` as written to ``topic``: the Confluent wire format with the id of the
        schema registered under the topic's subject when there is a registry, else the
        single-object encoding.

        Raises RegistryUnavailable, RegistryRefused or IncompatibleSchema when the subject's
        id is not known yet and the registry does not give it: never unframed bytes.
        """
        if self.registry is None:
            return self.encode(notice)
        writer = self.catalog.reader
        header = framing.header(self.registry.id_for(framing.subject(topic), writer))
        return header + self._datum(notice)

    def register(self, topics: Iterable[str]) -> None:
        """Register the writer schema under each topic's subject now, so that a producer finds
        a registry that is down, or refuses the schema, when it starts rather than at its first
        notice. Nothing to do without a registry."""
        if self.registry is None:
            return
        for topic in topics:
            self.registry.id_for(framing.subject(topic), self.catalog.reader)

    def decode(self, data: bytes) -> NoticeEnvelope:
        """Decode one message in either framing; every failure is a typed WireFormatError
        holding ``data``."""
        if data[:1] == framing.MAGIC_BYTE and len(data) >= framing.HEADER_LENGTH:
            writer = self._registry_writer(framing.schema_id(data), data)
            datum = data[framing.HEADER_LENGTH :]
        elif data[: len(MAGIC)] == MAGIC and len(data) >= HEADER_LENGTH:
            writer = self.catalog.writer(data[len(MAGIC) : HEADER_LENGTH], data=data)
            datum = data[HEADER_LENGTH:]
        else:
            raise MalformedMessage(
                f"starts with neither the single-object marker {MAGIC.hex()} and a fingerprint "
                f"nor the Confluent wire format's {framing.MAGIC_BYTE.hex()} and a schema id",
                data=data,
            )
        reader = self.catalog.reader
        stream = io.BytesIO(datum)
        try:
            record = schemaless_reader(
                stream,
                writer.schema,
                reader.schema,
                return_record_name=True,
                return_record_name_override=True,
            )
            if not isinstance(record, dict):
                raise TypeError(f"datum is a {type(record).__name__}, not a record")
            notice = from_record(record)
        except (EOFError, ValueError, IndexError, KeyError, TypeError) as exc:
            if isinstance(exc, ValidationError):
                reason = f"decoded record is not a valid notice: {exc}"
            else:
                reason = f"Avro datum does not parse with its writer schema: {exc!r}"
            raise MalformedMessage(reason, data=data) from exc
        if writer.fingerprint == reader.fingerprint and stream.tell() == len(datum):
            # Performance (issue #7): a whole datum written with the current schema holds
            # exactly this notice's value (nothing was resolved), so the distributor, which
            # encodes again each notice it delivers unchanged, sends these bytes instead:
            # encoding was a third of its time per notice at one recipient.
            self._last_datum = (notice, reader, datum)
        return notice

    def _registry_writer(self, schema_id: int, data: bytes) -> SchemaEntry:
        if self.registry is None:
            raise UnknownSchemaId(
                schema_id,
                reason="no schema registry is configured to resolve it (SCHEMA_REGISTRY_URL)",
                retriable=False,
                data=data,
            )
        return self.registry.writer(schema_id, data=data)
