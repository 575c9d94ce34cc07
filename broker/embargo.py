"""The embargo releaser: holds deferred notices and hands each back to the distributor on time.

The distributor writes an embargoed notice to the compacted notices.deferred topic, keyed by
notice and version, with its release time in a header. The releaser reads that topic from the
beginning whenever it is given a partition (compaction keeps only what is still pending), so a
restart or another instance loses nothing. At the release time it moves the notice to
notices.released, which the distributor consumes like any notices topic and decides afresh,
and writes a tombstone for the deferred record, both in one transaction: a notice is released
exactly once, never early.

Exactly once needs one more thing after a rebalance or a restart: a partition read again from
the beginning holds deferrals already released, whose tombstones come later in the log. So an
instance given a partition first fences its previous owner (starting that partition's
transactional producer ends any release still open), then reads the partition up to its last
stable offset, and releases nothing of it before: only then is what is pending there known.
Releasing sooner let every rebalance hand some notices back a second time (found by the chaos
harness, issue 9, row 13, at 100,000 notices).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError, ProducerFenced

from broker.distributor import RELEASE_AT_HEADER
from broker.kafka_clients import new_consumer, new_producer
from broker.raw import header
from broker.settings import Settings
from broker.topics import TopicNames

log = logging.getLogger(__name__)

_IDLE_POLL_MS = 500


@dataclass(order=True, frozen=True)
class _Pending:
    release_at: dt.datetime
    key: bytes
    record: ConsumerRecord[bytes, bytes] = field(compare=False)


class _FromTheBeginning(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, releaser: EmbargoReleaser, consumer: AIOKafkaConsumer) -> None:
        self._releaser = releaser
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        for tp in revoked:
            await self._releaser.forget(tp)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        if assigned:
            await self._consumer.seek_to_beginning(*assigned)
            self._releaser.unclaimed.update(assigned)


class EmbargoReleaser:
    def __init__(
        self,
        settings: Settings,
        *,
        group_id: str = "notices-distributor",
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.settings = settings
        self.group_id = f"{group_id}-embargo"
        self.clock = clock
        self.topics = TopicNames(settings.topic_prefix)
        self.released = 0
        self._pending: dict[TopicPartition, dict[bytes, _Pending]] = {}
        self._producers: dict[TopicPartition, AIOKafkaProducer] = {}
        self.unclaimed: set[TopicPartition] = set()
        """Partitions whose previous owner is still to be fenced (``_claim``)."""
        self._reading_to: dict[TopicPartition, int] = {}
        """Partitions claimed but read only up to below this offset: nothing of theirs is
        released before their position reaches it."""

    async def run(self) -> None:
        consumer = new_consumer(self.settings, group_id=self.group_id, role="embargo")
        consumer.subscribe([self.topics.deferred], listener=_FromTheBeginning(self, consumer))
        await consumer.start()
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=self._wait_ms())
                for tp, records in batch.items():
                    for record in records:
                        self._hold(tp, record)
                await self._claim(consumer)
                await self._read_up(consumer)
                await self._release_due()
        finally:
            for tp in list(self._producers):
                await self.forget(tp)
            await consumer.stop()

    def _hold(self, tp: TopicPartition, record: ConsumerRecord[bytes, bytes]) -> None:
        pending = self._pending.setdefault(tp, {})
        key = record.key or b""
        if record.value is None:
            pending.pop(key, None)
            return
        try:
            release_at = dt.datetime.fromisoformat(header(record.headers, RELEASE_AT_HEADER))
        except ValueError:
            log.error(
                "deferred record %s without a valid %s header: released now", key, RELEASE_AT_HEADER
            )
            release_at = self.clock()
        pending[key] = _Pending(release_at, key, record)

    async def _claim(self, consumer: AIOKafkaConsumer) -> None:
        """Fence the previous owners of the partitions given to this instance, then note how
        far each must be read. If the broker cannot be reached, the next poll tries again."""
        if not self.unclaimed:
            return
        claiming = sorted(self.unclaimed)
        try:
            await asyncio.gather(*(self._producer(tp) for tp in claiming))
            ends = await consumer.end_offsets(claiming)
        except (KafkaError, TimeoutError) as exc:
            log.warning("claiming %s failed (%r): trying again", claiming, exc)
            for tp in claiming:
                await self._drop_producer(tp)
            return
        self._reading_to.update(ends)
        self.unclaimed.difference_update(claiming)

    async def _read_up(self, consumer: AIOKafkaConsumer) -> None:
        for tp, end in list(self._reading_to.items()):
            if await consumer.position(tp) >= end:
                del self._reading_to[tp]

    def _ready(self, tp: TopicPartition) -> bool:
        return tp not in self.unclaimed and tp not in self._reading_to

    def _wait_ms(self) -> int:
        due = [
            min(p.values()).release_at for tp, p in self._pending.items() if p and self._ready(tp)
        ]
        if not due:
            return _IDLE_POLL_MS
        wait = (min(due) - self.clock()).total_seconds() * 1000
        return max(0, min(_IDLE_POLL_MS, int(wait)))

    async def _release_due(self) -> None:
        now = self.clock()
        for tp, pending in list(self._pending.items()):
            if not self._ready(tp):
                continue
            for item in sorted(p for p in pending.values() if p.release_at <= now):
                if not await self._release(tp, item):
                    break
                del pending[item.key]

    async def _release(self, tp: TopicPartition, item: _Pending) -> bool:
        """Move one notice to notices.released and tombstone it, atomically."""
        producer = await self._producer(tp)
        record = item.record
        notice_key = item.key.rsplit(b"@", 1)[0]
        headers = [(k, v) for k, v in record.headers if k != RELEASE_AT_HEADER]
        try:
            await producer.begin_transaction()
            await producer.send(self.topics.released, record.value, key=notice_key, headers=headers)
            await producer.send(self.topics.deferred, None, key=item.key)
            await asyncio.wait_for(producer.commit_transaction(), 30.0)
        except ProducerFenced:
            raise
        except (KafkaError, TimeoutError) as exc:
            # The commit may have gone through all the same: the partition is claimed and read
            # up again, so the tombstone is seen before the notice could be released twice.
            log.warning("releasing %s failed (%r): claiming its partition again", item.key, exc)
            await self._drop_producer(tp)
            self.unclaimed.add(tp)
            return False
        self.released += 1
        return True

    async def _producer(self, tp: TopicPartition) -> AIOKafkaProducer:
        producer = self._producers.get(tp)
        if producer is None:
            producer = new_producer(
                self.settings,
                role="embargo",
                transactional_id=f"{self.group_id}.{tp.topic}.{tp.partition}",
            )
            await producer.start()
            self._producers[tp] = producer
        return producer

    async def forget(self, tp: TopicPartition) -> None:
        """A partition went to another instance: it re-reads what is pending there."""
        self._pending.pop(tp, None)
        self.unclaimed.discard(tp)
        self._reading_to.pop(tp, None)
        await self._drop_producer(tp)

    async def _drop_producer(self, tp: TopicPartition) -> None:
        producer = self._producers.pop(tp, None)
        if producer is not None:
            with contextlib.suppress(KafkaError, TimeoutError):
                await asyncio.wait_for(producer.stop(), 10.0)
