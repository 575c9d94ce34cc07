"""Each arrow of the design is a permission: an agency writes its raw topic and reads its
deliver topic in its own group, and can do nothing else; a wrong password gets nowhere.

The derivation of the ACLs is checked pure; what they allow and deny is checked against the
real secured broker, logged in as the agencies' own SCRAM users.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import ssl
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)
from pydantic import SecretStr, ValidationError

from broker.access import (
    AclBinding,
    Operation,
    Resource,
    agency_acls,
    agency_group,
)
from broker.errors import InvalidAgencyId
from broker.kafka_clients import new_admin, new_consumer, new_producer, security_options
from broker.settings import Settings
from broker.topics import TopicNames, TopicSpec, ensure_topics
from ops.acls import apply_acls, upsert_scram_users
from tests.conftest import KafkaUnderTest
from tests.kafka_helpers import WAIT

GRANTED = ("agency-a", "agency-b", "fr", "fra")

Login = Callable[..., Settings]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the environment, where the session put the hub's login."""
    for name in list(os.environ):
        if name.startswith("NOTICES_") or name == "KAFKA_BOOTSTRAP_SERVERS":
            monkeypatch.delenv(name)


def sasl(**fields: Any) -> Settings:
    login = {"sasl_username": "agency-a", "sasl_password": SecretStr("s3cret")}
    return Settings(**{"security_protocol": "SASL_PLAINTEXT", **login, **fields})


# --- the derivation, pure ---------------------------------------------------------------------


def test_two_agencies_get_exactly_their_three_bindings_each() -> None:
    assert agency_acls(["fr", "agency-a", "fr"], TopicNames("p."), hub_user="hub") == [
        AclBinding("User:agency-a", Resource.GROUP, "p.deliver.agency-a", Operation.READ),
        AclBinding("User:agency-a", Resource.TOPIC, "p.deliver.agency-a", Operation.READ),
        AclBinding("User:agency-a", Resource.TOPIC, "p.raw.agency-a", Operation.WRITE),
        AclBinding("User:fr", Resource.GROUP, "p.deliver.fr", Operation.READ),
        AclBinding("User:fr", Resource.TOPIC, "p.deliver.fr", Operation.READ),
        AclBinding("User:fr", Resource.TOPIC, "p.raw.fr", Operation.WRITE),
    ]


def test_without_a_prefix_the_names_are_the_designs() -> None:
    assert {b.name for b in agency_acls(["fr"], TopicNames(), hub_user="hub")} == {
        "raw.fr",
        "deliver.fr",
    }


def test_an_agencys_group_is_named_like_the_topic_it_reads() -> None:
    topics = TopicNames("p.")
    assert agency_group(topics, "fr") == topics.deliver("fr") == "p.deliver.fr"


@pytest.mark.parametrize(
    "agency_id", ["", "FR", "fr police", "-fr", "fr,name=hub", "fr]", "fr;x", "fr.x", "hub"]
)
def test_an_id_unfit_for_a_principal_is_refused(agency_id: str) -> None:
    with pytest.raises(InvalidAgencyId):
        agency_acls(["fr", agency_id], TopicNames(), hub_user="hub")


# --- the settings every client logs in with -----------------------------------------------------


@pytest.mark.usefixtures("clean_env")
def test_sasl_needs_credentials_and_plaintext_takes_none() -> None:
    with pytest.raises(ValidationError, match="needs sasl_username and sasl_password"):
        Settings(security_protocol="SASL_PLAINTEXT", sasl_username="hub")
    with pytest.raises(ValidationError, match="but PLAINTEXT"):
        Settings(sasl_username="hub", sasl_password=SecretStr("s3cret"))
    with pytest.raises(ValidationError, match="uses no TLS"):
        sasl(ssl_cafile="ca.pem")


@pytest.mark.usefixtures("clean_env")
def test_clients_get_the_login_and_tls_only_where_the_protocol_asks() -> None:
    assert security_options(Settings()) == {}
    assert security_options(sasl()) == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "agency-a",
        "sasl_plain_password": "s3cret",
    }
    options = security_options(sasl(security_protocol="SASL_SSL"))
    assert isinstance(options["ssl_context"], ssl.SSLContext)


@pytest.mark.usefixtures("clean_env")
def test_settings_survive_the_trip_through_a_child_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = sasl(
        bootstrap_servers="kafka.example:9093",
        topic_prefix="p.",
        agencies={"fr-police": "FR", "interpol": None},
        linger_ms=7,
    )
    env = settings.to_env()
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka.example:9093"
    assert env["NOTICES_SASL_PASSWORD"] == "s3cret"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Settings() == settings
    assert settings.to_env("sasl_username") == {"NOTICES_SASL_USERNAME": "agency-a"}


# --- the secured broker -----------------------------------------------------------------------


