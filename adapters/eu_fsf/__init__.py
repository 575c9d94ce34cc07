"""The EU Financial Sanctions File (XML 1.1) as asset-freeze orders."""

from __future__ import annotations

from collections.abc import Iterator

from adapters.base import TranslationContext
from adapters.eu_fsf.translate import EuFsfMapping, translate
from adapters.lookups import load_mapping
from broker.models import NoticeEnvelope

_NAMESPACE = b"http://eu.europa.ec/fpi/fsd/export"


class EuFsfAdapter:
    """A financial sanctions file in, one freeze order per sanctionEntity out.

    The code tables are read from mapping.yml once, here, so that a broken table stops the
    service at start-up rather than on the first file.
    """

    name: str = "eu-fsf"
    version: str = "1.0.0"
    formats: tuple[str, ...] = ("eu-fsf-xml",)

    def __init__(self) -> None:
        self._mapping = load_mapping(__name__, "mapping.yml", EuFsfMapping)

    def translate(self, ctx: TranslationContext) -> Iterator[NoticeEnvelope]:
        return translate(ctx, self, self._mapping)

    def detect(self, head: bytes) -> bool:
        """The file's namespace, or its root and entry elements when a copy dropped it."""
        return _NAMESPACE in head or (b"<export" in head and b"<sanctionEntity" in head)


__all__ = ["EuFsfAdapter"]
