"""Alerts about a person to find (AMBER, missing-person and Blue alerts, per the wanted_person
rules of mapping.yml) as wanted-person notices asking to locate them.

CAP has no fields for a person: the person is in the <description>, which AMBER alerts write
as labelled sections ("VICTIM(S): KHAYRI DOE JR. M/B BLK/BRO 3'0", 40 LBS. ... DOB 06/24/01.
LOCATION: ... SUSPECT(S): ... VEHICLE: ..."). Where those labels are found, the subject's name
(the capitalised words that open its section), sex, date of birth, height and weight are read
from its section, the suspect and vehicle become related entities, and the location and date
become where the person was last seen. What cannot be read with confidence is left out: no
label, no name; a date whose day and month could be either way round, and both readings are
before the alert, keeps only its year. The whole description, with the instruction, contact
and the other languages' text, stays the subject's description, since the notice has no other
free text. Categories, event codes, handling codes, urgency, severity and certainty have no
place in a wanted-person notice: the notice type and the action requested say what they said.
Image resources are the subject's photos (by URI: CAP's digest is SHA-1, not the sha256 a
photo reference holds); other resources are related entities.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from adapters.cap import content
from adapters.cap.lifecycle import Lifecycle
from adapters.cap.reading import Alert
from adapters.cap.tables import CapMapping, WantedRule
from adapters.markings import fold
from broker.models import (
    DateSpan,
    LastSeen,
    Name,
    PartialDate,
    PersonSubject,
    PhotoRef,
    RelatedEntity,
    Sex,
    WantedPersonNotice,
)

_NAME_END = re.compile(r"\s(?:[MF]/[A-Z]{1,2}\b|(?:DOB|AGE|EDAD)\b|\d)|[,;:(]")
_NAME_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['.\-])*")
_PLACEHOLDERS = frozenset({"unknown", "unk", "n/a", "none", "unidentified", "desconocido"})
_SEX_CODE = re.compile(r"\b([MF])/[A-Z]{1,2}\b")
_SEX_WORD = re.compile(r"\b(MALE|FEMALE)\b", re.IGNORECASE)
_DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})\b")
_DOB = re.compile(r"\b(?:DOB|D\.O\.B\.|BORN)\s*:?\s*" + _DATE.pattern, re.IGNORECASE)
_FEET_INCHES = re.compile(r"\b(\d)\s*'\s*(\d{1,2})\b")
_CENTIMETRES = re.compile(r"\b(\d{2,3})\s*CM\b", re.IGNORECASE)
_POUNDS = re.compile(r"\b(\d{1,3})\s*(?:LBS?|POUNDS|LIBRAS)\b", re.IGNORECASE)
_KILOGRAMS = re.compile(r"\b(\d{1,3})\s*KGS?\b", re.IGNORECASE)


def wanted_rule(alert: Alert, mapping: CapMapping) -> WantedRule | None:
    """The first rule an event code or event of any block matches."""
    for rule in mapping.wanted_person:
        for info in alert.infos:
            if any(str(code) in rule.event_codes for code in info.event_codes):
                return rule
            if info.event and fold(info.event) in rule.events:
                return rule
    return None


def wanted(
    alert: Alert, lifecycle: Lifecycle, rule: WantedRule, mapping: CapMapping
) -> WantedPersonNotice:
    first = alert.infos[0]
    sections = _sections(first.description or "", _labels(rule, mapping))
    person = sections.get("subject", "")
    resources = content.primary_resources(alert)
    photos = [r for r in resources if r.uri and (r.mime_type or "").startswith("image/")]
    name = _name(person)
    subject = PersonSubject(
        names=[Name(full_name=name, script=_script(name))] if name else [],
        sex=_sex(person),
        dates_of_birth=_dates_of_birth(person, alert.sent),
        height_m=_height(person),
        weight_kg=_weight(person),
        description=content.join(
            first.headline,
            first.description,
            first.instruction,
            content.particulars(alert),
            "\n".join(f"{p.name}: {p.value}" for info in alert.primary for p in info.parameters),
            *content.other_blocks(alert),
        ),
        photos=[PhotoRef(uri=photo.uri) for photo in photos if photo.uri],
    )
    return WantedPersonNotice(
        subject=subject,
        last_seen=_last_seen(sections, alert.sent),
        related=[
            *_mentioned(sections),
            *content.related(alert, [r for r in resources if r not in photos]),
            *lifecycle.related,
        ],
        action_requested=rule.action,
    )


def _labels(rule: WantedRule, mapping: CapMapping) -> dict[str, str]:
    """Label (case-folded) -> role; the rule's subject labels win over the common ones."""
    labels = {label.casefold(): "subject" for label in rule.subject_labels}
    common = mapping.description_labels
    for role, names in (
        ("suspect", common.suspect),
        ("vehicle", common.vehicle),
        ("place", common.place),
        ("time", common.time),
    ):
        for label in names:
            labels.setdefault(label.casefold(), role)
    return labels


