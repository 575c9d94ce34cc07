"""Writer schemas by fingerprint: what a reader needs to decode single-object encoded notices.

The catalog parses every schema once, when it is built, and after that only looks up
fingerprints; decoding never parses a schema per message. It knows the current envelope
schema and every released one (``schemas/released/<name>.avsc``, each self-contained), so a
reader decodes what writers of any release wrote without a registry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastavro.schema import fingerprint, load_schema, parse_schema, to_parsing_canonical_form

from broker.errors import UnknownSchema
from schemas import ENVELOPE_SCHEMA, SCHEMA_DIR

ParsedSchema = Any
"""A schema as fastavro parses it (a dict or list with fastavro's own markers)."""

RELEASED_DIR = "released"
"""Folder beside the schemas holding each released envelope schema, never edited once there."""
RELEASE_SUFFIX = ".avsc"


@dataclass(frozen=True)
class SchemaEntry:
    fingerprint: bytes
    """8-byte CRC-64-AVRO fingerprint of the schema's parsing canonical form, little-endian."""
    schema: ParsedSchema
    """The fully expanded, parsed schema."""


def crc64_fingerprint(schema: ParsedSchema) -> bytes:
    """The fingerprint the Avro spec's single-object encoding puts after the 0xC3 0x01 marker."""
    return bytes.fromhex(fingerprint(to_parsing_canonical_form(schema), "CRC-64-AVRO"))


def plain_schema(schema: ParsedSchema) -> Any:
    """``schema`` as other Avro implementations read it: fastavro's private markers removed,
    every named type defined once by its full name, docs, defaults and aliases kept (schema
    resolution and compatibility checks need the defaults)."""
    if isinstance(schema, dict):
        return {k: plain_schema(v) for k, v in schema.items() if not k.startswith("__")}
    if isinstance(schema, list):
        return [plain_schema(branch) for branch in schema]
    return schema


def schema_text(schema: ParsedSchema) -> str:
    """The schema's JSON as a registry receives it: compact and the same byte for byte on
    every run, because a registry that compares text (Apicurio does) gives a new id to the
    same schema written differently."""
    return json.dumps(plain_schema(schema), separators=(",", ":"))


def load_releases(directory: Path) -> dict[str, ParsedSchema]:
    """Every released envelope schema in ``directory`` by release name, in name order; none
    if there is no such folder."""
    return {
        path.name.removesuffix(RELEASE_SUFFIX): parse_schema(json.loads(path.read_text()))
        for path in sorted(directory.glob(f"*{RELEASE_SUFFIX}"))
    }


def load_envelope_schema(directory: Path = SCHEMA_DIR) -> ParsedSchema:
    """Load NoticeEnvelope with every named type it references, from ``directory``."""
    return load_schema(str(directory / f"{ENVELOPE_SCHEMA}.avsc"))


class SchemaCatalog:
    """The reader's own schema plus every writer schema it has been told about."""

    def __init__(self, reader_schema: ParsedSchema) -> None:
        self.reader = SchemaEntry(crc64_fingerprint(reader_schema), reader_schema)
        self._writers: dict[bytes, SchemaEntry] = {self.reader.fingerprint: self.reader}

    @classmethod
    def from_directory(cls, directory: Path = SCHEMA_DIR) -> SchemaCatalog:
        """The envelope of ``directory`` as reader, its releases (if any) as writers."""
        catalog = cls(load_envelope_schema(directory))
        for released in load_releases(directory / RELEASED_DIR).values():
            catalog.add_writer(released)
        return catalog

    def add_writer(self, schema: dict[str, Any] | ParsedSchema) -> SchemaEntry:
        """Teach the catalog a writer schema (an older or newer version of the envelope)."""
        parsed = parse_schema(schema)
        entry = SchemaEntry(crc64_fingerprint(parsed), parsed)
        self._writers.setdefault(entry.fingerprint, entry)
        return self._writers[entry.fingerprint]

    def writer(self, fingerprint: bytes, *, data: bytes) -> SchemaEntry:
        """The writer schema for ``fingerprint``; ``data`` is the message, kept in the error."""
        try:
            return self._writers[fingerprint]
        except KeyError:
            raise UnknownSchema(fingerprint, data=data) from None
