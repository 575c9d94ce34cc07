"""What every adapter is: a named, versioned translator from one raw payload to notices.

An adapter is pure: bytes and a context in, canonical notices out, no I/O. The ingest service
owns Kafka; the adapter owns the format. Faults in the payload are raised as
``TranslationError`` with the place they were found (a JSON path, an XPath, a line), and the
service routes the untouched bytes to the dead-letter topic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

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
    raw: bytes
    unmapped: Counter[str] = field(default_factory=Counter)

    @cached_property
    def sha256(self) -> str:
        """Hashed once per payload, however many notices it holds."""
        return hashlib.sha256(self.raw).hexdigest()

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
        """Yield the notices in ``ctx.raw``; raise TranslationError on the first fault."""
        ...
