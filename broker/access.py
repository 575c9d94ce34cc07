"""Who may touch what: the Kafka ACLs of the hub, derived from its agencies and its services.

Pure: it computes bindings and applies none (``ops/acls.py`` does, through the Admin API;
``ops/compose_access.py`` renders them as the Kafka CLI commands docker-compose runs).

Each agency logs in as ``User:<agency id>`` and is granted exactly:

- WRITE on the topic ``raw.<agency>``: its liaison system publishes there;
- READ on the topic ``deliver.<agency>``: what the distributor lets it see;
- READ on the consumer group named like that topic, ``deliver.<agency>``: the one group id it
  may read in, so that committed offsets (its progress) are its own and nobody else's.

Agencies' bindings are LITERAL: a PREFIXED rule for ``fr`` would also match ``fra``'s topics.

Each hub service logs in as a principal of its own (:data:`SERVICE_USERS`) and is granted
what its code touches, nothing more:

- ``notices-ingest`` (``notices ingest``): READ every ``raw.`` topic (it subscribes by
  pattern, so a new agency needs no new ACL), WRITE the notices topics and ``notices.dlq``,
  its consumer group and its transactional ids (``<group>.<topic>.<partition>``). Its DLQ-depth
  monitor also READs ``notices.dlq`` and DESCRIBEs the replay group's committed offsets.
- ``notices-distributor`` (``notices distribute``: the distributor, its embargo releaser and
  its ledger reader): READ the notices topics and ``notices.released``, WRITE every
  ``deliver.`` topic, ``notices.audit``, ``notices.ledger``, ``notices.deferred``,
  ``notices.dlq``; READ back the ledger, the deferred notices and (its audit watch) the audit
  trail; WRITE ``notices.released`` (the releaser); its group and ``<group>-embargo``, and the
  transactional ids of both.
- ``notices-lists`` (``notices lists load``): READ and WRITE ``notices.list-state``, WRITE the
  notices topics, transactional ids ``<prefix>notices-lists.<list>``.
- ``notices-dlq-replay`` (``notices dlq replay``): READ ``notices.dlq`` in its group, and
  WRITE back where dead letters come from: the ``raw.`` topics (ingest's) and the
  distributor's inputs; its group id is also its transactional id.

Every service calls ``broker.topics.ensure_declared_topics`` at start, which lists the topics
and asks to create the declared ones it does not see, and a principal sees only the topics it
may DESCRIBE. Kafka (4.1.1, checked in ``tests/test_service_principals.py``) answers a
CreateTopics request for a topic the principal may not CREATE with TOPIC_AUTHORIZATION_FAILED,
whether the topic exists or not; with CREATE it answers TOPIC_ALREADY_EXISTS for an existing
topic, which ``ensure_topics`` accepts, even without DESCRIBE. So each service gets CREATE on
exactly the topics it declares (the hub's topics, ``raw.`` and, for the distributor,
``deliver.``) and sees none it does not use. It starts on a fresh cluster as on a prepared one,
and the distributor creates the topic of a recipient newly added to the policy. CREATE lets it
make a missing topic, never read, write or even list one it was not granted.

The hub's own namespaces (the ``raw.`` and ``deliver.`` families, a service's transactional
ids) are PREFIXED: their members are not known when the ACLs are set. Everything else is
LITERAL. Every topic name carries the hub's topic prefix, and so do the DLQ replay's group and
transactional id; the ingest's and the distributor's groups (settings, command-line options)
and the transactional ids made from them and the list loader's do not. Every binding is an
ALLOW rule for any host. READ and WRITE imply DESCRIBE in Kafka's authorizer, so the only
DESCRIBE listed is the ingest's on the replay group, whose offsets it reads but which it never
joins. No service may alter the cluster (users, ACLs): the hub's principal, a super user of
the broker, does that, and creates the topics with ``notices topics create``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Self

from broker.dlq_replay import REPLAY_GROUP
from broker.errors import InvalidAgencyId
from broker.list_loader import TRANSACTIONS as LIST_TRANSACTIONS
from broker.settings import Settings
from broker.topics import TopicNames

# The alphabet of TopicNames.raw_pattern: what ingest subscribes to is what may be granted.
_AGENCY_ID = re.compile(r"[a-z0-9][a-z0-9-]*")

INGEST = "notices-ingest"
DISTRIBUTOR = "notices-distributor"
LISTS = "notices-lists"
DLQ_REPLAY = "notices-dlq-replay"
SERVICE_USERS = (INGEST, DISTRIBUTOR, LISTS, DLQ_REPLAY)
"""The hub services' users. The ingest's and the distributor's are also their default
consumer groups (``Settings.ingest_group_id``, ``notices distribute --group``)."""


class Resource(StrEnum):
    TOPIC = "TOPIC"
    GROUP = "GROUP"
    TRANSACTIONAL_ID = "TRANSACTIONAL_ID"


class Operation(StrEnum):
    READ = "READ"
    WRITE = "WRITE"
    CREATE = "CREATE"
    DESCRIBE = "DESCRIBE"


class Pattern(StrEnum):
    """How a binding's name matches a resource's: the whole name, or its beginning."""

    LITERAL = "LITERAL"
    PREFIXED = "PREFIXED"


@dataclass(frozen=True, order=True)
class AclBinding:
    """ALLOW ``principal`` to ``operation`` the resource named ``name`` (exactly, or every
    resource whose name starts with it when ``pattern`` is PREFIXED), from any host."""

    principal: str
    resource: Resource
    name: str
    operation: Operation
    pattern: Pattern = Pattern.LITERAL


@dataclass(frozen=True)
class HubNames:
    """What the services' bindings name: the hub's topics (with its prefix) and the consumer
    groups the ingest service and the distributor run in, from which their transactional ids
    derive (``broker.transactional``, ``broker.embargo``)."""

    topics: TopicNames = field(default_factory=TopicNames)
    ingest_group: str = INGEST
    distributor_group: str = DISTRIBUTOR

    @classmethod
    def of(cls, settings: Settings, *, distributor_group: str = DISTRIBUTOR) -> Self:
        """The names a service run with ``settings`` uses (the distributor's group is a
        command-line option, not a setting)."""
        return cls(TopicNames(settings.topic_prefix), settings.ingest_group_id, distributor_group)

    @property
    def embargo_group(self) -> str:
        """The embargo releaser's group, beside the distributor's (``EmbargoReleaser``)."""
        return f"{self.distributor_group}-embargo"

    @property
    def replay_group(self) -> str:
        """The DLQ replay's group and transactional id (``broker.dlq_replay``)."""
        return f"{self.topics.prefix}{REPLAY_GROUP}"


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
        if agency_id in SERVICE_USERS:
            raise InvalidAgencyId(agency_id, "this is the user of one of the hub's services")
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


