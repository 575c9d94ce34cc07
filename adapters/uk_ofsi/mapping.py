"""The tables of mapping.yml, validated when the adapter is built and folded for lookup.

mapping.yml says what each table means and where its entries come from.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal, TypeVar

import pycountry
from pydantic import BaseModel, ConfigDict, Field

from adapters.markings import fold
from adapters.published_lists import ListRules
from broker.models import AliasQuality, Measure, Sex, SubjectKind

LanguageTag = Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]
V = TypeVar("V")


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OfsiMapping(_Table):
    lists: dict[str, ListRules]
    subject_kinds: dict[str, SubjectKind]
    name_types: dict[str, Literal["primary", "alias"]]
    alias_quality: dict[str, AliasQuality]
    sex: dict[str, Sex]
    group_status: dict[str, list[Measure]]
    default_measures: list[Measure] = Field(min_length=1)
    sanctions_imposed: dict[str, Measure]
    legal_authority: str
    regimes: dict[str, str]
    languages: dict[str, LanguageTag]


class Tables:
    """mapping.yml once loaded, its code tables folded the way source values are looked up."""

    def __init__(self, mapping: OfsiMapping) -> None:
        self.mapping = mapping
        self.kinds = _folded(mapping.subject_kinds)
        self.name_types = _folded(mapping.name_types)
        self.alias_quality = _folded(mapping.alias_quality)
        self.sex = _folded(mapping.sex)
        self.group_status = _folded(mapping.group_status)
        self.regimes = _folded(mapping.regimes)
        self.sanctions_imposed = _folded(mapping.sanctions_imposed)
        self.languages = _folded(mapping.languages)

    def language(self, name: str) -> str | None:
        """The BCP 47 primary subtag of a language named in English, or None if unknown."""
        return self.languages.get(fold(name)) or _iso_639(name)


@cache
def _iso_639(name: str) -> str | None:
    try:
        language = pycountry.languages.lookup(name)
    except LookupError:
        return None
    return str(getattr(language, "alpha_2", None) or language.alpha_3)


def _folded(table: dict[str, V]) -> dict[str, V]:
    return {fold(key): value for key, value in table.items()}
