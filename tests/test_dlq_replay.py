"""Dead letters re-driven after a fix: back to their raw topic byte for byte, translated by the
fixed service, and not sent twice by a second replay."""

from __future__ import annotations

import uuid

import pytest

from adapters.interpol import InterpolAdapter
from adapters.registry import AdapterRegistry, default_registry
from broker.dlq_replay import replay_dlq
from broker.ingest import IngestService
from broker.models import NoticeType
from broker.raw import FORMAT_HEADER, header
from broker.settings import Settings
from broker.topics import TopicNames, ensure_declared_topics
from tests.conftest import FIXTURES
from tests.kafka_helpers import SERDE, publish_payloads, read_records, running

pytestmark = pytest.mark.kafka

PAGE = FIXTURES / "wanted" / "interpol_red_notices_list_page1_2021-12-11.json"
NEW_FORMAT = "interpol-notice-json-v2"


class FixedAdapter(InterpolAdapter):
    """The fix: a release of the adapter that accepts the format the dead letter named."""

    formats: tuple[str, ...] = (NEW_FORMAT,)


async def test_replay_sends_dead_letters_back_and_the_fixed_service_translates_them(
    settings: Settings,
) -> None:
    topics = TopicNames(settings.topic_prefix)
    await ensure_declared_topics(settings)
    settings = settings.model_copy(update={"ingest_group_id": f"ingest-{uuid.uuid4().hex[:8]}"})
    await publish_payloads(settings, PAGE.read_bytes(), fmt=NEW_FORMAT)

    before_fix = IngestService(settings, registry=default_registry(), serde=SERDE)
    async with running(before_fix.run()):
        (letter,) = await read_records(settings, topics.dlq, 1)
    assert header(letter.headers, "dlq.error") == "UnsupportedFormat"

    report = await replay_dlq(settings)
    assert report.replayed == {topics.raw("interpol"): 1}
    again = await replay_dlq(settings)
    assert again.replayed == {} and again.skipped == {}

    replayed = await read_records(settings, topics.raw("interpol"), 2)
    assert replayed[1].value == replayed[0].value
    assert header(replayed[1].headers, FORMAT_HEADER) == NEW_FORMAT
    assert not [k for k, _ in replayed[1].headers if k.startswith("dlq.")]

    fixed = IngestService(
        settings, registry=AdapterRegistry([InterpolAdapter(), FixedAdapter()]), serde=SERDE
    )
    async with running(fixed.run()):
        notices = await read_records(settings, topics.notices(NoticeType.WANTED_PERSON), 20)
    assert len(notices) == 20
