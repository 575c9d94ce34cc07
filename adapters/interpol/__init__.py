"""INTERPOL's public red and yellow notices (ws-public.interpol.int) as wanted-person notices."""

from __future__ import annotations

from collections.abc import Iterator

from adapters.base import TranslationContext
from adapters.interpol.translate import InterpolMapping, translate
from adapters.lookups import load_mapping
from broker.models import NoticeEnvelope


class InterpolAdapter:
    """A list page or one notice's detail in, one notice per INTERPOL notice out.

    The code tables are read from mapping.yml once, here, so that a broken table stops the
    service at start-up rather than on the first payload.
    """

    name: str = "interpol"
    version: str = "1.0.0"
    formats: tuple[str, ...] = ("interpol-notice-json",)

    def __init__(self) -> None:
        self._mapping = load_mapping(__name__, "mapping.yml", InterpolMapping)

    def translate(self, ctx: TranslationContext) -> Iterator[NoticeEnvelope]:
        return iter(translate(ctx, self, self._mapping))

    def detect(self, head: bytes) -> bool:
        """Every page and detail carries entity ids and links back to INTERPOL's API."""
        return b'"entity_id"' in head and b"interpol.int" in head


__all__ = ["InterpolAdapter"]
