"""Who may touch which topic: the Kafka ACLs of the hub, derived from its list of agencies.

Pure: it computes bindings and applies none (``ops/acls.py`` does, through the Admin API).

Each agency logs in as ``User:<agency id>`` and is granted exactly:

- WRITE on the topic ``raw.<agency>``: its liaison system publishes there;
- READ on the topic ``deliver.<agency>``: what the distributor lets it see;
- READ on the consumer group named like that topic, ``deliver.<agency>``: the one group id it
  may read in, so that committed offsets (its progress) are its own and nobody else's.

Every name carries the hub's topic prefix, and every binding is an ALLOW rule with a LITERAL
pattern for any host: a PREFIXED rule for ``fr`` would also match ``fra``'s topics. READ and
WRITE imply DESCRIBE in Kafka's authorizer, so the metadata a client needs comes with them and no
DESCRIBE rules are listed. The hub's principal is a super user of the broker and needs no
bindings; it is only kept out of the agencies' names here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from broker.errors import InvalidAgencyId
from broker.topics import TopicNames

# The alphabet of TopicNames.raw_pattern: what ingest subscribes to is what may be granted.
_AGENCY_ID = re.compile(r"[a-z0-9][a-z0-9-]*")


class Resource(StrEnum):
    TOPIC = "TOPIC"
    GROUP = "GROUP"


class Operation(StrEnum):
    READ = "READ"
    WRITE = "WRITE"


@dataclass(frozen=True, order=True)
class AclBinding:
    """ALLOW ``principal`` to ``operation`` the resource named exactly ``name``, from any host."""

    principal: str
    resource: Resource
    name: str
    operation: Operation


def principal(user: str) -> str:
    """The principal Kafka's SCRAM authenticator gives a user."""
    return f"User:{user}"


def agency_group(topics: TopicNames, agency_id: str) -> str:
    """The only consumer group an agency may use: named like the topic it reads."""
    return topics.deliver(agency_id)


def check_agency_ids(agencies: Iterable[str], *, hub_user: str) -> list[str]:
    """The ids, sorted and once each, if every one is fit to name a principal and its ACLs."""
    ids = sorted(set(agencies))
    for agency_id in ids:
        if not _AGENCY_ID.fullmatch(agency_id):
            raise InvalidAgencyId(
                agency_id, "use lower-case letters, digits and '-', starting with a letter or digit"
            )
        if agency_id == hub_user:
            raise InvalidAgencyId(agency_id, "this is the hub's own user, a super user")
    return ids


def agency_acls(agencies: Iterable[str], topics: TopicNames, *, hub_user: str) -> list[AclBinding]:
    """Every binding the agencies need, sorted, so that two derivations compare equal."""
    bindings = []
    for agency_id in check_agency_ids(agencies, hub_user=hub_user):
        user = principal(agency_id)
        bindings += [
            AclBinding(user, Resource.TOPIC, topics.raw(agency_id), Operation.WRITE),
            AclBinding(user, Resource.TOPIC, topics.deliver(agency_id), Operation.READ),
            AclBinding(user, Resource.GROUP, agency_group(topics, agency_id), Operation.READ),
        ]
    return sorted(bindings)
