"""The chaos run's readers: what the hub committed, what it aborted, and when it progressed.

All of them read without a consumer group, so they cannot disturb the services' groups, and
they read as the hub, so no ACL hides a record from them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from broker.kafka_clients import new_consumer
from broker.raw import header
from broker.settings import Settings
from broker.topic_reader import partitions_of
from broker.topics import TopicNames
from ops.chaos.tally import Offset, Seen

Isolation = Literal["read_committed", "read_uncommitted"]
_POLL_MS = 200


async def _assigned(
    settings: Settings, topics: Iterable[str], *, isolation: Isolation, role: str
) -> AIOKafkaConsumer:
    partitions = [
        TopicPartition(topic, partition)
        for topic in topics
        for partition in await partitions_of(settings, topic)
    ]
    consumer = new_consumer(settings, group_id=None, role=role, isolation_level=isolation)
    await consumer.start()
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    return consumer


async def read_to_end(
    settings: Settings, topics: Iterable[str], *, isolation: Isolation
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topics`` up to their current end, as ``isolation`` shows them."""
    consumer = await _assigned(settings, topics, isolation=isolation, role=f"chaos-{isolation}")
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        partitions = list(consumer.assignment())
        ends = await consumer.end_offsets(partitions)
        while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
            for batch in (await consumer.getmany(timeout_ms=_POLL_MS)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


def where(record: ConsumerRecord[bytes, bytes]) -> Offset:
    return (record.topic, record.partition, record.offset)


def delivery_seen(topics: TopicNames, record: ConsumerRecord[bytes, bytes]) -> Seen:
    """A delivery, read from its topic, key and headers: no decoding, so a corrupt one counts."""
    recipient = topics.agency_of_deliver(record.topic)
    redacted = header(record.headers, "redacted")
    return Seen(
        pair=((record.key or b"").decode(), recipient),
        outcome=header(record.headers, "decision"),
        redacted=tuple(redacted.split(",")) if redacted else (),
        where=where(record),
    )


@dataclass
class Progress:
    """A committed reader that runs during the faults: every offset it saw, how far the audit
    trail got, and the first audit record made after a fault ended (recovery)."""

    settings: Settings
    topics: list[str]
    audit_topic: str
    seen: set[Offset] = field(default_factory=set)
    audit_records: int = 0
    _task: asyncio.Task[None] | None = None
    _watch_from_ms: float = float("inf")
    _resumed_ms: int | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        """Keeps reading across broker restarts: a reader that gave up would report a
        recovery that never happened."""
        consumer = await _assigned(
            self.settings, self.topics, isolation="read_committed", role="chaos-progress"
        )
        try:
            while True:
                try:
                    batches = await consumer.getmany(timeout_ms=_POLL_MS)
                except KafkaError:  # a broker down or moving: the reader waits it out
                    await asyncio.sleep(0.5)
                    continue
                for records in batches.values():
                    for record in records:
                        self.seen.add(where(record))
                        if record.topic == self.audit_topic:
                            self.audit_records += 1
                            if record.timestamp >= self._watch_from_ms:
                                self._resumed_ms = min(
                                    record.timestamp, self._resumed_ms or record.timestamp
                                )
        finally:
            await consumer.stop()

    async def wait_for(self, audit_records: int, within: float) -> bool:
        """Whether the audit trail reached ``audit_records`` within ``within`` seconds."""
        deadline = time.monotonic() + within
        while self.audit_records < audit_records:
            if time.monotonic() >= deadline:
                return False
            if self._task is not None and self._task.done():
                self._task.result()
            await asyncio.sleep(0.1)
        return True

    async def recovery_after(self, fault_ended: float, target: int, within: float) -> float:
        """Seconds from ``fault_ended`` (wall clock) until an audit record made after it was
        committed, by that record's own timestamp: the reader may still be catching up with
        records from before the fault, which prove nothing. 0 when nothing was left to do;
        ``within`` if processing never resumed."""
        self._resumed_ms = None
        self._watch_from_ms = fault_ended * 1000
        deadline = time.monotonic() + within
        while self._resumed_ms is None and self.audit_records < target:
            if time.monotonic() >= deadline:
                return within
            await asyncio.sleep(0.05)
        if self._resumed_ms is None:
            return 0.0
        return max(0.0, self._resumed_ms / 1000 - fault_ended)
