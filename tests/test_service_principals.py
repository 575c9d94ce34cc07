"""The hub's services each log in as a principal of their own, granted what their code touches
and nothing else (``broker/access.py``).

The derivation is checked pure against the names the services' own code makes (groups,
transactional ids, the topics they declare). Then, on the real secured broker, each service runs
under its own principal, never the super user: an agency's raw payload goes through the ingest
service and the distributor to another agency's deliver topic and into the audit trail, a dead
letter is replayed, an embargo is released, a list is loaded; and what is not granted is denied
with Kafka's own error. Last, the `notices` commands and the demo log in as these principals on
a local broker of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import os
import secrets
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import NewTopic
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    TopicAlreadyExistsError,
    TopicAuthorizationFailedError,
    TransactionalIdAuthorizationFailed,
)
from confluent_kafka import KafkaError, KafkaException
from pydantic import SecretStr
from typer.testing import CliRunner

from adapters.base import TranslationContext
from adapters.registry import default_registry
from broker import models as m
from broker.access import (
    DISTRIBUTOR,
    DLQ_REPLAY,
    INGEST,
    LISTS,
    SERVICE_USERS,
    AclBinding,
    HubNames,
    Operation,
    Pattern,
    Resource,
    agency_acls,
    agency_group,
    check_agency_ids,
    hub_acls,
    principal,
    service_acls,
)
from broker.audit_trail import verify_topic
from broker.cli import app
from broker.cli_support import settings_for
from broker.distributor import DistributorService
from broker.dlq_replay import replay_dlq
from broker.embargo import EmbargoReleaser
from broker.errors import AccessAdminError, InvalidAgencyId, TransactionFailed
from broker.kafka_clients import new_admin, new_consumer, new_producer
from broker.lag import DlqCounter
from broker.list_loader import ListLoader
from broker.policy.profiles import GroupDefinition, Policy, RecipientProfile
from broker.publisher import NoticePublisher
from broker.settings import Settings
from broker.topic_reader import partitions_of
from broker.topics import TopicNames, ensure_declared_topics
from broker.transactional import Outgoing, send_outputs
from broker.translation import DeadLetter, translate_record
from ops.acls import apply_acls, upsert_scram_users
from ops.kafka_jars import KAFKA_VERSION, default_cache_dir
from ops.local_kafka import HUB_USER
from ops.processes import free_ports
from tests.conftest import FIXTURES, REPO_ROOT, KafkaUnderTest
from tests.kafka_helpers import (
    INTERPOL_FORMAT,
    SERDE,
    WAIT,
    ingest_service,
    publish_payloads,
    read_records,
    receive,
    running,
)
from tests.samples import sample_notice

PUBLISHER, RECIPIENT = "agency-a", "agency-b"
PAYLOAD = REPO_ROOT / "examples" / "interpol" / "red_notice_detail.json"
BROKEN = REPO_ROOT / "examples" / "interpol" / "zz-broken-truncated.json"
UN_LIST = FIXTURES / "sanctions" / "un_sc_consolidated_2020-03-20_excerpt.xml"
POLICY = Policy(
    groups={"EU": GroupDefinition(description="EU")},
    recipients=(
        RecipientProfile(
            agency_id=RECIPIENT, country="DE", clearance=m.Level.SECRET, groups=("EU",)
        ),
    ),
)

Login = Callable[[str], Settings]


def allows(
    bindings: Iterable[AclBinding], user: str, resource: Resource, name: str, operation: Operation
) -> bool:
    """What Kafka's StandardAuthorizer answers given ALLOW bindings only: a LITERAL binding
    matches its own name, a PREFIXED one every name that starts with it; READ and WRITE imply
    DESCRIBE."""
    wanted = {operation} | (
        {Operation.READ, Operation.WRITE} if operation is Operation.DESCRIBE else set()
    )
    return any(
        b.principal == principal(user)
        and b.resource is resource
        and b.operation in wanted
        and (b.name == name if b.pattern is Pattern.LITERAL else name.startswith(b.name))
        for b in bindings
    )


# --- the derivation, pure, against the names the services' code makes ------------------------


@pytest.fixture
def hub() -> Settings:
    return Settings.model_construct(
        topic_prefix="p.", ingest_group_id="ingest-p", agencies={PUBLISHER: None}
    )


def test_each_service_may_use_the_groups_and_transactional_ids_its_code_names(
    hub: Settings,
) -> None:
    names = HubNames.of(hub, distributor_group="dist-p")
    acls = service_acls(names)
    topics = names.topics
    ingest = ingest_service(hub)
    raw = TopicPartition(topics.raw(PUBLISHER), 2)
    assert allows(acls, INGEST, Resource.GROUP, ingest.processor.group_id, Operation.READ)
    txn = ingest.processor.transactional_id(raw)
    assert allows(acls, INGEST, Resource.TRANSACTIONAL_ID, txn, Operation.WRITE)
    replay_group = DlqCounter(hub).replay_group
    assert allows(acls, INGEST, Resource.GROUP, replay_group, Operation.DESCRIBE)

    distributor = DistributorService(hub, policy=POLICY, serde=SERDE, group_id="dist-p")
    releaser = EmbargoReleaser(hub, group_id="dist-p")
    notices = TopicPartition(topics.notices(m.NoticeType.WANTED_PERSON), 5)
    for group in (distributor.processor.group_id, releaser.group_id):
        assert allows(acls, DISTRIBUTOR, Resource.GROUP, group, Operation.READ)
    # The releaser names a producer per deferred partition like the processor does.
    for txn in (
        distributor.processor.transactional_id(notices),
        f"{releaser.group_id}.{topics.deferred}.0",
    ):
        assert allows(acls, DISTRIBUTOR, Resource.TRANSACTIONAL_ID, txn, Operation.WRITE)

    loader = ListLoader(
        hub, registry=default_registry(), serde=SERDE, agency="un", fmt="un-sc-consolidated-xml"
    )
    assert allows(acls, LISTS, Resource.TRANSACTIONAL_ID, loader.transactional_id, Operation.WRITE)
    assert allows(acls, DLQ_REPLAY, Resource.GROUP, replay_group, Operation.READ)
    assert allows(acls, DLQ_REPLAY, Resource.TRANSACTIONAL_ID, replay_group, Operation.WRITE)


def test_each_service_may_create_every_topic_it_declares(hub: Settings) -> None:
    acls = service_acls(HubNames.of(hub))
    topics = TopicNames(hub.topic_prefix)
    declared = {
        INGEST: topics.declared(hub.agencies),
        LISTS: topics.declared(hub.agencies),
        DISTRIBUTOR: topics.declared(hub.agencies, [RECIPIENT, "another"]),
    }
    for user, specs in declared.items():
        for spec in specs:
            assert allows(acls, user, Resource.TOPIC, spec.name, Operation.CREATE), (user, spec)
    assert not [
        b for b in acls if b.principal == principal(DLQ_REPLAY) and b.operation is Operation.CREATE
    ]


def every_topic(t: TopicNames) -> list[str]:
    return [
        t.raw("any-agency"),
        t.deliver("any-agency"),
        *t.all_notices,
        t.dlq,
        t.audit,
        t.ledger,
        t.list_state,
        t.deferred,
        t.released,
    ]


def test_each_service_reads_and_writes_its_own_arrows_only(hub: Settings) -> None:
    acls = service_acls(HubNames.of(hub))
    t = TopicNames(hub.topic_prefix)
    raw, deliver = t.raw("any-agency"), t.deliver("any-agency")
    everything = every_topic(t)
    may = {
        INGEST: {Operation.READ: {raw, t.dlq}, Operation.WRITE: {*t.all_notices, t.dlq}},
        DISTRIBUTOR: {
            Operation.READ: {*t.all_notices, t.released, t.ledger, t.audit, t.deferred},
            Operation.WRITE: {deliver, t.audit, t.ledger, t.deferred, t.released, t.dlq},
        },
        LISTS: {Operation.READ: {t.list_state}, Operation.WRITE: {t.list_state, *t.all_notices}},
        DLQ_REPLAY: {Operation.READ: {t.dlq}, Operation.WRITE: {raw, *t.all_notices, t.released}},
    }
    for user, granted in may.items():
        for operation, topics in granted.items():
            allowed = {
                topic
                for topic in everything
                if allows(acls, user, Resource.TOPIC, topic, operation)
            }
            assert allowed == topics, (user, operation)


def test_no_service_may_use_another_services_groups_or_transactional_ids(hub: Settings) -> None:
    names = HubNames.of(hub, distributor_group="dist-p")
    acls = service_acls(names)
    owned = {
        INGEST: [names.ingest_group],
        DISTRIBUTOR: [names.distributor_group, names.embargo_group],
        DLQ_REPLAY: [names.replay_group],
    }
    for user in SERVICE_USERS:
        for owner, groups in owned.items():
            if owner == user:
                continue
            for group in groups:
                assert not allows(acls, user, Resource.GROUP, group, Operation.READ), (user, group)
                txn = f"{group}.{names.topics.raw(PUBLISHER)}.0"
                assert not allows(acls, user, Resource.TRANSACTIONAL_ID, txn, Operation.WRITE)


def test_a_service_sees_only_the_topics_it_reads_or_writes(hub: Settings) -> None:
    """CREATE lets a service make a declared topic, not list it (DESCRIBE)."""
    acls = service_acls(HubNames.of(hub))
    for user in SERVICE_USERS:
        for topic in every_topic(TopicNames(hub.topic_prefix)):
            used = any(
                allows(acls, user, Resource.TOPIC, topic, operation)
                for operation in (Operation.READ, Operation.WRITE)
            )
            assert allows(acls, user, Resource.TOPIC, topic, Operation.DESCRIBE) == used


def test_every_topic_a_service_is_granted_carries_the_hubs_prefix(hub: Settings) -> None:
    acls = service_acls(HubNames.of(hub))
    assert all(b.name.startswith("p.") for b in acls if b.resource is Resource.TOPIC)


def test_a_hubs_bindings_are_its_agencies_and_its_services(hub: Settings) -> None:
    names = HubNames.of(hub)
    both = hub_acls([RECIPIENT], names, hub_user=HUB_USER)
    assert both == sorted(
        [*agency_acls([RECIPIENT], names.topics, hub_user=HUB_USER), *service_acls(names)]
    )
    # An agency's bindings stay literal: a prefixed `fr` would match `fra`.
    agency = [b for b in both if b.principal == principal(RECIPIENT)]
    assert {b.pattern for b in agency} == {Pattern.LITERAL}


@pytest.mark.parametrize("user", SERVICE_USERS)
def test_an_agency_cannot_take_a_services_name(user: str) -> None:
    with pytest.raises(InvalidAgencyId, match="one of the hub's services"):
        check_agency_ids(["fr", user], hub_user=HUB_USER)


# --- the services under their own principals, on the real secured broker ---------------------


@pytest.fixture
def names(settings: Settings) -> HubNames:
    return HubNames.of(settings, distributor_group=f"dist-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def hub_settings(settings: Settings) -> Settings:
    """This test's hub, publishing agency ``agency-a``: its services declare raw.agency-a."""
    return settings.model_copy(update={"agencies": {PUBLISHER: None}})


