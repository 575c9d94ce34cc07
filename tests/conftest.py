"""The real Apache Kafka broker every Kafka test talks to, chosen once per session.

In this order: an existing cluster named by KAFKA_BOOTSTRAP_SERVERS (its security settings come
from the environment too, NOTICES_SECURITY_PROTOCOL, NOTICES_SASL_*); testcontainers' Kafka
where a Docker engine answers; otherwise the official Apache Kafka jars started by ops/, with
SASL/SCRAM and ACLs on. A broker that cannot start fails the run with its own log lines: never
a skip.

Tests act as the hub, a super user. The hub's login is also exported to this process's
environment for the session, so that a service a test starts as a child process with
``{**os.environ, ...}`` logs in as the hub too.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic import SecretStr

from broker.errors import BrokerStartError, LocalKafkaError
from broker.settings import Settings
from ops.acls import upsert_scram_users
from ops.chaos.denials import MATRIX_USERS
from ops.local_kafka import start_kafka

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT.parent / "shared" / "fixtures"
TESTCONTAINERS_IMAGE = "confluentinc/cp-kafka:7.9.0"

SECURITY_FIELDS = ("security_protocol", "sasl_mechanism", "sasl_username", "sasl_password")


@dataclass(frozen=True)
class KafkaUnderTest:
    """The broker of this session: the hub's settings, and the agency users' passwords
    (none where the cluster does not authenticate). The local broker also has a TLS listener
    for agencies (``agency_bootstrap``), the CA that signed its certificate (``ca_file``) and a
    log to read what it refused (``broker_log``)."""

    hub: Settings
    passwords: Mapping[str, str] = field(default_factory=dict)
    agency_bootstrap: str | None = None
    ca_file: Path | None = None
    broker_log: Path | None = None

    def agency_login(self, base: Settings, user: str, password: str | None = None) -> Settings:
        """``base`` (a test's hub) logged in as agency ``user``, where agencies connect: the
        local broker's SASL_SSL listener, verifying its certificate against its CA; elsewhere
        the cluster's one listener.

        ``password`` overrides the user's own, to try a wrong one.
        """
        secret = SecretStr(password or self.passwords[user])
        login: dict[str, object] = {"sasl_username": user, "sasl_password": secret}
        if self.agency_bootstrap is not None:
            login |= {
                "bootstrap_servers": self.agency_bootstrap,
                "security_protocol": "SASL_SSL",
                "ssl_cafile": self.ca_file,
            }
        return base.model_copy(update=login)


def _docker_engine_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:  # no SDK, no socket, no daemon: all mean "no Docker engine here"
        return False
    return True


def _agency_users_on(hub: Settings) -> dict[str, str]:
    """An existing secured cluster gets the test users through the Admin API."""
    if hub.sasl_login is None:
        return {}
    passwords = {user: secrets.token_urlsafe(24) for user in MATRIX_USERS}
    upsert_scram_users(hub, passwords)
    return passwords


@contextlib.contextmanager
def _kafka_under_test(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaUnderTest]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        hub = Settings()
        yield KafkaUnderTest(hub, _agency_users_on(hub))
        return
    if _docker_engine_answers():
        from testcontainers.community.kafka import KafkaContainer

        with KafkaContainer(TESTCONTAINERS_IMAGE).with_kraft() as container:
            yield KafkaUnderTest(Settings(bootstrap_servers=container.get_bootstrap_server()))
        return
    try:
        broker = start_kafka(tmp_path_factory.mktemp("kafka"), agencies=MATRIX_USERS)
    except (BrokerStartError, LocalKafkaError) as exc:
        pytest.fail(f"the test broker did not start:\n{exc}", pytrace=False)
    try:
        yield KafkaUnderTest(
            broker.client_settings(Settings()),
            broker.credentials().passwords,
            agency_bootstrap=broker.agency_bootstrap_servers,
            ca_file=broker.tls.ca_cert,
            broker_log=broker.log_path,
        )
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_under_test(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaUnderTest]:
    with _kafka_under_test(tmp_path_factory) as kafka, pytest.MonkeyPatch.context() as env:
        for name, value in kafka.hub.to_env(*SECURITY_FIELDS).items():
            env.setenv(name, value)
        yield kafka


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_under_test: KafkaUnderTest) -> str:
    return kafka_under_test.hub.bootstrap_servers


@pytest.fixture
def settings(kafka_under_test: KafkaUnderTest) -> Settings:
    """Settings of a hub of its own: a unique topic prefix keeps tests apart on one broker."""
    return kafka_under_test.hub.model_copy(
        update={
            "topic_prefix": f"t{uuid.uuid4().hex[:10]}.",
            "ingest_group_id": f"ingest-{uuid.uuid4().hex[:10]}",
            "agencies": {"interpol": None, "fr-police": "FR"},
        }
    )
