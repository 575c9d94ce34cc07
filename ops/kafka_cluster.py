"""A real three-node Apache Kafka cluster on loopback, for the chaos harness to break.

One node (``ops.local_kafka``) cannot lose a replica, elect a new leader or move a
coordinator; three can, with the guarantees production relies on: replication factor 3 and
``min.insync.replicas`` 2, so an ``acks=all`` write survives one node down and is refused with
two. Each node is the single broker of ``ops.local_kafka`` (same jars, same SCRAM users and
ACL authorizer, same log and readiness handling) in KRaft combined mode, told its node id and
the three voters; every node's storage is formatted with one cluster id and the same users.

Faults are the operating system's own: SIGKILL (a crash: no controlled shutdown, though what
the JVM wrote survives in the page cache, unlike after a power loss), SIGSTOP/SIGCONT (a
stall: GC pause, frozen VM; the node misses heartbeats but keeps its sockets), SIGTERM (a
clean, controlled shutdown). A node comes back on the same storage and ports, as a restarted
pod would.

Everything a run leaves stays in ``data_dir``: ``node-N/`` holds a node's storage,
configuration and log (earlier runs' logs beside it as ``broker.log.1``, ``.2``, ...), and
``credentials.json`` the users' passwords. Process control is synchronous; what asks the
cluster (coordinators, leaders, ISR) is ``async``, as the harness's clients are.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiokafka.errors import KafkaError

from broker.access import SERVICE_USERS, check_agency_ids
from broker.errors import BrokerStartError, LocalKafkaError
from broker.kafka_clients import new_admin
from broker.settings import Settings
from ops.acls import upsert_scram_users
from ops.kafka_jars import KAFKA_VERSION, fetch_kafka
from ops.local_kafka import (
    _CONFIG_FILE,
    _LOG_DIRS,
    _LOG_FILE,
    _TLS_DIR,
    HUB_USER,
    Credentials,
    LocalKafka,
    _format_storage,
    _is_formatted,
    _java_command,
    _last_words,
    _read_credentials,
    _server_properties,
    _spawn,
    _write_credentials,
    _write_private,
    login_settings,
    new_cluster_id,
)
from ops.processes import POLL_SECONDS, free_ports, require_tool
from ops.tls import TlsFiles, ensure_tls

T = TypeVar("T")

REPLICATION_FACTOR = 3
MIN_INSYNC_REPLICAS = 2

_TRANSACTION_COORDINATOR = 1
_GROUP_COORDINATOR = 0
_REQUEST_TIMEOUT_MS = 5000
_QUORUM_TOOL = "org.apache.kafka.tools.MetadataQuorumCommand"
_SIGNAL_SECONDS = 5.0


def _cluster_overrides(node_id: int, voters: str, nodes: int) -> dict[str, str]:
    """Replication as production has it, capped by the number of nodes so that a smaller
    cluster still starts (its internal topics could never be created otherwise)."""
    replicas = str(min(REPLICATION_FACTOR, nodes))
    min_isr = str(min(MIN_INSYNC_REPLICAS, nodes))
    return {
        "node.id": str(node_id),
        "controller.quorum.voters": voters,
        "default.replication.factor": replicas,
        "min.insync.replicas": min_isr,
        "offsets.topic.replication.factor": replicas,
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": min_isr,
        "share.coordinator.state.topic.replication.factor": replicas,
        "share.coordinator.state.topic.min.isr": min_isr,
        "num.partitions": "3",
    }


@dataclass
class Node:
    """One broker-and-controller JVM of a :class:`KafkaCluster`, on fixed ports and storage.

    Mutable on purpose: it is the same node across kills and restarts, with a new process
    each time.
    """

    node_id: int
    data_dir: Path
    port: int
    controller_port: int
    agency_port: int
    _java: str = field(repr=False)
    _libs: Path = field(repr=False)
    _heap: str = field(repr=False)
    _version: str = field(repr=False)
    _kafka: LocalKafka | None = field(default=None, repr=False)

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def agency_bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.agency_port}"

    @property
    def controller_address(self) -> str:
        return f"127.0.0.1:{self.controller_port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / _LOG_FILE

    @property
    def pid(self) -> int | None:
        return self._kafka.pid if self._kafka is not None else None

    def is_running(self) -> bool:
        """True for a paused node too: it is alive, only not scheduled."""
        return self._kafka is not None and self._kafka.is_running()

    def exit_code(self) -> int | None:
        process = self._kafka._process if self._kafka is not None else None
        return process.poll() if process is not None else None

    def is_paused(self) -> bool:
        """Read from ``/proc`` rather than remembered, so a SIGCONT from elsewhere shows."""
        if self._kafka is None:
            return False
        try:
            stat = Path(f"/proc/{self._kafka.pid}/stat").read_text()
        except OSError:
            return False
        # The command name (in parentheses) may hold spaces; the state follows it.
        return stat.rpartition(")")[2].split()[0] == "T"

    def start(self) -> None:
        """Spawn the node on its storage and ports and return at once: a node cannot answer
        before a majority of voters runs, so readiness is :meth:`KafkaCluster.wait_until_ready`.
        """
        if self.is_running():
            raise LocalKafkaError(f"node {self.node_id} already runs (pid {self.pid})")
        self._keep_previous_log()
        self._kafka = _spawn(
            self._java,
            self._libs,
            self.data_dir,
            self.port,
            self.controller_port,
            self.agency_port,
            self._heap,
            self._version,
        )

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would; returns once the process is gone."""
        if self._kafka is None or self._kafka._process is None or not self.is_running():
            return
        self._kafka._process.kill()
        self._kafka._process.wait()

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM: a controlled shutdown that hands leadership over first. A paused node is
        resumed, or the signal would wait for it forever."""
        if self._kafka is None:
            return
        self.resume()
        self._kafka.stop(timeout)

    def pause(self) -> None:
        """SIGSTOP, returning once every thread has stopped: the signal is delivered
        asynchronously, and a harness step after "pause" must meet a frozen node."""
        self._signal(signal.SIGSTOP)
        self._wait_for_pause(paused=True)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)
        self._wait_for_pause(paused=False)

    def _wait_for_pause(self, *, paused: bool) -> None:
        deadline = time.monotonic() + _SIGNAL_SECONDS
        while self.is_running() and self.is_paused() != paused:
            if time.monotonic() >= deadline:
                state = "stop" if paused else "continue"
                raise LocalKafkaError(
                    f"node {self.node_id} (pid {self.pid}) did not {state} "
                    f"within {_SIGNAL_SECONDS:g} s"
                )
            time.sleep(0.01)

    def last_words(self) -> list[str]:
        """The current run's errors and log tail, for an error that says why it failed."""
        return _last_words(self._kafka) if self._kafka is not None else []

    def _signal(self, signum: signal.Signals) -> None:
        if self._kafka is not None and self.is_running():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._kafka.pid, signum)

    def _keep_previous_log(self) -> None:
        """A restart would truncate the log of the run before it, which is the one a chaos
        run needs to explain a crash."""
        if not self.log_path.exists():
            return
        runs = 1
        while (earlier := self.log_path.with_name(f"{_LOG_FILE}.{runs}")).exists():
            runs += 1
        self.log_path.rename(earlier)


