"""UK financial sanctions lists as freeze orders: OFSI's Consolidated List (ConList.xml, until
January 2026) and the FCDO's UK Sanctions List (UK-Sanctions-List.xml) that replaced it.

Two adapters, because the two files share the publisher's habits (the tables of mapping.yml
and the value readers of values.py) but not their shape, and a file's first bytes tell which
one it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from adapters.base import TranslationContext
from adapters.lookups import load_mapping
from adapters.uk_ofsi.designations import translate as translate_designations
from adapters.uk_ofsi.mapping import OfsiMapping, Tables
from adapters.uk_ofsi.translate import translate as translate_targets
from broker.models import NoticeEnvelope

_DESIGNATIONS = re.compile(rb"<(?:[\w.-]+:)?Designations[\s>]")


def _tables() -> Tables:
    return Tables(load_mapping(__name__, "mapping.yml", OfsiMapping))


class UkOfsiAdapter:
    """ConList.xml in, one notice per target (per GroupID) out.

    The tables are read from mapping.yml once, here, so that a broken table stops the service
    at start-up rather than on the first payload.
    """

    name: str = "uk-ofsi"
    version: str = "1.0.0"
    formats: tuple[str, ...] = ("uk-ofsi-xml",)

    def __init__(self) -> None:
        self._tables = _tables()

    def translate(self, ctx: TranslationContext) -> Iterator[NoticeEnvelope]:
        return translate_targets(ctx, self, self._tables)

    def detect(self, head: bytes) -> bool:
        """The list's root element, or its rows when the head starts past it."""
        return b"ArrayOfFinancialSanctionsTarget" in head or b"<FinancialSanctionsTarget>" in head


class UkSanctionsListAdapter:
    """UK-Sanctions-List.xml in, one notice per Designation (per UniqueID) out."""

    name: str = "uk-sanctions-list"
    version: str = "1.0.0"
    formats: tuple[str, ...] = ("uk-sanctions-list-xml",)

    def __init__(self) -> None:
        self._tables = _tables()

    def translate(self, ctx: TranslationContext) -> Iterator[NoticeEnvelope]:
        return translate_designations(ctx, self, self._tables)

    def detect(self, head: bytes) -> bool:
        """A Designations root with a designation or the list's generation date."""
        found = _DESIGNATIONS.search(head)
        return bool(found) and (b"<Designation>" in head or b"<DateGenerated>" in head)


__all__ = ["UkOfsiAdapter", "UkSanctionsListAdapter"]
