"""MISP events (the MISP core format of exports, feeds, the REST API and the ZeroMQ and Kafka
plugins) as intelligence bulletins."""

from __future__ import annotations

from collections.abc import Iterator

from adapters.base import TranslationContext
from adapters.lookups import load_mapping
from adapters.misp.translate import MispMapping, translate
from broker.models import NoticeEnvelope


class MispAdapter:
    """One MISP event in, one notice out; a list or search result, one per event.

    The tables are read from mapping.yml once, here, so that a broken table stops the service
    at start-up rather than on the first payload. A deployment's own MISP configuration
    (organisations, sharing groups, communities) can be given as ``mapping`` instead.
    """

    name: str = "misp"
    version: str = "1.0.0"
    formats: tuple[str, ...] = ("misp-event-json",)

    def __init__(self, mapping: MispMapping | None = None) -> None:
        self._mapping = mapping or load_mapping(__name__, "mapping.yml", MispMapping)

    @property
    def mapping(self) -> MispMapping:
        return self._mapping

    def translate(self, ctx: TranslationContext) -> Iterator[NoticeEnvelope]:
        return iter(translate(ctx, self, self._mapping))

    def detect(self, head: bytes) -> bool:
        """An event's own fields, or, when its attributes come first, theirs.

        Exports sort keys, so in a large event ``info`` and ``threat_level_id`` may lie past
        the first 64 KiB, behind attributes whose ``to_ids`` and ``category`` no other format
        uses together.
        """
        event = b'"threat_level_id"' in head and b'"info"' in head
        attribute = b'"to_ids"' in head and b'"category"' in head and b'"uuid"' in head
        return event or attribute


__all__ = ["MispAdapter"]
