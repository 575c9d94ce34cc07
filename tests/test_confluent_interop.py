"""Readers and writers no one here wrote: confluent-kafka's own AvroSerializer and
AvroDeserializer, against the same real registry and Kafka broker as the hub.

An agency reads its deliver topic the way docs/reading-deliveries.md tells it to: its own
SCRAM login, its one group, read_committed, a generic record from the registry's schema. And
a tool that writes with confluent-kafka's serializer produces what the hub's readers decode.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient as ConfluentRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from hypothesis import Phase, given, settings

from broker.access import agency_acls, agency_group
from broker.kafka_clients import new_admin, new_producer
from broker.models import BODY_TYPES, NoticeEnvelope, NoticeType
from broker.registry_client import SchemaRegistryClient
from broker.schema_catalog import RELEASED_DIR, SchemaCatalog, schema_text
from broker.serde import NoticeSerde, to_record
from broker.settings import Settings
from broker.topics import TopicNames, TopicSpec, ensure_topics
from ops.acls import apply_acls
from schemas import SCHEMA_DIR
from tests.conftest import KafkaUnderTest
from tests.kafka_helpers import WAIT, read_records
from tests.registry_fixtures import registry_url  # noqa: F401 (fixture)
from tests.strategies import notices

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

AGENCY = "agency-a"


def drawn_notices(per_type: int = 3) -> list[NoticeEnvelope]:
    """A few notices of every type from the shared strategies, the same on every run."""
    drawn: list[NoticeEnvelope] = []
    for notice_type in NoticeType:

        @given(notices(notice_type))
        @settings(max_examples=per_type, database=None, derandomize=True, phases=[Phase.generate])
        def collect(notice: NoticeEnvelope) -> None:
            drawn.append(notice)

        collect()
    return drawn


def confluent_config(settings: Settings) -> dict[str, Any]:
    """librdkafka's names for the settings' bootstrap servers, login and CA (librdkafka
    verifies the broker's host name by default)."""
    config: dict[str, Any] = {"bootstrap.servers": settings.bootstrap_servers}
    if (login := settings.sasl_login) is not None:
        config |= {
            "security.protocol": settings.security_protocol,
            "sasl.mechanism": settings.sasl_mechanism,
            "sasl.username": login[0],
            "sasl.password": login[1],
        }
    if settings.ssl_cafile is not None:
        config["ssl.ca.location"] = str(settings.ssl_cafile)
    return config


def notice_from_generic(record: dict[str, Any], _: SerializationContext) -> NoticeEnvelope:
    """What an agency's code does with a generic record: the body's type from notice_type."""
    body_type = BODY_TYPES[NoticeType(record["notice_type"])]
    return NoticeEnvelope.model_validate(
        {**record, "body": body_type.model_validate(record["body"])}
    )


async def create_topic(settings: Settings, topic: str) -> None:
    admin = new_admin(settings)
    await admin.start()
    try:
        await ensure_topics(admin, [TopicSpec(topic, 3)], replication_factor=1)
    finally:
        await admin.close()


def consume(
    config: dict[str, Any], topic: str, count: int, deserializer: AvroDeserializer
) -> list[Any]:
    """Poll until ``count`` values arrived (or the wait ran out), committing each as an
    agency would once it has handled it."""
    context = SerializationContext(topic, MessageField.VALUE)
    consumer = Consumer(config)
    consumer.subscribe([topic])
    values: list[Any] = []
    deadline = time.monotonic() + WAIT
    try:
        while len(values) < count and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            assert message.error() is None, message.error()
            values.append(deserializer(message.value(), context))
            consumer.commit(message=message, asynchronous=False)
    finally:
        consumer.close()
    return values


V1 = (SCHEMA_DIR / RELEASED_DIR / "v1.avsc").read_text()


@pytest.mark.parametrize("reader_schema", [None, V1], ids=["generic", "specific-v1"])
async def test_an_agency_reads_its_deliveries_with_confluent_kafkas_deserializer(
    registry_url: str,  # noqa: F811
    settings: Settings,
    kafka_under_test: KafkaUnderTest,
    reader_schema: str | None,
) -> None:
    """Generic: the writer's schema from the registry. Specific: a released schema pinned as
    the reader's, resolved against the writer's."""
    topics = TopicNames(settings.topic_prefix)
    topic = topics.deliver(AGENCY)
    await create_topic(settings, topic)
    hub_user = settings.sasl_username or ""
    await asyncio.to_thread(apply_acls, settings, agency_acls([AGENCY], topics, hub_user=hub_user))
    sent = drawn_notices()
    serde = NoticeSerde(SchemaCatalog.from_directory(), SchemaRegistryClient(registry_url))
    producer = new_producer(settings, role="test-distributor")
    await producer.start()
    try:
        for notice in sent:
            value = serde.encode_for(topic, notice)
            await producer.send_and_wait(topic, value, key=notice.notice_id.encode())
    finally:
        await producer.stop()

    agency = settings
    if kafka_under_test.passwords:
        agency = kafka_under_test.agency_login(settings, AGENCY)
    deserializer = AvroDeserializer(
        ConfluentRegistryClient({"url": registry_url}),
        reader_schema,
        from_dict=notice_from_generic,
    )
    config = {
        **confluent_config(agency),
        "group.id": agency_group(topics, AGENCY),
        "isolation.level": "read_committed",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    }
    received = await asyncio.to_thread(consume, config, topic, len(sent), deserializer)

    # Three partitions keyed by notice id: order holds per notice, not across the topic.
    assert sorted(received, key=sent.index) == sent


async def test_what_confluent_kafkas_serializer_writes_the_hub_decodes(
    registry_url: str,  # noqa: F811
    settings: Settings,
) -> None:
    topic = TopicNames(settings.topic_prefix).notices(NoticeType.FREEZE_ORDER)
    await create_topic(settings, topic)
    serde = NoticeSerde(SchemaCatalog.from_directory(), SchemaRegistryClient(registry_url))
    serializer = AvroSerializer(
        ConfluentRegistryClient({"url": registry_url}),
        schema_text(serde.catalog.reader.schema),
        to_dict=lambda notice, _: to_record(notice),
    )
    sent = [n for n in drawn_notices() if n.notice_type is NoticeType.FREEZE_ORDER]
    context = SerializationContext(topic, MessageField.VALUE)
    values = [serializer(notice, context) for notice in sent]

    def produce() -> None:
        producer = Producer(confluent_config(settings))
        for notice, value in zip(sent, values, strict=True):
            producer.produce(topic, value=value, key=notice.notice_id.encode())
        assert producer.flush(WAIT) == 0

    await asyncio.to_thread(produce)
    records = await read_records(settings, topic, len(sent))

    # Decoded before the hub's serde registered anything: the ids came from the registry.
    assert sorted((serde.decode(r.value or b"") for r in records), key=sent.index) == sent
    # The same schema text under the same subject: confluent-kafka got the hub's own id.
    assert all(value[:5] == serde.encode_for(topic, sent[0])[:5] for value in values)
