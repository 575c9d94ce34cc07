"""What every adapter is: a named, versioned translator from one raw payload to notices.

An adapter is pure: bytes and a context in, canonical notices out, no I/O. The ingest service
owns Kafka; the adapter owns the format. Faults in the payload are raised as
``TranslationError`` with the place they were found (a JSON path, an XPath, a line), and the
service routes the untouched bytes to the dead-letter topic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import IO, Protocol

from broker.models import NoticeEnvelope, Originator, Source


@dataclass
class TranslationContext:
    """Everything about one raw record that is not in its bytes.

    Adapters stamp provenance from it, and report source fields they did not map through
    ``unmapped`` (as zavod's ``audit_data`` does), so that a source changing its format
    shows up as a counter rather than as silently missing data.
    """

    format: str
    originator: Originator
    received_at: dt.datetime
    raw: bytes = b""
    path: Path | None = None
    """A file to read instead of ``raw``: big lists are streamed from disk, never held whole."""
    unmapped: Counter[str] = field(default_factory=Counter)

    def open(self) -> IO[bytes]:
        """The payload as a stream, for adapters that parse incrementally."""
        return self.path.open("rb") if self.path is not None else io.BytesIO(self.raw)

    def read(self) -> bytes:
        """The whole payload, for formats that cannot be parsed in parts (one JSON document)."""
        return self.path.read_bytes() if self.path is not None else self.raw

    @cached_property
    def sha256(self) -> str:
        """Hashed once per payload, however many notices it holds."""
        digest = hashlib.sha256()
        with self.open() as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    def source(self, adapter: Adapter, original_id: str | None) -> Source:
        return Source(
            format=self.format,
            original_id=original_id,
            adapter=adapter.name,
            adapter_version=adapter.version,
            received_at=self.received_at,
            sha256=self.sha256,
        )

    def report_unmapped(self, where: str, keys: set[str]) -> None:
        """Count source fields at ``where`` that no mapping read."""
        for key in keys:
            self.unmapped[f"{where}.{key}"] += 1


class Adapter(Protocol):
    """A translator for one or more source formats."""

    name: str
    """Stable adapter name, recorded in every notice's provenance."""
    version: str
    """Bumped when translation output changes, so faulty output can be traced and re-driven."""
    formats: tuple[str, ...]
    """Format names (the raw record's ``format`` header) this adapter accepts."""

    def translate(self, ctx: TranslationContext) -> Iterator[NoticeEnvelope]:
        """Yield the notices in the payload; raise TranslationError on the first fault."""
        ...

    def detect(self, head: bytes) -> bool:
        """Whether a payload starting with ``head`` (its first 64 KiB) is in one of our formats.

        Used to name the format of a file given without one; cheap and conservative, since two
        adapters claiming the same payload means asking the user.
        """
        ...
