"""What a poster becomes: a wanted-person notice (ARREST, LOCATE, INFORM) or a bulletin.

The FBI puts every poster in one API: fugitives, missing and abducted people, unidentified
remains and unknown persons to name, and appeals for information about a case, an event or a
victim. What the poster asks decides the body (mapping.yml: path_categories and the tables
after it). An appeal about a case becomes an intelligence bulletin, because its title names a
case or a dead victim, never a person anyone should look for; a victim is never a person to
arrest, whatever section the poster is in.
"""

from __future__ import annotations

import re
from typing import Any

from adapters.fbi.narrative import Narrative, labelled, narrative, read_prose
from adapters.fbi.person import Title, person, place_country, read_title
from adapters.fbi.tables import ACTIONS, FbiMapping, PosterKind, Role, lookup
from adapters.json_fields import JsonFields
from adapters.markings import fold
from adapters.partial_dates import parse_date_span
from broker.models import (
    AliasQuality,
    Body,
    Charge,
    DateSpan,
    IntelBulletin,
    LastSeen,
    NoticeType,
    PersonSubject,
    RequestedAction,
    Sex,
    WantedPersonNotice,
)

_CATEGORY = re.compile(r"^/?wanted/(?P<category>.+)/[^/]+/?$")


def _kind(item: JsonFields, subjects: list[str], mapping: FbiMapping) -> PosterKind:
    """The poster's section of fbi.gov, else its poster_classification, else its subjects.

    A poster none of them places becomes a bulletin: it asks nobody to arrest anybody.
    """
    path = item.text("path")
    category = (match["category"] if (match := _CATEGORY.match(path or "")) else path) or ""
    classification = item.text("poster_classification")
    if kind := mapping.path_categories.get(category.lower()):
        return kind
    if path is not None:
        item.report_unknown(item.at("path"), category)
    if classification is not None:
        if kind := mapping.poster_classifications.get(classification.lower()):
            return kind
        item.report_unknown(item.at("poster_classification"), classification)
    for subject in subjects:
        if kind := mapping.folded_subjects.get(fold(subject)):
            return kind
    return PosterKind.INFORMATION


def _role(item: JsonFields, mapping: FbiMapping) -> Role:
    """Main, Accomplice or Victim; an unknown role is counted and read as a victim's."""
    text, role = lookup(item, "person_classification", mapping.roles)
    return Role.SUBJECT if text is None else role or Role.VICTIM


def body(item: JsonFields, raw: dict[str, Any], mapping: FbiMapping) -> tuple[NoticeType, Body]:
    title_text = item.required_text("title")
    subjects = list(dict.fromkeys(text for _, text in item.texts("subjects")))
    kind = _kind(item, subjects, mapping)
    if _role(item, mapping) is Role.VICTIM and kind is PosterKind.FUGITIVE:
        kind = PosterKind.INFORMATION
    title = read_title(title_text, mapping)
    subject, measures, captions = person(item, title, mapping)
    description = read_prose(item, "description")
    told = narrative(item, raw, mapping, measures)
    told.facts += captions
    closing = (labelled("Categories", "; ".join(subjects)), labelled("Poster", item.text("url")))
    told.story += [line for line in closing if line]
    case = description.text.splitlines() if description else []
    action = ACTIONS.get(kind)
    if action is None:
        return NoticeType.INTEL_BULLETIN, IntelBulletin(
            title=title_text,
            summary=description.text if description else None,
            text=_text([*_subject_lines(subject), *told.facts, *told.story, _photo_line(subject)]),
            topics=subjects,
            related_entities=told.related,
        )
    return NoticeType.WANTED_PERSON, _wanted(
        kind, action, title_text, title, subject, case, told, mapping
    )


def _wanted(
    kind: PosterKind,
    action: RequestedAction,
    title_text: str,
    title: Title,
    subject: PersonSubject,
    case: list[str],
    told: Narrative,
    mapping: FbiMapping,
) -> WantedPersonNotice:
    """The description line(s) hold the charges of a fugitive, the disappearance of a missing
    person, and the where and when of the case otherwise; date lines are never charges.
    """
    dated = [(line, span) for line in case if (span := _date(line)) is not None]
    dates = [line for line, _ in dated]
    others = [line for line in case if line not in dates]
    charges: list[Charge] = []
    last_seen = None
    events = case
    if kind is PosterKind.FUGITIVE:
        offences = (part.strip() for line in others for part in line.split(";"))
        charges = [
            Charge(offence=offence, jurisdiction=mapping.country) for offence in offences if offence
        ]
        events = dates
    elif kind is PosterKind.MISSING:
        place = "; ".join(others) or title.tail
        when = dated[0][1].earliest if dated else None
        if place is not None or when is not None:
            country = place_country(others[0] if others else place, mapping)[0] if place else None
            last_seen = LastSeen(date=when, place=place, country=country)
        events = dates[1:]
    named = [name.full_name for name in subject.names] == [title_text]
    lines = [
        None if named else labelled("Poster title", title_text),
        *told.facts,
        labelled("Case", "; ".join(events)),
        *told.story,
    ]
    return WantedPersonNotice(
        subject=subject.model_copy(update={"description": _text(lines)}),
        charges=charges,
        requesting_country=mapping.country,
        last_seen=last_seen,
        likely_destinations=told.likely_destinations,
        related=told.related,
        action_requested=action,
        caution_flags=told.caution_flags,
    )


def _date(line: str) -> DateSpan | None:
    try:
        return parse_date_span(line)
    except ValueError:
        return None


def _subject_lines(subject: PersonSubject) -> list[str | None]:
    """A bulletin has no person fields: what the poster says of the person goes in its text.

    Its title is the poster's, so the name read from it is not repeated.
    """
    weak = {alias.name.full_name for alias in subject.aliases if alias.quality is AliasQuality.WEAK}
    aliases = (
        f"{name} (weak)" if name in weak else name
        for name in (a.name.full_name for a in subject.aliases)
    )
    return [
        labelled("Aliases", "; ".join(aliases)),
        None if subject.sex is Sex.UNKNOWN else labelled("Sex", subject.sex.value.lower()),
        labelled("Dates of birth", "; ".join(_span(span) for span in subject.dates_of_birth)),
        labelled("Place of birth", subject.place_of_birth),
        labelled("Nationalities", ", ".join(subject.nationalities)),
        labelled("Languages", ", ".join(subject.languages)),
        *(labelled(doc.note or doc.kind, doc.number) for doc in subject.identity_documents),
    ]


def _photo_line(subject: PersonSubject) -> str | None:
    return labelled("Photos", "; ".join(photo.uri for photo in subject.photos))


def _span(span: DateSpan) -> str:
    return str(span.earliest) if span.latest is None else f"{span.earliest}/{span.latest}"


def _text(lines: list[str | None]) -> str | None:
    return "\n".join(line for line in lines if line) or None
