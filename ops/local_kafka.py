"""A real single-node Apache Kafka broker for development and tests, without Docker.

The broker runs from the official jars (``ops.kafka_jars``) as a plain ``java`` process in
KRaft combined mode (broker and controller in one JVM). Tests then talk to the same Kafka the
service will meet in production rather than to a fake, and nothing needs a container engine.

It is secured as the hub's cluster is: clients log in with SASL/SCRAM-SHA-512 and the KRaft
StandardAuthorizer denies whatever no ACL allows. ``User:hub`` is a super user (administration:
users, ACLs, topics; and the broker's own inter-broker login); each hub service
(``broker.access.SERVICE_USERS``) and each agency gets a user of its own, and :func:`grant`
gives them the ACLs ``broker.access`` derives, through ``ops.acls``. The controller listener
stays PLAINTEXT on 127.0.0.1, where Kafka names its peer ``User:ANONYMOUS``, so that principal
is a super user too: it is how the broker half of this one JVM talks to its controller half.

Agencies connect on a listener of their own, ``AGENCY``: SASL_SSL with the same SCRAM logins,
its certificate signed by a CA made for this data folder (``ops.tls``, in ``tls/``; agencies
verify the broker against ``tls/ca.pem``), so a plaintext client is refused there. The hub and
its services stay on ``CLIENT`` (SASL_PLAINTEXT on 127.0.0.1): they run beside the broker, their
traffic never leaves the loopback, and the hub's inter-broker login and the readiness probe
then need no CA. A deployment whose services reach Kafka across a network gives them TLS too.

The passwords are generated when the storage is formatted and belong to it: they are kept in
``credentials.json`` (mode 0600) beside the storage, outlive a stop, and serve every restart.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr
from tenacity import retry, retry_if_exception_type, stop_after_attempt

from broker.access import SERVICE_USERS, AclBinding, HubNames, check_agency_ids, hub_acls
from broker.errors import BrokerStartError, LocalKafkaError
from broker.kafka_clients import new_admin
from broker.settings import Settings
from ops.acls import apply_acls, upsert_scram_users
from ops.kafka_jars import KAFKA_VERSION, default_cache_dir, fetch_kafka
from ops.processes import (
    POLL_SECONDS,
    free_ports,
    is_our_process,
    log_tail,
    require_tool,
    stop_process,
)
from ops.tls import TlsFiles, ensure_tls

log = logging.getLogger(__name__)

LOG4J_CONFIG = Path(__file__).resolve().parent / "kafka" / "log4j2.properties"

_STATE_FILE = "broker.json"
_CREDENTIALS_FILE = "credentials.json"
_LOG_FILE = "broker.log"
_CONFIG_FILE = "server.properties"
_LOG_DIRS = "logs"
_LOG_ENTRY = re.compile(r"^\[[^\]]+\] (?P<level>[A-Z]+) ")
_STACK_FRAME = re.compile(r"^\s+(at |\.\.\. \d+ more)")
_LOG_SCAN_LINES = 5000
_MAX_ERROR_LINES = 40
_TAIL_LINES = 20
_PROBE_TIMEOUT_MS = 3000
_CLIENT_LISTENER = "CLIENT"
_PROTOCOL = "SASL_PLAINTEXT"
_AGENCY_LISTENER = "AGENCY"
_AGENCY_PROTOCOL = "SASL_SSL"
_TLS_DIR = "tls"
_MECHANISM = "SCRAM-SHA-512"

HUB_USER = "hub"


def default_data_dir(cache_dir: Path | None = None) -> Path:
    """One well-known place lets ``start`` and ``stop`` run as separate CLI invocations."""
    return (cache_dir or default_cache_dir()) / "run" / "kafka"


@dataclass(frozen=True)
class Credentials:
    """The SCRAM users of one broker's storage, with passwords: the hub's, its services' and
    the agencies'."""

    passwords: Mapping[str, str]

    @property
    def hub_password(self) -> str:
        return self.passwords[HUB_USER]

    @property
    def agencies(self) -> list[str]:
        return sorted(user for user in self.passwords if user not in {HUB_USER, *SERVICE_USERS})

    def with_users(self, users: Iterable[str]) -> Credentials:
        """These credentials plus a fresh password for each user that has none yet."""
        fresh = {user: _new_password() for user in users if user not in self.passwords}
        return Credentials({**self.passwords, **fresh})


