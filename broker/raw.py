"""The raw side of the hub: what a liaison system puts on raw.<agency>.

A raw record's value is the payload exactly as the agency's system produced it (JSON, XML,
any encoding); the ``format`` header names the adapter format that reads it.
"""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata

from broker.topics import TopicNames

FORMAT_HEADER = "format"


def header(headers: tuple[tuple[str, bytes], ...] | list[tuple[str, bytes]], name: str) -> str:
    """The last value of header ``name`` as text, '' when absent."""
    values = [value for key, value in headers if key == name]
    return values[-1].decode("utf-8", "replace") if values else ""


async def publish_raw(
    producer: AIOKafkaProducer,
    topics: TopicNames,
    *,
    agency_id: str,
    fmt: str,
    payload: bytes,
    key: bytes | None = None,
) -> RecordMetadata:
    """Publish one native-format payload as agency ``agency_id`` would."""
    future = await producer.send(
        topics.raw(agency_id),
        value=payload,
        key=key,
        headers=[(FORMAT_HEADER, fmt.encode())],
    )
    return await future