@pytest.fixture
async def login(kafka_under_test: KafkaUnderTest, settings: Settings) -> Login:
    """This test's hub, granted to the agencies, with topics that each hold one record.

    Returns how to log in as a user: settings with that user's (or a given) password.
    """
    if not kafka_under_test.passwords:
        pytest.skip("the cluster under test does not authenticate clients")
    topics = TopicNames(settings.topic_prefix)
    deliver = [topics.deliver(agency) for agency in GRANTED]
    admin = new_admin(settings)
    await admin.start()
    try:
        specs = [TopicSpec(name, 1) for name in [*map(topics.raw, GRANTED), *deliver]]
        await ensure_topics(admin, specs, replication_factor=settings.replication_factor)
    finally:
        await admin.close()
    hub_user = settings.sasl_username or ""
    await asyncio.to_thread(apply_acls, settings, agency_acls(GRANTED, topics, hub_user=hub_user))
    for topic in deliver:
        await write(settings, topic, f"for {topic}".encode())

    def as_user(user: str, password: str | None = None) -> Settings:
        return kafka_under_test.agency_login(settings, user, password)

    return as_user


async def write(settings: Settings, topic: str, value: bytes = b"from a liaison system") -> None:
    producer = new_producer(settings, role="test-liaison")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


async def read_one(settings: Settings, topic: str, group_id: str | None) -> bytes | None:
    """The first record of ``topic``, committed in ``group_id`` when there is a group."""
    consumer = new_consumer(settings, topic, group_id=group_id, role="test-agency")
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), WAIT)
        if group_id is not None:
            await consumer.commit()
        value: bytes | None = record.value
        return value
    finally:
        await consumer.stop()


def names(settings: Settings) -> TopicNames:
    return TopicNames(settings.topic_prefix)


@pytest.mark.kafka
async def test_an_agency_writes_its_raw_topic_and_reads_its_deliver_topic(
    login: Login, settings: Settings
) -> None:
    agency = login("agency-a")
    topics = names(settings)
    await write(agency, topics.raw("agency-a"))
    deliver = topics.deliver("agency-a")
    group = agency_group(topics, "agency-a")
    assert await read_one(agency, deliver, group) == f"for {deliver}".encode()


@pytest.mark.kafka
async def test_another_agency_can_neither_read_nor_write_it(
    login: Login, settings: Settings
) -> None:
    other = login("agency-b")
    topics = names(settings)
    with pytest.raises(TopicAuthorizationFailedError):
        await read_one(other, topics.deliver("agency-a"), agency_group(topics, "agency-b"))
    with pytest.raises(TopicAuthorizationFailedError):
        await write(other, topics.raw("agency-a"))


@pytest.mark.kafka
async def test_an_agency_reads_in_its_own_group_only(login: Login, settings: Settings) -> None:
    topics = names(settings)
    with pytest.raises(GroupAuthorizationFailedError):
        await read_one(login("agency-a"), topics.deliver("agency-a"), "agency-a")


@pytest.mark.kafka
async def test_ids_that_share_a_prefix_share_nothing(login: Login, settings: Settings) -> None:
    topics = names(settings)
    fr, fra = login("fr"), login("fra")
    with pytest.raises(TopicAuthorizationFailedError):
        await read_one(fr, topics.deliver("fra"), agency_group(topics, "fr"))
    with pytest.raises(TopicAuthorizationFailedError):
        await write(fr, topics.raw("fra"))
    with pytest.raises(TopicAuthorizationFailedError):
        await read_one(fra, topics.deliver("fr"), agency_group(topics, "fra"))
    with pytest.raises(GroupAuthorizationFailedError):
        await read_one(fr, topics.deliver("fr"), agency_group(topics, "fra"))


@pytest.mark.kafka
async def test_a_principal_without_acls_gets_nothing(login: Login, settings: Settings) -> None:
    stranger = login("stranger")
    topics = names(settings)
    consumer = new_consumer(stranger, group_id=None, role="test-stranger")
    await consumer.start()
    try:
        visible = await consumer.topics()
    finally:
        await consumer.stop()
    assert {topic for topic in visible if topic.startswith(settings.topic_prefix)} == set()
    with pytest.raises(TopicAuthorizationFailedError):
        await read_one(stranger, topics.deliver("agency-a"), group_id=None)
    # An idempotent producer needs WRITE on some topic before it may send anywhere.
    with pytest.raises(ClusterAuthorizationFailedError):
        await write(stranger, topics.raw("agency-a"))


@pytest.mark.kafka
async def test_a_wrong_password_is_refused_at_start(
    login: Login, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    impostor = login("agency-a", password=secrets.token_urlsafe(24))
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaConnectionError):
        await write(impostor, names(settings).raw("agency-a"))
    assert "SaslAuthenticationFailed" in caplog.text


@pytest.mark.kafka
async def test_an_agency_added_to_the_running_broker_can_publish(
    login: Login, settings: Settings
) -> None:
    agency_id = f"late-{uuid.uuid4().hex[:6]}"
    password = secrets.token_urlsafe(24)
    topics = names(settings)
    admin = new_admin(settings)
    await admin.start()
    try:
        await ensure_topics(
            admin,
            [TopicSpec(topics.raw(agency_id), 1)],
            replication_factor=settings.replication_factor,
        )
    finally:
        await admin.close()
    await asyncio.to_thread(upsert_scram_users, settings, {agency_id: password})
    hub_user = settings.sasl_username or ""
    bindings = agency_acls([agency_id], topics, hub_user=hub_user)
    await asyncio.to_thread(apply_acls, settings, bindings)

    await write(login(agency_id, password=password), topics.raw(agency_id))