@pytest.fixture
async def login(kafka_under_test: KafkaUnderTest, hub_settings: Settings, names: HubNames) -> Login:
    """This test's hub with every service's and both agencies' bindings; how to log in as a
    user (its settings: this test's prefix and groups, that user's login)."""
    if not kafka_under_test.passwords:
        pytest.skip("the cluster under test does not authenticate clients")
    passwords = dict(kafka_under_test.passwords)
    # A cluster named by KAFKA_BOOTSTRAP_SERVERS has the agencies' test users, not the services'.
    missing = {user: secrets.token_urlsafe(24) for user in SERVICE_USERS if user not in passwords}
    await asyncio.to_thread(upsert_scram_users, hub_settings, missing)
    passwords |= missing
    bindings = hub_acls([PUBLISHER, RECIPIENT], names, hub_user=hub_settings.sasl_username or "")
    await asyncio.to_thread(apply_acls, hub_settings, bindings)

    def as_user(user: str) -> Settings:
        """Agencies where agencies connect (the local broker's TLS listener), services on the
        hub's own listener."""
        if user not in SERVICE_USERS:
            return kafka_under_test.agency_login(hub_settings, user)
        return hub_settings.model_copy(
            update={"sasl_username": user, "sasl_password": SecretStr(passwords[user])}
        )

    return as_user


