"""The FBI Wanted API (api.fbi.gov): wanted, missing and unidentified persons, and appeals."""

from __future__ import annotations

from collections.abc import Iterator

from adapters.base import TranslationContext
from adapters.fbi.tables import FbiMapping
from adapters.fbi.translate import translate
from adapters.lookups import load_mapping
from broker.models import NoticeEnvelope


class FbiWantedAdapter:
    """A list page or one poster's detail in, one notice per poster out.

    The code tables are read from mapping.yml once, here, so that a broken table stops the
    service at start-up rather than on the first payload.
    """

    name: str = "fbi-wanted"
    version: str = "1.0.0"
    formats: tuple[str, ...] = ("fbi-wanted-json",)

    def __init__(self) -> None:
        self._mapping = load_mapping(__name__, "mapping.yml", FbiMapping)

    def translate(self, ctx: TranslationContext) -> Iterator[NoticeEnvelope]:
        return iter(translate(ctx, self, self._mapping))

    def detect(self, head: bytes) -> bool:
        """Every poster carries a uid and links back to the FBI's wanted pages or API."""
        return b'"uid"' in head and (b"/@wanted-person/" in head or b"fbi.gov/wanted/" in head)


__all__ = ["FbiWantedAdapter"]
