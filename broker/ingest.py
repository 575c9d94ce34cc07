"""The ingest service: raw.<agency> in, canonical notices out, dead letters for the rest.

Delivery is at least once: a batch's offsets are committed only after every notice and dead
letter produced from it was acknowledged by the broker, so a crash re-reads the batch and
nothing is lost. A re-read produces the same notice (same id, version and content), which
readers treat as the same fact.

Translation itself, and its error boundary, is ``broker.translation``: pure, no Kafka.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError

from adapters.base import TranslationContext
from adapters.registry import AdapterRegistry
from broker.kafka_clients import new_consumer, new_producer
from broker.models import NoticeEnvelope, Originator
from broker.publisher import NoticePublisher
from broker.raw import FORMAT_HEADER, header
from broker.serde import NoticeSerde
from broker.settings import Settings
from broker.timeutil import from_kafka_timestamp
from broker.topics import TopicNames, ensure_declared_topics
from broker.translation import DeadLetter, translate_record

log = logging.getLogger(__name__)

_INDEX = re.compile(r"\[\d+\]")
Batch = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]


@dataclass
class IngestStats:
    """What the service did since it started, by format or error type (metrics read these)."""

    translated: Counter[str] = field(default_factory=Counter)
    dead_lettered: Counter[str] = field(default_factory=Counter)
    unmapped_fields: Counter[str] = field(default_factory=Counter)


def dead_letter_headers(
    record: ConsumerRecord[bytes, bytes], letter: DeadLetter
) -> list[tuple[str, bytes]]:
    """The original headers, then where the record came from and why it failed."""
    return [
        *record.headers,
        ("dlq.error", letter.error_type.encode()),
        ("dlq.where", letter.where.encode()),
        ("dlq.reason", letter.reason.encode()),
        ("dlq.topic", record.topic.encode()),
        ("dlq.partition", str(record.partition).encode()),
        ("dlq.offset", str(record.offset).encode()),
        ("dlq.timestamp", str(record.timestamp).encode()),
    ]


class IngestService:
    def __init__(
        self,
        settings: Settings,
        *,
        registry: AdapterRegistry,
        serde: NoticeSerde,
    ) -> None:
        self.settings = settings
        self.topics = TopicNames(settings.topic_prefix)
        self.registry = registry
        self.serde = serde
        self.stats = IngestStats()

    async def run(self) -> None:
        """Consume until cancelled; a produce failure stops the service with offsets uncommitted."""
        await ensure_declared_topics(self.settings)
        consumer = new_consumer(
            self.settings,
            group_id=self.settings.ingest_group_id,
            role="ingest",
            metadata_max_age_ms=30_000,
        )
        producer = new_producer(self.settings, role="ingest")
        consumer.subscribe(pattern=self.topics.raw_pattern)
        await producer.start()
        try:
            await consumer.start()
            publisher = NoticePublisher(producer, self.serde, self.topics)
            while True:
                batch = await consumer.getmany(timeout_ms=500, max_records=500)
                if batch:
                    await self._process(batch, publisher, producer)
                    await self._commit(consumer, batch)
        finally:
            await consumer.stop()
            await producer.stop()

    async def _process(
        self, batch: Batch, publisher: NoticePublisher, producer: AIOKafkaProducer
    ) -> None:
        """Send what every record of the batch became, then wait until the broker has it all."""
        acks: list[Awaitable[object]] = []
        for records in batch.values():
            for record in records:
                outcome = self._translate(record)
                if isinstance(outcome, DeadLetter):
                    acks.append(
                        await producer.send(
                            self.topics.dlq,
                            value=record.value,
                            key=record.key,
                            headers=dead_letter_headers(record, outcome),
                        )
                    )
                else:
                    acks.extend([await publisher.send(notice) for notice in outcome])
        await asyncio.gather(*acks)

    def _translate(self, record: ConsumerRecord[bytes, bytes]) -> list[NoticeEnvelope] | DeadLetter:
        agency = self.topics.agency_of_raw(record.topic)
        ctx = TranslationContext(
            format=header(record.headers, FORMAT_HEADER),
            originator=Originator(agency_id=agency, country=self.settings.agencies.get(agency)),
            received_at=from_kafka_timestamp(record.timestamp),
            raw=record.value or b"",
        )
        outcome = translate_record(self.registry, ctx)
        self._count_unmapped(ctx)
        if isinstance(outcome, DeadLetter):
            log.warning(
                "dead letter from %s[%d]@%d (%s): at %s: %s",
                record.topic,
                record.partition,
                record.offset,
                ctx.format,
                outcome.where,
                outcome.reason,
            )
            self.stats.dead_lettered[outcome.error_type] += 1
        else:
            self.stats.translated[ctx.format] += len(outcome)
        return outcome

    def _count_unmapped(self, ctx: TranslationContext) -> None:
        """Count unmapped source fields by path, array indices collapsed, and say so the first
        time one appears: a new field usually means the source changed its format."""
        for where, count in ctx.unmapped.items():
            field_path = f"{ctx.format}:{_INDEX.sub('[*]', where)}"
            if field_path not in self.stats.unmapped_fields:
                log.warning(
                    "unmapped source field %s (first seen; counted from now on)", field_path
                )
            self.stats.unmapped_fields[field_path] += count

    async def _commit(self, consumer: AIOKafkaConsumer, batch: Batch) -> None:
        offsets = {tp: records[-1].offset + 1 for tp, records in batch.items()}
        try:
            await consumer.commit(offsets)
        except CommitFailedError:
            # The group rebalanced under us: the new owner re-reads these records and
            # re-produces the same notices, which is the at-least-once contract.
            log.warning("offsets not committed after a rebalance; records will be re-read")
