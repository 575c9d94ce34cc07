"""Each arrow of the design is a permission: an agency writes its raw topic and reads its
deliver topic in its own group, and can do nothing else; a failed login gets nowhere.

The derivation of the ACLs is checked pure. Against the real secured broker, with the ACLs the
real services get (``hub_acls``), each agency principal is tried on every action it is not
granted (a matrix: principal x action, each cell asserting Kafka's exact refusal); fr and fra
collide on a prefix and try each other's topics and groups, both ways. The matrix is
``ops.chaos.denials``, which the chaos harness runs too: each of its cells is a test here, and
one test runs it whole, as the harness does.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import secrets
import ssl
import uuid
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from broker.access import AclBinding, Operation, Resource, agency_acls, agency_group
from broker.errors import InvalidAgencyId
from broker.kafka_clients import new_admin, security_options
from broker.settings import Settings
from broker.topics import TopicNames, TopicSpec, ensure_topics
from ops.acls import apply_acls, upsert_scram_users
from ops.chaos import denials
from tests.conftest import KafkaUnderTest


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


def by_id(cells: list[denials.Cell]) -> list[Any]:
    return [pytest.param(cell, id=cell.id) for cell in cells]


@pytest.fixture(scope="module")
async def hub(kafka_under_test: KafkaUnderTest) -> denials.Hub:
    """One hub for the module, the matrix's (``denials.set_up``)."""
    if not kafka_under_test.passwords:
        pytest.skip("the cluster under test does not authenticate clients")
    return await denials.set_up(kafka_under_test.hub)


@pytest.fixture(scope="module")
def login(kafka_under_test: KafkaUnderTest, hub: denials.Hub) -> denials.Login:
    return functools.partial(kafka_under_test.agency_login, hub.settings)


@pytest.mark.kafka
@pytest.mark.parametrize("cell", by_id(denials.CONTROL_CELLS))
async def test_an_agency_writes_its_raw_topic_and_reads_its_deliver_topic(
    hub: denials.Hub, login: denials.Login, cell: denials.Cell
) -> None:
    """The matrix's control: each of its principals logs in and uses what it is granted (the
    read checks that it got the record the set-up wrote)."""
    await cell.act(cell.attempt(hub, login))


@pytest.mark.kafka
@pytest.mark.parametrize("cell", by_id(denials.DENIAL_CELLS))
async def test_the_denial_matrix(
    hub: denials.Hub, login: denials.Login, cell: denials.Cell
) -> None:
    """Each cell: one principal, one thing it is not granted, Kafka's exact refusal."""
    refusal = cell.refusal
    assert refusal is not None
    with pytest.raises(refusal.error) as refused:
        await cell.act(cell.attempt(hub, login))
    assert type(refused.value) is refusal.error
    assert denials.code_of(refused.value) == refusal.code


LOGGED_CAUSES = {
    "write raw.<own> with a wrong password": (
        "[Error 58] SaslAuthenticationFailed: Authentication failed during authentication due "
        "to invalid credentials with SASL mechanism SCRAM-SHA-512"
    ),
    "write raw.<own> as an unknown user": (
        "[Error 58] SaslAuthenticationFailed: Authentication failed during authentication due "
        "to invalid credentials with SASL mechanism SCRAM-SHA-512"
    ),
    "write raw.<own> offering SCRAM-SHA-256": "[Error 33] UnsupportedSaslMechanismError",
    "write raw.<own> offering PLAIN": "[Error 33] UnsupportedSaslMechanismError",
}
"""The broker's answer to each failed login, as aiokafka logs it: the same to a wrong password
and to an unknown user (it does not say which users exist); to the SASL handshake, before any
credential is sent, for a mechanism it does not enable (PLAIN's included)."""


@pytest.mark.kafka
@pytest.mark.parametrize("cell", by_id(denials.LOGIN_CELLS))
async def test_a_failed_login_is_refused_at_start(
    hub: denials.Hub,
    login: denials.Login,
    cell: denials.Cell,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """aiokafka gives up bootstrapping with KafkaConnectionError, having logged the broker's
    answer, which the error itself does not carry."""
    refusal = cell.refusal
    assert refusal is not None
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(refusal.error) as refused:
        await cell.act(cell.attempt(hub, login))
    assert type(refused.value) is refusal.error
    assert LOGGED_CAUSES[cell.action] in caplog.text
    assert denials.code_of(refused.value, caplog.messages) == refusal.code


@pytest.mark.kafka
async def test_the_harness_matrix_passes_whole(
    kafka_under_test: KafkaUnderTest, login: denials.Login
) -> None:
    """As the chaos harness runs it: on a hub of its own, every cell as expected."""
    cells = await denials.run_matrix(kafka_under_test.hub, login)
    assert [denials.format_cell(cell) for cell in cells if not cell.ok] == []
    # 3 principals x (2 controls + 24 refusals), the stranger's 3 refusals, 4 failed logins.
    assert len(cells) == 85


@pytest.mark.kafka
async def test_an_agency_added_to_the_running_broker_can_publish(
    hub: denials.Hub, login: denials.Login
) -> None:
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

    await denials.write(login(agency_id, password), topics.raw(agency_id))
