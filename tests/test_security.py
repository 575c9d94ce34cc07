"""Each arrow of the design is a permission: an agency writes its raw topic and reads its
deliver topic in its own group, and can do nothing else; a failed login gets nowhere.

The derivation of the ACLs is checked pure. Against the real secured broker, with the ACLs the
real services get (``hub_acls``), each agency principal is tried on every action it is not
granted (a matrix: principal x action, each cell asserting Kafka's exact refusal); fr and fra
collide on a prefix and try each other's topics and groups, both ways.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import secrets
import ssl
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import NewTopic
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
    TransactionalIdAuthorizationFailed,
    for_code,
)
from aiokafka.protocol.admin import DeleteRecordsRequest
from confluent_kafka import KafkaError as ConfluentError
from confluent_kafka import KafkaException

# The documented import path; the package re-exports these without an __all__ that says so.
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ResourceType,
)
from pydantic import SecretStr, ValidationError

from broker.access import (
    AclBinding,
    HubNames,
    Operation,
    Resource,
    agency_acls,
    agency_group,
    hub_acls,
    principal,
)
from broker.errors import AccessAdminError, InvalidAgencyId
from broker.kafka_clients import new_admin, new_consumer, new_producer, security_options
from broker.models import NoticeType
from broker.settings import Settings
from broker.topics import TopicNames, TopicSpec, ensure_declared_topics, ensure_topics
from ops.acls import admin_config, apply_acls, upsert_scram_users
from tests.conftest import KafkaUnderTest
from tests.kafka_helpers import WAIT

GRANTED = ("agency-a", "agency-b", "fr", "fra")


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


# --- the secured broker: what each agency principal may do, and the matrix of what it may not ---

MATRIX = ("agency-a", "fr", "fra")
"""The agency principals the matrix logs in as: each against every action it is not granted."""
OTHER = {"agency-a": "agency-b", "fr": "fra", "fra": "fr"}
"""The agency each one tries to act as: fr and fra collide on a prefix, both ways."""


@dataclass(frozen=True)
class Hub:
    """This module's hub: its settings (the super user's), names, and its agencies' logins."""

    settings: Settings
    names: HubNames
    kafka: KafkaUnderTest

    @property
    def topics(self) -> TopicNames:
        return self.names.topics

    def login(self, user: str, password: str | None = None) -> Settings:
        return self.kafka.agency_login(self.settings, user, password)


@pytest.fixture(scope="module")
async def hub(kafka_under_test: KafkaUnderTest) -> Hub:
    """One hub for the module with every topic and the ACLs the real services get (agencies'
    and services', derived by ``hub_acls``), each deliver topic holding one record."""
    if not kafka_under_test.passwords:
        pytest.skip("the cluster under test does not authenticate clients")
    settings = kafka_under_test.hub.model_copy(
        update={
            "topic_prefix": f"s{uuid.uuid4().hex[:10]}.",
            "agencies": dict.fromkeys(GRANTED),
        }
    )
    names = HubNames.of(settings, distributor_group=f"dist-{uuid.uuid4().hex[:8]}")
    await ensure_declared_topics(settings, GRANTED)
    bindings = hub_acls(GRANTED, names, hub_user=settings.sasl_username or "")
    await asyncio.to_thread(apply_acls, settings, bindings)
    for agency in GRANTED:
        deliver = names.topics.deliver(agency)
        await write(settings, deliver, f"for {deliver}".encode())
    return Hub(settings, names, kafka_under_test)


async def write(settings: Settings, topic: str, value: bytes = b"from a liaison system") -> None:
    producer = new_producer(settings, role="test-liaison")
    try:
        await producer.start()
        await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


async def read_one(settings: Settings, topic: str, group_id: str | None) -> bytes | None:
    """The first record of ``topic``, committed in ``group_id`` when there is a group."""
    consumer = new_consumer(settings, topic, group_id=group_id, role="test-agency")
    try:
        await consumer.start()
        record = await asyncio.wait_for(consumer.getone(), WAIT)
        if group_id is not None:
            await consumer.commit()
        value: bytes | None = record.value
        return value
    finally:
        await consumer.stop()


