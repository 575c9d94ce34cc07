"""Topics are declared in one place and created idempotently on the real broker."""

from __future__ import annotations

import pytest

from broker.kafka_clients import new_admin
from broker.models import NoticeType
from broker.settings import Settings
from broker.topics import TopicNames, ensure_topics

pytestmark = pytest.mark.kafka


def test_names_follow_the_design() -> None:
    names = TopicNames("")
    assert names.raw("fr-police") == "raw.fr-police"
    assert names.notices(NoticeType.FREEZE_ORDER) == "notices.freeze-order"
    assert names.dlq == "notices.dlq"
    assert names.agency_of_raw("raw.fr-police") == "fr-police"


async def test_ensure_topics_creates_what_is_missing_and_only_that(settings: Settings) -> None:
    specs = TopicNames(settings.topic_prefix).declared(settings.agencies)
    admin = new_admin(settings)
    await admin.start()
    try:
        first = await ensure_topics(admin, specs, replication_factor=1)
        second = await ensure_topics(admin, specs, replication_factor=1)
        described = await admin.describe_topics([spec.name for spec in specs])
    finally:
        await admin.close()

    assert sorted(first) == sorted(spec.name for spec in specs)
    assert second == []
    partitions = {topic["topic"]: len(topic["partitions"]) for topic in described}
    assert partitions == {spec.name: spec.partitions for spec in specs}
