"""The Confluent wire format, and the registry ids it carries.

A message is the byte 0x00, the writer schema's registry id as 4 bytes big-endian, then the
Avro datum: what Kafka Connect, ksqlDB, Flink and confluent-kafka's serializers read and write.
The value schema of topic ``t`` is registered under the subject ``t-value`` (the
TopicNameStrategy every one of those tools defaults to).

Compatibility: the hub sets each subject it writes to FULL_TRANSITIVE before registering on
it. Agencies upgrade their readers on their own schedule, so a reader on any earlier schema
must read what the hub writes now (forward), and a reader on the newest schema must read a
topic's whole history (backward); transitive because a topic keeps data of every version for
its retention period. Adding an optional field with a default, or an enum symbol to an enum
with a default, passes; changing a type, or adding a union branch (a new body type), does
not, and needs a new topic. ``notices schemas check`` applies the same rule offline.
"""

from __future__ import annotations

import json
from typing import Final

from fastavro.schema import SchemaParseException, UnknownType

from broker.errors import RegistryRefused, RegistryUnavailable, UnknownSchemaId
from broker.registry_client import Compatibility, SchemaRegistryClient
from broker.schema_catalog import SchemaCatalog, SchemaEntry, schema_text

MAGIC_BYTE: Final = b"\x00"
HEADER_LENGTH: Final = 5
COMPATIBILITY: Final[Compatibility] = "FULL_TRANSITIVE"


def subject(topic: str) -> str:
    """The subject of ``topic``'s value schema (TopicNameStrategy)."""
    return f"{topic}-value"


def header(schema_id: int) -> bytes:
    return MAGIC_BYTE + schema_id.to_bytes(4, "big")


def schema_id(data: bytes) -> int:
    """The id in a message that starts with :data:`MAGIC_BYTE` and has a whole header."""
    return int.from_bytes(data[1:HEADER_LENGTH], "big")


class RegistrySchemas:
    """One registry's ids for the catalog's schemas, each asked for once per process.

    After a subject's first registration a producer needs the registry no more, so a registry
    that goes down mid-run stops nothing that already runs; a reader needs it only for ids it
    has not met. Nothing is evicted: a deployment has a handful of subjects and schema
    versions, so the caches stay small.
    """

    def __init__(self, client: SchemaRegistryClient, catalog: SchemaCatalog) -> None:
        self.client = client
        self.catalog = catalog
        self._ids: dict[tuple[str, bytes], int] = {}
        self._writers: dict[int, SchemaEntry] = {}

    def id_for(self, subject: str, writer: SchemaEntry) -> int:
        """The id of ``writer`` under ``subject``, registered (and the subject's compatibility
        mode set) the first time. Raises the registry's typed errors: a producer that gets
        no id publishes nothing."""
        key = (subject, writer.fingerprint)
        if (known := self._ids.get(key)) is not None:
            return known
        self.client.set_compatibility(subject, COMPATIBILITY)
        registered = self.client.register(subject, schema_text(writer.schema))
        self._ids[key] = registered
        self._writers.setdefault(registered, writer)
        return registered

    def writer(self, schema_id: int, *, data: bytes) -> SchemaEntry:
        """The writer schema of ``schema_id``, fetched once; ``data`` is kept in the error."""
        if (known := self._writers.get(schema_id)) is not None:
            return known
        try:
            text = self.client.schema(schema_id)
        except RegistryUnavailable as exc:
            raise UnknownSchemaId(schema_id, reason=str(exc), retriable=True, data=data) from exc
        except RegistryRefused as exc:
            retriable = exc.status >= 500
            raise UnknownSchemaId(
                schema_id, reason=str(exc), retriable=retriable, data=data
            ) from exc
        if text is None:
            raise UnknownSchemaId(
                schema_id,
                reason=f"the schema registry {self.client.url} has no schema with this id",
                retriable=False,
                data=data,
            )
        try:
            entry = self.catalog.add_writer(json.loads(text))
        except (ValueError, TypeError, KeyError, SchemaParseException, UnknownType) as exc:
            raise UnknownSchemaId(
                schema_id,
                reason=f"the registry's schema for this id is not Avro fastavro parses: {exc!r}",
                retriable=False,
                data=data,
            ) from exc
        self._writers[schema_id] = entry
        return entry
