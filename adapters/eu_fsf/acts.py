"""The acts an EU file entry names, what each did to the entry, and when.

The regulation elements name the acts behind the entry as it stands; a regulationSummary
under a name, a date or a document names the act that added that element. Together they
give the legal basis, and their dates the listing date (the act that listed the entry) and
the amendment date (the latest act that changed it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from adapters.base import TranslationContext
from adapters.sanctions_common import calendar_date, lookup
from adapters.xml_reader import XmlRecord
from broker.models import LegalAct

if TYPE_CHECKING:
    from adapters.eu_fsf.translate import EuFsfMapping

Effect = Literal["listing", "amendment"]
UNREAD = ("@regulationLanguage", "@logicalId")
"""Attributes of every element that say nothing of the listing: the text's language, row ids."""


@dataclass(frozen=True)
class Act:
    """An act named by the entry, with what it did to the entry and when it took effect."""

    act: LegalAct | None
    effect: Effect | None
    on: dt.date | None
    programme: str | None = None


class Acts:
    """The acts of one entry, in the order the file names them."""

    def __init__(self, ctx: TranslationContext, mapping: EuFsfMapping) -> None:
        self.ctx = ctx
        self.mapping = mapping
        self.regulations: list[Act] = []
        self.summaries: list[Act] = []

    def dates(self, effect: Effect) -> list[dt.date]:
        """When the acts with this effect on the entry took effect."""
        acts = self.regulations + self.summaries
        return [act.on for act in acts if act.effect == effect and act.on is not None]

    def regulation(self, node: XmlRecord) -> Act:
        organisation = node.attr("organisationType")
        authority = lookup(
            self.ctx, node, "@organisationType", organisation, self.mapping.authorities
        )
        in_force, published = node.attr("entryIntoForceDate"), node.attr("publicationDate")
        # The date the measures took effect; the publication date when the file has no other.
        at, date = (
            ("@entryIntoForceDate", in_force) if in_force else ("@publicationDate", published)
        )
        act = self.act(
            node,
            authority=authority or self.mapping.default_authority,
            url=node.text("publicationUrl"),
            on=None if date is None else calendar_date(node, at, date),
            programme=node.attr("programme"),
        )
        node.ignore(*UNREAD)
        node.audit()
        self.regulations.append(act)
        return act

    def read_summaries(self, parent: XmlRecord) -> None:
        """The acts that added this element to the entry."""
        for node in parent.children("regulationSummary"):
            published = node.attr("publicationDate")
            self.summaries.append(
                self.act(
                    node,
                    authority=self.mapping.default_authority,
                    url=node.attr("publicationUrl"),
                    on=None
                    if published is None
                    else calendar_date(node, "@publicationDate", published),
                )
            )
            node.audit()

    def act(
        self,
        node: XmlRecord,
        *,
        authority: str,
        url: str | None,
        on: dt.date | None,
        programme: str | None = None,
    ) -> Act:
        reference = node.attr("numberTitle")
        kind = node.attr("regulationType")
        effect = lookup(self.ctx, node, "@regulationType", kind, self.mapping.regulation_types)
        legal = (
            None
            if reference is None
            else LegalAct(authority=authority, reference=reference, url=url)
        )
        return Act(legal, effect, on, programme)
