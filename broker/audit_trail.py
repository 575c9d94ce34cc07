"""Verifying the audit trail on the cluster: read notices.audit to its end, check every chain."""

from __future__ import annotations

from broker import audit
from broker.settings import Settings
from broker.topic_reader import TopicReader
from broker.topics import TopicNames


async def verify_topic(settings: Settings, topic: str | None = None) -> audit.VerifyReport:
    """Check the committed audit records of ``topic`` (the hub's audit topic by default)."""
    reader = TopicReader(
        settings, topic or TopicNames(settings.topic_prefix).audit, role="audit-verify"
    )
    await reader.start()
    try:
        records = await reader.catch_up()
    finally:
        await reader.stop()
    return audit.verify(
        (f"{r.topic}[{r.partition}]@{r.offset}", r.value)
        for r in sorted(records, key=lambda r: (r.partition, r.offset))
    )
