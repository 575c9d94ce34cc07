"""A bulletin being built, each field with the STIX properties it was made from.

Knowing where every canonical field came from is what lets granular markings follow the
content: a marking on ``labels.[1]`` marks the topic made from it, wherever deduplication
put that topic, and a related entity drawn from a relationship and another object carries
the markings of both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from adapters.stix.markings import (
    ObjectMarkings,
    least_restrictive,
    most_restrictive,
    tlp_label,
)
from adapters.stix.tables import StixMapping
from broker.models import Classification, FieldMarking, Indicator, IntelBulletin, RelatedEntity

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class Origin:
    """A property (by STIX selector) of a STIX object, with that object's markings."""

    markings: ObjectMarkings
    selector: str


@dataclass
class Sourced(Generic[T]):
    value: T
    origins: list[Origin]


@dataclass
class Draft:
    """The fields of one IntelBulletin with their origins; lists keep the first of equals."""

    own: ObjectMarkings
    """The markings of the object the bulletin translates."""
    title: Sourced[str]
    summary: Sourced[str] | None = None
    text: Sourced[str] | None = None
    topics: dict[str, Sourced[str]] = field(default_factory=dict)
    indicators: dict[tuple[str, str], Sourced[Indicator]] = field(default_factory=dict)
    related_entities: dict[tuple[str, str], Sourced[RelatedEntity]] = field(default_factory=dict)
    valid_from: Sourced[dt.datetime] | None = None
    valid_until: Sourced[dt.datetime] | None = None
    information_credibility: Sourced[int] | None = None

    def origin(self, selector: str) -> Origin:
        """A property of the translated object itself."""
        return Origin(self.own, selector)

    def topic(self, topic: str, origin: Origin) -> None:
        _add(self.topics, topic, topic, [origin])

    def indicator(self, indicator: Indicator, origins: list[Origin]) -> None:
        _add(self.indicators, (indicator.kind, indicator.value), indicator, origins)

    def related(self, entity: RelatedEntity, origins: list[Origin]) -> None:
        _add(self.related_entities, (entity.kind, entity.ref or entity.name), entity, origins)

    def bulletin(self) -> IntelBulletin:
        return IntelBulletin(
            title=self.title.value,
            summary=_value(self.summary),
            text=_value(self.text),
            topics=[item.value for item in self.topics.values()],
            indicators=[item.value for item in self.indicators.values()],
            related_entities=[item.value for item in self.related_entities.values()],
            information_credibility=_value(self.information_credibility),
            valid_from=_value(self.valid_from),
            valid_until=_value(self.valid_until),
        )

    def classification(self, mapping: StixMapping) -> Classification:
        """The notice's TLP and the fields marked above it.

        The notice takes the least restrictive TLP among the fields made from the object
        itself: whoever may see any of the object's own content may receive the notice, and
        every field more restrictive than that is marked for redaction, with a caveat naming
        its TLP so that only recipients granted that TLP explicitly see it.
        """
        default = mapping.default_tlp
        fields = [
            (
                path,
                most_restrictive(o.markings.tlp_of(o.selector, default) for o in origins),
                origins,
            )
            for path, origins in self._paths()
        ]
        notice_tlp = least_restrictive(
            tlp for _, tlp, origins in fields if any(o.markings is self.own for o in origins)
        )
        field_markings = [
            FieldMarking(path=path, level=mapping.tlp_levels[tlp], caveats=[tlp_label(tlp)])
            for path, tlp, _ in fields
            if most_restrictive([tlp, notice_tlp]) is not notice_tlp
        ]
        texts = self.own.texts
        return Classification(
            level=mapping.tlp_levels[notice_tlp],
            national_marking="; ".join(texts) if texts else None,
            tlp=notice_tlp,
            field_markings=field_markings,
        )

    def _paths(self) -> Iterator[tuple[str, list[Origin]]]:
        """Every populated field by its canonical path (the FieldMarking path syntax)."""
        singles = {"title": self.title, "summary": self.summary, "text": self.text}
        for name, single in singles.items():
            if single is not None:
                yield name, single.origins
        lists = {
            "topics": [item.origins for item in self.topics.values()],
            "indicators": [item.origins for item in self.indicators.values()],
            "related_entities": [item.origins for item in self.related_entities.values()],
        }
        for name, items in lists.items():
            for index, origins in enumerate(items):
                yield f"{name}.[{index}]", origins
        tail = {
            "information_credibility": _origins(self.information_credibility),
            "valid_from": _origins(self.valid_from),
            "valid_until": _origins(self.valid_until),
        }
        for name, tail_origins in tail.items():
            if tail_origins is not None:
                yield name, tail_origins


def _add(items: dict[K, Sourced[V]], key: K, value: V, origins: list[Origin]) -> None:
    """The first of equal values stays where it is and gains the origins of the others."""
    found = items.get(key)
    if found is None:
        items[key] = Sourced(value, list(origins))
    else:
        found.origins.extend(origins)


def _origins(item: Sourced[Any] | None) -> list[Origin] | None:
    return None if item is None else item.origins


def _value(item: Sourced[T] | None) -> T | None:
    return None if item is None else item.value
