"""The shape of mapping.yml, validated when the adapter is built, and how codes are looked up.

Every coded field goes through ``lookup``: the FBI writes the same code in varying case, and a
code no table knows is counted as written rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from functools import cached_property
from typing import Annotated, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from adapters.json_fields import JsonFields
from adapters.markings import fold
from broker.models import Classification, CountryCode, MsgType, RequestedAction, Sex

LanguageTag = Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]
ScriptCode = Annotated[str, Field(pattern=r"^[A-Z][a-z]{3}$")]
FlagName = Annotated[str, Field(pattern=r"^[A-Z][A-Z_]*$")]
V = TypeVar("V")


class PosterKind(StrEnum):
    """What a poster asks of the public, which decides the notice it becomes."""

    FUGITIVE = "fugitive"
    """A person to arrest: a wanted-person notice, ARREST."""
    MISSING = "missing"
    """A missing or abducted person to find: a wanted-person notice, LOCATE."""
    UNIDENTIFIED = "unidentified"
    """A person to put a name to (unidentified remains, unknown suspects): INFORM."""
    INFORMATION = "information"
    """A case or event information is sought about: an intelligence bulletin."""


class Role(StrEnum):
    """The poster person's part in the case (person_classification)."""

    SUBJECT = "subject"
    VICTIM = "victim"


ACTIONS: dict[PosterKind, RequestedAction] = {
    PosterKind.FUGITIVE: RequestedAction.ARREST,
    PosterKind.MISSING: RequestedAction.LOCATE,
    PosterKind.UNIDENTIFIED: RequestedAction.INFORM,
}
"""The kinds that become wanted-person notices; the rest become bulletins."""


def lookup(fields: JsonFields, key: str, table: Mapping[str, V]) -> tuple[str | None, V | None]:
    """(the text, its value) of a coded field, compared in lower case as the FBI varies case.

    A text the table lacks is counted as written, and has no value.
    """
    text = fields.text(key)
    if text is None:
        return None, None
    value = table.get(text.casefold())
    if value is None:
        fields.report_unknown(fields.at(key), text)
    return text, value


class FbiMapping(BaseModel):
    """The tables of mapping.yml; the file says what each one means and where it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    classification: Classification
    country: CountryCode
    publication_time_zone: str
    blank_values: frozenset[str]
    statuses: dict[str, MsgType]
    person_classifications: dict[str, Role]
    path_categories: dict[str, PosterKind]
    poster_classifications: dict[str, PosterKind]
    subjects: dict[str, PosterKind | None]
    unnamed_titles: list[str]
    sex: dict[str, Sex]
    warning_flags: dict[str, list[FlagName]]
    nationalities: dict[str, CountryCode]
    places: dict[str, CountryCode | None]
    languages: dict[str, LanguageTag]
    scripts: dict[str, ScriptCode]

    @field_validator("unnamed_titles")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(f"{pattern!r} is not a regular expression: {err}") from err
        return patterns

    @field_validator("publication_time_zone")
    @classmethod
    def _zone_exists(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"no time zone {name!r}: {err}") from err
        return name

    @cached_property
    def time_zone(self) -> ZoneInfo:
        return ZoneInfo(self.publication_time_zone)

    @cached_property
    def roles(self) -> dict[str, Role]:
        return {key.casefold(): role for key, role in self.person_classifications.items()}

    @cached_property
    def folded_subjects(self) -> dict[str, PosterKind | None]:
        return {fold(key): kind for key, kind in self.subjects.items()}

    @cached_property
    def folded_nationalities(self) -> dict[str, str]:
        return {fold(key): code for key, code in self.nationalities.items()}

    @cached_property
    def folded_places(self) -> dict[str, str | None]:
        return {fold(key): code for key, code in self.places.items()}

    @cached_property
    def folded_languages(self) -> dict[str, str]:
        return {fold(key): code for key, code in self.languages.items()}

    @cached_property
    def unnamed(self) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{p})" for p in self.unnamed_titles), re.IGNORECASE)

    @cached_property
    def warning_patterns(self) -> list[tuple[re.Pattern[str], list[str]]]:
        return [
            (re.compile(rf"\b{re.escape(fold(phrase))}\b"), flags)
            for phrase, flags in self.warning_flags.items()
        ]
