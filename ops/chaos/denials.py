"""The denial matrix: each agency principal against every action it is not granted, on a real
secured broker, each cell expecting Kafka's exact refusal (error type and error code).

Issue 9's quick chaos run covers the matrix, so it lives here, where the harness runs it
against the brokers it starts (:func:`run_matrix`); the tests run each cell as a test of its
own (``tests/test_security.py``). The table (:data:`CELLS`) and the formatting are pure; the
actions, :func:`set_up` and :func:`run_matrix` talk to the broker.

Every action is tried on a hub of the matrix's own (:func:`set_up`) with the ACLs the real
services get (``broker.access.hub_acls``). The cells are:

- the controls: each principal writes its raw topic and reads its deliver topic in its own
  group. A login that does not work would make every refusal cell pass for the wrong reason;
  the controls fail then;
- the refusals: each principal tries what it is not granted; fr and fra collide on a prefix
  and try each other's topics and groups, both ways;
- a principal with a login and no ACLs gets nothing;
- a failed login (wrong password, unknown user, a mechanism the broker does not enable) is
  refused before any request.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from aiokafka import TopicPartition
from aiokafka.admin import NewTopic
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
    TransactionalIdAuthorizationFailed,
    UnsupportedSaslMechanismError,
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

from broker.access import HubNames, agency_acls, agency_group, hub_acls, principal
from broker.errors import AccessAdminError, ChaosError
from broker.kafka_clients import new_admin, new_consumer, new_producer, security_options
from broker.models import NoticeType
from broker.settings import Settings
from broker.topics import TopicNames, ensure_declared_topics
from ops.acls import admin_config, apply_acls, upsert_scram_users

GRANTED = ("agency-a", "agency-b", "fr", "fra")
"""The agencies of the matrix's hub, each with its ACLs."""
PRINCIPALS = ("agency-a", "fr", "fra")
"""The agency principals the matrix logs in as: each against every action it is not granted."""
OTHER = {"agency-a": "agency-b", "fr": "fra", "fra": "fr"}
"""The agency each one tries to act as: fr and fra collide on a prefix, both ways."""
STRANGER = "stranger"
"""A user with a login and no ACLs."""
MATRIX_USERS = (*GRANTED, STRANGER)
"""The users a broker needs for the matrix (``start_kafka(..., agencies=MATRIX_USERS)``):
agency-b is only acted against, but it is an agency of the hub like the others."""

ALLOWED = "allowed"
"""What a cell observes when its action succeeds: a control's due, a refusal cell's leak."""

_WAIT = 60.0
"""Seconds a reader waits for the one record of a topic."""
_CELL_TIMEOUT = 2 * _WAIT
"""A cell that hangs (a leak that waits for records, a broker gone) still ends, as a failure."""
_LOGGED_CODE = re.compile(r"\[Error (-?\d+)\]")

Login = Callable[[str, str | None], Settings]
"""A user's settings on the cluster under test, logged in with its own password or with the
one given (to try a wrong one)."""


@dataclass(frozen=True)
class Hub:
    """The matrix's hub: its settings (the super user's, with the hub's topic prefix) and the
    names its ACLs were derived from."""

    settings: Settings
    names: HubNames

    @property
    def topics(self) -> TopicNames:
        return self.names.topics


@dataclass(frozen=True)
class Attempt:
    """One principal, logged in, about to act."""

    hub: Hub
    agency: str
    settings: Settings

    @property
    def other(self) -> str:
        return OTHER[self.agency]

    @property
    def topics(self) -> TopicNames:
        return self.hub.topics


Act = Callable[[Attempt], Awaitable[object]]
Credentials = Callable[[Login, str], Settings]
"""How a cell's principal logs in, given the cluster's logins."""


def _own_password(login: Login, user: str) -> Settings:
    return login(user, None)


@dataclass(frozen=True)
class Refusal:
    """The error a refused action raises, and Kafka's error code inside it (none for a refusal
    that is silence, :class:`Unlisted`)."""

    error: type[Exception]
    code: int | None

    def __str__(self) -> str:
        name = self.error.__name__
        return name if self.code is None else f"{name} ({self.code})"


