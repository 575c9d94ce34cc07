"""Every topic the hub uses, with its partitions and configs, declared here and nowhere else.

Topic creation is idempotent: ``ensure_topics`` creates what is missing and leaves existing
topics alone, so every service can call it at start.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from broker.kafka_clients import new_admin
from broker.models import NoticeType
from broker.settings import Settings

_NOTICE_TOPIC_SUFFIX = {
    NoticeType.WANTED_PERSON: "wanted-person",
    NoticeType.INTEL_BULLETIN: "intel-bulletin",
    NoticeType.FREEZE_ORDER: "freeze-order",
}
_DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    configs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TopicNames:
    """Topic names of one hub; ``prefix`` namespaces a hub (or a test) on a shared cluster."""

    prefix: str = ""

    def raw(self, agency_id: str) -> str:
        """Where an agency's liaison system publishes its native-format payloads."""
        return f"{self.prefix}raw.{agency_id}"

    @property
    def raw_pattern(self) -> str:
        """Regex matching every raw topic, so a newly added agency is picked up by ingest."""
        return rf"^{re.escape(self.prefix)}raw\.[a-z0-9][a-z0-9-]*$"

    def agency_of_raw(self, topic: str) -> str:
        return topic.removeprefix(f"{self.prefix}raw.")

    def notices(self, notice_type: NoticeType) -> str:
        """Canonical notices of one type, keyed by notice_id."""
        return f"{self.prefix}notices.{_NOTICE_TOPIC_SUFFIX[notice_type]}"

    @property
    def all_notices(self) -> list[str]:
        return [self.notices(t) for t in NoticeType]

    @property
    def dlq(self) -> str:
        """Raw payloads that could not be translated, with the reason in headers."""
        return f"{self.prefix}notices.dlq"

    def deliver(self, agency_id: str) -> str:
        """What one agency may see: the distributor's output, read only by that agency."""
        return f"{self.prefix}deliver.{agency_id}"

    def agency_of_deliver(self, topic: str) -> str:
        return topic.removeprefix(f"{self.prefix}deliver.")

    @property
    def audit(self) -> str:
        """Every distribution decision, hash-chained; kept forever."""
        return f"{self.prefix}notices.audit"

    @property
    def ledger(self) -> str:
        """Compacted: per notice, who received which version (recall) and chain heads."""
        return f"{self.prefix}notices.ledger"

    @property
    def list_state(self) -> str:
        """Compacted: per list entry, what the last snapshot said (``broker.snapshots``)."""
        return f"{self.prefix}notices.list-state"

    @property
    def deferred(self) -> str:
        """Compacted: embargoed notices until their release, then a tombstone."""
        return f"{self.prefix}notices.deferred"

    @property
    def released(self) -> str:
        """Embargoed notices whose time has come, handed back to the distributor."""
        return f"{self.prefix}notices.released"

    @property
    def distributor_pattern(self) -> str:
        """The distributor's inputs: every canonical notices topic and released embargoes."""
        names = "|".join(re.escape(name) for name in [*self.all_notices, self.released])
        return f"^(?:{names})$"

    def declared(self, agencies: Iterable[str], recipients: Iterable[str] = ()) -> list[TopicSpec]:
        """Every topic the hub needs for these publishing agencies and recipients."""
        notices = {"cleanup.policy": "delete", "retention.ms": str(90 * _DAY_MS)}
        raw = {"cleanup.policy": "delete", "retention.ms": str(30 * _DAY_MS)}
        # A dead letter is kept until someone replays or discards it, an audit record always.
        forever = {"cleanup.policy": "delete", "retention.ms": "-1"}
        compacted = {"cleanup.policy": "compact"}
        return [
            *(TopicSpec(self.notices(t), 6, notices) for t in NoticeType),
            TopicSpec(self.dlq, 3, forever),
            TopicSpec(self.audit, 6, forever),
            TopicSpec(self.ledger, 6, compacted),
            TopicSpec(self.list_state, 6, compacted),
            TopicSpec(self.deferred, 3, compacted),
            TopicSpec(self.released, 6, notices),
            *(TopicSpec(self.raw(agency), 3, raw) for agency in sorted(agencies)),
            *(TopicSpec(self.deliver(agency), 3, notices) for agency in sorted(set(recipients))),
        ]


async def ensure_declared_topics(settings: Settings, recipients: Iterable[str] = ()) -> list[str]:
    """Create every topic the hub declares for ``settings`` (and these recipients) missing."""
    admin = new_admin(settings)
    await admin.start()
    try:
        return await ensure_topics(
            admin,
            TopicNames(settings.topic_prefix).declared(settings.agencies, recipients),
            replication_factor=settings.replication_factor,
        )
    finally:
        await admin.close()


async def ensure_topics(
    admin: AIOKafkaAdminClient, specs: Iterable[TopicSpec], *, replication_factor: int
) -> list[str]:
    """Create the topics in ``specs`` that do not exist yet; return the names created."""
    existing = set(await admin.list_topics())
    missing = [spec for spec in specs if spec.name not in existing]
    if not missing:
        return []
    response = await admin.create_topics(
        [
            NewTopic(
                spec.name, spec.partitions, replication_factor, topic_configs=dict(spec.configs)
            )
            for spec in missing
        ]
    )
    created = []
    for topic, code, *rest in response.topic_errors:
        error = for_code(code)
        if code == 0:
            created.append(topic)
        elif error is not TopicAlreadyExistsError:  # another service won the race: fine
            message = rest[0] if rest else ""
            raise error(f"could not create topic {topic}: {message}")
    return created
