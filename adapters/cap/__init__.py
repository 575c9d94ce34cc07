"""OASIS Common Alerting Protocol (CAP 1.2) alerts as bulletins and wanted-person notices."""

from __future__ import annotations

import re
from collections.abc import Iterator

from adapters.base import TranslationContext
from adapters.cap.tables import CapMapping
from adapters.cap.translate import translate
from adapters.lookups import load_mapping
from broker.models import NoticeEnvelope

# A CAP namespace (1.0's first one included) and an element named alert, with or without prefix.
_CAP_NAMESPACE = re.compile(
    rb"urn:oasis:names:tc:emergency:cap:1\.[012]|www\.incident\.com/cap/1\.0"
)
_ALERT_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?alert[\s>]")


class CapAdapter:
    """One CAP alert (or a wrapper holding several) in, at most one notice per alert out.

    mapping.yml's tables are read once, here, so a broken table stops the service at start-up.
    See ``adapters.cap.translate`` for what each part of an alert becomes.
    """

    name: str = "cap"
    version: str = "1.0.0"
    formats: tuple[str, ...] = ("cap-1.2-xml",)

    def __init__(self) -> None:
        self._mapping = load_mapping(__name__, "mapping.yml", CapMapping)

    def translate(self, ctx: TranslationContext) -> Iterator[NoticeEnvelope]:
        return translate(ctx, self, self._mapping)

    def detect(self, head: bytes) -> bool:
        """CAP's namespace and an <alert> element: Atom indexes of CAP feeds carry the
        namespace without alerts, and are not claimed."""
        return bool(_CAP_NAMESPACE.search(head) and _ALERT_ELEMENT.search(head))


__all__ = ["CapAdapter"]
