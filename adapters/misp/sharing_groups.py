"""MISP sharing groups: named organisations (and servers) an event is shared with.

MISP writes a group two ways: inline in an event that is shared with it (the group's fields,
with its members nested), and in ``/sharing_groups/index`` (the group beside its members). Both
are read here into one shape; only what decides who may see an event is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MispOrganisation(_Config):
    uuid: str | None = None
    name: str | None = None


class SharingGroup(_Config):
    """A sharing group as configured, or as an event carries it inline."""

    name: str
    uuid: str | None = None
    organisations: tuple[MispOrganisation, ...] = ()
    servers_with_all_orgs: tuple[str, ...] = ()
    """Servers whose every organisation is a member: the hub cannot tell who they are."""


class _RawOrganisation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    uuid: str | None = None
    name: str | None = None


class _RawMember(BaseModel):
    model_config = ConfigDict(extra="ignore")

    Organisation: _RawOrganisation | None = None


class _RawServer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    all_orgs: bool = False
    server_id: str | int = "0"


class _RawSharingGroup(BaseModel):
    """A sharing group as MISP writes it, inline in an event or in /sharing_groups/index."""

    model_config = ConfigDict(extra="ignore")

    id: str | int
    name: str = Field(min_length=1)
    uuid: str | None = None
    Organisation: _RawOrganisation | None = None
    SharingGroupOrg: list[_RawMember] = []
    SharingGroupServer: list[_RawServer] = []

    def parsed(self) -> SharingGroup:
        found = [self.Organisation, *(member.Organisation for member in self.SharingGroupOrg)]
        orgs = {(o.uuid, o.name): MispOrganisation(uuid=o.uuid, name=o.name) for o in found if o}
        return SharingGroup(
            name=self.name,
            uuid=self.uuid,
            organisations=tuple(orgs.values()),
            servers_with_all_orgs=tuple(
                str(server.server_id) for server in self.SharingGroupServer if server.all_orgs
            ),
        )


class SharingGroupFault(ValueError):
    """A sharing group that does not have MISP's shape; ``where`` is a JSON path inside it."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")


def parse_sharing_group(value: Any, where: str) -> tuple[str, SharingGroup]:
    """(id, group) of a sharing group as an event carries it inline."""
    try:
        raw = _RawSharingGroup.model_validate(value)
    except ValidationError as err:
        first = err.errors()[0]
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        raise SharingGroupFault(f"{where}{path}", first["msg"]) from err
    return str(raw.id), raw.parsed()


def parse_sharing_groups_index(index: Any) -> dict[str, SharingGroup]:
    """Sharing groups by id, from MISP's /sharing_groups/index (a list, or ``{"response": [...]}``).

    Pure, so that an operator can turn an instance's export into the ``sharing_groups`` table
    of mapping.yml, and tests can read a real export. Raises ``SharingGroupFault``.
    """
    entries, where = index, "$"
    if isinstance(index, Mapping) and "response" in index:
        entries, where = index["response"], "$.response"
    if not isinstance(entries, list):
        raise SharingGroupFault(where, "expected a list of sharing groups")
    groups: dict[str, SharingGroup] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("SharingGroup"), Mapping):
            raise SharingGroupFault(f"{where}[{i}]", "expected an object with a SharingGroup")
        members = {
            key: entry[key]
            for key in ("Organisation", "SharingGroupOrg", "SharingGroupServer")
            if entry.get(key) is not None
        }
        group_id, group = parse_sharing_group({**entry["SharingGroup"], **members}, f"{where}[{i}]")
        groups[group_id] = group
    return groups
