"""Reading a whole topic up to its end: state topics at start-up, the audit trail to verify.

State that must survive a restart or move between instances (the delivery ledger, audit chain
heads) lives in compacted Kafka topics rather than on a disk: the latest record per key is the
state. A reader assigned every partition, outside any consumer group, reads committed records
up to the end of each partition, and on the next call goes on from there.

"The end" is the high watermark, not the last stable offset a committed reader is told of:
behind a transaction still open, records other transactions committed later are already
there but not yet readable, and stopping at the last stable offset would silently leave them
out. The reader waits instead until every transaction open when it was called has ended.
"""

from __future__ import annotations

import asyncio

from aiokafka import ConsumerRecord, TopicPartition

from broker.errors import TopicMissing
from broker.kafka_clients import new_admin, new_consumer
from broker.settings import Settings

_CATCH_UP_TIMEOUT = 60.0


class TopicReader:
    def __init__(self, settings: Settings, topic: str, *, role: str) -> None:
        """``topic`` must exist: a service resuming from a missing state topic would start
        from nothing and forget every delivery."""
        self.topic = topic
        self._settings = settings
        self._consumer = new_consumer(settings, group_id=None, role=role)
        self._watermarks = new_consumer(
            settings, group_id=None, role=f"{role}-watermarks", isolation_level="read_uncommitted"
        )
        """Only asked for end offsets: a committed reader's are the last stable offsets."""
        self._partitions: list[TopicPartition] = []

    async def start(self) -> None:
        partitions = await partitions_of(self._settings, self.topic)
        if not partitions:
            raise TopicMissing(self.topic)
        await self._consumer.start()
        await self._watermarks.start()
        self._partitions = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        self._consumer.assign(self._partitions)
        # Assigned for its metadata, and paused so that it fetches nothing: a fetch waiting
        # on the broker holds up the end-offsets requests behind it on the same connection.
        self._watermarks.assign(self._partitions)
        self._watermarks.pause(*self._partitions)
        await self._consumer.seek_to_beginning(*self._partitions)

    async def stop(self) -> None:
        await self._consumer.stop()
        await self._watermarks.stop()

    async def catch_up(
        self, *, within: float = _CATCH_UP_TIMEOUT
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """Every record committed since the last call, each partition in log order; a
        ``TimeoutError`` if a transaction still open keeps them from being known ``within``
        seconds."""
        return await asyncio.wait_for(self._read_to_end(), within)

    async def _read_to_end(self) -> list[ConsumerRecord[bytes, bytes]]:
        ends = await self._watermarks.end_offsets(self._partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while await self._behind(ends):
            batch = await self._consumer.getmany(timeout_ms=200)
            for partition_records in batch.values():
                records.extend(partition_records)
        return records

    async def _behind(self, ends: dict[TopicPartition, int]) -> bool:
        for tp in self._partitions:
            if await self._consumer.position(tp) < ends[tp]:
                return True
        return False


async def partitions_of(settings: Settings, topic: str) -> list[int]:
    """The partition numbers of ``topic``, or none if it does not exist.

    Asked of the cluster directly: a client's metadata covers only the topics it subscribed.
    """
    admin = new_admin(settings)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(
        p["partition"] for t in described if t["error_code"] == 0 for p in t["partitions"]
    )