async def _topic_exists(settings: Settings, topic: str) -> None:
    """Wait until ``settings``' principal sees ``topic`` (a service creates it at start)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not await partitions_of(settings, topic):
        assert loop.time() < deadline, f"{topic} was not created within {WAIT:.0f} s"
        await asyncio.sleep(0.2)


def _notices_in(payload: bytes) -> int:
    ctx = TranslationContext(
        INTERPOL_FORMAT, m.Originator(agency_id=PUBLISHER), dt.datetime.now(dt.UTC), payload
    )
    outcome = translate_record(default_registry(), ctx)
    assert not isinstance(outcome, DeadLetter), outcome
    return len(outcome)


@pytest.mark.kafka
async def test_a_payload_goes_from_agency_to_agency_through_services_under_their_own_principals(
    login: Login, names: HubNames
) -> None:
    """Nobody here is the super user: agency-a publishes, notices-ingest translates,
    notices-distributor delivers and audits, agency-b reads in its group, notices-dlq-replay
    re-drives the dead letter. The services also create the topics of this fresh hub."""
    topics = names.topics
    ingest_login, distributor_login = login(INGEST), login(DISTRIBUTOR)
    assert {ingest_login.sasl_username, distributor_login.sasl_username} <= set(SERVICE_USERS)
    ingest = ingest_service(ingest_login)
    distributor = DistributorService(
        distributor_login, policy=POLICY, serde=SERDE, group_id=names.distributor_group
    )
    payload = PAYLOAD.read_bytes()
    expected = _notices_in(payload)
    recipient = login(RECIPIENT)
    async with running(ingest.run()), running(distributor.run()):
        await _topic_exists(login(PUBLISHER), topics.raw(PUBLISHER))
        await _topic_exists(recipient, topics.deliver(RECIPIENT))
        await publish_payloads(login(PUBLISHER), payload, BROKEN.read_bytes(), agency=PUBLISHER)
        received = await receive(
            recipient,
            expected,
            group_id=agency_group(topics, RECIPIENT),
            topics=[topics.deliver(RECIPIENT)],
        )
        (letter,) = await read_records(ingest_login, topics.dlq, 1)
    assert len(received) == expected
    assert received[0].originator.agency_id == PUBLISHER
    assert letter.value == BROKEN.read_bytes()

    report = await verify_topic(distributor_login)
    assert report.ok and report.records == expected

    replayed = await replay_dlq(login(DLQ_REPLAY))
    assert replayed.replayed == {topics.raw(PUBLISHER): 1}


@pytest.mark.kafka
async def test_an_embargo_is_released_under_the_distributors_principal(
    login: Login, hub_settings: Settings, names: HubNames
) -> None:
    """The topics exist (the hub made them): the services start without creating any."""
    await ensure_declared_topics(hub_settings, [RECIPIENT])
    distributor_login = login(DISTRIBUTOR)
    release = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)
    embargoed = sample_notice("embargoed").model_copy(update={"not_before": release})
    producer = new_producer(hub_settings, role="test")
    await producer.start()
    try:
        await NoticePublisher(producer, SERDE, names.topics).publish(embargoed)
    finally:
        await producer.stop()
    distributor = DistributorService(
        distributor_login, policy=POLICY, serde=SERDE, group_id=names.distributor_group
    )
    releaser = EmbargoReleaser(distributor_login, group_id=names.distributor_group)
    async with running(distributor.run()), running(releaser.run()):
        (record,) = await read_records(login(RECIPIENT), names.topics.deliver(RECIPIENT), 1)
    assert SERDE.decode(record.value or b"").notice_id == "embargoed"
    assert (distributor.stats.deferred, releaser.released) == (1, 1)


@pytest.mark.kafka
async def test_a_list_is_loaded_under_the_list_loaders_principal(login: Login) -> None:
    loader = ListLoader(
        login(LISTS),
        registry=default_registry(),
        serde=SERDE,
        agency="un",
        fmt="un-sc-consolidated-xml",
    )
    report = await loader.load(UN_LIST)
    assert (report.alerts, report.cancels) == (85, 0)


# --- what is not granted is denied, with Kafka's own error ------------------------------------


@pytest.fixture
async def existing(login: Login, hub_settings: Settings) -> Login:
    """``login``, on a hub whose topics the hub's super user created."""
    await ensure_declared_topics(hub_settings, [RECIPIENT])
    return login


