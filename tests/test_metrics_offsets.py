"""Consumer lag, DLQ depth and ``notices status`` against the real broker."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import typer
from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry
from typer.testing import CliRunner

from broker.cli_status import status
from broker.cluster_status import cluster_status
from broker.dlq_replay import REPLAY_GROUP
from broker.kafka_clients import new_consumer, new_producer
from broker.lag import DlqCounter, GroupWatch, Offsets, OffsetsMonitor
from broker.metrics import OffsetMetrics
from broker.settings import Settings
from broker.topics import TopicNames, ensure_declared_topics

pytestmark = pytest.mark.kafka


async def produce(settings: Settings, topic: str, count: int, *, partition: int = 0) -> None:
    producer = new_producer(settings, role="test")
    await producer.start()
    try:
        for n in range(count):
            await producer.send_and_wait(topic, f"record {n}".encode(), partition=partition)
    finally:
        await producer.stop()


async def dead_letters(settings: Settings, *batches: int) -> list[int]:
    """Dead letters to DLQ partition 0, one transaction per batch, as the services write them;
    their offsets."""
    topic = TopicNames(settings.topic_prefix).dlq
    producer = new_producer(settings, role="test", transactional_id=f"test-{uuid.uuid4().hex}")
    await producer.start()
    offsets = []
    try:
        for size in batches:
            await producer.begin_transaction()
            sent = [await producer.send(topic, b"dead letter", partition=0) for _ in range(size)]
            await producer.commit_transaction()
            offsets += [(await ack).offset for ack in sent]
    finally:
        await producer.stop()
    return offsets


async def commit(settings: Settings, group: str, tp: TopicPartition, offset: int) -> None:
    consumer = new_consumer(settings, group_id=group, role="test")
    await consumer.start()
    try:
        consumer.assign([tp])
        await consumer.commit({tp: offset})
    finally:
        await consumer.stop()


async def test_lag_counts_from_the_committed_offset_or_from_the_start(settings: Settings) -> None:
    topics = TopicNames(settings.topic_prefix)
    await ensure_declared_topics(settings)
    raw = TopicPartition(topics.raw("interpol"), 0)
    await produce(settings, raw.topic, 5)
    await commit(settings, "behind-by-three", raw, 2)

    offsets = Offsets(settings, role="test")
    await offsets.start()
    try:
        partitions = await offsets.partitions(GroupWatch("g", topics.raw_pattern).topics)
        assert {tp.topic for tp in partitions} == {topics.raw("interpol"), topics.raw("fr-police")}
        behind = await offsets.lag("behind-by-three", partitions)
        never_read = await offsets.lag("never-read", partitions)
    finally:
        await offsets.stop()
    assert behind[raw] == 3 and sum(behind.values()) == 3
    assert never_read[raw] == 5 and sum(never_read.values()) == 5


async def test_dlq_depth_counts_dead_letters_not_transaction_markers(settings: Settings) -> None:
    await ensure_declared_topics(settings)
    written = await dead_letters(settings, 2, 1)
    dlq = DlqCounter(settings)
    offsets = Offsets(settings, role="test")
    await offsets.start()
    try:
        assert await dlq.depth(offsets) == 3
        await commit(settings, dlq.replay_group, TopicPartition(dlq.topic, 0), written[1] + 1)
        assert await dlq.depth(offsets) == 1
        written += await dead_letters(settings, 2)
        assert await dlq.depth(offsets) == 3
    finally:
        await dlq.stop()
        await offsets.stop()
    assert dlq.replay_group == f"{settings.topic_prefix}{REPLAY_GROUP}"


async def test_the_monitor_sets_lag_and_depth_for_prometheus(settings: Settings) -> None:
    topics = TopicNames(settings.topic_prefix)
    await ensure_declared_topics(settings)
    raw = TopicPartition(topics.raw("interpol"), 1)
    await produce(settings, raw.topic, 4, partition=1)
    await commit(settings, "monitored", raw, 1)
    await dead_letters(settings, 1)
    registry = CollectorRegistry()
    monitor = OffsetsMonitor(
        settings.model_copy(update={"offsets_poll_seconds": 0.2}),
        OffsetMetrics(registry),
        groups=[GroupWatch("monitored", topics.raw_pattern)],
        dlq=True,
    )
    task = asyncio.create_task(monitor.run())
    try:
        while monitor.polls == 0:
            assert not task.done(), task
            await asyncio.sleep(0.1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    lag = {"group": "monitored", "topic": raw.topic, "partition": "1"}
    assert registry.get_sample_value("notices_consumer_lag_records", lag) == 3
    assert registry.get_sample_value("notices_dlq_depth_records", {"topic": topics.dlq}) == 1
    assert registry.get_sample_value("notices_offsets_poll_failures_total") == 0


async def test_cluster_status_measures_throughput_lag_and_dead_letters(settings: Settings) -> None:
    topics = TopicNames(settings.topic_prefix)
    await ensure_declared_topics(settings)
    raw = TopicPartition(topics.raw("fr-police"), 0)
    await produce(settings, raw.topic, 3)
    await commit(settings, "status-reader", raw, 1)
    await dead_letters(settings, 2)

    measuring = asyncio.create_task(cluster_status(settings, sample_seconds=1.0))
    producer = new_producer(settings, role="test")
    await producer.start()
    try:
        while not measuring.done():  # a liaison system publishing all along
            await producer.send_and_wait(raw.topic, b"payload", partition=0)
            await asyncio.sleep(0.05)
    finally:
        await producer.stop()
    found = await measuring

    by_topic = {topic.topic: topic for topic in found.topics}
    assert set(by_topic) >= {topics.dlq, raw.topic, *topics.all_notices}
    assert by_topic[raw.topic].per_second > 0
    assert by_topic[topics.raw("interpol")].per_second == 0
    [lag] = [lag for lag in found.lags if lag.group == "status-reader"]
    assert lag.topic == raw.topic
    assert lag.lag == by_topic[raw.topic].end_offset - 1
    assert found.dlq_depth == 2


def test_notices_status_prints_the_tables(settings: Settings) -> None:
    asyncio.run(ensure_declared_topics(settings))
    app = typer.Typer()
    app.command()(status)
    result = CliRunner().invoke(app, ["--sample", "0.2"], env=settings.to_env())
    assert result.exit_code == 0, result.output
    assert "Topics" in result.output
    assert TopicNames(settings.topic_prefix).dlq in result.output
    assert "0 dead letters not yet replayed" in result.output
