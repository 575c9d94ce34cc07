"""Re-driving dead letters after a fix: each goes back, byte for byte, to the topic it came from.

A dead letter keeps the original value, key and headers, plus ``dlq.*`` headers saying where
it came from and why it failed (``broker.ingest.dead_letter_headers``). Replay strips the
``dlq.*`` headers and produces the original to its original topic, so the fixed service reads
it as if it arrived again; a record that fails again becomes a new dead letter, later in the
topic, and is not replayed by the same run.

Replay reads up to the end the topic had when it started, in a consumer group of its own, and
commits its position in the same transaction as the records it re-sends: a replay that stops
half-way is resumed by the next one, without sending anything twice.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from broker.errors import TopicMissing
from broker.kafka_clients import new_consumer, new_producer
from broker.raw import header
from broker.settings import Settings
from broker.topic_reader import partitions_of
from broker.topics import TopicNames

DLQ_HEADER_PREFIX = "dlq."
REPLAY_GROUP = "notices-dlq-replay"
_COMMIT_TIMEOUT = 60.0


@dataclass
class ReplayReport:
    replayed: Counter[str] = field(default_factory=Counter)
    """Records sent back, by original topic."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Records not sent back, by why (not matching the filter, no original topic)."""


async def replay_dlq(
    settings: Settings,
    *,
    reason_contains: str | None = None,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> ReplayReport:
    """Replay every dead letter (or those whose reason contains ``reason_contains``)."""
    topics = TopicNames(settings.topic_prefix)
    group = f"{settings.topic_prefix}{REPLAY_GROUP}"
    partitions = [TopicPartition(topics.dlq, p) for p in await partitions_of(settings, topics.dlq)]
    if not partitions:
        raise TopicMissing(topics.dlq)
    consumer = new_consumer(settings, group_id=group, role="dlq-replay")
    producer = new_producer(settings, role="dlq-replay", transactional_id=group)
    report = ReplayReport()
    await consumer.start()
    await producer.start()
    try:
        consumer.assign(partitions)
        starts = {tp: await _committed(consumer, tp) for tp in partitions}
        ends = await consumer.end_offsets(partitions)
        total = sum(max(0, ends[tp] - starts[tp]) for tp in partitions)
        done = 0
        progress(done, total)
        for tp in partitions:
            consumer.seek(tp, starts[tp])
        while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
            batch = await consumer.getmany(timeout_ms=500, max_records=settings.batch_max_records)
            for tp, records in batch.items():
                records = [r for r in records if r.offset < ends[tp]]
                if not records:
                    continue
                await producer.begin_transaction()
                for record in records:
                    await _resend(producer, record, reason_contains, report)
                await producer.send_offsets_to_transaction({tp: records[-1].offset + 1}, group)
                await asyncio.wait_for(producer.commit_transaction(), _COMMIT_TIMEOUT)
                done += len(records)
                progress(done, total)
    finally:
        await producer.stop()
        await consumer.stop()
    return report


async def _committed(consumer: AIOKafkaConsumer, tp: TopicPartition) -> int:
    committed = await consumer.committed(tp)
    if committed is not None:
        return int(committed)
    return int((await consumer.beginning_offsets([tp]))[tp])


async def _resend(
    producer: AIOKafkaProducer,
    record: ConsumerRecord[bytes, bytes],
    reason_contains: str | None,
    report: ReplayReport,
) -> None:
    origin = header(record.headers, "dlq.topic")
    if not origin:
        report.skipped["no dlq.topic header"] += 1
        return
    if reason_contains and reason_contains not in header(record.headers, "dlq.reason"):
        report.skipped["reason does not match"] += 1
        return
    headers = [(k, v) for k, v in record.headers if not k.startswith(DLQ_HEADER_PREFIX)]
    await producer.send(origin, record.value, key=record.key, headers=headers)
    report.replayed[origin] += 1
