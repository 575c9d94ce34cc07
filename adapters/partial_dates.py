"""Dates as sources write them, into the canonical partial date: never more precise than said.

Lists give a year alone, a year and month, approximate years ("circa 1970", "c. 1970",
"1970 (approx.)"), day-first dates ("05/12/1970", "05.12.1970") and English prose ("May 5,
1970"). Each reading keeps exactly the precision the source gave, and an approximation stays
flagged, because matching a person on an invented day is worse than on a known year.
Ambiguous slashed dates are read day first (the international convention of these lists),
year-first when the first field has four digits. Raises ``ValueError`` with a readable reason;
adapters wrap it in a ``TranslationError`` with the location.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from broker.models import DateSpan, PartialDate

_MONTHS = {name.casefold(): i for i, name in enumerate(calendar.month_name) if name} | {
    name.casefold(): i for i, name in enumerate(calendar.month_abbr) if name
}
_APPROXIMATE = re.compile(
    r"^(?:circa|ca\.?|c\.|approx(?:\.|imately)?|about|around|~)\s*|"
    r"\s*(?:\((?:approx(?:\.|imately)?|circa|est\.?)\)|approx(?:\.|imately)?|~)$",
    re.IGNORECASE,
)
_YEAR_FIRST = re.compile(r"(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?")
_DAY_FIRST = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
_MONTH_YEAR = re.compile(r"(\d{1,2})[-/.](\d{4})")
_PROSE_MDY = re.compile(r"([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})")
_PROSE_DMY = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+)\.?,?\s+(\d{4})")
_PROSE_MY = re.compile(r"([A-Za-z]+)\.?,?\s+(\d{4})")
_RANGE = re.compile(
    r"^(?:between\s+|from\s+)?(.+?)\s*(?:\s-\s|\u2013|\bto\b|\band\b)\s*(.+)$", re.IGNORECASE
)
_YEAR_RANGE = re.compile(r"^(\d{4})\s*-\s*(\d{4})$")


def parse_partial_date(text: str) -> PartialDate:
    """One date in any of the forms the module docstring lists."""
    cleaned = " ".join(text.replace("\u00a0", " ").split())
    core = _APPROXIMATE.sub("", cleaned).strip()
    approximate = core != cleaned
    year, month, day = _fields(core, text)
    try:
        dt.date(year, month or 1, day or 1)
    except ValueError as err:
        raise ValueError(f"{text!r} is not a calendar date: {err}") from err
    return PartialDate(year=year, month=month, day=day, approximate=approximate)


def parse_date_span(text: str) -> DateSpan:
    """A date or a range ("1960-1965", "between 1960 and 1965", "1960 to 1965")."""
    cleaned = " ".join(text.replace("\u00a0", " ").split())
    if match := _YEAR_RANGE.fullmatch(cleaned):
        return span(parse_partial_date(match[1]), parse_partial_date(match[2]))
    if not _YEAR_FIRST.fullmatch(cleaned) and (match := _RANGE.fullmatch(cleaned)):
        return span(parse_partial_date(match[1]), parse_partial_date(match[2]))
    return DateSpan(earliest=parse_partial_date(cleaned))


def span(earliest: PartialDate, latest: PartialDate | None) -> DateSpan:
    """A range whose ends are in order; the same date twice is one date."""
    if latest is None or latest == earliest:
        return DateSpan(earliest=earliest)
    if (latest.year, latest.month or 0, latest.day or 0) < (
        earliest.year,
        earliest.month or 0,
        earliest.day or 0,
    ):
        raise ValueError(f"range ends ({latest}) before it starts ({earliest})")
    return DateSpan(earliest=earliest, latest=latest)


def _fields(core: str, original: str) -> tuple[int, int | None, int | None]:
    if match := _YEAR_FIRST.fullmatch(core):
        return int(match[1]), _int(match[2]), _int(match[3])
    if match := _DAY_FIRST.fullmatch(core):
        return int(match[3]), int(match[2]), int(match[1])
    if match := _MONTH_YEAR.fullmatch(core):
        return int(match[2]), int(match[1]), None
    if match := _PROSE_MDY.fullmatch(core):
        return int(match[3]), _month(match[1], original), int(match[2])
    if match := _PROSE_DMY.fullmatch(core):
        return int(match[3]), _month(match[2], original), int(match[1])
    if match := _PROSE_MY.fullmatch(core):
        return int(match[2]), _month(match[1], original), None
    raise ValueError(f"{original!r} is not a date this hub can read")


def _month(name: str, original: str) -> int:
    month = _MONTHS.get(name.casefold())
    if month is None:
        raise ValueError(f"{original!r}: {name!r} is not a month")
    return month


def _int(text: str | None) -> int | None:
    return None if text is None else int(text)
