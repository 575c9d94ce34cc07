"""The shape of mapping.yml, checked when the adapter is built."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from adapters.markings import marking_tables
from broker.errors import UnknownMarking
from broker.models import Level, Tlp

StixId = Annotated[
    str, Field(pattern=r"^[a-z0-9][a-z0-9-]*--[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")
]
Credibility = Annotated[int, Field(ge=1, le=6)]


class StixMapping(BaseModel):
    """The tables of mapping.yml; the file says what each one means and where it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_tlp: Tlp
    tlp_levels: dict[Tlp, Level]
    fixed_markings: dict[StixId, str]
    tlp2_extension: StixId
    notice_types: frozenset[str]
    context_types: frozenset[str]
    title_properties: tuple[str, ...]
    text_properties: tuple[str, ...]
    topic_properties: tuple[str, ...]
    summary_properties: dict[str, str]
    valid_from_properties: tuple[str, ...]
    valid_until_properties: tuple[str, ...]
    reference_properties: tuple[str, ...]
    ignored_properties: tuple[str, ...]
    name_properties: tuple[str, ...]
    identity_kinds: dict[str, str]
    confidence_credibility: dict[Annotated[int, Field(ge=0, le=100)], Credibility]
    observables: dict[str, dict[str, str]]
    pattern_paths: dict[str, str]
    hash_kinds: dict[str, str]

    @field_validator("tlp_levels")
    @classmethod
    def _every_tlp_has_a_level(cls, levels: dict[Tlp, Level]) -> dict[Tlp, Level]:
        if missing := set(Tlp) - levels.keys():
            raise ValueError(f"no level for {', '.join(sorted(missing))}")
        return levels

    @field_validator("fixed_markings")
    @classmethod
    def _fixed_markings_are_tlp_labels(cls, markings: dict[str, str]) -> dict[str, str]:
        for marking_id, label in markings.items():
            try:
                marking_tables().tlp(label, format="mapping.yml", where=marking_id)
            except UnknownMarking as err:
                raise ValueError(str(err)) from err
        return markings

    @field_validator("confidence_credibility")
    @classmethod
    def _confidence_zero_is_graded(cls, bands: dict[int, int]) -> dict[int, int]:
        if 0 not in bands:
            raise ValueError("a band must start at confidence 0")
        return bands

    @field_validator("hash_kinds")
    @classmethod
    def _hash_names_upper_case(cls, kinds: dict[str, str]) -> dict[str, str]:
        if lower := [name for name in kinds if name != name.upper()]:
            raise ValueError(f"hash algorithm names are compared upper-case: {lower}")
        return kinds

    def is_observable(self, stix_type: str) -> bool:
        return stix_type in self.observables

    def fixed_tlp(self, marking_id: str) -> Tlp | None:
        label = self.fixed_markings.get(marking_id)
        if label is None:
            return None
        return marking_tables().tlp(label, format="mapping.yml", where=marking_id)

    def credibility(self, confidence: int) -> int:
        """The Admiralty digit of the highest band the confidence reaches."""
        floor = max(bound for bound in self.confidence_credibility if bound <= confidence)
        return self.confidence_credibility[floor]
