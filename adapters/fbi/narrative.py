"""What a poster says in words: description lines, the case narrative, warnings, whereabouts.

The canonical notice has structured fields for what can be matched on and text for what an
officer reads. Everything the FBI writes in words lands in labelled lines ("Hair: Black (May
be shaved bald)", "Caution: ...") so that nothing on the poster is lost on the way, and the
few things that can be structured (caution flags, countries, linked posters) also are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pycountry

from adapters.countries import country_code
from adapters.fbi.html_text import Prose, prose
from adapters.fbi.tables import FbiMapping
from adapters.json_fields import JsonFields
from adapters.markings import fold
from broker.models import RelatedEntity

# Prose fields in the order an officer reads them: who to look for, then the case.
_NARRATIVE = (
    ("remarks", "Remarks"),
    ("caution", "Caution"),
    ("details", "Details"),
    ("additional_information", "Additional information"),
)


@dataclass
class Narrative:
    """Lines and links gathered from one poster's text fields."""

    facts: list[str] = field(default_factory=list)
    """Labelled lines describing the person and where they may be."""
    story: list[str] = field(default_factory=list)
    """Labelled paragraphs of the case, the reward and where the poster is."""
    related: list[RelatedEntity] = field(default_factory=list)
    caution_flags: list[str] = field(default_factory=list)
    likely_destinations: list[str] = field(default_factory=list)


def read_prose(item: JsonFields, key: str) -> Prose | None:
    text = item.text(key)
    return None if text is None else _prose(item, item.at(key), text)


def _prose(item: JsonFields, where: str, text: str) -> Prose | None:
    try:
        found = prose(text)
    except ValueError as err:
        raise item.error(where, str(err)) from err
    return found if found.text else None


def labelled(label: str, text: str | None) -> str | None:
    return f"{label}: {text}" if text else None


def narrative(
    item: JsonFields, raw: dict[str, object], mapping: FbiMapping, measures: list[str]
) -> Narrative:
    """Everything said in words; ``measures`` (height, weight) join the person's appearance."""
    told = Narrative()
    _appearance(item, told, measures)
    _warning(item, told, mapping)
    _whereabouts(item, told)
    _likely_destinations(item, told)
    for key, label in _NARRATIVE:
        _tell(told, label, [read_prose(item, key)])
    _tell(told, "Suspects", _suspects(item, raw))
    _add(told.story, "Reward", [item.text("reward_text")])
    # reward_min/max are 0 on most posters that offer one: reward_text is the reward.
    item.ignore("reward_min", "reward_max")
    told.related = list({entity.ref: entity for entity in told.related}.values())
    return told


def _tell(told: Narrative, label: str, texts: list[Prose | None]) -> None:
    found = [text for text in texts if text is not None]
    _add(told.story, label, [text.text for text in found])
    told.related += [
        RelatedEntity(kind="person", name=name, ref=href)
        for text in found
        for name, href in text.links
    ]


def _suspects(item: JsonFields, raw: dict[str, object]) -> list[Prose | None]:
    """HTML like the narrative; documented as a string, read by some clients as a list."""
    if isinstance(raw.get("suspects"), list):
        return [_prose(item, where, text) for where, text in item.texts("suspects")]
    return [read_prose(item, "suspects")]


def _appearance(item: JsonFields, told: Narrative, measures: list[str]) -> None:
    """The FBI's own words (hair_raw 'Brown, Collar Length') over its normalised word ('brown')."""
    age = item.text("age_range")
    low, high = item.number("age_min"), item.number("age_max")
    if age is None:
        age = " to ".join(f"{years:g}" for years in sorted({low or 0, high or 0} - {0})) or None
    _add(told.facts, "Age", [age])
    for label, key in (("Hair", "hair"), ("Eyes", "eyes"), ("Race", "race")):
        raw, plain = item.text(f"{key}_raw"), item.text(key)
        _add(told.facts, label, [raw or plain])
    _add(told.facts, "Complexion", [item.text("complexion")])
    _add(told.facts, "Build", [item.text("build")])
    told.facts += measures
    if (marks := read_prose(item, "scars_and_marks")) is not None:
        told.facts.append(f"Scars and marks: {marks.text}")
    _add(told.facts, "Occupations", [text for _, text in item.texts("occupations")])


def _warning(item: JsonFields, told: Narrative, mapping: FbiMapping) -> None:
    """'SHOULD BE CONSIDERED ARMED AND DANGEROUS' -> ARMED, DANGEROUS; kept verbatim too."""
    warning = item.text("warning_message")
    if warning is None:
        return
    told.facts.append(f"Warning: {warning}")
    folded = fold(warning)
    flags = [
        flag
        for pattern, names in mapping.warning_patterns
        if pattern.search(folded)
        for flag in names
    ]
    if not flags:
        item.report_unknown(item.at("warning_message"), warning)
    told.caution_flags = list(dict.fromkeys(flags))


def _whereabouts(item: JsonFields, told: Narrative) -> None:
    """Where the person may be or has ties to, and who at the FBI handles the case."""
    places = [text for _, text in item.texts("locations")]
    for point in item.children("coordinates"):
        places.append(point.text("formatted") or "")
        point.ignore("lat", "lng")  # the geocode of 'formatted', which says the same in words
        point.audit()
    _add(told.facts, "Locations", places)
    _add(told.story, "FBI field offices", [text for _, text in item.texts("field_offices")])
    _add(told.story, "FBI legal attachés", [text for _, text in item.texts("legat_names")])


def _likely_destinations(item: JsonFields, told: Narrative) -> None:
    """possible_countries are ISO alpha-3 ('VEN'), possible_states ISO 3166-2 ('US-FL')."""
    codes, countries = [], []
    for where, text in item.texts("possible_countries"):
        countries.append(text)
        if (code := country_code(text)) is None:
            item.report_unknown(where, text)
        else:
            codes.append(code)
    _add(told.facts, "Possible countries", countries)
    states = []
    for where, text in item.texts("possible_states"):
        try:
            state = pycountry.subdivisions.lookup(text)
        except LookupError:
            item.report_unknown(where, text)
            states.append(text)
        else:
            states.append(f"{state.name} ({state.code})")
            codes.append(state.country_code)
    _add(told.facts, "Possibly in", states)
    told.likely_destinations = list(dict.fromkeys(codes))


def _add(lines: list[str], label: str, texts: Sequence[str | None]) -> None:
    if line := labelled(label, "; ".join(text for text in texts if text)):
        lines.append(line)