async def _write(settings: Settings, topic: str) -> None:
    producer = new_producer(settings, role="test-intruder")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"not for this principal")
    finally:
        await producer.stop()


@pytest.mark.kafka
async def test_the_ingest_principal_cannot_write_deliveries_or_the_audit_trail(
    existing: Login, names: HubNames
) -> None:
    ingest = existing(INGEST)
    for topic in (names.topics.deliver(RECIPIENT), names.topics.audit):
        with pytest.raises(TopicAuthorizationFailedError):
            await _write(ingest, topic)


@pytest.mark.kafka
async def test_the_distributor_principal_cannot_write_an_agencys_raw_topic(
    existing: Login, names: HubNames
) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await _write(existing(DISTRIBUTOR), names.topics.raw(PUBLISHER))


@pytest.mark.kafka
async def test_sending_on_in_a_transaction_the_broker_refused_is_a_kafka_error(
    existing: Login, names: HubNames
) -> None:
    """A refused send fails the whole transaction, in the background; the next send into it
    must raise a Kafka error the distributor rewinds on, not aiokafka's bare assertion, which
    killed it (chaos row 14). The refused topic is one the distributor reads, so it may see it
    (as in row 14, whose revoked topic it knew) but not write it."""
    distributor = existing(DISTRIBUTOR)
    producer = new_producer(
        distributor,
        role="test-refused-txn",
        transactional_id=f"{names.distributor_group}.{names.topics.released}.0",
    )
    await producer.start()
    try:
        await producer.begin_transaction()
        await send_outputs(producer, [Outgoing(names.topics.all_notices[0], b"refused")])
        allowed = [Outgoing(names.topics.deliver(RECIPIENT), b"allowed")]
        with pytest.raises(TransactionFailed):
            async with asyncio.timeout(WAIT):
                while True:
                    await send_outputs(producer, allowed)
                    await asyncio.sleep(0.05)
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.commit_transaction()
        await producer.abort_transaction()
    finally:
        await producer.stop()


