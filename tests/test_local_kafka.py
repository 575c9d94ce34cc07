"""The local broker of ops/local_kafka.py: a real Kafka that serves, stops and fails loudly;
and the `notices kafka` commands, that grant agencies and keep their logins across a restart."""

from __future__ import annotations

import asyncio
import os
import shlex
import socket
import stat
from pathlib import Path

import pytest
from aiokafka.admin import NewTopic
from typer.testing import CliRunner, Result

from broker.cli import app
from broker.errors import BrokerStartError
from broker.kafka_clients import new_admin, new_consumer, new_producer
from broker.settings import Settings
from broker.topics import TopicNames
from ops.local_kafka import load_running, start_kafka
from ops.processes import free_ports

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

TOPIC = "local-kafka-smoke"


async def _round_trip(hub: Settings) -> bytes:
    admin = new_admin(hub)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(TOPIC, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()

    producer = new_producer(hub, role="smoke")
    await producer.start()
    try:
        await producer.send_and_wait(TOPIC, b"hello from the test")
    finally:
        await producer.stop()

    consumer = new_consumer(hub, TOPIC, group_id="local-kafka-smoke", role="smoke")
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()
    assert record.value is not None
    return bytes(record.value)


runner = CliRunner()


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
        assert asyncio.run(_round_trip(kafka.client_settings())) == b"hello from the test"

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


def _login(exports: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """What ``eval "$(notices kafka env)"`` gives the next command."""
    for line in exports.splitlines():
        command, argument = shlex.split(line)
        if command == "unset":
            monkeypatch.delenv(argument, raising=False)
            continue
        assert command == "export"
        monkeypatch.setenv(*argument.split("=", 1))
    return Settings()


async def _publish_raw(hub: Settings, agency: Settings, agency_id: str) -> None:
    """As the agency, to a topic the hub makes (if it is missing): its ACLs must allow it."""
    topic = TopicNames(agency.topic_prefix).raw(agency_id)
    admin = new_admin(hub)
    await admin.start()
    try:
        if topic not in await admin.list_topics():
            await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    producer = new_producer(agency, role="liaison")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"from a liaison system")
    finally:
        await producer.stop()


def test_kafka_commands_grant_agencies_and_keep_their_logins_across_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "kafka"

    def kafka(*args: str) -> Result:
        return runner.invoke(app, ["kafka", *args, "--data-dir", str(data_dir)])

    up = kafka("up", "--port", str(free_ports(1)[0]), "--agency", "fr")
    assert up.exit_code == 0, up.output
    try:
        assert "agencies: fr" in " ".join(up.output.split())
        added = kafka("add-agency", "de")
        assert added.exit_code == 0, added.output
        assert "User:de may write raw.de" in " ".join(added.output.split())
        refused = kafka("add-agency", "hub")
        assert refused.exit_code == 1, refused.output
        assert "the hub's own user" in refused.output and "Traceback" not in refused.output
        hub = _login(kafka("env").output, monkeypatch)
        de = _login(kafka("env", "--user", "de").output, monkeypatch)
        assert (hub.security_protocol, hub.ssl_cafile) == ("SASL_PLAINTEXT", None)
        ca = data_dir.resolve() / "tls" / "ca.pem"
        assert (de.security_protocol, de.ssl_cafile) == ("SASL_SSL", ca), "agencies over TLS"
        assert de.bootstrap_servers != hub.bootstrap_servers
        asyncio.run(_publish_raw(hub, de, "de"))
        private_files = ("credentials.json", "server.properties", "broker.json")
        for private in (*private_files, "tls/ca-key.pem", "tls/broker.pem"):
            assert stat.S_IMODE((data_dir / private).stat().st_mode) == 0o600, private
    finally:
        assert kafka("down").exit_code == 0

    again = kafka("up", "--port", str(free_ports(1)[0]))
    assert again.exit_code == 0, again.output
    try:
        status = kafka("status")
        assert status.exit_code == 0
        said = " ".join(status.output.split())
        assert "hub and services: SASL_PLAINTEXT on 127.0.0.1:" in said
        assert "agencies: SASL_SSL on 127.0.0.1:" in said
        hub = _login(kafka("env").output, monkeypatch)
        de_again = _login(kafka("env", "--user", "de").output, monkeypatch)
        assert de_again.sasl_login == de.sasl_login
        asyncio.run(_publish_raw(hub, de_again, "de"))
    finally:
        assert kafka("down").exit_code == 0
    assert kafka("status").exit_code == 1
