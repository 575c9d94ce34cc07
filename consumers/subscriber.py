"""The agency-side consumer: decode canonical notices, hand each to a sink, then commit.

Offsets are committed only after the sink returned for every notice up to them, so a
subscriber that dies (or whose sink fails) before committing reads those notices again when
it comes back: at-least-once delivery to the sink.

A record that does not decode (an unknown writer schema, corrupt bytes) goes to the reject
sink when one is given, with its bytes and position, and reading goes on; without one the
subscriber stops on it, uncommitted. Either way it is never skipped silently.

An agency's subscriber reading its deliver topic re-checks every notice against its own
profile (``consumers.guard``): what it should not have received is refused, logged and
counted, never handed to the sink; what expired on the way is dropped and counted.
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from broker.errors import PolicyViolation, SinkError, UndecodableNotice, WireFormatError
from broker.kafka_clients import new_consumer
from broker.models import NoticeEnvelope
from broker.serde import NoticeSerde
from broker.settings import Settings
from consumers.guard import DeliveryGuard, Verdict
from consumers.sinks import RejectSink, Sink

log = logging.getLogger(__name__)
T = TypeVar("T")


class Subscriber:
    def __init__(
        self,
        settings: Settings,
        *,
        topics: Sequence[str],
        group_id: str,
        sink: Sink,
        serde: NoticeSerde,
        rejects: RejectSink | None = None,
        guard: DeliveryGuard | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        delivered: Callable[[NoticeEnvelope], None] | None = None,
    ) -> None:
        self.settings = settings
        self.topics = list(topics)
        self.group_id = group_id
        self.sink = sink
        self.rejects = rejects
        self.serde = serde
        self.guard = guard
        self.clock = clock
        self.refused: Counter[str] = Counter()
        """Notices refused by the re-check, by the rule that denied them."""
        self.expired = 0
        self.delivered = delivered
        """Told of each notice the sink accepted (metrics observe its latency)."""
        self.assigned: set[TopicPartition] = set()
        """The partitions this subscriber reads, as of its last poll (readiness reads it)."""

    async def run(self) -> None:
        """Consume until cancelled, or until a decode or sink failure stops it uncommitted."""
        consumer = new_consumer(
            self.settings, *self.topics, group_id=self.group_id, role="subscriber"
        )
        await consumer.start()
        try:
            while True:
                batch = await consumer.getmany(
                    timeout_ms=500, max_records=self.settings.batch_max_records
                )
                self.assigned = consumer.assignment()
                for tp, records in batch.items():
                    await self._deliver(consumer, tp, records)
        finally:
            await consumer.stop()

    async def _deliver(
        self,
        consumer: AIOKafkaConsumer,
        tp: TopicPartition,
        records: list[ConsumerRecord[bytes, bytes]],
    ) -> None:
        done = None
        try:
            for record in records:
                await self._sink_one(record)
                done = record.offset
        finally:
            # Commit what the sink accepted, even when a later record failed.
            if done is not None:
                await consumer.commit({tp: done + 1})

    async def _sink_one(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            notice = self.serde.decode(record.value or b"")
        except WireFormatError as exc:
            undecodable = UndecodableNotice(
                topic=record.topic, partition=record.partition, offset=record.offset, cause=exc
            )
            if self.rejects is None:
                raise undecodable from exc
            log.warning("rejected %s", undecodable)
            await _call(self.rejects, undecodable)
            return
        if self.guard is not None:
            check = self.guard.check(notice, self.clock())
            if check.verdict is Verdict.EXPIRED:
                self.expired += 1
                log.info("dropped notice %s v%d: expired", notice.notice_id, notice.version)
                return
            if check.verdict is Verdict.REFUSE:
                violation = PolicyViolation(
                    agency=self.guard.profile.agency_id,
                    notice_id=notice.notice_id,
                    version=notice.version,
                    rules=check.rules,
                )
                self.refused.update(check.rules or ("none",))
                log.error(
                    "%s at %s[%d]@%d", violation, record.topic, record.partition, record.offset
                )
                return
        try:
            await _call(self.sink, notice)
        except Exception as exc:
            raise SinkError(
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                notice_id=notice.notice_id,
            ) from exc
        if self.delivered is not None:
            self.delivered(notice)


async def _call(sink: Callable[[T], Awaitable[None] | None], item: T) -> None:
    """Sinks may be plain functions or coroutines."""
    result = sink(item)
    if inspect.isawaitable(result):
        await result
