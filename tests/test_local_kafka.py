"""The local broker of ops/local_kafka.py: a real Kafka that serves, stops and fails loudly."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from broker.errors import BrokerStartError
from ops.local_kafka import load_running, start_kafka

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

TOPIC = "local-kafka-smoke"


async def _round_trip(bootstrap_servers: str) -> bytes:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(TOPIC, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(TOPIC, b"hello from the test")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=bootstrap_servers,
        group_id="local-kafka-smoke",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()
    assert record.value is not None
    return bytes(record.value)


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_broker_serves_is_found_again_and_stops(tmp_path: Path) -> None:
    data_dir = tmp_path / "kafka"
    kafka = start_kafka(data_dir)
    try:
        assert asyncio.run(_round_trip(kafka.bootstrap_servers)) == b"hello from the test"

        found = load_running(data_dir)
        assert found is not None
        assert (found.pid, found.bootstrap_servers) == (kafka.pid, kafka.bootstrap_servers)
        assert found.is_running()
    finally:
        kafka.stop()

    assert not kafka.is_running()
    assert not _pid_exists(kafka.pid)
    assert load_running(data_dir) is None


def test_broker_that_cannot_bind_its_port_reports_its_own_error(tmp_path: Path) -> None:
    data_dir = tmp_path / "kafka"
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        with pytest.raises(BrokerStartError) as failure:
            start_kafka(data_dir, port=squatter.getsockname()[1], timeout=60)

    assert "exited" in failure.value.reason
    assert any("Address already in use" in line for line in failure.value.log_lines)
    assert load_running(data_dir) is None
