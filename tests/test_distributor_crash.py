"""The distributor killed mid-batch (SIGKILL) and restarted: every delivery exactly once.

A read_committed reader watches every deliver topic and the audit topic while the service
runs as its own process; after the kill and a restart, each expected (notice, recipient)
delivery has arrived once, none missing and none twice, and the audit trail has one record
per decision and verifies.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from broker import models as m
from broker.audit_trail import verify_topic
from broker.policy.decision import Outcome, decide
from broker.policy.profiles import load_policy
from broker.settings import Settings
from broker.topics import TopicNames, ensure_declared_topics
from tests.conftest import REPO_ROOT
from tests.kafka_helpers import WAIT, committed_reader, until
from tests.test_distributor import AGENCIES, POLICY, notice, publish

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

NOTICES = 240


def workload() -> list[m.NoticeEnvelope]:
    """Notices whose markings spread them unevenly over the three agencies."""
    shapes: list[dict[str, Any]] = [
        {},
        {"tlp": m.Tlp.RED, "releasable_to": ["agency-c", "agency-a"]},
        {"tlp": m.Tlp.CLEAR, "releasable_to": []},
        {"level": m.Level.SECRET},
    ]
    return [notice(f"crash-{i}", **shapes[i % len(shapes)]) for i in range(NOTICES)]


async def watch(settings: Settings, topics: list[str], seen: Counter[tuple[str, str]]) -> None:
    consumers = [committed_reader(settings, topic) for topic in topics]
    for consumer in consumers:
        await consumer.start()
    try:
        while True:
            for consumer in consumers:
                for records in (await consumer.getmany(timeout_ms=100)).values():
                    for record in records:
                        if record.topic.endswith("notices.audit"):
                            audit = orjson.loads(record.value or b"")
                            seen[("audit", f"{audit['notice_id']}>{audit['recipient']}")] += 1
                        else:
                            agency = record.topic.rsplit("deliver.", 1)[1]
                            seen[("deliver", f"{(record.key or b'').decode()}>{agency}")] += 1
    finally:
        for consumer in consumers:
            await consumer.stop()


async def start_distributor(
    settings: Settings, policy: Path, group: str
) -> asyncio.subprocess.Process:
    env = {**os.environ, **settings.to_env(), "NOTICES_BATCH_MAX_RECORDS": "10"}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "broker.cli",
        "distribute",
        "--policy",
        str(policy),
        "--group",
        group,
        cwd=REPO_ROOT,
        env=env,
    )


async def test_a_killed_distributor_neither_loses_nor_duplicates_a_delivery(
    settings: Settings, tmp_path: Path
) -> None:
    policy_file = tmp_path / "policy.yml"
    policy_file.write_text(yaml.safe_dump(POLICY.model_dump(mode="json")))
    assert load_policy(policy_file) == POLICY
    topics = TopicNames(settings.topic_prefix)
    await ensure_declared_topics(settings, AGENCIES)
    notices = workload()
    await publish(settings, *notices)
    now = dt.datetime.now(dt.UTC)
    expected = {
        f"{n.notice_id}>{r.agency_id}"
        for n in notices
        for r in POLICY.recipients
        if decide(n, r, now, POLICY).outcome is Outcome.DELIVER
    }
    decisions = NOTICES * len(AGENCIES)

    seen: Counter[tuple[str, str]] = Counter()
    watched = [topics.audit, *(topics.deliver(a) for a in AGENCIES)]
    reader = asyncio.create_task(watch(settings, watched, seen))

    def audited() -> int:
        return sum(count for (kind, _), count in seen.items() if kind == "audit")

    group = f"dist-{uuid.uuid4().hex[:8]}"
    first = await start_distributor(settings, policy_file, group)
    try:
        await until(lambda: audited() >= decisions // 5, "the first decisions")
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    await asyncio.sleep(2)
    before_restart = audited()

    second = await start_distributor(settings, policy_file, group)
    try:
        await until(lambda: audited() >= decisions, f"all {decisions} decisions")
        await asyncio.sleep(3)  # room for a late duplicate to show up
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), WAIT)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader

    print(f"killed after {before_restart} of {decisions} decisions were committed")
    assert before_restart < decisions, "the kill must land before the work was done"
    duplicated = {key: count for key, count in seen.items() if count > 1}
    assert duplicated == {}
    delivered = {key for kind, key in seen if kind == "deliver"}
    assert delivered == expected
    report = await verify_topic(settings)
    assert report.ok, report.faults
    assert report.records == decisions
