"""Publishing canonical notices: the same code serves the ingest service and a liaison system
that runs the adapters itself."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata

from broker.models import NoticeEnvelope
from broker.serde import NoticeSerde
from broker.topics import TopicNames
from broker.transactional import Outgoing

CONTENT_TYPE = b"application/vnd.noticebroker.envelope+avro"


def routing_headers(notice: NoticeEnvelope) -> list[tuple[str, bytes]]:
    """What consumers route on without decoding the Avro body."""
    return [
        ("content-type", CONTENT_TYPE),
        ("notice-type", notice.notice_type.value.encode()),
        ("msg-type", notice.msg_type.value.encode()),
        ("originator", notice.originator.agency_id.encode()),
    ]


def notice_record(notice: NoticeEnvelope, serde: NoticeSerde, topics: TopicNames) -> Outgoing:
    """The Kafka record of ``notice``: on its type's topic, keyed by notice_id."""
    topic = topics.notices(notice.notice_type)
    return Outgoing(
        topic=topic,
        value=serde.encode_for(topic, notice),
        key=notice.notice_id.encode(),
        headers=routing_headers(notice),
    )


class NoticePublisher:
    """Sends notices keyed by notice_id, so every version of one notice shares a partition and
    ALERT, UPDATE and CANCEL are read in the order they were published."""

    def __init__(self, producer: AIOKafkaProducer, serde: NoticeSerde, topics: TopicNames) -> None:
        self._producer = producer
        self._serde = serde
        self._topics = topics

    async def send(self, notice: NoticeEnvelope) -> asyncio.Future[RecordMetadata]:
        """Queue ``notice``; the returned future resolves once the broker acknowledged it."""
        record = notice_record(notice, self._serde, self._topics)
        ack: asyncio.Future[RecordMetadata] = await self._producer.send(
            record.topic, value=record.value, key=record.key, headers=list(record.headers)
        )
        return ack

    async def publish(self, notice: NoticeEnvelope) -> RecordMetadata:
        """Send ``notice`` and wait until all in-sync replicas have it."""
        return await (await self.send(notice))
