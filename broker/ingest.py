"""The ingest service: raw.<agency> in, canonical notices out, dead letters for the rest.

Exactly once for ``read_committed`` readers: the notices and dead letters made from a batch of
raw records are produced in one Kafka transaction with the batch's input offsets
(``broker.transactional``), so a crash at any point neither loses a payload nor publishes a
notice twice.

Translation itself, and its error boundary, is ``broker.translation``: pure, no Kafka.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field

from aiokafka import ConsumerRecord

from adapters.base import TranslationContext
from adapters.registry import AdapterRegistry
from broker.models import Originator
from broker.publisher import notice_record
from broker.raw import FORMAT_HEADER, header
from broker.serde import NoticeSerde
from broker.settings import Settings
from broker.timeutil import from_kafka_timestamp
from broker.topics import TopicNames, ensure_declared_topics
from broker.transactional import Outgoing, TransactionalProcessor
from broker.translation import DeadLetter, translate_record

log = logging.getLogger(__name__)

_INDEX = re.compile(r"\[\d+\]")


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
        self.processor = TransactionalProcessor(
            settings, group_id=settings.ingest_group_id, role="ingest", transform=self.transform
        )

    async def run(self) -> None:
        """Consume every raw topic until cancelled (a new agency's topic is found by pattern)."""
        await ensure_declared_topics(self.settings)
        await self.processor.run(pattern=self.topics.raw_pattern)

    def transform(self, record: ConsumerRecord[bytes, bytes]) -> list[Outgoing]:
        """The notices in one raw record, or its dead letter: never nothing, never an exception."""
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
            return [
                Outgoing(
                    topic=self.topics.dlq,
                    value=record.value,
                    key=record.key,
                    headers=dead_letter_headers(record, outcome),
                )
            ]
        self.stats.translated[ctx.format] += len(outcome)
        return [notice_record(notice, self.serde, self.topics) for notice in outcome]

    def _count_unmapped(self, ctx: TranslationContext) -> None:
        """Count unmapped source fields by path, array indices collapsed, and say so the first
        time one appears: a new field usually means the source changed its format."""
        for where, count in ctx.unmapped.items():
            field_path = f"{ctx.format}:{_INDEX.sub('[*]', where)}"
            if field_path not in self.stats.unmapped_fields:
                log.info("unmapped source field %s (first seen; counted from now on)", field_path)
            self.stats.unmapped_fields[field_path] += count
