"""Consumer lag and DLQ depth, asked of Kafka: what no service can count by itself.

A consumer knows its own position but not how far behind its group is once it stops or dies,
which is exactly when lag matters; the committed offsets and the partitions' ends, asked of the
cluster, tell it either way. Each service runs an ``OffsetsMonitor`` for its own group, and the
ingest service also for the dead-letter topic.

Lag is ``end offset - committed offset`` (from the log start for a partition the group has not
committed yet, since the services read from the earliest offset), the number
``kafka-consumer-groups.sh`` shows. The end is the last stable offset: a record of an open
transaction is not yet readable, so it is not lag yet.

DLQ depth counts dead letters exactly rather than by offsets: the DLQ is written in
transactions, whose commit markers take offsets too, so one dead letter can span two offsets.
The monitor reads the DLQ once, then only what is new, and keeps each dead letter's offset
(eight bytes apiece); the depth is the dead letters at or after the replay group's committed
offset (``broker.dlq_replay``).
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from broker.dlq_replay import REPLAY_GROUP
from broker.errors import TopicMissing
from broker.kafka_clients import new_admin, new_consumer
from broker.metrics import OffsetMetrics
from broker.settings import Settings
from broker.topic_reader import TopicReader
from broker.topics import TopicNames

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GroupWatch:
    """A consumer group and the topics it reads: a regex, as the services subscribe by."""

    group: str
    topics: str

    @classmethod
    def of_topics(cls, group: str, topics: Sequence[str]) -> GroupWatch:
        return cls(group, "^(?:" + "|".join(re.escape(topic) for topic in topics) + ")$")


class Offsets:
    """Offset look-ups on one cluster: an admin client and a consumer outside any group."""

    def __init__(self, settings: Settings, *, role: str) -> None:
        self._admin = new_admin(settings)
        self._consumer: AIOKafkaConsumer = new_consumer(settings, group_id=None, role=role)

    async def start(self) -> None:
        await self._admin.start()
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()
        await self._admin.close()

    @property
    def admin(self) -> AIOKafkaAdminClient:
        return self._admin

    async def partitions(self, pattern: str) -> list[TopicPartition]:
        """Every partition of every existing topic whose name matches ``pattern``."""
        names = [name for name in await self._admin.list_topics() if re.fullmatch(pattern, name)]
        if not names:
            return []
        described = await self._admin.describe_topics(names)
        return sorted(
            TopicPartition(topic["topic"], partition["partition"])
            for topic in described
            if topic["error_code"] == 0
            for partition in topic["partitions"]
        )

    async def ends(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        if not partitions:
            return {}
        ends: dict[TopicPartition, int] = await self._consumer.end_offsets(list(partitions))
        return ends

    async def starts(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        if not partitions:
            return {}
        starts: dict[TopicPartition, int] = await self._consumer.beginning_offsets(list(partitions))
        return starts

    async def committed(
        self, group: str, partitions: Sequence[TopicPartition]
    ) -> dict[TopicPartition, int]:
        """The group's committed offset of each partition; -1 where it has none."""
        if not partitions:
            return {}
        offsets = await self._admin.list_consumer_group_offsets(group, partitions=list(partitions))
        return {tp: offsets[tp].offset if tp in offsets else -1 for tp in partitions}

    async def lag(
        self, group: str, partitions: Sequence[TopicPartition]
    ) -> dict[TopicPartition, int]:
        committed = await self.committed(group, partitions)
        ends = await self.ends(partitions)
        starts = await self.starts([tp for tp in partitions if committed[tp] < 0])
        return {
            tp: max(0, ends[tp] - (committed[tp] if committed[tp] >= 0 else starts[tp]))
            for tp in partitions
        }


class DlqCounter:
    """Dead letters by offset, read incrementally; see the module docstring."""

    def __init__(self, settings: Settings) -> None:
        self.topic = TopicNames(settings.topic_prefix).dlq
        self.replay_group = f"{settings.topic_prefix}{REPLAY_GROUP}"
        self._settings = settings
        self._reader: TopicReader | None = None
        self._offsets: dict[int, array[int]] = {}

    async def stop(self) -> None:
        if self._reader is not None:
            await self._reader.stop()

    async def depth(self, offsets: Offsets) -> int:
        """Dead letters the replay has not passed yet (raises ``TopicMissing`` before the
        DLQ exists)."""
        if self._reader is None:
            reader = TopicReader(self._settings, self.topic, role="dlq-depth")
            await reader.start()
            self._reader = reader
        for record in await self._reader.catch_up():
            self._offsets.setdefault(record.partition, array("q")).append(record.offset)
        partitions = [TopicPartition(self.topic, p) for p in sorted(self._offsets)]
        committed = await offsets.committed(self.replay_group, partitions)
        starts = await offsets.starts(partitions)
        depth = 0
        for tp in partitions:
            seen = self._offsets[tp.partition]
            depth += len(seen) - bisect.bisect_left(seen, max(committed[tp], starts[tp]))
        return depth


class OffsetsMonitor:
    """Asks Kafka every ``settings.offsets_poll_seconds`` for the lag of ``groups`` and, with
    ``dlq``, the DLQ depth; a failed poll is logged and counted, and the next one tries again."""

    def __init__(
        self,
        settings: Settings,
        metrics: OffsetMetrics,
        *,
        groups: Sequence[GroupWatch],
        dlq: bool = False,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.groups = list(groups)
        self._dlq = DlqCounter(settings) if dlq else None
        self.polls = 0
        """Polls that succeeded: the gauges hold real values from the first one on."""

    async def run(self) -> None:
        offsets = Offsets(self.settings, role="offsets-monitor")
        await offsets.start()
        try:
            while True:
                await self.poll(offsets)
                await asyncio.sleep(self.settings.offsets_poll_seconds)
        finally:
            if self._dlq is not None:
                await self._dlq.stop()
            await offsets.stop()

    async def poll(self, offsets: Offsets) -> None:
        try:
            lags = {
                watch.group: await offsets.lag(watch.group, await offsets.partitions(watch.topics))
                for watch in self.groups
            }
            depth = None if self._dlq is None else await self._dlq.depth(offsets)
        except (KafkaError, TopicMissing, TimeoutError) as exc:
            log.warning("asking Kafka for offsets failed (%r): trying again later", exc)
            self.metrics.poll_failures.inc()
            return
        for group, lag in lags.items():
            self.metrics.set_lag(group, lag)
        if self._dlq is not None and depth is not None:
            self.metrics.dlq_depth.labels(self._dlq.topic).set(depth)
        self.polls += 1