def _sections(text: str, labels: dict[str, str]) -> dict[str, str]:
    """Role -> the text of the first section labelled for it ("LABEL: text" up to the next)."""
    if not labels:
        return {}
    flat = " ".join(text.split())
    alternatives = "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w/])({alternatives})\s*:", re.IGNORECASE)
    found = list(pattern.finditer(flat))
    ends = [match.start() for match in found[1:]] + [len(flat)]
    sections: dict[str, str] = {}
    for match, end in zip(found, ends[: len(found)], strict=True):
        if body := flat[match.end() : end].strip():
            sections.setdefault(labels[match[1].casefold()], body)
    return sections


def _name(section: str) -> str | None:
    """The capitalised words opening a section, up to its first code, number or comma."""
    cut = _NAME_END.search(section)
    words = (section[: cut.start()] if cut else section).split()
    if not 1 <= len(words) <= 6 or " ".join(words).casefold() in _PLACEHOLDERS:
        return None
    if all(_NAME_WORD.fullmatch(word) and word[0].isupper() for word in words):
        return " ".join(words)
    return None


def _script(name: str) -> str | None:
    letters = [char for char in name if char.isalpha()]
    return "Latn" if all(unicodedata.name(c, "").startswith("LATIN") for c in letters) else None


def _sex(section: str) -> Sex:
    if match := _SEX_CODE.search(section) or _SEX_WORD.search(section):
        return Sex.MALE if match[1].upper().startswith("M") else Sex.FEMALE
    return Sex.UNKNOWN


def _dates_of_birth(section: str, sent: dt.datetime) -> list[DateSpan]:
    match = _DOB.search(section)
    date = _date(match, sent) if match else None
    return [DateSpan(earliest=date)] if date else []


def _date(match: re.Match[str], sent: dt.datetime) -> PartialDate | None:
    """A slashed date read month-first and day-first: the readings that are real dates not
    after the alert was sent decide it. Two-digit years take the latest century that does not
    put the year after the alert (DOB 04/18/71 in 2003 is 1971)."""
    first, second, year_text = int(match[1]), int(match[2]), match[3]
    year = int(year_text)
    if len(year_text) == 2:
        year += sent.year - sent.year % 100
        if year > sent.year:
            year -= 100
    readings = set()
    for month, day in ((first, second), (second, first)):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if candidate <= sent.date():
            readings.add(candidate)
    if len(readings) == 1:
        (known,) = readings
        return PartialDate(year=known.year, month=known.month, day=known.day)
    return PartialDate(year=year) if readings else None


def _height(section: str) -> float | None:
    if match := _FEET_INCHES.search(section):
        metres = (int(match[1]) * 12 + int(match[2])) * 0.0254
    elif match := _CENTIMETRES.search(section):
        metres = int(match[1]) / 100
    else:
        return None
    return round(metres, 2) or None


def _weight(section: str) -> float | None:
    if match := _POUNDS.search(section):
        kilograms = int(match[1]) * 0.45359237
    elif match := _KILOGRAMS.search(section):
        kilograms = float(match[1])
    else:
        return None
    return round(kilograms, 1) or None


def _last_seen(sections: dict[str, str], sent: dt.datetime) -> LastSeen | None:
    place = sections.get("place", "").rstrip(". ") or None
    match = _DATE.search(sections.get("time", ""))
    date = _date(match, sent) if match else None
    return LastSeen(date=date, place=place) if place or date else None


def _mentioned(sections: dict[str, str]) -> list[RelatedEntity]:
    found = []
    if suspect := sections.get("suspect"):
        found.append(RelatedEntity(kind="suspect", name=_name(suspect) or suspect.rstrip(". ")))
    if vehicle := sections.get("vehicle"):
        found.append(RelatedEntity(kind="vehicle", name=vehicle.rstrip(". ")))
    return found
