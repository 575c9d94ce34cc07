"""The raw side of the hub: what a liaison system puts on raw.<agency>.

A raw record's value is the payload exactly as the agency's system produced it (JSON, XML,
any encoding); the ``format`` header names the adapter format that reads it. An ``originator``
header may say which agency the payload comes from: only ever the agency whose raw topic
carries it, since the topic is what the ACLs vouch for (the ingest service refuses any other).
"""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata

from broker.topics import TopicNames

FORMAT_HEADER = "format"
ORIGINATOR_HEADER = "originator"


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
    originator: str | None = None,
) -> RecordMetadata:
    """Publish one native-format payload to ``agency_id``'s raw topic, as that agency would;
    ``originator`` is the agency the record claims to come from, when it says."""
    headers = [(FORMAT_HEADER, fmt.encode())]
    if originator is not None:
        headers.append((ORIGINATOR_HEADER, originator.encode()))
    future = await producer.send(topics.raw(agency_id), value=payload, key=key, headers=headers)
    return await future
