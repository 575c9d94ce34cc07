"""The shape of mapping.yml: CAP's code tables, validated once when the adapter is built.

mapping.yml says what each table means and where its values come from. Tables whose keys are
free text written by people (restriction rules, EDXL confidentiality, addresses) are folded
here, at load, the way ``adapters.markings`` folds national markings.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from adapters.markings import fold
from broker.models import Level, MsgType, RequestedAction, ThreatLevel, Tlp

V = TypeVar("V")

Recipient = Annotated[str, Field(pattern=r"^(?:[a-z0-9][a-z0-9-]*|[A-Z]{2})$")]
"""A hub agency id or an ISO 3166-1 alpha-2 country: someone named, never a group."""


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScopeRule(_Table):
    level: Level
    tlp: Tlp
    national_marking: str
    originator_controlled: bool = False
    addresses: Literal["required", "narrow", "ignored"]
    """What <addresses> does under this scope: name the only recipients (required), narrow
    the recipients when given (narrow), or nothing (ignored)."""


class RestrictionRule(_Table):
    level: Level
    tlp: Tlp | None = None


class ThreatLevels(_Table):
    severity: dict[str, ThreatLevel]
    urgency_cap: dict[str, ThreatLevel | None]


class WantedRule(_Table):
    name: str
    event_codes: frozenset[str]
    """``valueName=value`` of <eventCode>, compared exactly."""
    events: frozenset[str]
    """<event> texts, compared folded."""
    action: RequestedAction
    subject_labels: tuple[str, ...]

    @field_validator("events", mode="after")
    @classmethod
    def _fold(cls, events: frozenset[str]) -> frozenset[str]:
        return frozenset(fold(event) for event in events)


class DescriptionLabels(_Table):
    suspect: tuple[str, ...]
    vehicle: tuple[str, ...]
    place: tuple[str, ...]
    time: tuple[str, ...]


class CapMapping(_Table):
    namespaces: frozenset[str]
    msg_types: dict[str, MsgType]
    ignored_msg_types: frozenset[str]
    status_caveats: dict[str, tuple[str, ...]]
    ignored_statuses: frozenset[str]
    scopes: dict[str, ScopeRule]
    restrictions: dict[str, RestrictionRule]
    addresses: dict[str, Recipient]
    edxl_confidentiality: dict[str, Level]
    classified_tlp: Tlp
    categories: dict[str, str]
    threat_levels: ThreatLevels
    credibility: dict[str, Annotated[int, Field(ge=1, le=6)]]
    wanted_person: tuple[WantedRule, ...]
    description_labels: DescriptionLabels

    @field_validator("restrictions", "edxl_confidentiality", mode="after")
    @classmethod
    def _fold_markings(cls, table: dict[str, V]) -> dict[str, V]:
        return {fold(key): value for key, value in table.items()}

    @field_validator("addresses", mode="after")
    @classmethod
    def _fold_addresses(cls, table: dict[str, str]) -> dict[str, str]:
        return {key.casefold(): value for key, value in table.items()}
