"""The ingest service under crashes and rebalances: every payload is a notice exactly once.

A read_committed reader watches the notices topic throughout and must see each notice once,
none missing, none twice: after a SIGKILL of the service's process mid-stream, and while a
second instance joins the group and takes partitions over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import uuid
from collections import Counter

import pytest
from aiokafka import AIOKafkaProducer

from broker.kafka_clients import new_producer
from broker.models import NoticeType
from broker.raw import publish_raw
from broker.settings import Settings
from broker.topics import TopicNames, ensure_declared_topics
from tests.conftest import REPO_ROOT
from tests.kafka_helpers import WAIT, committed_reader, ingest_service, running, until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

PAYLOADS = 300
FORMAT = "interpol-notice-json"


def payload(number: int) -> bytes:
    entity = f"2024/{number}"
    return json.dumps(
        {
            "entity_id": entity,
            "forename": "TEST",
            "name": f"PERSON {number}",
            "date_of_birth": "1980/01/02",
            "nationalities": ["FR"],
            "_links": {
                "self": {"href": f"https://ws-public.interpol.int/notices/v1/red/2024-{number}"}
            },
        }
    ).encode()


async def publish_numbered(producer: AIOKafkaProducer, topics: TopicNames, numbers: range) -> None:
    for number in numbers:
        await publish_raw(
            producer,
            topics,
            agency_id="interpol",
            fmt=FORMAT,
            payload=payload(number),
            key=str(number).encode(),
        )


async def start_ingest(settings: Settings, group_id: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "NOTICES_TOPIC_PREFIX": settings.topic_prefix,
        "NOTICES_INGEST_GROUP_ID": group_id,
        "NOTICES_BATCH_MAX_RECORDS": "10",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "broker.cli", "ingest", cwd=REPO_ROOT, env=env
    )


async def read_forever(settings: Settings, topic: str, seen: Counter[str]) -> None:
    consumer = committed_reader(settings, topic)
    await consumer.start()
    try:
        while True:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                seen.update(record.key.decode() for record in records)
    finally:
        await consumer.stop()


async def test_a_killed_ingest_neither_loses_nor_duplicates(settings: Settings) -> None:
    topics = TopicNames(settings.topic_prefix)
    group_id = f"ingest-{uuid.uuid4().hex[:8]}"
    await ensure_declared_topics(settings)
    producer = new_producer(settings, role="test-liaison")
    await producer.start()
    try:
        await publish_numbered(producer, topics, range(PAYLOADS))
    finally:
        await producer.stop()

    seen: Counter[str] = Counter()
    reader = asyncio.create_task(
        read_forever(settings, topics.notices(NoticeType.WANTED_PERSON), seen)
    )
    first = await start_ingest(settings, group_id)
    try:
        await until(lambda: sum(seen.values()) >= 60, "the first notices")
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    await asyncio.sleep(2)  # whatever the killed process committed is visible by now
    committed_before_restart = sum(seen.values())

    second = await start_ingest(settings, group_id)
    try:
        await until(lambda: sum(seen.values()) >= PAYLOADS, f"all {PAYLOADS} notices")
        await asyncio.sleep(3)  # room for a late duplicate to show up
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), WAIT)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader

    assert committed_before_restart < PAYLOADS, "the kill must land before the work was done"
    assert second.returncode == 0, "SIGTERM stops the service cleanly"
    duplicated = {key: count for key, count in seen.items() if count > 1}
    assert duplicated == {}
    assert set(seen) == {f"interpol-red-2024/{number}" for number in range(PAYLOADS)}


async def test_a_second_instance_joining_mid_stream_takes_partitions_without_duplicates(
    settings: Settings,
) -> None:
    """The rebalance waits for the batch in flight; the newcomer fences and rewinds."""
    small_batches = settings.model_copy(update={"batch_max_records": 5})
    topics = TopicNames(settings.topic_prefix)
    await ensure_declared_topics(settings)
    seen: Counter[str] = Counter()
    reader = asyncio.create_task(
        read_forever(settings, topics.notices(NoticeType.WANTED_PERSON), seen)
    )
    first, second = ingest_service(small_batches), ingest_service(small_batches)
    producer = new_producer(settings, role="test-liaison")
    await producer.start()
    try:
        async with running(first.run()):
            await publish_numbered(producer, topics, range(0, 150))
            await until(lambda: sum(seen.values()) >= 30, "the first notices")
            async with running(second.run()):
                await until(lambda: bool(second.processor.assigned), "the rebalance")
                await publish_numbered(producer, topics, range(150, PAYLOADS))
                await until(lambda: sum(seen.values()) >= PAYLOADS, f"all {PAYLOADS} notices")
                await asyncio.sleep(3)  # room for a late duplicate to show up
    finally:
        await producer.stop()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader

    assert second.processor.transactions > 0, "the newcomer took over some partitions"
    assert {key: count for key, count in seen.items() if count > 1} == {}
    assert set(seen) == {f"interpol-red-2024/{number}" for number in range(PAYLOADS)}
