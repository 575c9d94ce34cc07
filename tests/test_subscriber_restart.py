"""A subscriber killed before it commits reads the uncommitted notices again after restart."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from pathlib import Path

import pytest

from broker.kafka_clients import new_admin, new_producer
from broker.models import MsgType
from broker.publisher import NoticePublisher
from broker.settings import Settings
from broker.topics import TopicNames, ensure_declared_topics
from tests.conftest import REPO_ROOT
from tests.kafka_helpers import SERDE, WAIT, receive
from tests.samples import sample_notice

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


async def publish_versions(settings: Settings, notice_id: str, count: int) -> None:
    """``count`` versions of one notice: one partition, a known order."""
    producer = new_producer(settings, role="test-publisher")
    await producer.start()
    try:
        publisher = NoticePublisher(producer, SERDE, TopicNames(settings.topic_prefix))
        for version in range(1, count + 1):
            msg_type = MsgType.ALERT if version == 1 else MsgType.UPDATE
            await publisher.publish(sample_notice(notice_id, version=version, msg_type=msg_type))
    finally:
        await producer.stop()


def read_lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


async def wait_for_lines(path: Path, count: int, process: asyncio.subprocess.Process) -> list[str]:
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        lines = await asyncio.to_thread(read_lines, path)
        if len(lines) >= count:
            return lines
        assert process.returncode is None, "the subscriber process exited on its own"
        assert asyncio.get_running_loop().time() < deadline, f"sink saw only {lines}"
        await asyncio.sleep(0.1)


async def test_notices_not_committed_before_a_kill_are_read_again(
    settings: Settings, tmp_path: Path
) -> None:
    notice_id = f"restart-{uuid.uuid4().hex[:6]}"
    group_id = f"agency-{uuid.uuid4().hex[:6]}"
    await ensure_declared_topics(settings)
    await publish_versions(settings, notice_id, 5)

    seen_file = tmp_path / "seen.txt"
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "NOTICES_TOPIC_PREFIX": settings.topic_prefix,
    }
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "tests.hanging_subscriber", str(seen_file), group_id, "3"),
        cwd=REPO_ROOT,
        env=env,
    )
    try:
        before_kill = await wait_for_lines(seen_file, 3, process)
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    assert before_kill == [f"{notice_id} {v}" for v in (1, 2, 3)]

    again = await receive(settings, 5, group_id=group_id)
    assert [(n.notice_id, n.version) for n in again] == [(notice_id, v) for v in range(1, 6)]

    admin = new_admin(settings)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group_id)
    finally:
        await admin.close()
    assert [meta.offset for meta in committed.values()] == [5], "all five committed after the sink"