@dataclass
class KafkaCluster:
    """Nodes started by :func:`start_cluster`, with what the harness asks of them."""

    data_dir: Path
    cluster_id: str
    nodes: tuple[Node, ...]

    @property
    def bootstrap_servers(self) -> str:
        """Every node, so a client still bootstraps with any of them down."""
        return ",".join(node.bootstrap_servers for node in self.nodes)

    def credentials(self) -> Credentials:
        return _read_credentials(self.data_dir)

    @property
    def agency_bootstrap_servers(self) -> str:
        return ",".join(node.agency_bootstrap_servers for node in self.nodes)

    @property
    def tls(self) -> TlsFiles:
        """One CA and one certificate for every node: they all listen on 127.0.0.1."""
        return TlsFiles(self.data_dir / _TLS_DIR)

    def client_settings(self, base: Settings | None = None, *, user: str = HUB_USER) -> Settings:
        """``base`` pointed at every node and logged in as ``user``, as
        :meth:`ops.local_kafka.LocalKafka.client_settings`: an agency over TLS on the agency
        listeners, the hub and its services on the internal ones."""
        return login_settings(
            base,
            self.credentials(),
            user,
            internal=self.bootstrap_servers,
            agency=self.agency_bootstrap_servers,
            ca_cert=self.tls.ca_cert,
            where=f"the cluster in {self.data_dir}",
        )

    def node(self, node_id: int) -> Node:
        for node in self.nodes:
            if node.node_id == node_id:
                return node
        raise LocalKafkaError(f"the cluster in {self.data_dir} has no node {node_id}")

    def stop(self, timeout: float = 30) -> None:
        """In parallel: each controlled shutdown takes seconds, and a chaos run tears clusters
        down often."""
        with ThreadPoolExecutor(max_workers=len(self.nodes)) as workers:
            for stopped in [workers.submit(node.stop, timeout) for node in self.nodes]:
                stopped.result()

    async def wait_until_ready(self, *nodes: Node, within: float = 60) -> None:
        """Until each node (every node by default) answers the hub and the cluster lists it
        as an unfenced broker: a node that merely listens may still be catching up."""
        deadline = time.monotonic() + within
        for node in nodes or self.nodes:
            while not await self._is_listed(node):
                if not node.is_running():
                    code = node.exit_code()
                    raise BrokerStartError(
                        f"node {node.node_id} exited with code {code} before answering",
                        log_lines=node.last_words(),
                    )
                if time.monotonic() >= deadline:
                    raise BrokerStartError(
                        f"node {node.node_id} not ready on {node.bootstrap_servers} "
                        f"within {within:g} s",
                        log_lines=node.last_words(),
                    )
                await asyncio.sleep(POLL_SECONDS)

    async def transaction_coordinator(self, transactional_id: str, within: float = 30) -> Node:
        """The node whose ``__transaction_state`` partition owns ``transactional_id``: killing
        it makes a producer find a new coordinator mid-transaction."""
        return await self._coordinator(transactional_id, _TRANSACTION_COORDINATOR, within)

    async def group_coordinator(self, group_id: str, within: float = 30) -> Node:
        return await self._coordinator(group_id, _GROUP_COORDINATOR, within)

    async def partition_leader(self, topic: str, partition: int, within: float = 30) -> Node:
        """Retried while the partition has no leader, as during an election."""

        async def leader() -> Node | None:
            for described in await self._describe_topics([topic]):
                for part in described["partitions"]:
                    if part["partition"] == partition and part["leader"] >= 0:
                        return self.node(part["leader"])
            return None

        return await self._until(leader, f"a leader of {topic}[{partition}]", within)

    async def wait_for_full_isr(self, within: float = 60) -> None:
        """Until every partition of every topic (internal ones too) has a leader and all its
        replicas in sync: the point where a rolling bounce may take the next node down."""

        async def full() -> bool | None:
            for described in await self._describe_topics(None):
                for part in described["partitions"]:
                    if part["leader"] < 0 or set(part["isr"]) != set(part["replicas"]):
                        return None
            return True

        await self._until(full, "every partition in sync", within)

    def active_controller(self) -> Node:
        """The KRaft quorum's leader, which metadata cannot tell: a KRaft broker reports a
        random broker as "controller". Asked of the controllers with Kafka's own
        ``kafka-metadata-quorum`` tool (a JVM start: about two seconds)."""
        running = [node.controller_address for node in self.nodes if node.is_running()]
        reference = self.nodes[0]
        command = _java_command(
            reference._java,
            reference._libs,
            _QUORUM_TOOL,
            "--bootstrap-controller",
            ",".join(running),
            "describe",
            "--status",
        )
        result = subprocess.run(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
        )
        for line in result.stdout.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "LeaderId" and result.returncode == 0:
                return self.node(int(value))
        raise LocalKafkaError(
            f"kafka-metadata-quorum named no leader of the quorum on {','.join(running)} "
            f"(exit code {result.returncode}):\n{result.stdout}"
        )

    async def _is_listed(self, node: Node) -> bool:
        """Bootstrapping through ``node`` alone proves it answers; the broker list, from
        whichever node the admin asks next, proves the controller has unfenced it. The port
        is tried first only to spare the log aiokafka's line for every refused connection."""
        try:
            socket.create_connection(("127.0.0.1", node.port), timeout=1).close()
        except OSError:
            return False
        hub = self.client_settings().model_copy(
            update={"bootstrap_servers": node.bootstrap_servers}
        )
        admin = new_admin(hub, request_timeout_ms=_REQUEST_TIMEOUT_MS)
        try:
            await admin.start()
            cluster = await admin.describe_cluster()
        except (KafkaError, OSError):
            return False
        finally:
            await admin.close()
        return node.node_id in {broker["node_id"] for broker in cluster["brokers"]}

    async def _coordinator(self, key: str, coordinator_type: int, within: float) -> Node:
        async def find() -> Node:
            return self.node(
                await self._with_admin(lambda admin: admin.find_coordinator(key, coordinator_type))
            )

        return await self._until(find, f"the coordinator of {key!r}", within)

    async def _describe_topics(self, topics: list[str] | None) -> list[dict[str, Any]]:
        """aiokafka's metadata as dicts: ``partitions`` of ``partition``, ``leader`` (-1 for
        none), ``replicas`` and ``isr`` (node ids)."""
        described: list[dict[str, Any]] = await self._with_admin(
            lambda admin: admin.describe_topics(topics)
        )
        return described

    async def _with_admin(self, call: Callable[..., Awaitable[T]]) -> T:
        admin = new_admin(self.client_settings(), request_timeout_ms=_REQUEST_TIMEOUT_MS)
        try:
            await admin.start()
            return await call(admin)
        finally:
            await admin.close()

    async def _until(
        self, attempt: Callable[[], Awaitable[T | None]], what: str, within: float
    ) -> T:
        """Retriable Kafka errors (no coordinator yet, leader moving, node gone) are the
        normal state during a fault, so they mean "not yet", as ``None`` does."""
        deadline = time.monotonic() + within
        last_error: KafkaError | None = None
        while True:
            try:
                if (result := await attempt()) is not None:
                    return result
            except KafkaError as error:
                if not error.retriable:
                    raise
                last_error = error
            if time.monotonic() >= deadline:
                cause = f" (last error: {last_error})" if last_error else ""
                raise LocalKafkaError(
                    f"no {what} in the cluster in {self.data_dir} within {within:g} s{cause}"
                )
            await asyncio.sleep(POLL_SECONDS)