@pytest.mark.kafka
async def test_an_agency_cannot_join_the_distributors_group(
    existing: Login, names: HubNames
) -> None:
    consumer = new_consumer(
        existing(RECIPIENT),
        names.topics.deliver(RECIPIENT),
        group_id=names.distributor_group,
        role="test-intruder",
    )
    with pytest.raises(GroupAuthorizationFailedError):
        try:
            await consumer.start()
            await asyncio.wait_for(consumer.getone(), WAIT)
        finally:
            await consumer.stop()


@pytest.mark.kafka
async def test_an_agency_cannot_use_a_distributor_transactional_id(
    existing: Login, names: HubNames
) -> None:
    """Refused before InitProducerId: the FindCoordinator request for the id already needs
    DESCRIBE on it, and Kafka answers it TRANSACTIONAL_ID_AUTHORIZATION_FAILED."""
    tp = TopicPartition(names.topics.notices(m.NoticeType.WANTED_PERSON), 0)
    txn = f"{names.distributor_group}.{tp.topic}.{tp.partition}"
    producer = new_producer(existing(RECIPIENT), role="test-intruder", transactional_id=txn)
    with pytest.raises(TransactionalIdAuthorizationFailed):
        try:
            await producer.start()
        finally:
            await producer.stop()


@pytest.mark.kafka
@pytest.mark.parametrize("user", SERVICE_USERS)
async def test_a_service_principal_cannot_grant_acls_or_make_users(
    existing: Login, names: HubNames, user: str
) -> None:
    service = existing(user)
    grab = agency_acls([RECIPIENT], names.topics, hub_user=HUB_USER)
    for change in (
        lambda: apply_acls(
            service, [dataclasses.replace(b, principal=principal(user)) for b in grab]
        ),
        lambda: upsert_scram_users(service, {"intruder": secrets.token_urlsafe(24)}),
    ):
        with pytest.raises(AccessAdminError) as refused:
            await asyncio.to_thread(change)
        cause = refused.value.__cause__
        assert isinstance(cause, KafkaException)
        assert cause.args[0].code() == KafkaError.CLUSTER_AUTHORIZATION_FAILED


