"""Running the hub's real services inside a test, and reading topics back."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from adapters.registry import default_registry
from broker.ingest import IngestService
from broker.kafka_clients import new_consumer, new_producer
from broker.models import NoticeEnvelope
from broker.raw import publish_raw
from broker.schema_catalog import SchemaCatalog
from broker.serde import NoticeSerde
from broker.settings import Settings
from broker.topic_reader import TopicReader
from broker.topics import TopicNames
from consumers.subscriber import Subscriber

WAIT = 60.0
SERDE = NoticeSerde(SchemaCatalog.from_directory())
INTERPOL_FORMAT = "interpol-notice-json"


@contextlib.asynccontextmanager
async def running(service: Coroutine[Any, Any, None]) -> AsyncIterator[asyncio.Task[None]]:
    """Run a service for the duration of the block; fail loudly if it died on its own."""
    task = asyncio.create_task(service)
    try:
        yield task
    finally:
        died = task.done() and not task.cancelled() and task.exception() is not None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert not died, f"service stopped on its own: {task.exception()!r}"


def ingest_service(settings: Settings) -> IngestService:
    return IngestService(settings, registry=default_registry(), serde=SERDE)


async def receive(
    settings: Settings, count: int, *, group_id: str, topics: list[str] | None = None
) -> list[NoticeEnvelope]:
    """Run a real Subscriber until ``count`` notices reached its sink, and return them."""
    received: list[NoticeEnvelope] = []
    subscriber = Subscriber(
        settings,
        topics=topics or TopicNames(settings.topic_prefix).all_notices,
        group_id=group_id,
        sink=received.append,
        serde=SERDE,
    )
    async with running(subscriber.run()) as task:
        await until(lambda: len(received) >= count or task.done(), f"{count} notices")
    return received


def committed_reader(settings: Settings, topic: str) -> AIOKafkaConsumer:
    """A verifier's view of ``topic``: from the beginning, committed data only, no group."""
    return new_consumer(settings, topic, group_id=None, role="verifier")


async def read_records(
    settings: Settings, topic: str, count: int
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read ``count`` records of ``topic`` from the beginning, without a consumer group."""
    consumer = committed_reader(settings, topic)
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while len(records) < count and loop.time() < deadline:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def until(condition: Any, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not condition():
        assert loop.time() < deadline, f"timed out after {WAIT:.0f} s waiting for {what}"
        await asyncio.sleep(0.05)


async def publish_payloads(
    settings: Settings, *payloads: bytes, agency: str = "interpol", fmt: str = INTERPOL_FORMAT
) -> None:
    """Publish raw payloads to ``raw.<agency>`` as its liaison system would, logged in as
    ``settings`` say."""
    producer = new_producer(settings, role="test-liaison")
    await producer.start()
    try:
        for payload in payloads:
            await publish_raw(
                producer,
                TopicNames(settings.topic_prefix),
                agency_id=agency,
                fmt=fmt,
                payload=payload,
            )
    finally:
        await producer.stop()


async def committed(settings: Settings, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Everything committed to ``topic`` so far, nothing waited for."""
    reader = TopicReader(settings, topic, role="verifier")
    await reader.start()
    try:
        return sorted(await reader.catch_up(), key=lambda r: (r.timestamp, r.partition, r.offset))
    finally:
        await reader.stop()
