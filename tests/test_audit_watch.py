"""The distributor's periodic audit verification leaves its event loop free.

Found by the chaos harness (issue 9, row 13, 100,000 notices): the verification of a
1.2-million-record trail held a restarted distributor's event loop for 18 s, so its group
expelled it and its embargo releases came up to 29 s late.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from broker.audit_watch import AuditWatch
from broker.kafka_clients import new_admin, new_producer
from broker.metrics import AuditMetrics
from broker.settings import Settings
from broker.topics import TopicNames, TopicSpec, ensure_topics
from broker.transactional import Outgoing, send_outputs
from tests.kafka_helpers import WAIT, until
from tests.test_audit import chain

pytestmark = pytest.mark.kafka

CHAINS = 3
PER_CHAIN = 60_000
"""Enough that verifying them in the loop held it for over a second here."""


async def write_trail(settings: Settings) -> int:
    topic = TopicNames(settings.topic_prefix).audit
    admin = new_admin(settings)
    await admin.start()
    try:
        await ensure_topics(admin, [TopicSpec(topic, CHAINS)], replication_factor=1)
    finally:
        await admin.close()
    producer = new_producer(settings, role="test-audit-trail")
    await producer.start()
    try:
        for index in range(CHAINS):
            name = f"notices.wanted-person/{index}"
            records = chain(PER_CHAIN, name)
            await send_outputs(
                producer, [Outgoing(topic, value, key=name.encode()) for _, value in records]
            )
        await producer.flush()
    finally:
        await producer.stop()
    return CHAINS * PER_CHAIN


def children() -> set[int]:
    tasks = Path(f"/proc/{os.getpid()}/task")
    return {int(pid) for task in tasks.iterdir() for pid in (task / "children").read_text().split()}


async def test_the_watch_verifies_a_large_trail_while_its_event_loop_keeps_running(
    settings: Settings,
) -> None:
    records = await write_trail(settings)
    registry = CollectorRegistry()
    watch = asyncio.create_task(AuditWatch(settings, AuditMetrics(registry)).run())
    longest_gap = 0.0
    last = time.monotonic()

    def sample(name: str) -> float | None:
        return registry.get_sample_value(f"notices_audit_{name}")

    try:
        async with asyncio.timeout(WAIT):
            while not sample("last_verified_timestamp_seconds"):
                await asyncio.sleep(0.05)
                now = time.monotonic()
                longest_gap, last = max(longest_gap, now - last), now
    finally:
        watch.cancel()
    assert sample("verified_records") == records
    assert sample("chain_faults") == 0
    assert longest_gap < 0.5, f"the event loop was held for {longest_gap:.1f} s"


async def test_a_verification_cancelled_midway_leaves_no_process_behind(
    settings: Settings,
) -> None:
    await write_trail(settings)
    before = children()
    watch = asyncio.create_task(AuditWatch(settings, AuditMetrics(CollectorRegistry())).run())
    await until(lambda: children() - before, "a verifying process")
    watch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await watch
    assert children() - before == set()