async def _create_topic(settings: Settings, topic: str) -> int:
    """Kafka's error code for a CreateTopics request of ``topic`` by ``settings``' principal."""
    admin = new_admin(settings)
    await admin.start()
    try:
        response = await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    [(name, code, *_)] = response.topic_errors
    assert name == topic
    return int(code)


@pytest.mark.kafka
async def test_an_existing_topic_is_refused_without_create_and_already_there_with_it(
    existing: Login, names: HubNames
) -> None:
    """Why each service may CREATE the topics it declares and needs no DESCRIBE on those it
    does not use: without CREATE, Kafka refuses even a topic that exists; with CREATE alone,
    it says the topic exists, which ``ensure_declared_topics`` accepts."""
    audit = names.topics.audit
    refused = await _create_topic(existing(DLQ_REPLAY), audit)
    assert refused == TopicAuthorizationFailedError.errno
    assert await _create_topic(existing(INGEST), audit) == TopicAlreadyExistsError.errno
    for user in (INGEST, DISTRIBUTOR, LISTS):
        recipients = [RECIPIENT] if user == DISTRIBUTOR else []
        assert await ensure_declared_topics(existing(user), recipients) == []


# --- the `notices` commands and the demo log in as the principals -----------------------------

runner = CliRunner()


@pytest.fixture
def no_cluster_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """As a person's shell before any ``eval "$(notices kafka env)"``: no cluster, no login."""
    for name in list(os.environ):
        if name.startswith("NOTICES_") or name == "KAFKA_BOOTSTRAP_SERVERS":
            monkeypatch.delenv(name)


@contextlib.contextmanager
def _local_broker_in(cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`notices kafka up` in a cache folder of the test's own (the jars shared with the real
    cache), so that the commands find it where they look: in the default data folder."""
    jars = default_cache_dir() / f"kafka-{KAFKA_VERSION}"
    cache.mkdir()
    (cache / jars.name).symlink_to(jars)
    monkeypatch.setenv("NOTICES_CACHE_DIR", str(cache))
    up = runner.invoke(
        app, ["kafka", "up", "--port", str(free_ports(1)[0]), "--agency", "interpol"]
    )
    assert up.exit_code == 0, up.output
    try:
        yield
    finally:
        down = runner.invoke(app, ["kafka", "down"])
        assert down.exit_code == 0, down.output


@pytest.mark.kafka
@pytest.mark.slow
@pytest.mark.usefixtures("no_cluster_in_env")
def test_commands_log_in_to_the_local_broker_as_their_own_principals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _local_broker_in(tmp_path / "cache", monkeypatch):
        for user in (INGEST, DISTRIBUTOR, LISTS, DLQ_REPLAY, "interpol", HUB_USER):
            assert settings_for(user).sasl_username == user
        assert settings_for("interpol").security_protocol == "SASL_SSL", "agencies over TLS"
        steps = [
            (["topics", "create"], "created:"),
            (
                ["publish", str(PAYLOAD), "--agency", "interpol", "--format", INTERPOL_FORMAT],
                "raw.interpol",
            ),
            (
                [
                    "lists",
                    "load",
                    str(UN_LIST),
                    "--agency",
                    "un",
                    "--format",
                    "un-sc-consolidated-xml",
                ],
                "85 ALERT",
            ),
            (["dlq", "replay"], "nothing to replay"),
        ]
        for args, said in steps:
            result = runner.invoke(app, args)
            assert result.exit_code == 0, (args, result.output)
            assert said in " ".join(result.output.split()), (args, result.output)
        stranger = runner.invoke(
            app, ["publish", str(PAYLOAD), "--agency", "de-bka", "--format", INTERPOL_FORMAT]
        )
        assert stranger.exit_code == 1 and "no user 'de-bka'" in stranger.output
        monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.example:9092")
        assert settings_for(INGEST).sasl_login is None, "the environment's choice stands"


@pytest.mark.kafka
@pytest.mark.slow
@pytest.mark.usefixtures("no_cluster_in_env")
def test_the_demo_on_its_own_broker_runs_everyone_as_their_own_principal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["demo", "--examples", str(REPO_ROOT / "examples" / "interpol")])
    assert result.exit_code == 0, result.output
    assert "6 notices received by the subscriber of de-bka" in result.output
    assert "audit trail: 42 decisions in" in result.output and "intact" in result.output
