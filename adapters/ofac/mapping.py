"""The tables of mapping.yml, validated when the adapter is built and folded for lookup.

mapping.yml says what each table means and where its entries come from. Keys are folded as
markings are (case, accents, separators), because OFAC spells one idType with and without its
trailing dash or colon across years.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from adapters.markings import fold
from adapters.published_lists import ListRules
from broker.models import AliasQuality, Measure, Sex, SubjectKind

DocumentKind = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]
V = TypeVar("V")
ORDERS_BY = "president"
"""The authorities entry of executive orders named in a programme tag (NAME-EO12345)."""
DIRECTIVES_BY = "ofac"
"""The authorities entry of OFAC's sectoral directives."""


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Attribute(StrEnum):
    """Subject fields an overloaded idType can fill instead of an identifier."""

    SEX = "sex"
    NATIONALITY = "nationality"
    FOUNDED = "founded"


class SdnListRules(ListRules):
    """The SDN list blocks property; the Consolidated list's non-SDN lists only restrict
    dealings: one schema, measures that differ by list."""

    measures: list[Measure] = Field(min_length=1)


class ProgrammeAct(_Table):
    by: str
    reference: str


class IdTypeTables(_Table):
    documents: dict[str, DocumentKind]
    document_prefixes: dict[str, DocumentKind]
    attributes: dict[str, Attribute]
    ignored: dict[str, str]
    ignored_prefixes: dict[str, str]


class OfacMapping(_Table):
    lists: dict[str, SdnListRules]
    subject_kinds: dict[str, SubjectKind]
    alias_types: dict[str, Literal["alias", "name"]]
    alias_quality: dict[str, AliasQuality]
    sex: dict[str, Sex]
    authorities: dict[str, str]
    programmes: dict[str, ProgrammeAct | None]
    directives: dict[str, str]
    id_types: IdTypeTables

    @model_validator(mode="after")
    def _consistent(self) -> OfacMapping:
        used = {act.by for act in self.programmes.values() if act} | {ORDERS_BY, DIRECTIVES_BY}
        unknown = used - self.authorities.keys()
        if unknown:
            raise ValueError(f"authorities used but not defined in authorities: {sorted(unknown)}")
        exact: list[Mapping[str, object]] = [
            self.directives,
            self.id_types.documents,
            self.id_types.attributes,
            self.id_types.ignored,
        ]
        seen: set[str] = set()
        for table in exact:
            keys = {fold(key) for key in table}
            if clash := keys & seen:
                raise ValueError(f"idTypes in more than one table: {sorted(clash)}")
            seen |= keys
        return self


class Tables:
    """mapping.yml once loaded: code tables folded for lookup, idTypes indexed."""

    def __init__(self, mapping: OfacMapping) -> None:
        self.mapping = mapping
        self.id_types = IdTypes(mapping)
        self.kinds = folded(mapping.subject_kinds)
        self.alias_types = folded(mapping.alias_types)
        self.alias_quality = folded(mapping.alias_quality)
        self.sex = folded(mapping.sex)
        self.directives = folded(mapping.directives)


@dataclass(frozen=True)
class IdRule:
    """What one idType is: a document kind, an attribute, a directive, or ignored (why)."""

    role: Literal["document", "attribute", "directive", "ignored"]
    value: str


class IdTypes:
    """The idType tables with folded keys, exact entries before prefixes."""

    def __init__(self, mapping: OfacMapping) -> None:
        tables = mapping.id_types
        self._exact: dict[str, IdRule] = {}
        self._exact |= _rules(mapping.directives, "directive")
        self._exact |= _rules(tables.documents, "document")
        self._exact |= _rules(tables.attributes, "attribute")
        self._exact |= _rules(tables.ignored, "ignored")
        prefixes = _rules(tables.document_prefixes, "document")
        prefixes |= _rules(tables.ignored_prefixes, "ignored")
        # Longest first, so that a specific family wins over a general one.
        self._prefixes = sorted(prefixes.items(), key=lambda item: -len(item[0]))

    def rule(self, id_type: str) -> IdRule | None:
        key = fold(id_type)
        if found := self._exact.get(key):
            return found
        return next((rule for prefix, rule in self._prefixes if key.startswith(prefix)), None)


def folded(table: dict[str, V]) -> dict[str, V]:
    """A code table keyed the way source values are looked up."""
    return {fold(key): value for key, value in table.items()}


def _rules(
    table: dict[str, str] | dict[str, Attribute],
    role: Literal["document", "attribute", "directive", "ignored"],
) -> dict[str, IdRule]:
    return {fold(key): IdRule(role, str(value)) for key, value in table.items()}
