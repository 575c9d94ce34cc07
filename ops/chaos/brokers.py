"""The brokers a chaos run stands on, behind one small interface the fault rows drive."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from broker.settings import Settings
from ops.chaos.denials import MATRIX_USERS
from ops.kafka_cluster import KafkaCluster, start_cluster
from ops.local_kafka import LocalKafka, start_kafka
from ops.processes import POLL_SECONDS, free_ports
from ops.tcp_proxy import TcpProxy


class Brokers(Protocol):
    name: str

    @property
    def nodes(self) -> int: ...

    def hub(self) -> Settings:
        """The hub's login (a super user): the harness's own clients and the services'."""
        ...

    def login(self, user: str, password: str | None = None) -> Settings:
        """``user`` logged in where it connects (a hub service on the hub's listener, an
        agency over TLS), with ``password`` in place of its own when given, to try a wrong
        one."""
        ...

    async def kill(self, node: int) -> None:
        """SIGKILL broker ``node`` (0-based) and wait until it is gone."""
        ...

    async def restart(self, node: int) -> None:
        """Start broker ``node`` again on its storage and ports; return once it answers."""
        ...

    def pause(self, node: int) -> None:
        """SIGSTOP: the process stays, its sockets stay open, nothing answers."""
        ...

    def resume(self, node: int) -> None: ...

    def stop(self) -> None: ...


def _with_password(settings: Settings, password: str | None) -> Settings:
    if password is None:
        return settings
    return settings.model_copy(update={"sasl_password": SecretStr(password)})


class SingleBroker:
    """The single-node secured broker the tests use, in a data folder of the run's own."""

    name = "single node"

    def __init__(
        self, data_dir: Path, *, port: int | None = None, advertised_port: int | None = None
    ) -> None:
        self.data_dir = data_dir
        self._advertised_port = advertised_port
        self.kafka: LocalKafka = start_kafka(
            data_dir, port=port, advertised_port=advertised_port, agencies=MATRIX_USERS
        )

    @property
    def nodes(self) -> int:
        return 1

    def hub(self) -> Settings:
        return self.kafka.client_settings()

    def login(self, user: str, password: str | None = None) -> Settings:
        return _with_password(self.kafka.client_settings(user=user), password)

    async def kill(self, node: int) -> None:
        await asyncio.to_thread(self._kill)

    def _kill(self) -> None:
        os.kill(self.kafka.pid, signal.SIGKILL)
        while self.kafka.is_running():
            time.sleep(POLL_SECONDS)

    async def restart(self, node: int) -> None:
        """On the same ports: the clients' bootstrap list and metadata still name them."""
        self.kafka = await asyncio.to_thread(
            start_kafka,
            self.data_dir,
            port=self.kafka.port,
            agency_port=self.kafka.agency_port,
            advertised_port=self._advertised_port,
        )

    def pause(self, node: int) -> None:
        os.kill(self.kafka.pid, signal.SIGSTOP)

    def resume(self, node: int) -> None:
        os.kill(self.kafka.pid, signal.SIGCONT)

    def stop(self) -> None:
        self.resume(0)
        self.kafka.stop()


class ThreeNodes:
    """A 3-node KRaft cluster (replication factor 3, min.insync.replicas 2)."""

    name = "3 nodes"

    def __init__(self, data_dir: Path) -> None:
        self.cluster: KafkaCluster = start_cluster(data_dir, nodes=3)

    @property
    def nodes(self) -> int:
        return len(self.cluster.nodes)

    def hub(self) -> Settings:
        return self.cluster.client_settings()

    def login(self, user: str, password: str | None = None) -> Settings:
        return _with_password(self.cluster.client_settings(user=user), password)

    async def kill(self, node: int) -> None:
        await asyncio.to_thread(self.cluster.nodes[node].kill)

    async def restart(self, node: int) -> None:
        target = self.cluster.nodes[node]
        await asyncio.to_thread(target.start)
        await self.cluster.wait_until_ready(target, within=120)

    def pause(self, node: int) -> None:
        self.cluster.nodes[node].pause()

    def resume(self, node: int) -> None:
        self.cluster.nodes[node].resume()

    def stop(self) -> None:
        for node in self.cluster.nodes:
            if node.is_paused():
                node.resume()
        self.cluster.stop()

    async def group_coordinator(self, group_id: str) -> int:
        """The index of the node coordinating ``group_id``, for a row that kills it."""
        return self.cluster.nodes.index(await self.cluster.group_coordinator(group_id))

    async def transaction_coordinator(self, transactional_id: str) -> int:
        node = await self.cluster.transaction_coordinator(transactional_id)
        return self.cluster.nodes.index(node)

    async def bounce(self, node: int) -> None:
        """Stop node ``node`` cleanly (its leaderships handed over first), start it again, and
        return once every partition has all its replicas in sync again: the point where a
        rolling bounce may take the next node down."""
        target = self.cluster.nodes[node]
        await asyncio.to_thread(target.stop)
        await asyncio.to_thread(target.start)
        await self.cluster.wait_until_ready(target, within=120)
        await self.cluster.wait_for_full_isr(within=120)


class ProxiedBroker(SingleBroker):
    """A single node that every client reaches through a loopback :class:`TcpProxy`: the
    broker advertises the proxy's port, so clients come back through it after metadata, and
    the network faults the proxy makes (delays, resets, a blackhole) meet every connection.

    The harness's own readers go through the proxy too: the broker advertises one address on
    its hub listener. A reader held up by a fault only delays when progress is seen, by the
    time it takes to reconnect, never what the verdict counts.
    """

    name = "single node behind a TCP proxy"

    def __init__(self, data_dir: Path) -> None:
        (port,) = free_ports(1)
        self.proxy = TcpProxy("127.0.0.1", port).start()
        try:
            super().__init__(data_dir, port=port, advertised_port=self.proxy.port)
        except BaseException:
            self.proxy.stop()
            raise

    def hub(self) -> Settings:
        return self._proxied(super().hub())

    def login(self, user: str, password: str | None = None) -> Settings:
        return self._proxied(super().login(user, password))

    def _proxied(self, settings: Settings) -> Settings:
        """Bootstrapping through the proxy too: a client starting during a fault meets it.
        An agency's login stays on the agency listener, which the proxy is not in front of."""
        if settings.bootstrap_servers != self.kafka.bootstrap_servers:
            return settings
        return settings.model_copy(update={"bootstrap_servers": self.proxy.address})

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            self.proxy.stop()