def start_cluster(
    data_dir: Path,
    *,
    nodes: int = 3,
    agencies: Iterable[str] = (),
    version: str = KAFKA_VERSION,
    heap: str = "384m",
    timeout: float = 90,
) -> KafkaCluster:
    """Start ``nodes`` nodes with a SCRAM user per hub service and per agency, and return once
    every node serves the hub.

    As with :func:`ops.local_kafka.start_kafka`, storage in ``data_dir`` is kept and reused
    (cluster id, topics, users); ports are fresh on each call and kept by each node across
    its restarts. If any node fails to come up, every node is stopped and the error carries
    the failing node's log.
    """
    agencies = check_agency_ids(agencies, hub_user=HUB_USER)
    java = require_tool(
        "java",
        "a Java 17+ runtime (e.g. `apt-get install openjdk-17-jre-headless`)",
        needed_by="the local Kafka cluster",
        error=LocalKafkaError,
    )
    libs = fetch_kafka(version)
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    node_dirs = [data_dir / f"node-{node_id}" for node_id in range(1, nodes + 1)]
    formatted = [d for d in node_dirs if _is_formatted(d / _LOG_DIRS)]
    known = _read_credentials(data_dir) if formatted else Credentials({})
    credentials = known.with_users([HUB_USER, *SERVICE_USERS, *agencies])
    _write_credentials(data_dir, credentials)
    cluster_id = _cluster_id(formatted[0] / _LOG_DIRS) if formatted else new_cluster_id()
    tls = ensure_tls(data_dir / _TLS_DIR)
    ports = iter(free_ports(3 * nodes))
    members = [
        Node(i, node_dir, next(ports), next(ports), next(ports), java, libs, heap, version)
        for i, node_dir in enumerate(node_dirs, start=1)
    ]
    voters = ",".join(f"{node.node_id}@{node.controller_address}" for node in members)
    for node in members:
        node.data_dir.mkdir(exist_ok=True)
        properties = _server_properties(
            node.data_dir,
            node.port,
            node.controller_port,
            credentials.hub_password,
            overrides=_cluster_overrides(node.node_id, voters, nodes),
            agency=(node.agency_port, tls),
        )
        _write_private(node.data_dir / _CONFIG_FILE, properties)
    cluster = KafkaCluster(data_dir, cluster_id, tuple(members))
    # Formats are separate JVMs of a few seconds each; side by side they take the time of one.
    with ThreadPoolExecutor(max_workers=nodes) as workers:
        formats = [
            workers.submit(
                _format_storage,
                java,
                libs,
                node.data_dir / _CONFIG_FILE,
                node.data_dir / _LOG_DIRS,
                credentials,
                cluster_id,
            )
            for node in members
        ]
        for done in formats:
            done.result()
    try:
        for node in members:
            node.start()
        _run(cluster.wait_until_ready(within=timeout))
        if formatted and (fresh := set(credentials.passwords) - set(known.passwords)):
            upsert_scram_users(
                cluster.client_settings(), {user: credentials.passwords[user] for user in fresh}
            )
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _cluster_id(log_dir: Path) -> str:
    """A formatted node's cluster id, so that a node whose format was interrupted joins the
    same cluster as its formatted peers."""
    for line in (log_dir / "meta.properties").read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "cluster.id":
            return value.strip()
    raise LocalKafkaError(f"{log_dir}/meta.properties names no cluster.id")


def _run(coroutine: Awaitable[T]) -> T:
    """In a thread of its own, so that a caller already inside an event loop (an async test,
    the harness) can start a cluster as it can start a single broker."""

    async def run() -> T:
        return await coroutine

    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, run()).result()
