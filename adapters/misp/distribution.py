"""MISP's sharing controls (distribution, sharing groups, TLP and classification tags) as one
hub classification.

MISP says who may see an event on two independent axes: ``distribution`` (how far MISP
synchronisation carries it: the organisation, its community, connected communities, all
communities, or a sharing group of named organisations) and tags (``tlp:*``, classification
taxonomies such as ``nato:classification="NR"``). The hub has one classification, so both are
read through the tables of ``mapping.yml`` and combined so that the more restrictive always
wins: the TLP label is the strictest of the tags and of the floor the distribution sets, and
the distribution decides releasable_to. A missing, contradictory or unknown marking is never
read as something wider than it is: an unknown code, tag or sharing group raises
``UnknownMarking`` and the event goes to the dead-letter topic.

``Distribution`` mirrors PyMISP's enum (``pymisp/abstract.py``), ``INHERIT`` included: an
attribute, object or report at 5 takes its event's scope, and an event cannot inherit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from adapters.markings import fold, marking_tables
from adapters.misp.sharing_groups import SharingGroup
from broker.errors import UnknownMarking
from broker.models import Classification, Level, Tlp

AgencyId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
"""A hub agency id, as ``models.Originator.agency_id`` writes it."""
Recipient = Annotated[str, Field(pattern=r"^(group:[A-Z][A-Z0-9_]*|[A-Z]{2}|[a-z0-9][a-z0-9-]*)$")]
"""A releasable_to entry: a hub group (``group:EU``), a country code or an agency id."""

_TLP_RANK = {tlp: rank for rank, tlp in enumerate(Tlp)}  # Tlp is declared least restrictive first
_LEVEL_RANK = {level: rank for rank, level in enumerate(Level)}
_CODE = re.compile(r"\d+")


class Distribution(IntEnum):
    """MISP's distribution levels, with the explicit INHERIT that PyMISP models."""

    YOUR_ORGANISATION_ONLY = 0
    THIS_COMMUNITY_ONLY = 1
    CONNECTED_COMMUNITIES = 2
    ALL_COMMUNITIES = 3
    SHARING_GROUP = 4
    INHERIT = 5


_LINEAR = (
    Distribution.YOUR_ORGANISATION_ONLY,
    Distribution.THIS_COMMUNITY_ONLY,
    Distribution.CONNECTED_COMMUNITIES,
    Distribution.ALL_COMMUNITIES,
)
"""The levels that nest, narrowest first; a sharing group sits beside them, not among them."""


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DistributionRule(_Config):
    label: str
    tlp_at_least: Tlp
    """The floor: an event tagged with a laxer TLP label is raised to this one."""
    tlp_when_untagged: Tlp
    """The label of an event that carries no ``tlp:`` tag at all."""
    originator_controlled: bool = False


class Communities(_Config):
    """What MISP's community scopes reach on the hub, for one originating agency."""

    this_community: tuple[Recipient, ...] = ()
    connected_communities: tuple[Recipient, ...] = ()
    all_communities: tuple[Recipient, ...] = ()


class ClassificationTag(_Config):
    marking: str
    """The marking as ``adapters/markings.yml`` knows it."""
    caveats: tuple[str, ...] = ()


class MarkingRules(_Config):
    """The ``markings`` section of mapping.yml; the file says what each table means."""

    distribution: dict[Distribution, DistributionRule]
    absent_distribution: Distribution
    absent_distribution_by_agency: dict[AgencyId, Distribution] = {}
    communities: dict[AgencyId, Communities] = {}
    organisations: dict[str, AgencyId] = {}
    sharing_groups: dict[AgencyId, dict[str, SharingGroup]] = {}
    classification_namespaces: frozenset[str]
    classification_tags: dict[str, ClassificationTag]

    @model_validator(mode="after")
    def _complete(self) -> MarkingRules:
        expected = set(Distribution) - {Distribution.INHERIT}
        if set(self.distribution) != expected:
            raise ValueError("distribution must have a rule for each of 0..4, and none for 5")
        for rule in self.distribution.values():
            if _TLP_RANK[rule.tlp_when_untagged] < _TLP_RANK[rule.tlp_at_least]:
                raise ValueError(f"{rule.label}: tlp_when_untagged is laxer than tlp_at_least")
        absent = [self.absent_distribution, *self.absent_distribution_by_agency.values()]
        if {Distribution.INHERIT, Distribution.SHARING_GROUP} & set(absent):
            raise ValueError("an absent distribution cannot be read as inherit or sharing group")
        return self


