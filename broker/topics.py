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

    def declared(self, agencies: Iterable[str]) -> list[TopicSpec]:
        """Every topic the hub needs for these agencies."""
        notices = {"cleanup.policy": "delete", "retention.ms": str(90 * _DAY_MS)}
        raw = {"cleanup.policy": "delete", "retention.ms": str(30 * _DAY_MS)}
        # A dead letter is kept until someone replays or discards it: never expire it.
        dlq = {"cleanup.policy": "delete", "retention.ms": "-1"}
        return [
            *(TopicSpec(self.notices(t), 6, notices) for t in NoticeType),
            TopicSpec(self.dlq, 3, dlq),
            *(TopicSpec(self.raw(agency), 3, raw) for agency in sorted(agencies)),
        ]


async def ensure_declared_topics(settings: Settings) -> list[str]:
    """Create every topic the hub declares for ``settings`` that is missing."""
    admin = new_admin(settings)
    await admin.start()
    try:
        return await ensure_topics(
            admin,
            TopicNames(settings.topic_prefix).declared(settings.agencies),
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
