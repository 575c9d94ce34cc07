"""ops/kafka_cluster.py: three real nodes that keep acks=all transactions going with one of
them killed, take it back on its own storage, and stall, not die, when paused."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.admin import NewTopic
from aiokafka.errors import KafkaConnectionError

from broker.errors import BrokerStartError
from broker.kafka_clients import new_admin, new_consumer, new_producer
from broker.settings import Settings
from ops.kafka_cluster import KafkaCluster, start_cluster

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

TOPIC = "cluster-smoke"
PARTITIONS = 3
TRANSACTIONAL_ID = "cluster-smoke-tx"
GROUP = "cluster-smoke-reader"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    started = time.monotonic()
    running = start_cluster(tmp_path_factory.mktemp("cluster"))
    print(f"3-node cluster up in {time.monotonic() - started:.1f} s")
    try:
        yield running
    finally:
        running.stop()
    assert not any(node.is_running() for node in running.nodes)


async def _create_topic(hub: Settings) -> None:
    admin = new_admin(hub)
    await admin.start()
    try:
        topic = NewTopic(TOPIC, PARTITIONS, 3, topic_configs={"min.insync.replicas": "2"})
        await admin.create_topics([topic])
    finally:
        await admin.close()


async def _read_committed(hub: Settings, count: int) -> list[bytes]:
    consumer = new_consumer(hub, TOPIC, group_id=GROUP, role="cluster-reader")
    await consumer.start()
    values: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            while len(values) < count:
                batches = await consumer.getmany(timeout_ms=1000)
                values += [bytes(r.value or b"") for rs in batches.values() for r in rs]
        await consumer.commit()
    finally:
        await consumer.stop()
    return values


async def test_transactions_go_on_with_a_node_killed_which_then_rejoins(
    cluster: KafkaCluster,
) -> None:
    hub = cluster.client_settings()
    await _create_topic(hub)
    producer = new_producer(hub, role="cluster-tx", transactional_id=TRANSACTIONAL_ID)
    await producer.start()
    try:
        async with producer.transaction():
            for partition in range(PARTITIONS):
                await producer.send_and_wait(TOPIC, b"before-%d" % partition, partition=partition)
        assert await cluster.transaction_coordinator(TRANSACTIONAL_ID) in cluster.nodes

        victim = await cluster.partition_leader(TOPIC, 0)
        victim.kill()
        assert not victim.is_running()
        killed = time.monotonic()
        # acks=all with min ISR 2 still holds with two of three nodes; the victim's partitions
        # wait for the controller to fence it (broker.session.timeout.ms) and elect leaders.
        async with asyncio.timeout(60), producer.transaction():
            for partition in range(PARTITIONS):
                await producer.send_and_wait(TOPIC, b"during-%d" % partition, partition=partition)
        print(f"a transaction over all partitions {time.monotonic() - killed:.1f} s after kill")
        assert (await cluster.partition_leader(TOPIC, 0)) is not victim
        assert cluster.active_controller() is not victim
    finally:
        await producer.stop()

    values = await _read_committed(hub, 2 * PARTITIONS)
    assert sorted(values) == sorted(
        [b"%s-%d" % (phase, p) for phase in (b"before", b"during") for p in range(PARTITIONS)]
    )
    assert await cluster.group_coordinator(GROUP) in cluster.nodes

    restarted = time.monotonic()
    victim.start()
    await cluster.wait_until_ready(victim)
    ready = time.monotonic() - restarted
    await cluster.wait_for_full_isr()
    print(f"restart: ready in {ready:.1f} s, full ISR in {time.monotonic() - restarted:.1f} s")
    # The crashed run's log is kept beside the new one.
    assert (victim.data_dir / "broker.log.1").is_file()
    assert victim.log_path.is_file()


async def test_a_paused_node_stalls_without_dying_and_resumes(cluster: KafkaCluster) -> None:
    node = cluster.nodes[-1]
    node.pause()
    try:
        assert node.is_running() and node.is_paused()
        alone = cluster.client_settings().model_copy(
            update={"bootstrap_servers": node.bootstrap_servers}
        )
        # The kernel still accepts its connections; the JVM answers nothing, so the login
        # times out rather than being refused.
        admin = new_admin(alone, request_timeout_ms=2000)
        with pytest.raises(KafkaConnectionError):
            await asyncio.wait_for(admin.start(), 10)
        await admin.close()
    finally:
        node.resume()
    assert not node.is_paused()
    await cluster.wait_until_ready(node)
    await cluster.wait_for_full_isr()


def test_a_cleanly_stopped_node_comes_back(cluster: KafkaCluster) -> None:
    """SIGTERM is a controlled shutdown: leadership moves first, so nothing waits on it."""
    node = cluster.nodes[0]
    started = time.monotonic()
    node.stop()
    stopped = time.monotonic() - started
    assert not node.is_running() and node.exit_code() is not None
    node.start()

    async def rejoin() -> None:
        await cluster.wait_until_ready(node)
        await cluster.wait_for_full_isr()

    asyncio.run(rejoin())
    print(f"clean stop {stopped:.1f} s, back with full ISR {time.monotonic() - started:.1f} s")


def _processes_in(folder: Path) -> list[int]:
    """Every process whose command line names ``folder``: the nodes' JVMs name their config."""
    marker = str(folder).encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker in (proc / "cmdline").read_bytes():
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


def test_a_cluster_that_cannot_start_reports_a_node_log_and_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    with pytest.raises(BrokerStartError) as failure:
        start_cluster(tmp_path / "cluster", heap="1k")

    assert "exited" in failure.value.reason
    assert any("heap" in line for line in failure.value.log_lines)
    assert _processes_in(tmp_path) == []