@dataclass(frozen=True)
class Scope:
    """How far MISP lets one element travel: its distribution, and its sharing group if any."""

    distribution: Distribution
    sharing_group: str | None = None

    def narrower_than(self, event: Scope) -> bool:
        """Whether an element at this scope reaches fewer than its event does.

        MISP caps every element at its event's scope, so a wider element is as wide as the
        event. Where the two cannot be compared (a sharing group against a community, two
        different sharing groups) the element is taken as narrower: never the wider reading.
        """
        if self.distribution is Distribution.INHERIT or self == event:
            return False
        if event.distribution is Distribution.YOUR_ORGANISATION_ONLY:
            return False
        if self.distribution is Distribution.SHARING_GROUP:
            return True
        if event.distribution is Distribution.SHARING_GROUP:
            return self.distribution is not Distribution.ALL_COMMUNITIES
        return _LINEAR.index(self.distribution) < _LINEAR.index(event.distribution)


@dataclass(frozen=True)
class Tag:
    """One tag as the payload names it, with the JSON path of its name."""

    where: str
    name: str


@dataclass(frozen=True)
class Marks:
    """The sharing markings among some tags; the other tags are left for topics."""

    tlp: Tlp | None
    level: Level | None
    caveats: tuple[str, ...]
    verbatim: tuple[str, ...]