@pytest.mark.kafka
@pytest.mark.parametrize("agency", MATRIX)
async def test_an_agency_writes_its_raw_topic_and_reads_its_deliver_topic(
    hub: Hub, agency: str
) -> None:
    """The matrix's control: each of its principals logs in and uses what it is granted."""
    as_agency = hub.login(agency)
    await write(as_agency, hub.topics.raw(agency))
    deliver = hub.topics.deliver(agency)
    group = agency_group(hub.topics, agency)
    assert await read_one(as_agency, deliver, group) == f"for {deliver}".encode()


@dataclass(frozen=True)
class Attempt:
    """One agency principal, logged in, about to try what it is not granted."""

    hub: Hub
    agency: str
    settings: Settings

    @property
    def other(self) -> str:
        return OTHER[self.agency]

    @property
    def topics(self) -> TopicNames:
        return self.hub.topics


Action = Callable[[Attempt], Awaitable[object]]


@dataclass(frozen=True)
class Refusal:
    """The error a refused action raises, and Kafka's error code inside it."""

    error: type[Exception]
    code: int


def code_of(error: BaseException) -> int:
    """Kafka's error code of an aiokafka error, a confluent-kafka one, or ours wrapping one."""
    if isinstance(error, AccessAdminError):
        assert isinstance(error.__cause__, KafkaException)
        error = error.__cause__
    if isinstance(error, KafkaException):
        code: int = error.args[0].code()
        return code
    return int(getattr(error, "errno", -1))


def aiokafka_refusal(error: type[KafkaError]) -> Refusal:
    return Refusal(error, int(error.errno))


TOPIC_DENIED = aiokafka_refusal(TopicAuthorizationFailedError)
GROUP_DENIED = aiokafka_refusal(GroupAuthorizationFailedError)
TRANSACTIONAL_ID_DENIED = aiokafka_refusal(TransactionalIdAuthorizationFailed)
ADMIN_TOPIC_DENIED = Refusal(KafkaException, ConfluentError.TOPIC_AUTHORIZATION_FAILED)
CLUSTER_DENIED = Refusal(AccessAdminError, ConfluentError.CLUSTER_AUTHORIZATION_FAILED)


def writing(topic: Callable[[Attempt], str]) -> Action:
    return lambda attempt: write(attempt.settings, topic(attempt))


def prefixed(name: str) -> Callable[[Attempt], str]:
    return lambda attempt: attempt.topics.prefix + name


async def join_group(attempt: Attempt, group: str) -> None:
    """Subscribe to the agency's own deliver topic in ``group``, and read."""
    await read_one(attempt.settings, attempt.topics.deliver(attempt.agency), group)


async def commit_in_group(attempt: Attempt, group: str) -> None:
    """Commit an offset in ``group`` without joining it, as a reader with assigned partitions
    does: offsets of the agency's own topic, which it may read."""
    consumer = new_consumer(attempt.settings, group_id=group, role="test-intruder")
    partition = TopicPartition(attempt.topics.deliver(attempt.agency), 0)
    try:
        await consumer.start()
        consumer.assign([partition])
        await consumer.commit({partition: 1})
    finally:
        await consumer.stop()


async def transactional_producer(attempt: Attempt, transactional_id: str) -> None:
    producer = new_producer(
        attempt.settings, role="test-intruder", transactional_id=transactional_id
    )
    try:
        await producer.start()
    finally:
        await producer.stop()


def distributor_transactional_id(attempt: Attempt) -> str:
    """What the distributor names its producer of a notices partition."""
    notices = attempt.topics.notices(NoticeType.WANTED_PERSON)
    return f"{attempt.hub.names.distributor_group}.{notices}.0"


async def create_topic(attempt: Attempt) -> None:
    admin = new_admin(attempt.settings)
    await admin.start()
    try:
        name = f"{attempt.topics.prefix}{attempt.agency}.own"
        response = await admin.create_topics([NewTopic(name, 1, 1)])
    finally:
        await admin.close()
    [(_, code, *_)] = response.topic_errors
    if code:
        raise for_code(code)


def confluent_admin(attempt: Attempt, call: Callable[[AdminClient], Future[Any]]) -> Awaitable[Any]:
    """The result of one confluent-kafka AdminClient call, logged in as the agency (its calls
    block, so in a thread); a refusal raises its KafkaException."""

    def run() -> Any:
        with AdminClient(
            admin_config(attempt.settings), logger=logging.getLogger(__name__)
        ) as admin:
            return call(admin).result(timeout=WAIT)

    return asyncio.to_thread(run)


