"""A raw record may say which agency it comes from, but only the agency whose raw topic carries
it: the topic is what the ACLs vouch for. Any other claim is refused by the ingest service,
dead-lettered with its bytes and the claim, and makes no notice; so is a payload whose JSON
repeats a key. Against the real broker, through the real ingest service.
"""

from __future__ import annotations

import pytest
from aiokafka import ConsumerRecord

from broker.ingest import claims_another_originator
from broker.kafka_clients import new_producer
from broker.models import NoticeType
from broker.raw import ORIGINATOR_HEADER, header, publish_raw
from broker.settings import Settings
from broker.topics import TopicNames, ensure_declared_topics
from broker.translation import DeadLetter
from tests.conftest import REPO_ROOT
from tests.kafka_helpers import (
    INTERPOL_FORMAT,
    SERDE,
    committed,
    ingest_service,
    read_records,
    running,
)

EXAMPLES = REPO_ROOT / "examples" / "interpol"
SPOOFED = (EXAMPLES / "red_notice_detail.json").read_bytes()
HONEST = (EXAMPLES / "red_notice_detail_tribunal.json").read_bytes()
REPEATED = SPOOFED.replace(b'"entity_id"', b'"entity_id": "2023/00001", "entity_id"', 1)


def raw_record(*headers: tuple[str, bytes], topic: str = "raw.interpol") -> ConsumerRecord:
    return ConsumerRecord(topic, 0, 7, 0, 0, None, b"{}", None, 0, 2, list(headers))


def test_a_claim_of_the_topics_own_agency_or_none_passes() -> None:
    assert claims_another_originator(raw_record(), "interpol", INTERPOL_FORMAT) is None
    honest = raw_record((ORIGINATOR_HEADER, b"interpol"))
    assert claims_another_originator(honest, "interpol", INTERPOL_FORMAT) is None


@pytest.mark.parametrize(
    "claims",
    [[b"fr-police"], [b"fr-police", b"interpol"], [b"interpol", b"fr-police"], [b""]],
    ids=["other", "other-then-own", "own-then-other", "empty"],
)
def test_any_claim_of_another_agency_is_refused_whatever_comes_beside_it(
    claims: list[bytes],
) -> None:
    record = raw_record(*((ORIGINATOR_HEADER, claim) for claim in claims))
    refused = claims_another_originator(record, "interpol", INTERPOL_FORMAT)
    claimed = next(claim for claim in claims if claim != b"interpol").decode()
    assert refused == DeadLetter(
        "OriginatorMismatch",
        "header 'originator'",
        f"claims originator {claimed!r}, but arrived on raw.interpol, the raw topic of 'interpol'",
    )


async def publish(settings: Settings, payload: bytes, originator: str) -> None:
    producer = new_producer(settings, role="test-liaison")
    await producer.start()
    try:
        await publish_raw(
            producer,
            TopicNames(settings.topic_prefix),
            agency_id="interpol",
            fmt=INTERPOL_FORMAT,
            payload=payload,
            originator=originator,
        )
    finally:
        await producer.stop()


@pytest.mark.kafka
async def test_a_payload_claiming_another_originator_is_dead_lettered_and_makes_no_notice(
    settings: Settings,
) -> None:
    topics = TopicNames(settings.topic_prefix)
    await ensure_declared_topics(settings)
    service = ingest_service(settings)
    async with running(service.run()):
        await publish(settings, SPOOFED, originator="fr-police")
        await publish(settings, REPEATED, originator="interpol")
        await publish(settings, HONEST, originator="interpol")
        letters = await read_records(settings, topics.dlq, 2)
        (honest,) = await read_records(settings, topics.notices(NoticeType.WANTED_PERSON), 1)
    # Each record's notices or dead letter commit in one transaction with its offset: with
    # both dead letters and the honest notice there, every record has had its outcome.
    notices = await committed(settings, topics.notices(NoticeType.WANTED_PERSON))
    assert [SERDE.decode(r.value).notice_id for r in notices] == ["interpol-red-2019/118264"]
    assert notices[0].value == honest.value
    assert SERDE.decode(honest.value).originator.agency_id == "interpol"

    by_error = {header(letter.headers, "dlq.error"): letter for letter in letters}
    assert set(by_error) == {"OriginatorMismatch", "TranslationError"}
    spoofed = by_error["OriginatorMismatch"]
    assert spoofed.value == SPOOFED
    assert header(spoofed.headers, ORIGINATOR_HEADER) == "fr-police"
    assert header(spoofed.headers, "dlq.where") == "header 'originator'"
    assert header(spoofed.headers, "dlq.reason") == (
        f"claims originator 'fr-police', but arrived on {topics.raw('interpol')}, the raw topic "
        "of 'interpol'"
    )
    assert header(spoofed.headers, "dlq.topic") == topics.raw("interpol")
    repeated = by_error["TranslationError"]
    assert repeated.value == REPEATED
    assert header(repeated.headers, "dlq.where") == "$.entity_id"
    assert "duplicate key 'entity_id'" in header(repeated.headers, "dlq.reason")
    assert service.stats.dead_lettered == {"OriginatorMismatch": 1, "TranslationError": 1}
