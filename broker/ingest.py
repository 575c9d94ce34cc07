"""The ingest service: raw.<agency> in, canonical notices out, dead letters for the rest.

Exactly once for ``read_committed`` readers: the notices and dead letters made from a batch of
raw records are produced in one Kafka transaction with the batch's input offsets
(``broker.transactional``), so a crash at any point neither loses a payload nor publishes a
notice twice.

Translation itself, and its error boundary, is ``broker.translation``: pure, no Kafka.

A notice's originator is the agency whose raw topic carried the payload, the one thing the
ACLs vouch for. A record whose ``originator`` header claims any other agency is not translated:
it is dead-lettered as ``OriginatorMismatch``. The dead letter is the record of the attempt (the
untouched bytes, the claim among the original headers, the topic, partition and offset, kept
for ever) and ``notices_translation_failures_total{reason="OriginatorMismatch"}`` counts it
per agency; the hash-chained ``notices.audit`` stays the distributor's record of decisions,
which the ingest principal may not write.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from dataclasses import dataclass, field

from aiokafka import ConsumerRecord, TopicPartition

from adapters.base import TranslationContext
from adapters.registry import AdapterRegistry
from broker.errors import OriginatorMismatch
from broker.models import Originator
from broker.publisher import notice_record
from broker.raw import FORMAT_HEADER, ORIGINATOR_HEADER, header
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
    """What the service did since it started, by format or error type (metrics read these).

    A batch counts once, when its transaction commits: one that is rewound and processed
    again after a failed commit is not counted twice.
    """

    translated: Counter[str] = field(default_factory=Counter)
    dead_lettered: Counter[str] = field(default_factory=Counter)
    unmapped_fields: Counter[str] = field(default_factory=Counter)
    """By ``format:path`` of a source field nobody read, or ``format:path=`` of a value no
    mapping table knows; the value itself is only logged, since values are unbounded."""

    def add(self, other: IngestStats) -> None:
        self.translated.update(other.translated)
        self.dead_lettered.update(other.dead_lettered)
        self.unmapped_fields.update(other.unmapped_fields)


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


def claims_another_originator(
    record: ConsumerRecord[bytes, bytes], agency: str, fmt: str
) -> DeadLetter | None:
    """The dead letter of a record whose ``originator`` header names anyone but ``agency``, the
    agency of its raw topic; every such header counts, so a second one cannot hide the first."""
    claims = (
        value.decode("utf-8", "replace")
        for name, value in record.headers
        if name == ORIGINATOR_HEADER
    )
    for claimed in claims:
        if claimed != agency:
            refused = OriginatorMismatch(
                format=fmt, claimed=claimed, actual=agency, topic=record.topic
            )
            return DeadLetter(type(refused).__name__, refused.where, refused.reason)
    return None


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
        self._staged: dict[TopicPartition, IngestStats] = {}
        self.processor = TransactionalProcessor(
            settings,
            group_id=settings.ingest_group_id,
            role="ingest",
            transform=self.transform,
            hooks=self,
        )

    async def run(self) -> None:
        """Consume every raw topic until cancelled (a new agency's topic is found by pattern)."""
        await ensure_declared_topics(self.settings)
        await asyncio.to_thread(self.serde.register, self.topics.all_notices)
        await self.processor.run(pattern=self.topics.raw_pattern)

    # BatchHooks: the stats follow the transactions.

    async def partition_claimed(self, tp: TopicPartition) -> None:
        self._staged.pop(tp, None)

    def batch_closing(self, tp: TopicPartition) -> list[Outgoing]:
        return []

    def batch_committed(self, tp: TopicPartition) -> None:
        staged = self._staged.pop(tp, None)
        if staged is not None:
            self.stats.add(staged)

    def batch_aborted(self, tp: TopicPartition) -> None:
        self._staged.pop(tp, None)

    def transform(self, record: ConsumerRecord[bytes, bytes]) -> list[Outgoing]:
        """The notices in one raw record, or its dead letter: never nothing, never an exception."""
        staged = self._staged.setdefault(
            TopicPartition(record.topic, record.partition), IngestStats()
        )
        agency = self.topics.agency_of_raw(record.topic)
        ctx = TranslationContext(
            format=header(record.headers, FORMAT_HEADER),
            originator=Originator(agency_id=agency, country=self.settings.agencies.get(agency)),
            received_at=from_kafka_timestamp(record.timestamp),
            raw=record.value or b"",
        )
        refused = claims_another_originator(record, agency, ctx.format)
        outcome = translate_record(self.registry, ctx) if refused is None else refused
        self._count_unmapped(ctx, staged)
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
            staged.dead_lettered[outcome.error_type] += 1
            return [
                Outgoing(
                    topic=self.topics.dlq,
                    value=record.value,
                    key=record.key,
                    headers=dead_letter_headers(record, outcome),
                )
            ]
        staged.translated[ctx.format] += len(outcome)
        return [notice_record(notice, self.serde, self.topics) for notice in outcome]

    def _count_unmapped(self, ctx: TranslationContext, staged: IngestStats) -> None:
        """Count unmapped source fields by path, array indices collapsed, and say so the first
        time one appears: a new field usually means the source changed its format."""
        for where, count in ctx.unmapped.items():
            path, is_value, _ = where.partition("=")
            field_path = f"{ctx.format}:{_INDEX.sub('[*]', path)}{is_value}"
            if field_path not in self.stats.unmapped_fields:
                log.info("unmapped source field %s, as in %s (first seen)", field_path, where)
            staged.unmapped_fields[field_path] += count