class Markings:
    """Reads MISP markings with the rules of mapping.yml and the shared equivalence tables."""

    def __init__(self, rules: MarkingRules, format: str) -> None:
        self._rules = rules
        self._format = format
        self._namespaces = frozenset(fold(ns) for ns in rules.classification_namespaces)
        self._classification = {fold(tag): mark for tag, mark in rules.classification_tags.items()}

    def is_marking(self, tag: str) -> bool:
        key = fold(tag)
        return key.startswith("tlp:") or key.partition(":")[0] in self._namespaces

    def marks(self, tags: Iterable[Tag]) -> Marks:
        """The strictest TLP label and classification among ``tags``; unknown ones raise."""
        tlps: list[Tlp] = []
        levels: list[Level] = []
        caveats: list[str] = []
        verbatim: list[str] = []
        for tag in tags:
            key = fold(tag.name)
            if key.startswith("tlp:"):
                tlps.append(marking_tables().tlp(tag.name, format=self._format, where=tag.where))
            elif key.partition(":")[0] in self._namespaces:
                mark = self._classification.get(key)
                if mark is None:
                    raise UnknownMarking(
                        format=self._format,
                        where=tag.where,
                        marking=tag.name,
                        scheme="MISP classification tag",
                    )
                levels.append(
                    marking_tables().national_level(
                        mark.marking, format=self._format, where=tag.where
                    )
                )
                caveats.extend(mark.caveats)
            else:
                continue
            verbatim.append(tag.name)
        return Marks(
            tlp=max(tlps, key=_TLP_RANK.__getitem__, default=None),
            level=max(levels, key=_LEVEL_RANK.__getitem__, default=None),
            caveats=tuple(dict.fromkeys(caveats)),
            verbatim=tuple(dict.fromkeys(verbatim)),
        )

    def distribution(
        self, code: str | None, *, where: str, agency: str, inherit: bool
    ) -> Distribution:
        """The distribution a code names; absent, it reads as mapping.yml says.

        An element without one inherits (MISP feeds leave it out everywhere, and MISP itself
        gives imported elements 5); an event without one gets the table's absent reading.
        """
        if code is None:
            if inherit:
                return Distribution.INHERIT
            return self._rules.absent_distribution_by_agency.get(
                agency, self._rules.absent_distribution
            )
        if _CODE.fullmatch(code) and int(code) in set(Distribution):
            found = Distribution(int(code))
            if inherit or found is not Distribution.INHERIT:
                return found
        raise UnknownMarking(
            format=self._format, where=where, marking=code, scheme="MISP distribution"
        )

    def sharing_group(
        self, group_id: str | None, inline: SharingGroup | None, *, where: str, agency: str
    ) -> SharingGroup:
        """The group an event is shared with: the event's own copy first, else configuration."""
        if inline is not None:
            return inline
        group = self._rules.sharing_groups.get(agency, {}).get(group_id or "")
        if group is None:
            raise UnknownMarking(
                format=self._format,
                where=where,
                marking=group_id or "(none)",
                scheme=f"MISP sharing group of {agency}",
            )
        return group

    def members(self, group: SharingGroup) -> tuple[list[str], list[str]]:
        """(hub agency ids, what could not be mapped) of a sharing group's organisations.

        An organisation the table does not know is left out, which narrows the group; so are
        servers whose every organisation belongs, since nobody can say who they are.
        """
        agencies: list[str] = []
        unknown: list[str] = []
        for org in group.organisations:
            agency = self._rules.organisations.get(org.uuid or "") or self._rules.organisations.get(
                org.name or ""
            )
            if agency is None:
                unknown.append(f"organisation {org.name or '?'} {org.uuid or ''}".strip())
            else:
                agencies.append(agency)
        unknown.extend(
            f"all organisations of server {server}" for server in group.servers_with_all_orgs
        )
        return agencies, unknown

    def classification(
        self, marks: Marks, scope: Scope, group: SharingGroup | None, agency: str
    ) -> tuple[Classification, list[str]]:
        """The notice's classification, and the sharing-group members that could not be mapped."""
        rule = self._rules.distribution[scope.distribution]
        tagged = rule.tlp_when_untagged if marks.tlp is None else marks.tlp
        tlp = max(tagged, rule.tlp_at_least, key=_TLP_RANK.__getitem__)
        releasable, unknown = self._reach(scope, group, agency)
        if _TLP_RANK[tlp] >= _TLP_RANK[Tlp.AMBER] and agency not in releasable:
            releasable.append(agency)  # its own copy; no one else gains anything by it
        described = f"MISP distribution {int(scope.distribution)} ({rule.label})"
        if group is not None:
            described += f": {group.name}"
        classification = Classification(
            level=marks.level or Level.UNCLASSIFIED,
            national_marking="; ".join([*marks.verbatim, described]),
            tlp=tlp,
            releasable_to=list(dict.fromkeys(releasable)),
            originator_controlled=rule.originator_controlled,
            caveats=list(marks.caveats),
        )
        return classification, unknown

    def _reach(
        self, scope: Scope, group: SharingGroup | None, agency: str
    ) -> tuple[list[str], list[str]]:
        communities = self._rules.communities.get(agency, Communities())
        match scope.distribution:
            case Distribution.YOUR_ORGANISATION_ONLY:
                return [agency], []
            case Distribution.THIS_COMMUNITY_ONLY:
                return list(communities.this_community), []
            case Distribution.CONNECTED_COMMUNITIES:
                return [*communities.this_community, *communities.connected_communities], []
            case Distribution.ALL_COMMUNITIES:
                return list(communities.all_communities), []
            case _:
                assert group is not None, "a sharing-group scope is resolved with its group"
                members, unknown = self.members(group)
                return [agency, *members], unknown


def tlp_stricter(tlp: Tlp | None, than: Tlp) -> bool:
    return tlp is not None and _TLP_RANK[tlp] > _TLP_RANK[than]


def level_above(level: Level | None, than: Level) -> bool:
    return level is not None and _LEVEL_RANK[level] > _LEVEL_RANK[than]
