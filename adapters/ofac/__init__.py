"""US Treasury OFAC sanctions lists in the classic sdnList XML schema, as freeze orders."""

from __future__ import annotations

import re
from collections.abc import Iterator

from adapters.base import TranslationContext
from adapters.lookups import load_mapping
from adapters.ofac.mapping import OfacMapping, Tables
from adapters.ofac.translate import translate
from broker.models import NoticeEnvelope

_ROOT = re.compile(rb"<(?:[\w.-]+:)?sdnList[\s>]")


class OfacAdapter:
    """sdn.xml or consolidated.xml in, one notice per sdnEntry out.

    Two format ids for one schema, because the two lists differ in legal effect (mapping.yml,
    ``lists``): the SDN list blocks property, the Consolidated list's non-SDN lists restrict
    dealings without blocking. The tables are read from mapping.yml once, here, so that a
    broken table stops the service at start-up rather than on the first payload.
    """

    name: str = "ofac"
    version: str = "1.0.0"
    formats: tuple[str, ...] = ("ofac-sdn-xml", "ofac-consolidated-xml")

    def __init__(self) -> None:
        self._tables = Tables(load_mapping(__name__, "mapping.yml", OfacMapping))

    def translate(self, ctx: TranslationContext) -> Iterator[NoticeEnvelope]:
        return translate(ctx, self, self._tables)

    def detect(self, head: bytes) -> bool:
        """An sdnList root with its header or first entry; the head cannot tell SDN from
        Consolidated, so a detected file is read as the SDN list (the first format)."""
        return bool(_ROOT.search(head)) and (b"publshInformation" in head or b"sdnEntry" in head)


__all__ = ["OfacAdapter"]
