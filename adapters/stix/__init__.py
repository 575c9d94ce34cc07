"""OASIS STIX 2.0 and 2.1 (bundles, TAXII 2.1 envelopes, single objects) as intel bulletins."""

from __future__ import annotations

import re
from collections.abc import Iterator

from adapters.base import TranslationContext
from adapters.lookups import load_mapping
from adapters.stix.tables import StixMapping
from adapters.stix.translate import translate
from broker.models import NoticeEnvelope

_STIX_ID = re.compile(rb'"id"\s*:\s*"[a-z0-9][a-z0-9-]*--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-')
_STIX_SHAPE = re.compile(
    rb'"type"\s*:\s*"bundle"|"spec_version"\s*:\s*"2\.[01]"|"object_marking_refs"\s*:'
)


class StixAdapter:
    """One adapter for both STIX versions: 2.1 only adds to 2.0 what this adapter reads.

    The code tables are read from mapping.yml once, here, so that a broken table stops the
    service at start-up rather than on the first payload.
    """

    name: str = "stix"
    version: str = "1.0.0"
    formats: tuple[str, ...] = ("stix2-json",)

    def __init__(self) -> None:
        self._mapping = load_mapping(__name__, "mapping.yml", StixMapping)

    def translate(self, ctx: TranslationContext) -> Iterator[NoticeEnvelope]:
        return iter(translate(ctx, self, self._mapping))

    def detect(self, head: bytes) -> bool:
        """STIX ids ("indicator--<uuid>") with a bundle, a 2.x spec_version or markings."""
        return _STIX_ID.search(head) is not None and _STIX_SHAPE.search(head) is not None


__all__ = ["StixAdapter"]
