"""A state topic read to its end includes what was committed behind a transaction still open.

Found by the chaos harness (issue 9): a distributor killed with a transaction open left the
ledger's last stable offset behind it; its successor read the ledger only that far, missed an
audit chain head committed later by another partition's producer, and started that chain again
at seq 0.
"""

from __future__ import annotations

import asyncio

import pytest

from broker.kafka_clients import new_admin, new_producer
from broker.settings import Settings
from broker.topic_reader import TopicReader
from broker.topics import TopicSpec, ensure_topics
from tests.kafka_helpers import WAIT

pytestmark = pytest.mark.kafka


async def test_catching_up_waits_for_an_open_transaction_and_misses_nothing_behind_it(
    settings: Settings,
) -> None:
    topic = f"{settings.topic_prefix}state"
    admin = new_admin(settings)
    await admin.start()
    try:
        await ensure_topics(admin, [TopicSpec(topic, 1)], replication_factor=1)
    finally:
        await admin.close()
    crashed = new_producer(settings, role="test-crashed", transactional_id=f"{topic}.crashed")
    other = new_producer(settings, role="test-other", transactional_id=f"{topic}.other")
    successor = new_producer(settings, role="test-successor", transactional_id=f"{topic}.crashed")
    reader = TopicReader(settings, topic, role="test-reader")
    await crashed.start()
    await other.start()
    try:
        await crashed.begin_transaction()
        await (await crashed.send(topic, b"left open", key=b"a"))
        async with other.transaction():
            await other.send(topic, b"committed behind it", key=b"b")
        await reader.start()
        catching_up = asyncio.create_task(reader.catch_up())
        await asyncio.sleep(2)
        assert not catching_up.done(), "stopped at the last stable offset, before the commit"

        await successor.start()  # same transactional id: the open transaction is aborted
        records = await asyncio.wait_for(catching_up, WAIT)
    finally:
        await reader.stop()
        for producer in (crashed, other, successor):
            await producer.stop()
    assert [record.value for record in records] == [b"committed behind it"]