async def delete_audit_records(attempt: Attempt) -> None:
    """Sent to a broker as is: through an admin client (aiokafka's or confluent-kafka's) the
    request never leaves the client, whose metadata, as the agency may see it, names no leader
    of the audit topic. Any broker checks the principal before it looks for the leader."""
    client = AIOKafkaClient(
        bootstrap_servers=attempt.settings.bootstrap_servers,
        client_id="test-intruder",
        **security_options(attempt.settings),
    )
    await client.bootstrap()
    try:
        request = DeleteRecordsRequest([(attempt.topics.audit, [(0, -1)])], timeout_ms=5000)
        response = await client.send(client.get_random_node(), request)
    finally:
        await client.close()
    for _, partitions, *_ in response.topics:
        for _, _, code, *_ in partitions:
            if code:
                raise for_code(code)


def alter_audit_retention(attempt: Attempt) -> Awaitable[Any]:
    audit = ConfigResource(
        ResourceType.TOPIC,
        attempt.topics.audit,
        incremental_configs=[
            ConfigEntry("retention.ms", "1", incremental_operation=AlterConfigOpType.SET)
        ],
    )
    return confluent_admin(attempt, lambda admin: admin.incremental_alter_configs([audit])[audit])


async def grant_itself(attempt: Attempt) -> None:
    """What the agency would need to read another's deliveries, as ACLs on itself."""
    bindings = [
        dataclasses.replace(binding, principal=principal(attempt.agency))
        for binding in agency_acls(
            [attempt.other], attempt.topics, hub_user=attempt.hub.settings.sasl_username or ""
        )
    ]
    await asyncio.to_thread(apply_acls, attempt.settings, bindings)


async def add_user(attempt: Attempt) -> None:
    await asyncio.to_thread(
        upsert_scram_users, attempt.settings, {f"{attempt.agency}-2": secrets.token_urlsafe(24)}
    )


HUB_TOPICS = [spec.name for spec in TopicNames().declared(agencies=())]
"""The hub's own topics, unprefixed: notices.<type>, the DLQ, the audit trail, the ledger ..."""

ACTIONS: list[tuple[str, Action, Refusal]] = [
    (
        "read deliver.<other>",
        lambda a: read_one(a.settings, a.topics.deliver(a.other), agency_group(a.topics, a.agency)),
        TOPIC_DENIED,
    ),
    (
        "read deliver.<own> in group deliver.<other>",
        lambda a: join_group(a, agency_group(a.topics, a.other)),
        GROUP_DENIED,
    ),
    ("write raw.<other>", writing(lambda a: a.topics.raw(a.other)), TOPIC_DENIED),
    ("write deliver.<own>", writing(lambda a: a.topics.deliver(a.agency)), TOPIC_DENIED),
    ("write deliver.<other>", writing(lambda a: a.topics.deliver(a.other)), TOPIC_DENIED),
    *((f"write {name}", writing(prefixed(name)), TOPIC_DENIED) for name in HUB_TOPICS),
    ("read notices.audit", lambda a: read_one(a.settings, a.topics.audit, None), TOPIC_DENIED),
    (
        "join group <distributor>",
        lambda a: join_group(a, a.hub.names.distributor_group),
        GROUP_DENIED,
    ),
    (
        "commit offsets in group <distributor>",
        lambda a: commit_in_group(a, a.hub.names.distributor_group),
        GROUP_DENIED,
    ),
    (
        "join group <distributor>-embargo",
        lambda a: join_group(a, a.hub.names.embargo_group),
        GROUP_DENIED,
    ),
    (
        "init transactional id <distributor>.<topic>.<partition>",
        lambda a: transactional_producer(a, distributor_transactional_id(a)),
        TRANSACTIONAL_ID_DENIED,
    ),
    ("DeleteRecords notices.audit", delete_audit_records, TOPIC_DENIED),
    ("IncrementalAlterConfigs notices.audit", alter_audit_retention, ADMIN_TOPIC_DENIED),
    ("CreateTopics <agency>.own", create_topic, TOPIC_DENIED),
    ("CreateAcls", grant_itself, CLUSTER_DENIED),
    ("AlterUserScramCredentials", add_user, CLUSTER_DENIED),
]


