"""The UN Security Council Consolidated List (XML) as asset-freeze orders."""

from __future__ import annotations

from collections.abc import Iterator

from adapters.base import TranslationContext
from adapters.lookups import load_mapping
from adapters.un_sc.translate import UnScMapping, translate
from broker.models import NoticeEnvelope


class UnScAdapter:
    """A consolidated list snapshot in, one freeze order per listed individual or entity out.

    The code tables are read from mapping.yml once, here, so that a broken table stops the
    service at start-up rather than on the first list.
    """

    name: str = "un-sc"
    version: str = "1.0.0"
    formats: tuple[str, ...] = ("un-sc-consolidated-xml",)

    def __init__(self) -> None:
        self._mapping = load_mapping(__name__, "mapping.yml", UnScMapping)

    def translate(self, ctx: TranslationContext) -> Iterator[NoticeEnvelope]:
        return translate(ctx, self, self._mapping)

    def detect(self, head: bytes) -> bool:
        """The list's root element; national lists that reuse the UN format share it."""
        return b"<CONSOLIDATED_LIST" in head


__all__ = ["UnScAdapter"]
