"""The real Apache Kafka broker every Kafka test talks to, chosen once per session.

In this order: an existing cluster named by KAFKA_BOOTSTRAP_SERVERS; testcontainers' Kafka
where a Docker engine answers; otherwise the official Apache Kafka jars started by ops/. A
broker that cannot start fails the run with its own log lines: never a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.errors import BrokerStartError, LocalKafkaError
from broker.settings import Settings
from ops.local_kafka import start_kafka

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT.parent / "shared" / "fixtures"
TESTCONTAINERS_IMAGE = "confluentinc/cp-kafka:7.9.0"


def _docker_engine_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:  # no SDK, no socket, no daemon: all mean "no Docker engine here"
        return False
    return True


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if servers := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield servers
        return
    if _docker_engine_answers():
        from testcontainers.community.kafka import KafkaContainer

        with KafkaContainer(TESTCONTAINERS_IMAGE).with_kraft() as container:
            yield container.get_bootstrap_server()
        return
    try:
        broker = start_kafka(tmp_path_factory.mktemp("kafka"))
    except (BrokerStartError, LocalKafkaError) as exc:
        pytest.fail(f"the test broker did not start:\n{exc}", pytrace=False)
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


@pytest.fixture
def settings(kafka_bootstrap: str) -> Settings:
    """Settings of a hub of its own: a unique topic prefix keeps tests apart on one broker."""
    return Settings(
        bootstrap_servers=kafka_bootstrap,
        topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
        ingest_group_id=f"ingest-{uuid.uuid4().hex[:10]}",
        agencies={"interpol": None, "fr-police": "FR"},
    )