@pytest.mark.kafka
@pytest.mark.parametrize(
    ("action", "refusal"),
    [pytest.param(action, refusal, id=name) for name, action, refusal in ACTIONS],
)
@pytest.mark.parametrize("agency", MATRIX)
async def test_the_denial_matrix(hub: Hub, agency: str, action: Action, refusal: Refusal) -> None:
    """Each cell: one agency principal, one thing it is not granted, Kafka's exact refusal."""
    with pytest.raises(refusal.error) as refused:
        await action(Attempt(hub, agency, hub.login(agency)))
    assert type(refused.value) is refusal.error
    assert code_of(refused.value) == refusal.code


@pytest.mark.kafka
async def test_a_principal_without_acls_gets_nothing(hub: Hub) -> None:
    stranger = hub.login("stranger")
    topics = hub.topics
    consumer = new_consumer(stranger, group_id=None, role="test-stranger")
    await consumer.start()
    try:
        visible = await consumer.topics()
    finally:
        await consumer.stop()
    assert {topic for topic in visible if topic.startswith(topics.prefix)} == set()
    with pytest.raises(TopicAuthorizationFailedError):
        await read_one(stranger, topics.deliver("agency-a"), group_id=None)
    # An idempotent producer needs WRITE on some topic before it may send anywhere.
    with pytest.raises(ClusterAuthorizationFailedError):
        await write(stranger, topics.raw("agency-a"))


def wrong_password(hub: Hub) -> Settings:
    return hub.login("agency-a", password=secrets.token_urlsafe(24))


def unknown_user(hub: Hub) -> Settings:
    known = hub.login("agency-a")
    return known.model_copy(update={"sasl_username": f"nobody-{uuid.uuid4().hex[:6]}"})


def mechanism(name: str) -> Callable[[Hub], Settings]:
    """agency-a's own password, offered with a mechanism the broker does not enable."""
    return lambda hub: hub.login("agency-a").model_copy(update={"sasl_mechanism": name})


INVALID_CREDENTIALS = (
    "[Error 58] SaslAuthenticationFailed: Authentication failed during authentication due to "
    "invalid credentials with SASL mechanism SCRAM-SHA-512"
)
"""The broker's answer to a wrong password and to an unknown user alike: it does not say
which users exist."""
UNSUPPORTED_MECHANISM = "[Error 33] UnsupportedSaslMechanismError"
"""Its answer to the SASL handshake, before any credential is sent (PLAIN's included)."""


@pytest.mark.kafka
@pytest.mark.parametrize(
    ("login", "cause"),
    [
        pytest.param(wrong_password, INVALID_CREDENTIALS, id="wrong password"),
        pytest.param(unknown_user, INVALID_CREDENTIALS, id="unknown user"),
        pytest.param(mechanism("SCRAM-SHA-256"), UNSUPPORTED_MECHANISM, id="SCRAM-SHA-256"),
        pytest.param(mechanism("PLAIN"), UNSUPPORTED_MECHANISM, id="PLAIN"),
    ],
)
async def test_a_failed_login_is_refused_at_start(
    hub: Hub,
    login: Callable[[Hub], Settings],
    cause: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """aiokafka gives up bootstrapping with KafkaConnectionError, having logged the broker's
    answer, which the error itself does not carry."""
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaConnectionError):
        await write(login(hub), hub.topics.raw("agency-a"))
    assert cause in caplog.text


@pytest.mark.kafka
async def test_an_agency_added_to_the_running_broker_can_publish(hub: Hub) -> None:
    agency_id = f"late-{uuid.uuid4().hex[:6]}"
    password = secrets.token_urlsafe(24)
    topics = hub.topics
    admin = new_admin(hub.settings)
    await admin.start()
    try:
        await ensure_topics(
            admin,
            [TopicSpec(topics.raw(agency_id), 1)],
            replication_factor=hub.settings.replication_factor,
        )
    finally:
        await admin.close()
    await asyncio.to_thread(upsert_scram_users, hub.settings, {agency_id: password})
    hub_user = hub.settings.sasl_username or ""
    bindings = agency_acls([agency_id], topics, hub_user=hub_user)
    await asyncio.to_thread(apply_acls, hub.settings, bindings)

    await write(hub.login(agency_id, password=password), topics.raw(agency_id))
