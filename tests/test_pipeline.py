"""The vertical slice end to end on the real broker: raw payloads in, notices at a subscriber."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from pathlib import Path

import pytest

from broker.kafka_clients import new_producer
from broker.models import MsgType, NoticeEnvelope, PartialDate, WantedPersonNotice
from broker.publisher import NoticePublisher
from broker.raw import FORMAT_HEADER, header
from broker.settings import Settings
from broker.topics import TopicNames, ensure_declared_topics
from consumers.sinks import JsonLinesSink
from consumers.subscriber import Subscriber
from tests.conftest import FIXTURES, REPO_ROOT
from tests.kafka_helpers import (
    INTERPOL_FORMAT,
    SERDE,
    ingest_service,
    publish_payloads,
    read_records,
    receive,
    running,
    until,
)
from tests.samples import sample_notice

pytestmark = pytest.mark.kafka

RED_LIST = FIXTURES / "wanted" / "interpol_red_notices_list_page1_2021-12-11.json"


def group() -> str:
    return f"sub-{uuid.uuid4().hex[:8]}"


async def test_interpol_red_list_page_arrives_as_20_wanted_person_notices(
    settings: Settings,
) -> None:
    source = json.loads(RED_LIST.read_bytes())["_embedded"]["notices"]
    await ensure_declared_topics(settings)
    service = ingest_service(settings)
    async with running(service.run()):
        await publish_payloads(settings, RED_LIST.read_bytes())
        received = await receive(settings, 20, group_id=group())

    assert len(received) == 20
    assert service.stats.translated == {INTERPOL_FORMAT: 20}
    assert service.stats.unmapped_fields == {}, "every field of the real page is read"
    by_entity = {notice.source.original_id: notice for notice in received}
    assert set(by_entity) == {item["entity_id"] for item in source}
    for item in source:
        notice = by_entity[item["entity_id"]]
        body = notice.body
        assert isinstance(body, WantedPersonNotice)
        year, month, day = (int(part) for part in item["date_of_birth"].split("/"))
        assert notice.notice_type == "WANTED_PERSON"
        assert notice.notice_id == f"interpol-red-{item['entity_id']}"
        assert body.subject.names[0].given_names == item["forename"]
        assert body.subject.names[0].family_name == item["name"]
        assert body.subject.dates_of_birth[0].earliest == PartialDate(
            year=year, month=month, day=day
        )
        assert body.subject.nationalities == item["nationalities"]
        assert notice.originator.agency_id == "interpol"


async def test_partial_dates_of_birth_stay_partial(settings: Settings) -> None:
    payload = {
        "entity_id": "2019/12345",
        "forename": "ANNA",
        "name": "EXEMPEL",
        "date_of_birth": "1975",
        "nationalities": ["SE"],
        "_links": {"self": {"href": "https://ws-public.interpol.int/notices/v1/red/2019-12345"}},
    }
    await ensure_declared_topics(settings)
    async with running(ingest_service(settings).run()):
        await publish_payloads(settings, json.dumps(payload).encode())
        [notice] = await receive(settings, 1, group_id=group())
    assert isinstance(notice.body, WantedPersonNotice)
    assert notice.body.subject.dates_of_birth[0].earliest == PartialDate(year=1975)


async def test_malformed_payload_is_dead_lettered_and_the_next_one_goes_through(
    settings: Settings,
) -> None:
    broken = b'{"entity_id": "2021/1", "name": "TRUNCATED", "_links": {'
    good = (REPO_ROOT / "examples" / "interpol" / "red_notice_detail.json").read_bytes()
    topics = TopicNames(settings.topic_prefix)
    await ensure_declared_topics(settings)
    service = ingest_service(settings)
    async with running(service.run()) as task:
        await publish_payloads(settings, broken, good)
        [letter] = await read_records(settings, topics.dlq, 1)
        received = await receive(settings, 1, group_id=group())
        assert not task.done(), "the ingest service must keep running after a bad payload"

    assert letter.value == broken
    assert header(letter.headers, FORMAT_HEADER) == INTERPOL_FORMAT
    assert header(letter.headers, "dlq.topic") == topics.raw("interpol")
    assert "line 1" in header(letter.headers, "dlq.where")
    assert header(letter.headers, "dlq.reason")
    assert [notice.source.sha256 for notice in received] == [hashlib.sha256(good).hexdigest()]


async def test_alert_update_cancel_of_one_notice_arrive_in_order(settings: Settings) -> None:
    lifecycle = [(1, MsgType.ALERT), (2, MsgType.UPDATE), (3, MsgType.CANCEL)]
    ids = [f"order-{n}" for n in range(8)]
    await ensure_declared_topics(settings)
    producer = new_producer(settings, role="test-publisher")
    await producer.start()
    try:
        publisher = NoticePublisher(producer, SERDE, TopicNames(settings.topic_prefix))
        # Interleave eight notices so that their versions are sent back to back.
        for version, msg_type in lifecycle:
            for notice_id in ids:
                await publisher.send(sample_notice(notice_id, version=version, msg_type=msg_type))
        await producer.flush()
    finally:
        await producer.stop()

    received = await receive(settings, len(ids) * 3, group_id=group())
    for notice_id in ids:
        seen: list[NoticeEnvelope] = [n for n in received if n.notice_id == notice_id]
        assert [(n.version, n.msg_type) for n in seen] == lifecycle


async def test_a_record_that_does_not_decode_goes_to_the_rejects_with_its_bytes(
    settings: Settings, tmp_path: Path
) -> None:
    topics = TopicNames(settings.topic_prefix)
    foreign = b"\xc3\x01" + bytes(8) + b"written with a schema nobody here knows"
    good = sample_notice("after-the-reject")
    await ensure_declared_topics(settings)
    producer = new_producer(settings, role="test-publisher")
    await producer.start()
    try:
        topic = topics.notices(good.notice_type)
        await producer.send_and_wait(topic, foreign, key=good.notice_id.encode())
        await NoticePublisher(producer, SERDE, topics).publish(good)
    finally:
        await producer.stop()

    received: list[NoticeEnvelope] = []
    with JsonLinesSink(tmp_path / "rejects.jsonl") as rejects:
        subscriber = Subscriber(
            settings,
            topics=[topic],
            group_id=group(),
            sink=received.append,
            serde=SERDE,
            rejects=rejects.reject,
        )
        async with running(subscriber.run()):
            await until(lambda: len(received) == 1, "the notice after the reject")

    [reject] = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert base64.b64decode(reject["value_base64"]) == foreign
    assert reject["topic"] == topic
    assert "0000000000000000 is not in the schema catalog" in reject["error"]
    assert [notice.notice_id for notice in received] == ["after-the-reject"]