class Unlisted(Exception):
    """Kafka's refusal to list a topic: a listing names only the topics the principal may
    describe, and says nothing of the others."""


@dataclass(frozen=True)
class Cell:
    """One principal, one action, and what the broker must answer: ``refusal``, or, for a
    control (``refusal`` None), success."""

    principal: str
    action: str
    act: Act
    refusal: Refusal | None
    credentials: Credentials = _own_password
    """How the principal logs in: with its own password, but in the cells about a failed
    login."""

    @property
    def id(self) -> str:
        return f"{self.principal}: {self.action}"

    @property
    def expected(self) -> str:
        return ALLOWED if self.refusal is None else str(self.refusal)

    def attempt(self, hub: Hub, login: Login) -> Attempt:
        return Attempt(hub, self.principal, self.credentials(login, self.principal))


@dataclass(frozen=True)
class DenialCell:
    """What one cell observed on the broker: the error type and code raised, or ``allowed``."""

    principal: str
    action: str
    expected: str
    observed: str
    ok: bool
    seconds: float


def code_of(error: BaseException, logged: Iterable[str] = ()) -> int | None:
    """Kafka's error code of an aiokafka error, a confluent-kafka one, or ours wrapping one.

    aiokafka gives up a failed login with KafkaConnectionError, which does not carry the
    broker's answer: that is only in what aiokafka ``logged`` meanwhile.
    """
    if isinstance(error, AccessAdminError) and isinstance(error.__cause__, KafkaException):
        error = error.__cause__
    if isinstance(error, KafkaException):
        code: int = error.args[0].code()
        return code
    if isinstance(error, KafkaConnectionError):
        found = (_LOGGED_CODE.search(line) for line in logged)
        return next((int(match[1]) for match in found if match), None)
    errno = getattr(error, "errno", None)
    return errno if isinstance(errno, int) else None


def observed(error: Exception, logged: Iterable[str] = ()) -> str:
    """An error as a cell observes it, in the form of :attr:`Cell.expected`."""
    return str(Refusal(type(error), code_of(error, logged)))


def format_cell(cell: DenialCell) -> str:
    """One line of a report; a refusal cell whose action succeeded is called what it is."""
    verdict = "ok" if cell.ok else "LEAK" if cell.observed == ALLOWED else "FAIL"
    return (
        f"{verdict:4} {cell.principal:9} {cell.action}: expected {cell.expected}, "
        f"observed {cell.observed} ({cell.seconds:.2f} s)"
    )


# --- the actions ------------------------------------------------------------------------------


def _seeded(topic: str) -> bytes:
    """The one record :func:`set_up` writes to each deliver topic."""
    return f"for {topic}".encode()


async def write(settings: Settings, topic: str, value: bytes = b"from a liaison system") -> None:
    producer = new_producer(settings, role="denial-matrix")
    try:
        await producer.start()
        await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


async def read_one(settings: Settings, topic: str, group_id: str | None) -> bytes | None:
    """The first record of ``topic``, committed in ``group_id`` when there is a group."""
    consumer = new_consumer(settings, topic, group_id=group_id, role="denial-matrix")
    try:
        await consumer.start()
        record = await asyncio.wait_for(consumer.getone(), _WAIT)
        if group_id is not None:
            await consumer.commit()
        value: bytes | None = record.value
        return value
    finally:
        await consumer.stop()


async def _read_own_deliveries(attempt: Attempt) -> None:
    """In its own group, committing: the record must be the one the set-up wrote."""
    deliver = attempt.topics.deliver(attempt.agency)
    value = await read_one(attempt.settings, deliver, agency_group(attempt.topics, attempt.agency))
    if value != _seeded(deliver):
        raise ChaosError(f"{deliver} held {value!r}, not the record the set-up wrote")


def _writing(topic: Callable[[Attempt], str]) -> Act:
    return lambda attempt: write(attempt.settings, topic(attempt))


def _prefixed(name: str) -> Callable[[Attempt], str]:
    return lambda attempt: attempt.topics.prefix + name


async def _join_group(attempt: Attempt, group: str) -> None:
    """Subscribe to the agency's own deliver topic in ``group``, and read."""
    await read_one(attempt.settings, attempt.topics.deliver(attempt.agency), group)


