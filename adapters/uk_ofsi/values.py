"""Values as the UK lists write them: names, numbered lists, dates, code tables and countries.

OFSI's Consolidated List and the FCDO's UK Sanctions List share their writing habits: lists of
values numbered in one text ("(1) Syria (2) Iraq"), dates of birth with unknown parts written
as 00 (OFSI) or dd and mm (FCDO), names padded and sprinkled with bidirectional controls.
Names are cleaned and their script read from their letters as the other sanctions adapters
do it (adapters.sanctions_common), so one person on several lists reads the same.

Dates of birth are typed by hand: the FCDO publishes "15/08/19yy" (a day, a month, no year).
One unreadable date of birth must not send a whole national list to the dead-letter topic, so
it is left out and counted as unmapped, with its text, instead of raised.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import TypeVar

from adapters.countries import country_code
from adapters.partial_dates import parse_date_span
from adapters.sanctions_common import FoldedLookups, clean_name, script_of
from adapters.uk_ofsi.mapping import Tables
from adapters.xml_reader import XmlRecord
from broker.models import DateSpan, Name, PartialDate, SubjectKind

V = TypeVar("V")
NUMBERED = re.compile(r"\(\d{1,2}\)")
CONTACTS = re.compile(r"\(\d{1,2}\)|;|,\s")
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:T[0-9:.]+Z?)?")
_MONTH_YEAR = re.compile(r"(\d{1,2})/(\d{4})")
_BRACKETED_END = re.compile(r"\s*\([^)]*\)$")
_UNKNOWN_PART = re.compile(r"\b(?:dd|mm)(?=/)", re.IGNORECASE)


class Lookups(FoldedLookups[Tables]):
    def code(self, record: XmlRecord, names: tuple[str, ...], table: Mapping[str, V]) -> V | None:
        """The table's value for the first of the record's fields ``names`` that has one."""
        return self.code_of(record, names[0], text(record, *names), table)

    def countries(self, record: XmlRecord, *names: str) -> list[str]:
        return self.countries_of(record, names[0], text(record, *names))

    def countries_of(self, record: XmlRecord, name: str, value: str | None) -> list[str]:
        """Country names, numbered lists of them too; a bracketed remark after one is dropped."""
        codes = []
        for country in split(value, NUMBERED):
            code = country_code(_BRACKETED_END.sub("", country))
            if code is None:
                self.unknown(record, name, country)
            else:
                codes.append(code)
        return codes

    def birth_dates(self, record: XmlRecord, *names: str) -> list[DateSpan]:
        return self.birth_dates_of(record, names[0], text(record, *names))

    def birth_dates_of(self, record: XmlRecord, name: str, value: str | None) -> list[DateSpan]:
        if value is None:
            return []
        try:
            span = birth_date(value)
        except ValueError:
            self.unknown(record, name, value)
            return []
        return [span] if span else []

    def name(self, given: str, family: str | None, kind: SubjectKind | None) -> Name | None:
        """A Latin-script name in the source's order, given names first.

        Only an individual's name with both given names and a surname (Name6) is split into
        given and family names: an entity's name sits in Name6 alone, and a lone Name1 is no
        surname.
        """
        full = " ".join(part for part in (given, family) if part)
        if not full:
            return None
        split_name = kind is SubjectKind.INDIVIDUAL and bool(given) and bool(family)
        return Name(
            full_name=full,
            given_names=given if split_name else None,
            family_name=family if split_name else None,
            script=script_of(full),
        )

    def original_name(self, record: XmlRecord, value: str | None) -> Name | None:
        """A name in its original script: the script read from its letters, the language
        from NonLatinScriptLanguage (the FCDO's NonLatinScriptType is not always right)."""
        original = clean_name(value)
        language = text(record, "NonLatinScriptLanguage")
        if original is None:
            return None
        lang = self.tables.language(language) if language else None
        if language and lang is None:
            self.unknown(record, "NonLatinScriptLanguage", language)
        return Name(full_name=original, script=script_of(original), lang=lang)


def text(record: XmlRecord, *names: str) -> str | None:
    """The first of ``names`` the record has a value for; every one is marked as read."""
    values = [record.text(name) for name in names]
    return next((value for value in values if value is not None), None)


def split(value: str | None, separators: re.Pattern[str]) -> list[str]:
    if value is None:
        return []
    return [part for piece in separators.split(value) if (part := piece.strip(" ;,."))]


def birth_date(value: str) -> DateSpan | None:
    """dd/mm/yyyy with unknown parts as 00 (OFSI) or as the letters dd and mm (FCDO).

    A day under an unknown month goes with the month ("15/mm/1975" is 1975). 00/00/0000 is a
    placeholder for no date. Raises ValueError for what is no date.
    """
    digits = _UNKNOWN_PART.sub("00", value)
    if match := _DAY_MONTH_YEAR.fullmatch(digits):
        day, month, year = (int(part) for part in match.groups())
        if year == 0:
            return None
        known_month = month or None
        known_day = day if day and known_month else None
        dt.date(year, month or 1, known_day or 1)
        return DateSpan(earliest=PartialDate(year=year, month=known_month, day=known_day))
    if match := _MONTH_YEAR.fullmatch(digits):
        return DateSpan(earliest=PartialDate(year=int(match[2]), month=int(match[1]) or None))
    return parse_date_span(value)


def day(value: str) -> dt.date:
    """A list date: ISO 8601 (OFSI since 2022) or dd/mm/yyyy. Raises ValueError otherwise."""
    if match := _ISO_DAY.fullmatch(value):
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    if match := _DAY_MONTH_YEAR.fullmatch(value):
        return dt.date(int(match[3]), int(match[2]), int(match[1]))
    raise ValueError("expected YYYY-MM-DD[Thh:mm:ss] or DD/MM/YYYY")