class _Grants:
    """One service's bindings, written as what it does with which names."""

    def __init__(self, user: str) -> None:
        self.principal = principal(user)
        self.bindings: set[AclBinding] = set()

    def allow(
        self,
        resource: Resource,
        names: Iterable[str],
        *operations: Operation,
        pattern: Pattern = Pattern.LITERAL,
    ) -> None:
        self.bindings |= {
            AclBinding(self.principal, resource, name, operation, pattern)
            for name in names
            for operation in operations
        }

    def declares(self, names: Iterable[str], pattern: Pattern = Pattern.LITERAL) -> None:
        """Topics the service creates at start when they are missing."""
        self.allow(Resource.TOPIC, names, Operation.CREATE, pattern=pattern)


def service_acls(names: HubNames) -> list[AclBinding]:
    """Every binding the hub's services need (see the module docstring), sorted."""
    topics = names.topics
    notices = topics.all_notices
    raw, deliver = topics.raw(""), topics.deliver("")
    # What ensure_declared_topics declares whatever the agencies: the hub's own topics.
    hub_topics = [spec.name for spec in topics.declared(agencies=())]
    prefixed = Pattern.PREFIXED
    read, write, describe = Operation.READ, Operation.WRITE, Operation.DESCRIBE
    topic, group, transactions = Resource.TOPIC, Resource.GROUP, Resource.TRANSACTIONAL_ID

    ingest = _Grants(INGEST)
    ingest.declares(hub_topics)
    ingest.declares([raw], prefixed)
    ingest.allow(topic, [raw], read, pattern=prefixed)
    ingest.allow(topic, [*notices, topics.dlq], write)
    ingest.allow(topic, [topics.dlq], read)
    ingest.allow(group, [names.ingest_group], read)
    ingest.allow(group, [names.replay_group], describe)
    ingest.allow(transactions, [f"{names.ingest_group}."], write, pattern=prefixed)

    distributor = _Grants(DISTRIBUTOR)
    distributor.declares(hub_topics)
    distributor.declares([raw, deliver], prefixed)
    distributor.allow(topic, [*notices, topics.released], read)
    distributor.allow(topic, [deliver], write, pattern=prefixed)
    distributor.allow(topic, [topics.audit, topics.ledger, topics.deferred], read, write)
    distributor.allow(topic, [topics.dlq, topics.released], write)
    distributor.allow(group, [names.distributor_group, names.embargo_group], read)
    distributor.allow(
        transactions,
        [f"{names.distributor_group}.", f"{names.embargo_group}."],
        write,
        pattern=prefixed,
    )

    lists = _Grants(LISTS)
    lists.declares(hub_topics)
    lists.declares([raw], prefixed)
    lists.allow(topic, [topics.list_state], read, write)
    lists.allow(topic, notices, write)
    lists.allow(transactions, [f"{topics.prefix}{LIST_TRANSACTIONS}"], write, pattern=prefixed)

    replay = _Grants(DLQ_REPLAY)
    replay.allow(topic, [topics.dlq], read)
    replay.allow(topic, [raw], write, pattern=prefixed)
    replay.allow(topic, [*notices, topics.released], write)
    replay.allow(group, [names.replay_group], read)
    replay.allow(transactions, [names.replay_group], write)

    return sorted(b for grants in (ingest, distributor, lists, replay) for b in grants.bindings)


def hub_acls(agencies: Iterable[str], names: HubNames, *, hub_user: str) -> list[AclBinding]:
    """Every binding of a hub: its agencies' and its services', sorted."""
    return sorted([*agency_acls(agencies, names.topics, hub_user=hub_user), *service_acls(names)])