async def _commit_in_group(attempt: Attempt, group: str) -> None:
    """Commit an offset in ``group`` without joining it, as a reader with assigned partitions
    does: offsets of the agency's own topic, which it may read."""
    consumer = new_consumer(attempt.settings, group_id=group, role="denial-matrix")
    partition = TopicPartition(attempt.topics.deliver(attempt.agency), 0)
    try:
        await consumer.start()
        consumer.assign([partition])
        await consumer.commit({partition: 1})
    finally:
        await consumer.stop()


async def _transactional_producer(attempt: Attempt, transactional_id: str) -> None:
    producer = new_producer(
        attempt.settings, role="denial-matrix", transactional_id=transactional_id
    )
    try:
        await producer.start()
    finally:
        await producer.stop()


def _distributor_transactional_id(attempt: Attempt) -> str:
    """What the distributor names its producer of a notices partition."""
    notices = attempt.topics.notices(NoticeType.WANTED_PERSON)
    return f"{attempt.hub.names.distributor_group}.{notices}.0"


async def _create_topic(attempt: Attempt) -> None:
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


def _confluent_admin(
    attempt: Attempt, call: Callable[[AdminClient], Future[Any]]
) -> Awaitable[Any]:
    """The result of one confluent-kafka AdminClient call, logged in as the agency (its calls
    block, so in a thread); a refusal raises its KafkaException."""

    def run() -> Any:
        with AdminClient(
            admin_config(attempt.settings), logger=logging.getLogger(__name__)
        ) as admin:
            return call(admin).result(timeout=_WAIT)

    return asyncio.to_thread(run)