def _new_password() -> str:
    """URL-safe characters only: no ',', '=' or ']' to break a ``--add-scram`` spec."""
    return secrets.token_urlsafe(24)


def _read_credentials(data_dir: Path) -> Credentials:
    try:
        passwords = json.loads((data_dir / _CREDENTIALS_FILE).read_text())["passwords"]
    except FileNotFoundError:
        raise LocalKafkaError(
            f"{data_dir} holds Kafka storage but no {_CREDENTIALS_FILE}: it was formatted "
            "before the broker had SCRAM users, or the file was deleted, so nobody can log in; "
            "delete the folder to start afresh"
        ) from None
    return Credentials(dict(passwords))


def _write_credentials(data_dir: Path, credentials: Credentials) -> None:
    text = json.dumps({"passwords": dict(credentials.passwords)}, indent=2) + "\n"
    _write_private(data_dir / _CREDENTIALS_FILE, text)


def _write_private(path: Path, text: str) -> None:
    """Readable by the owner only (passwords), and atomic, so a reader never parses half a file.

    The explicit chmod covers a partial file left, with other permissions, by a crash.
    """
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(text)
    partial.replace(path)


@dataclass(frozen=True)
class LocalKafka:
    """A broker started by :func:`start_kafka`, or found again by :func:`load_running`.

    A handle found through the state file has no ``Popen`` object; it recognises its broker
    by pid and command line instead.
    """

    data_dir: Path
    port: int
    controller_port: int
    agency_port: int
    pid: int
    log_path: Path
    version: str = KAFKA_VERSION
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def agency_bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.agency_port}"

    @property
    def tls(self) -> TlsFiles:
        return TlsFiles(self.data_dir / _TLS_DIR)

    @property
    def config_path(self) -> Path:
        return self.data_dir / _CONFIG_FILE

    @property
    def credentials_path(self) -> Path:
        return self.data_dir / _CREDENTIALS_FILE

    def credentials(self) -> Credentials:
        """Read each time: ``add_agencies`` in another process may have added users."""
        return _read_credentials(self.data_dir)

    def client_settings(self, base: Settings | None = None, *, user: str = HUB_USER) -> Settings:
        """``base`` pointed at this broker and logged in as ``user`` (the hub by default):
        an agency on the agency listener over TLS, verifying the broker against this folder's
        CA; the hub and its services on the internal listener.

        Without ``base``, the defaults: not ``Settings()``, so that a stray ``NOTICES_``
        variable in the caller's environment cannot break starting or probing the broker.
        """
        return login_settings(
            base,
            self.credentials(),
            user,
            internal=self.bootstrap_servers,
            agency=self.agency_bootstrap_servers,
            ca_cert=self.tls.ca_cert,
            where=f"the broker in {self.data_dir}",
        )

    def log_tail(self, n: int = 80) -> list[str]:
        return log_tail(self.log_path, n)

    def is_running(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return is_our_process(self.pid, os.fsencode(self.config_path))

    def stop(self, timeout: float = 30) -> None:
        stop_process(self.pid, self.is_running, timeout)
        (self.data_dir / _STATE_FILE).unlink(missing_ok=True)


def login_settings(
    base: Settings | None,
    credentials: Credentials,
    user: str,
    *,
    internal: str,
    agency: str,
    ca_cert: Path,
    where: str,
) -> Settings:
    """``base`` logged in as ``user`` of a local broker or cluster: an agency over TLS on the
    agency listeners, verifying them against ``ca_cert``; the hub and its services on the
    internal ones."""
    passwords = credentials.passwords
    if user not in passwords:
        raise LocalKafkaError(f"{where} has no user {user!r}")
    is_agency = user not in {HUB_USER, *SERVICE_USERS}
    return (base or Settings.model_construct()).model_copy(
        update={
            "bootstrap_servers": agency if is_agency else internal,
            "security_protocol": _AGENCY_PROTOCOL if is_agency else _PROTOCOL,
            "sasl_mechanism": _MECHANISM,
            "sasl_username": user,
            "sasl_password": SecretStr(passwords[user]),
            "ssl_cafile": ca_cert if is_agency else None,
        }
    )


def load_running(data_dir: Path) -> LocalKafka | None:
    """Find the broker another process started in ``data_dir``, if it is still alive."""
    data_dir = data_dir.resolve()
    try:
        state = json.loads((data_dir / _STATE_FILE).read_text())
    except FileNotFoundError:
        return None
    kafka = LocalKafka(
        data_dir=data_dir,
        port=int(state["port"]),
        controller_port=int(state["controller_port"]),
        agency_port=int(state["agency_port"]),
        pid=int(state["pid"]),
        log_path=Path(state["log_path"]),
        version=str(state["version"]),
    )
    return kafka if kafka.is_running() else None


def start_kafka(
    data_dir: Path,
    *,
    port: int | None = None,
    agency_port: int | None = None,
    advertised_port: int | None = None,
    agencies: Iterable[str] = (),
    version: str = KAFKA_VERSION,
    heap: str = "512m",
    timeout: float = 60,
) -> LocalKafka:
    """Start a broker with a SCRAM user per hub service and per agency, and return once the
    hub can log in.

    The data dir keeps its storage between runs: a second start on it reuses the topics, the
    cluster id and the users with their passwords; users new to it (agencies, or services a
    storage formatted by an older version lacks) are added through the Admin API once it runs.
    The broker runs in its own session, so a Ctrl-C meant for the caller does not reach it; if
    anything interrupts the start itself, the half-started broker is stopped. ACLs are not set
    here: they name topics and consumer groups, whose names are the hub's settings (:func:`grant`).
    """
    agencies = check_agency_ids(agencies, hub_user=HUB_USER)
    java = require_tool(
        "java",
        "a Java 17+ runtime (e.g. `apt-get install openjdk-17-jre-headless`)",
        needed_by="the local Kafka broker",
        error=LocalKafkaError,
    )
    libs = fetch_kafka(version)
    data_dir = data_dir.resolve()
    if (running := load_running(data_dir)) is not None:
        raise LocalKafkaError(
            f"a broker (pid {running.pid}) already runs in {data_dir} on "
            f"{running.bootstrap_servers}; stop it first"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    port, controller_port, agency_port = _ports(port, agency_port)
    tls = ensure_tls(data_dir / _TLS_DIR)
    log_dir = data_dir / _LOG_DIRS
    if _is_formatted(log_dir):
        credentials = _read_credentials(data_dir)
    else:
        credentials = Credentials({}).with_users([HUB_USER, *SERVICE_USERS, *agencies])
        _write_credentials(data_dir, credentials)
    config = data_dir / _CONFIG_FILE
    properties = _server_properties(
        data_dir,
        port,
        controller_port,
        credentials.hub_password,
        advertised_port=advertised_port,
        agency=(agency_port, tls),
    )
    _write_private(config, properties)
    _format_storage(java, libs, config, log_dir, credentials)
    kafka = _spawn(java, libs, data_dir, port, controller_port, agency_port, heap, version)
    try:
        _write_state(kafka)
        _wait_until_ready(kafka, timeout)
        _add_users(kafka, [*SERVICE_USERS, *agencies])
    except BaseException:
        kafka.stop()
        raise
    return kafka


def add_agencies(kafka: LocalKafka, agencies: Iterable[str]) -> Credentials:
    """Set each agency's password from the credentials file on the running broker, making one
    for an agency that has none; return every credential.

    The file is written first and the broker is always told, even of a password it should
    already have: a failure between the two leaves a file the next call brings the broker in
    line with, never a user whose password nobody knows.
    """
    return _add_users(kafka, check_agency_ids(agencies, hub_user=HUB_USER))


def _add_users(kafka: LocalKafka, users: list[str]) -> Credentials:
    known = kafka.credentials()
    credentials = known.with_users(users)
    if credentials != known:
        _write_credentials(kafka.data_dir, credentials)
    upsert_scram_users(kafka.client_settings(), {u: credentials.passwords[u] for u in users})
    return credentials


def grant(kafka: LocalKafka, names: HubNames) -> list[AclBinding]:
    """Give every agency user of the broker, and every hub service, its ACLs for the hub that
    ``names`` describes (topic prefix, service groups); return them. Bindings that exist are
    left as they are, so this serves a restart and an added agency alike."""
    bindings = hub_acls(kafka.credentials().agencies, names, hub_user=HUB_USER)
    apply_acls(kafka.client_settings(), bindings)
    return bindings


def _is_formatted(log_dir: Path) -> bool:
    return (log_dir / "meta.properties").is_file()


def _server_properties(
    data_dir: Path,
    port: int,
    controller_port: int,
    hub_password: str,
    *,
    advertised_port: int | None = None,
    overrides: Mapping[str, str] | None = None,
    agency: tuple[int, TlsFiles] | None = None,
) -> str:
    """Holds the hub's password (the broker's own login), so it is written for the owner only.

    ``agency`` adds the agencies' TLS listener on that port with that key and CA.

    ``advertised_port`` sends clients elsewhere than the broker's own port (a fault-injecting
    proxy in front of it); ``overrides`` turn this single node into one of a cluster
    (``ops.kafka_cluster``: node id, voters, replication).
    """
    client = _CLIENT_LISTENER
    jaas = (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{HUB_USER}" password="{hub_password}";'
    )
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
        "listeners": f"{client}://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"{client}://127.0.0.1:{advertised_port or port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": client,
        "listener.security.protocol.map": f"{client}:{_PROTOCOL},CONTROLLER:PLAINTEXT",
        "sasl.enabled.mechanisms": _MECHANISM,
        "sasl.mechanism.inter.broker.protocol": _MECHANISM,
        f"listener.name.{client.lower()}.{_MECHANISM.lower()}.sasl.jaas.config": jaas,
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{HUB_USER};User:ANONYMOUS",
        "log.dirs": str(data_dir / _LOG_DIRS),
        "num.partitions": "1",
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        **(overrides or {}),
    }
    if agency is not None:
        settings |= _agency_listener(settings, *agency, jaas=jaas)
    lines = [f"{key}={value}" for key, value in settings.items()]
    return "# Written by ops/local_kafka.py on every start.\n" + "\n".join(lines) + "\n"


def _agency_listener(
    settings: Mapping[str, str], port: int, tls: TlsFiles, *, jaas: str
) -> dict[str, str]:
    """``settings`` with the AGENCY listener added: SASL_SSL, the same SCRAM users, and the
    broker's key and certificate and the CA as PEM files (Kafka reads PEM stores, KIP-651).

    Every SASL listener needs a JAAS entry of its mechanism's login module, even one the broker
    never logs in from. No client certificates are asked for: agencies log in with SCRAM.
    """
    name = _AGENCY_LISTENER
    prefix = f"listener.name.{name.lower()}"
    protocols = settings["listener.security.protocol.map"]
    return {
        "listeners": f"{settings['listeners']},{name}://127.0.0.1:{port}",
        "advertised.listeners": f"{settings['advertised.listeners']},{name}://127.0.0.1:{port}",
        "listener.security.protocol.map": f"{protocols},{name}:{_AGENCY_PROTOCOL}",
        f"{prefix}.{_MECHANISM.lower()}.sasl.jaas.config": jaas,
        f"{prefix}.ssl.keystore.type": "PEM",
        f"{prefix}.ssl.keystore.location": str(tls.keystore),
        f"{prefix}.ssl.truststore.type": "PEM",
        f"{prefix}.ssl.truststore.location": str(tls.ca_cert),
        f"{prefix}.ssl.client.auth": "none",
    }


def _ports(port: int | None, agency_port: int | None) -> tuple[int, int, int]:
    """The client, controller and agency ports: those given, free ones for the rest, all
    found at once so that no two coincide."""
    free = iter(free_ports(3))
    return port or next(free), next(free), agency_port or next(free)


def new_cluster_id() -> str:
    """What ``kafka-storage random-uuid`` prints, without starting a JVM for it. A cluster's
    nodes share one, since each node's storage is formatted on its own."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()


def _java_command(java: str, libs: Path, *args: str, heap: str | None = None) -> list[str]:
    memory = [f"-Xmx{heap}"] if heap else []
    return [
        java,
        *memory,
        "-cp",
        f"{libs}/*",
        f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
        *args,
    ]


@retry(
    stop=stop_after_attempt(2),
    retry=retry_if_exception_type(BrokerStartError),
    before_sleep=lambda state: log.warning("retrying the storage format: %s", state.outcome),
    reraise=True,
)
def _format_storage(
    java: str,
    libs: Path,
    config: Path,
    log_dir: Path,
    credentials: Credentials,
    cluster_id: str | None = None,
) -> None:
    """KRaft refuses unformatted storage; formatted storage is kept so a restart keeps its data.

    The SCRAM users go into the storage's first metadata, so the hub can log in the moment the
    broker listens. (``--ignore-formatted`` is no help on a restart: it still insists on the
    cluster id it was given.) Tried twice: one test session here saw the format tool exit 1
    once on a fresh folder, which 25 formats under load did not reproduce; a second failure is
    reported as it is.
    """
    if _is_formatted(log_dir):
        return
    # Without meta.properties nothing here is usable storage: only a failed format's leftovers.
    shutil.rmtree(log_dir, ignore_errors=True)
    cluster_id = cluster_id or new_cluster_id()
    users = [
        arg
        for user, password in sorted(credentials.passwords.items())
        for arg in ("--add-scram", f"{_MECHANISM}=[name={user},password={password}]")
    ]
    command = _java_command(
        java, libs, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config), *users
    )
    result = subprocess.run(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
    )
    if result.returncode != 0:
        raise BrokerStartError(
            f"formatting the storage in {log_dir} failed (exit code {result.returncode})",
            log_lines=result.stdout.splitlines(),
        )


def _spawn(
    java: str,
    libs: Path,
    data_dir: Path,
    port: int,
    controller_port: int,
    agency_port: int,
    heap: str,
    version: str,
) -> LocalKafka:
    log_path = data_dir / _LOG_FILE
    command = _java_command(java, libs, "kafka.Kafka", str(data_dir / _CONFIG_FILE), heap=heap)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=data_dir,
            start_new_session=True,
        )
    return LocalKafka(
        data_dir=data_dir,
        port=port,
        controller_port=controller_port,
        agency_port=agency_port,
        pid=process.pid,
        log_path=log_path,
        version=version,
        _process=process,
    )


def _write_state(kafka: LocalKafka) -> None:
    state = {
        "pid": kafka.pid,
        "port": kafka.port,
        "controller_port": kafka.controller_port,
        "bootstrap_servers": kafka.bootstrap_servers,
        "agency_port": kafka.agency_port,
        "agency_bootstrap_servers": kafka.agency_bootstrap_servers,
        "ca_file": str(kafka.tls.ca_cert),
        "version": kafka.version,
        "log_path": str(kafka.log_path),
    }
    _write_private(kafka.data_dir / _STATE_FILE, json.dumps(state, indent=2) + "\n")


def _wait_until_ready(kafka: LocalKafka, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not _answers(kafka):
        if not kafka.is_running():
            code = kafka._process.returncode if kafka._process else None
            raise BrokerStartError(
                f"the broker exited with code {code} before answering",
                log_lines=_last_words(kafka),
            )
        if time.monotonic() >= deadline:
            raise BrokerStartError(
                f"no answer on {kafka.bootstrap_servers} within {timeout:g} s",
                log_lines=_last_words(kafka),
            )
        time.sleep(POLL_SECONDS)


def _last_words(kafka: LocalKafka) -> list[str]:
    """A fatal startup error comes a few hundred lines of orderly shutdown before the end of
    the log, so its ERROR entries (stack frames left out) lead and the plain tail follows."""
    lines = kafka.log_tail(_LOG_SCAN_LINES)
    errors = _error_entries(lines)[:_MAX_ERROR_LINES]
    if not errors:
        return lines[-_TAIL_LINES * 4 :]
    return [*errors, "[...]", *lines[-_TAIL_LINES:]]


def _error_entries(lines: list[str]) -> list[str]:
    kept: list[str] = []
    in_error = False
    for line in lines:
        if entry := _LOG_ENTRY.match(line):
            in_error = entry["level"] in {"ERROR", "FATAL"}
        elif _STACK_FRAME.match(line):
            continue
        if in_error:
            kept.append(line)
    return kept


def _answers(kafka: LocalKafka) -> bool:
    """An open port is not a ready broker; a metadata answer listing a broker is.

    The port is tried first only to spare the caller's log aiokafka's error line for every
    refused connection. The probe runs its own event loop in a worker thread, so callers
    that already run an event loop (async tests and fixtures) can use :func:`start_kafka`.
    """
    try:
        socket.create_connection(("127.0.0.1", kafka.port), timeout=1).close()
    except OSError:
        return False
    hub = kafka.client_settings()
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, _probe(hub)).result()


async def _probe(hub: Settings) -> bool:
    """As the hub, so a ready broker is one whose SCRAM login works too."""
    admin = new_admin(hub, request_timeout_ms=_PROBE_TIMEOUT_MS)
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
    except Exception:
        return False
    finally:
        await admin.close()
    return bool(cluster["brokers"])
