"""The distributor against the real broker: shares, recall, embargo across a restart, audit.

Each agency's deliver topic is read back with a read_committed reader, and must hold exactly
the notices its profile allows; every decision is in the audit trail, which verifies.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaProducer

from broker import models as m
from broker.audit_trail import verify_topic
from broker.distributor import RELEASE_AT_HEADER, DistributorService
from broker.embargo import EmbargoReleaser
from broker.kafka_clients import new_producer
from broker.policy.profiles import GroupDefinition, Policy, RecipientProfile
from broker.publisher import NoticePublisher
from broker.settings import Settings
from broker.topics import TopicNames, ensure_declared_topics
from tests.kafka_helpers import SERDE, committed, read_records, running, until
from tests.samples import sample_notice

pytestmark = pytest.mark.kafka

POLICY = Policy(
    groups={"EU": GroupDefinition(description="EU")},
    recipients=(
        RecipientProfile(
            agency_id="agency-a", country="DE", clearance=m.Level.SECRET, groups=("EU",)
        ),
        RecipientProfile(
            agency_id="agency-b", country="FR", clearance=m.Level.RESTRICTED, groups=("EU",)
        ),
        RecipientProfile(agency_id="agency-c", country="US", clearance=m.Level.SECRET),
    ),
)
AGENCIES = ["agency-a", "agency-b", "agency-c"]


def notice(
    notice_id: str,
    *,
    version: int = 1,
    msg_type: m.MsgType = m.MsgType.ALERT,
    **classification: object,
) -> m.NoticeEnvelope:
    base = sample_notice(notice_id, version=version, msg_type=msg_type)
    return base.model_copy(
        update={"classification": base.classification.model_copy(update=classification)}
    )


def distributor(
    settings: Settings, group: str, clock: Callable[[], dt.datetime] | None = None
) -> DistributorService:
    extra = {} if clock is None else {"clock": clock}
    return DistributorService(settings, policy=POLICY, serde=SERDE, group_id=group, **extra)


async def publish(settings: Settings, *notices: m.NoticeEnvelope) -> None:
    producer: AIOKafkaProducer = new_producer(settings, role="test")
    await producer.start()
    try:
        publisher = NoticePublisher(producer, SERDE, TopicNames(settings.topic_prefix))
        for item in notices:
            await publisher.publish(item)
    finally:
        await producer.stop()


async def delivered(settings: Settings, agency: str) -> list[m.NoticeEnvelope]:
    topic = TopicNames(settings.topic_prefix).deliver(agency)
    return [SERDE.decode(r.value or b"") for r in await committed(settings, topic)]


async def audited(settings: Settings, count: int) -> None:
    """Wait until ``count`` decisions are committed: their deliveries committed with them."""
    records = await read_records(settings, TopicNames(settings.topic_prefix).audit, count)
    assert len(records) == count


async def test_each_agency_receives_exactly_its_share_and_every_decision_is_audited(
    settings: Settings,
) -> None:
    await ensure_declared_topics(settings, AGENCIES)
    notices = [
        notice("eu-amber"),  # AMBER to group:EU, RESTRICTED: a and b
        notice("red-to-c", tlp=m.Tlp.RED, releasable_to=["agency-c"]),
        notice("secret-eu", level=m.Level.SECRET),  # b is cleared only to RESTRICTED
        notice("clear", tlp=m.Tlp.CLEAR, releasable_to=[], not_releasable_to=["US"]),
    ]
    await publish(settings, *notices)
    service = distributor(settings, f"dist-{uuid.uuid4().hex[:8]}")
    async with running(service.run()):
        await audited(settings, 12)
    expected = {
        "agency-a": {"eu-amber", "secret-eu", "clear"},
        "agency-b": {"eu-amber", "clear"},
        "agency-c": {"red-to-c"},
    }
    for agency, ids in expected.items():
        got = await delivered(settings, agency)
        assert sorted(n.notice_id for n in got) == sorted(ids), agency
    report = await verify_topic(settings)
    assert report.ok, report.faults
    assert report.records == len(notices) * len(AGENCIES)


async def test_an_update_recalls_the_notice_from_a_former_recipient(settings: Settings) -> None:
    await ensure_declared_topics(settings, AGENCIES)
    alert = notice("recalled")
    update = notice(
        "recalled",
        version=2,
        msg_type=m.MsgType.UPDATE,
        tlp=m.Tlp.RED,
        releasable_to=["agency-a"],
    )
    await publish(settings, alert, update)
    service = distributor(settings, f"dist-{uuid.uuid4().hex[:8]}")
    async with running(service.run()):
        await audited(settings, 6)
    to_a = await delivered(settings, "agency-a")
    assert [(n.version, n.msg_type) for n in to_a] == [(1, m.MsgType.ALERT), (2, m.MsgType.UPDATE)]
    to_b = await delivered(settings, "agency-b")
    assert [(n.version, n.msg_type) for n in to_b] == [(1, m.MsgType.ALERT), (2, m.MsgType.CANCEL)]
    assert to_b[1].classification.releasable_to == ["agency-b"]
    assert to_b[1].body != update.body


async def test_an_embargo_is_released_on_time_across_a_distributor_restart(
    settings: Settings,
) -> None:
    await ensure_declared_topics(settings, AGENCIES)
    release = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=8)
    embargoed = notice("embargoed").model_copy(update={"not_before": release})
    await publish(settings, embargoed)
    group = f"dist-{uuid.uuid4().hex[:8]}"
    first = distributor(settings, group)
    async with running(first.run()), running(EmbargoReleaser(settings, group_id=group).run()):
        await until(lambda: first.stats.deferred == 1, "the notice to be deferred")
    assert dt.datetime.now(dt.UTC) < release, (
        "the first distributor took too long to test a restart"
    )
    second = distributor(settings, group)
    releaser = EmbargoReleaser(settings, group_id=group)
    async with running(second.run()), running(releaser.run()):
        records = await read_records(
            settings, TopicNames(settings.topic_prefix).deliver("agency-a"), 1
        )
    sent_at = dt.datetime.fromtimestamp(records[0].timestamp / 1000, dt.UTC)
    lateness = (sent_at - release).total_seconds()
    print(f"embargo released {lateness:.3f} s after its time")
    assert 0 <= lateness < 1.0
    assert releaser.released == 1


async def test_a_partition_read_again_releases_only_what_is_still_pending(
    settings: Settings,
) -> None:
    """Deferrals already released, with their tombstones far behind them in the log (beyond
    one fetch), then one still pending: a releaser given the partition must release that one
    alone. Releasing before reading up to the tombstones handed notices back a second time
    after every rebalance (chaos row 13)."""
    await ensure_declared_topics(settings, AGENCIES)
    topics = TopicNames(settings.topic_prefix)
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat().encode()
    due = [(RELEASE_AT_HEADER, past)]
    body = SERDE.encode(notice("padding")) * 4
    released = [f"released-{n}@1".encode() for n in range(3_000)]
    producer = new_producer(settings, role="test-deferrals")
    await producer.start()
    try:
        for key in released:
            await producer.send(topics.deferred, body, key=key, partition=0, headers=due)
        for key in released:
            await producer.send(topics.deferred, None, key=key, partition=0)
        await producer.send_and_wait(
            topics.deferred,
            body,
            key=b"pending@1",
            partition=0,
            headers=[(RELEASE_AT_HEADER, past)],
        )
    finally:
        await producer.stop()
    releaser = EmbargoReleaser(settings, group_id=f"dist-{uuid.uuid4().hex[:8]}")
    async with running(releaser.run()):
        await until(lambda: releaser.released >= 1, "the pending notice's release")
        handed_back = await committed(settings, topics.released)
    assert [record.key for record in handed_back] == [b"pending"]
    assert releaser.released == 1


async def test_a_tampered_audit_trail_is_detected_where_it_was_tampered(settings: Settings) -> None:
    await ensure_declared_topics(settings, AGENCIES)
    await publish(settings, notice("audited-1"), notice("audited-2"))
    service = distributor(settings, f"dist-{uuid.uuid4().hex[:8]}")
    async with running(service.run()):
        await audited(settings, 6)
    topics = TopicNames(settings.topic_prefix)
    original = await committed(settings, topics.audit)
    forged = original[-1].value or b""
    forged = forged.replace(b'"WITHHOLD"', b'"DELIVER"').replace(b'"DELIVER"', b'"WITHHOLD"', 1)
    producer = new_producer(settings, role="forger")
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            topics.audit, forged, key=original[-1].key, partition=original[-1].partition
        )
    finally:
        await producer.stop()
    report = await verify_topic(settings)
    assert {fault.where for fault in report.faults} == {
        f"{topics.audit}[{sent.partition}]@{sent.offset}"
    }