async def _delete_audit_records(attempt: Attempt) -> None:
    """Sent to a broker as is: through an admin client (aiokafka's or confluent-kafka's) the
    request never leaves the client, whose metadata, as the agency may see it, names no leader
    of the audit topic. Any broker checks the principal before it looks for the leader."""
    client = AIOKafkaClient(
        bootstrap_servers=attempt.settings.bootstrap_servers,
        client_id="denial-matrix",
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


def _alter_audit_retention(attempt: Attempt) -> Awaitable[Any]:
    audit = ConfigResource(
        ResourceType.TOPIC,
        attempt.topics.audit,
        incremental_configs=[
            ConfigEntry("retention.ms", "1", incremental_operation=AlterConfigOpType.SET)
        ],
    )
    return _confluent_admin(attempt, lambda admin: admin.incremental_alter_configs([audit])[audit])


async def _grant_itself(attempt: Attempt) -> None:
    """What the agency would need to read another's deliveries, as ACLs on itself."""
    bindings = [
        dataclasses.replace(binding, principal=principal(attempt.agency))
        for binding in agency_acls(
            [attempt.other], attempt.topics, hub_user=attempt.hub.settings.sasl_username or ""
        )
    ]
    await asyncio.to_thread(apply_acls, attempt.settings, bindings)


async def _add_user(attempt: Attempt) -> None:
    await asyncio.to_thread(
        upsert_scram_users, attempt.settings, {f"{attempt.agency}-2": secrets.token_urlsafe(24)}
    )


async def _list_hub_topics(attempt: Attempt) -> None:
    """Succeeds, a leak, if the listing names any topic of the hub."""
    consumer = new_consumer(attempt.settings, group_id=None, role="denial-matrix")
    await consumer.start()
    try:
        visible = await consumer.topics()
    finally:
        await consumer.stop()
    if not any(topic.startswith(attempt.topics.prefix) for topic in visible):
        raise Unlisted(f"no topic named {attempt.topics.prefix}* is listed")


# --- the table --------------------------------------------------------------------------------


def _aiokafka_refusal(error: type[KafkaError]) -> Refusal:
    return Refusal(error, int(error.errno))


TOPIC_DENIED = _aiokafka_refusal(TopicAuthorizationFailedError)
GROUP_DENIED = _aiokafka_refusal(GroupAuthorizationFailedError)
TRANSACTIONAL_ID_DENIED = _aiokafka_refusal(TransactionalIdAuthorizationFailed)
PRODUCER_ID_DENIED = _aiokafka_refusal(ClusterAuthorizationFailedError)
ADMIN_TOPIC_DENIED = Refusal(KafkaException, ConfluentError.TOPIC_AUTHORIZATION_FAILED)
CLUSTER_DENIED = Refusal(AccessAdminError, ConfluentError.CLUSTER_AUTHORIZATION_FAILED)
NOT_LISTED = Refusal(Unlisted, None)
BAD_CREDENTIALS = Refusal(KafkaConnectionError, SaslAuthenticationFailed.errno)
"""The broker's answer to a wrong password and to an unknown user alike: it does not say
which users exist."""
UNSUPPORTED_MECHANISM = Refusal(KafkaConnectionError, UnsupportedSaslMechanismError.errno)
"""Its answer to the SASL handshake, before any credential is sent (PLAIN's included)."""

HUB_TOPICS = [spec.name for spec in TopicNames().declared(agencies=())]
"""The hub's own topics, unprefixed: notices.<type>, the DLQ, the audit trail, the ledger ..."""

_ACTIONS: list[tuple[str, Act, Refusal]] = [
    (
        "read deliver.<other>",
        lambda a: read_one(a.settings, a.topics.deliver(a.other), agency_group(a.topics, a.agency)),
        TOPIC_DENIED,
    ),
    (
        "read deliver.<own> in group deliver.<other>",
        lambda a: _join_group(a, agency_group(a.topics, a.other)),
        GROUP_DENIED,
    ),
    ("write raw.<other>", _writing(lambda a: a.topics.raw(a.other)), TOPIC_DENIED),
    ("write deliver.<own>", _writing(lambda a: a.topics.deliver(a.agency)), TOPIC_DENIED),
    ("write deliver.<other>", _writing(lambda a: a.topics.deliver(a.other)), TOPIC_DENIED),
    *((f"write {name}", _writing(_prefixed(name)), TOPIC_DENIED) for name in HUB_TOPICS),
    ("read notices.audit", lambda a: read_one(a.settings, a.topics.audit, None), TOPIC_DENIED),
    (
        "join group <distributor>",
        lambda a: _join_group(a, a.hub.names.distributor_group),
        GROUP_DENIED,
    ),
    (
        "commit offsets in group <distributor>",
        lambda a: _commit_in_group(a, a.hub.names.distributor_group),
        GROUP_DENIED,
    ),
    (
        "join group <distributor>-embargo",
        lambda a: _join_group(a, a.hub.names.embargo_group),
        GROUP_DENIED,
    ),
    (
        "init transactional id <distributor>.<topic>.<partition>",
        lambda a: _transactional_producer(a, _distributor_transactional_id(a)),
        TRANSACTIONAL_ID_DENIED,
    ),
    ("DeleteRecords notices.audit", _delete_audit_records, TOPIC_DENIED),
    ("IncrementalAlterConfigs notices.audit", _alter_audit_retention, ADMIN_TOPIC_DENIED),
    ("CreateTopics <agency>.own", _create_topic, TOPIC_DENIED),
    ("CreateAcls", _grant_itself, CLUSTER_DENIED),
    ("AlterUserScramCredentials", _add_user, CLUSTER_DENIED),
]
"""What an agency is not granted, and Kafka's refusal of each."""

_WRITE_OWN_RAW = _writing(lambda a: a.topics.raw(a.agency))

CONTROL_CELLS = [
    cell
    for agency in PRINCIPALS
    for cell in (
        Cell(agency, "write raw.<own>", _WRITE_OWN_RAW, None),
        Cell(agency, "read deliver.<own> in group deliver.<own>", _read_own_deliveries, None),
    )
]
"""What each principal is granted: it must succeed, or its refusals prove nothing."""

DENIAL_CELLS = [
    *(Cell(agency, name, act, refusal) for agency in PRINCIPALS for name, act, refusal in _ACTIONS),
    Cell(STRANGER, "list the hub's topics", _list_hub_topics, NOT_LISTED),
    Cell(
        STRANGER,
        "read deliver.agency-a",
        lambda a: read_one(a.settings, a.topics.deliver("agency-a"), None),
        TOPIC_DENIED,
    ),
    # An idempotent producer needs WRITE on some topic before it may get a producer id at all.
    Cell(
        STRANGER,
        "write raw.agency-a",
        _writing(lambda a: a.topics.raw("agency-a")),
        PRODUCER_ID_DENIED,
    ),
]
"""Each agency principal against what it is not granted; the stranger against anything."""


def _offering(mechanism: str) -> Credentials:
    """The user's own password, offered with ``mechanism``."""
    return lambda login, user: login(user, None).model_copy(update={"sasl_mechanism": mechanism})


def _as_unknown_user(login: Login, user: str) -> Settings:
    """The user's own password, under a name the broker does not know."""
    unknown = f"nobody-{uuid.uuid4().hex[:6]}"
    return login(user, None).model_copy(update={"sasl_username": unknown})


LOGIN_CELLS = [
    Cell(
        "agency-a",
        "write raw.<own> with a wrong password",
        _WRITE_OWN_RAW,
        BAD_CREDENTIALS,
        lambda login, user: login(user, secrets.token_urlsafe(24)),
    ),
    Cell(
        "agency-a",
        "write raw.<own> as an unknown user",
        _WRITE_OWN_RAW,
        BAD_CREDENTIALS,
        _as_unknown_user,
    ),
    *(
        Cell(
            "agency-a",
            f"write raw.<own> offering {mechanism}",
            _WRITE_OWN_RAW,
            UNSUPPORTED_MECHANISM,
            _offering(mechanism),
        )
        for mechanism in ("SCRAM-SHA-256", "PLAIN")
    ),
]
"""A failed login: refused before any request, whatever the request."""

CELLS = [*CONTROL_CELLS, *DENIAL_CELLS, *LOGIN_CELLS]
"""The whole matrix, controls first."""


# --- running it -------------------------------------------------------------------------------


async def set_up(hub: Settings) -> Hub:
    """A hub of the matrix's own on the cluster the super user ``hub`` logs in to: a unique
    topic prefix and distributor group, every topic, the ACLs the real services get (agencies'
    and services', derived by ``hub_acls``), and one record in each deliver topic."""
    settings = hub.model_copy(
        update={
            "topic_prefix": f"d{uuid.uuid4().hex[:10]}.",
            "agencies": dict.fromkeys(GRANTED),
        }
    )
    names = HubNames.of(settings, distributor_group=f"dist-{uuid.uuid4().hex[:8]}")
    await ensure_declared_topics(settings, GRANTED)
    bindings = hub_acls(GRANTED, names, hub_user=settings.sasl_username or "")
    await asyncio.to_thread(apply_acls, settings, bindings)
    for agency in GRANTED:
        deliver = names.topics.deliver(agency)
        await write(settings, deliver, _seeded(deliver))
    return Hub(settings, names)


async def run_matrix(hub: Settings, login: Login) -> list[DenialCell]:
    """Every cell of :data:`CELLS`, one after the other, on a hub :func:`set_up` makes with the
    super user ``hub``; the principals log in through ``login``."""
    own = await set_up(hub)
    return [await _run_cell(cell, own, login) for cell in CELLS]


async def _run_cell(cell: Cell, hub: Hub, login: Login) -> DenialCell:
    started = time.monotonic()
    with _aiokafka_errors() as logged:
        try:
            async with asyncio.timeout(_CELL_TIMEOUT):
                await cell.act(cell.attempt(hub, login))
        except Exception as error:  # every error is an observation, the cell's verdict
            seen = observed(error, logged)
        else:
            seen = ALLOWED
    return DenialCell(
        cell.principal,
        cell.action,
        cell.expected,
        seen,
        seen == cell.expected,
        time.monotonic() - started,
    )


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextlib.contextmanager
def _aiokafka_errors() -> Iterator[list[str]]:
    """The ERROR lines aiokafka logs meanwhile, where it puts the broker's answer to a failed
    login (:func:`code_of`). A logger silenced below ERROR (as the command line does) is let
    through at ERROR for the while, to this handler only, so the silence still holds."""
    logger = logging.getLogger("aiokafka")
    handler = _Lines()
    level, propagate = logger.level, logger.propagate
    if not logger.isEnabledFor(logging.ERROR):
        logger.setLevel(logging.ERROR)
        logger.propagate = False
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
