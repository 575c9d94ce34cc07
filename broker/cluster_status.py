"""What the live cluster says about the hub: per-topic throughput, consumer lag, DLQ depth.

For an operator at a terminal (``notices status``), where Grafana is not at hand: everything
comes from Kafka's offsets, so it shows the hub as it is even when no service runs. Throughput
is how fast the topics' end offsets grow over a short sample, so a transaction's commit marker
counts as a record there.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from dataclasses import dataclass

from aiokafka import TopicPartition

from broker.lag import DlqCounter, Offsets
from broker.settings import Settings
from broker.topics import TopicNames


@dataclass(frozen=True)
class TopicStatus:
    topic: str
    partitions: int
    end_offset: int
    """Sum of the partitions' end offsets: records (and transaction markers) ever written."""
    per_second: float
    """Growth of ``end_offset`` during the sample."""


@dataclass(frozen=True)
class GroupLag:
    group: str
    topic: str
    lag: int
    """Offsets between the group's committed position and the end, summed over partitions."""


@dataclass(frozen=True)
class ClusterStatus:
    topics: list[TopicStatus]
    lags: list[GroupLag]
    dlq_topic: str
    dlq_depth: int | None
    """Dead letters not yet replayed; None before the DLQ exists."""


def hub_topics_pattern(topics: TopicNames) -> str:
    """Every topic of the hub: its raw, notices and deliver topics under its prefix."""
    return rf"^{re.escape(topics.prefix)}(?:raw|notices|deliver)\..+$"


async def cluster_status(settings: Settings, *, sample_seconds: float = 2.0) -> ClusterStatus:
    topics = TopicNames(settings.topic_prefix)
    offsets = Offsets(settings, role="status")
    dlq = DlqCounter(settings)
    await offsets.start()
    try:
        partitions = await offsets.partitions(hub_topics_pattern(topics))
        before, started = await offsets.ends(partitions), time.monotonic()
        await asyncio.sleep(sample_seconds)
        after, elapsed = await offsets.ends(partitions), time.monotonic() - started
        lags = await _lags(offsets, after)
        depth = await dlq.depth(offsets) if topics.dlq in {tp.topic for tp in partitions} else None
    finally:
        await dlq.stop()
        await offsets.stop()
    return ClusterStatus(
        topics=_per_topic(before, after, elapsed),
        lags=lags,
        dlq_topic=topics.dlq,
        dlq_depth=depth,
    )


def _per_topic(
    before: dict[TopicPartition, int], after: dict[TopicPartition, int], elapsed: float
) -> list[TopicStatus]:
    partitions: Counter[str] = Counter(tp.topic for tp in after)
    ends: Counter[str] = Counter()
    growth: Counter[str] = Counter()
    for tp, end in after.items():
        ends[tp.topic] += end
        growth[tp.topic] += end - before[tp]
    return [
        TopicStatus(topic, partitions[topic], ends[topic], growth[topic] / elapsed)
        for topic in sorted(partitions)
    ]


async def _lags(offsets: Offsets, ends: dict[TopicPartition, int]) -> list[GroupLag]:
    """Lag of every group that committed an offset on one of ``ends``' partitions."""
    lags: Counter[tuple[str, str]] = Counter()
    for group, *_ in await offsets.admin.list_consumer_groups():
        committed = await offsets.admin.list_consumer_group_offsets(group)
        for tp, position in committed.items():
            if tp in ends and position.offset >= 0:
                lags[group, tp.topic] += max(0, ends[tp] - position.offset)
    return [GroupLag(group, topic, lag) for (group, topic), lag in sorted(lags.items())]
