"""The metrics without Kafka: each test has a registry of its own, and drives the services'
transforms and batch hooks the way ``TransactionalProcessor`` does."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from prometheus_client import CollectorRegistry

from broker import models as m
from broker.audit import ChainFault, VerifyReport
from broker.distributor import DistributorService
from broker.ingest import IngestService
from broker.metrics import (
    AuditMetrics,
    DistributorMetrics,
    IngestMetrics,
    OffsetMetrics,
    SubscriberMetrics,
    TransactionMetrics,
)
from broker.publisher import routing_headers
from broker.raw import FORMAT_HEADER
from broker.settings import Settings
from broker.topics import TopicNames
from broker.transactional import Outgoing
from consumers.subscriber import Subscriber
from tests.conftest import REPO_ROOT
from tests.kafka_helpers import SERDE, ingest_service
from tests.test_distributor import POLICY, notice

FORMAT = "interpol-notice-json"
RED_DETAIL = json.loads(
    (REPO_ROOT / "examples" / "interpol" / "red_notice_detail.json").read_text()
)

BOUNDED_LABELS = {
    *("agency", "format", "notice_type", "outcome", "reason", "rule", "field"),
    *("service", "group", "topic", "partition"),
}
"""Each takes values from a set the hub's code or configuration bounds: never a notice id."""

Produced = list[tuple[ConsumerRecord[bytes, bytes], list[Outgoing]]]


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def hub() -> Settings:
    return Settings.model_construct(topic_prefix="m.", agencies={"interpol": None})


def record(
    topic: str,
    value: bytes,
    *,
    offset: int = 0,
    headers: Sequence[tuple[str, bytes]] = (),
    age_seconds: float = 2.0,
) -> ConsumerRecord[bytes, bytes]:
    timestamp = int((dt.datetime.now(dt.UTC).timestamp() - age_seconds) * 1000)
    return ConsumerRecord(
        topic, 0, offset, timestamp, 0, None, value, None, 0, len(value), list(headers)
    )


def raw(payload: object, *, fmt: str = FORMAT, offset: int = 0) -> ConsumerRecord[bytes, bytes]:
    value = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return record("m.raw.interpol", value, offset=offset, headers=[(FORMAT_HEADER, fmt.encode())])


def transformed(service: IngestService, *records: ConsumerRecord[bytes, bytes]) -> Produced:
    return [(r, service.transform(r)) for r in records]


def commit(service: IngestService | DistributorService, produced: Produced) -> None:
    """What the processor does after a batch's transaction committed."""
    tp = TopicPartition(produced[0][0].topic, produced[0][0].partition)
    service.batch_committed(tp)
    for observer in service.processor.observers:
        observer.batch_committed(tp, produced)


def fail(service: IngestService, produced: Produced) -> None:
    tp = TopicPartition(produced[0][0].topic, produced[0][0].partition)
    service.batch_aborted(tp)
    for observer in service.processor.observers:
        observer.batch_failed(tp, produced, TimeoutError("commit timed out"))


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def watched_ingest(registry: CollectorRegistry, settings: Settings) -> IngestService:
    service = ingest_service(settings)
    IngestMetrics(registry).watch(service)
    TransactionMetrics(registry).watch(service.processor, dlq_topic=service.topics.dlq)
    return service


def test_a_committed_ingest_batch_is_counted_by_agency_format_and_notice_type(
    registry: CollectorRegistry, hub: Settings
) -> None:
    service = watched_ingest(registry, hub)
    produced = transformed(service, raw(RED_DETAIL), raw(b"{broken", offset=1))
    assert (
        value(registry, "notices_ingested_records_total", agency="interpol", format=FORMAT) is None
    )

    commit(service, produced)

    labels = {"agency": "interpol", "format": FORMAT}
    assert value(registry, "notices_ingested_records_total", **labels) == 2
    assert value(registry, "notices_translated_total", **labels, notice_type="WANTED_PERSON") == 1
    [(failure, count)] = [
        (sample.labels, sample.value)
        for family in registry.collect()
        for sample in family.samples
        if sample.name == "notices_translation_failures_total"
    ]
    assert failure["agency"] == "interpol" and failure["format"] == FORMAT and count == 1
    assert value(
        registry, "notices_dead_lettered_total", service="ingest", reason=failure["reason"]
    )
    latency = value(registry, "notices_ingest_latency_seconds_count", agency="interpol")
    assert latency == 2
    assert value(registry, "notices_ingest_latency_seconds_sum", agency="interpol") >= 2 * 2.0  # type: ignore[operator]


def test_a_batch_whose_transaction_failed_is_counted_once_when_it_commits_on_retry(
    registry: CollectorRegistry, hub: Settings
) -> None:
    service = watched_ingest(registry, hub)
    assert value(registry, "notices_kafka_produce_errors_total", service="ingest") == 0

    fail(service, transformed(service, raw(RED_DETAIL), raw(b"{broken", offset=1)))
    commit(service, transformed(service, raw(RED_DETAIL), raw(b"{broken", offset=1)))

    assert value(registry, "notices_kafka_produce_errors_total", service="ingest") == 1
    assert value(registry, "notices_kafka_retried_records_total", service="ingest") == 2
    assert value(registry, "notices_ingested_records_total", agency="interpol", format=FORMAT) == 2
    assert service.stats.translated == {FORMAT: 1}
    assert sum(service.stats.dead_lettered.values()) == 1


def test_unmapped_fields_and_unknown_values_are_labelled_by_path_never_by_value(
    registry: CollectorRegistry, hub: Settings
) -> None:
    service = watched_ingest(registry, hub)
    warrants = [{**RED_DETAIL["arrest_warrants"][0], "issuing_country_id": "AT,BE,BG"}]
    changed = {**RED_DETAIL, "arrest_warrants": warrants, "hair_style": "short"}
    commit(service, transformed(service, raw(changed)))

    assert service.stats.unmapped_fields == {
        f"{FORMAT}:$.hair_style": 1,
        f"{FORMAT}:$.arrest_warrants[*].issuing_country_id=": 1,
    }
    field = {"format": FORMAT, "field": "$.hair_style", "reason": "unmapped_field"}
    assert value(registry, "notices_unmapped_source_fields_total", **field) == 1
    code = {
        "format": FORMAT,
        "field": "$.arrest_warrants[*].issuing_country_id",
        "reason": "unknown_value",
    }
    assert value(registry, "notices_unmapped_source_fields_total", **code) == 1


def test_a_format_no_adapter_knows_is_one_label_value_whatever_the_header_says(
    registry: CollectorRegistry, hub: Settings
) -> None:
    service = watched_ingest(registry, hub)
    commit(
        service,
        transformed(service, raw(RED_DETAIL, fmt="made-up-1"), raw(RED_DETAIL, fmt="made-up-2")),
    )
    assert (
        value(registry, "notices_ingested_records_total", agency="interpol", format="unknown") == 2
    )


async def test_distributor_decisions_are_counted_by_outcome_rule_and_recipient(
    registry: CollectorRegistry, hub: Settings
) -> None:
    service = DistributorService(hub, policy=POLICY, serde=SERDE, group_id="metrics-test")
    metrics = DistributorMetrics(registry)
    metrics.watch(service)
    topics = TopicNames(hub.topic_prefix)
    sent = notice("secret-eu", level=m.Level.SECRET)  # agency-a only: b lacks clearance
    incoming = record(
        topics.notices(sent.notice_type), SERDE.encode(sent), headers=routing_headers(sent)
    )
    commit(service, [(incoming, service.transform(incoming))])

    for agency, outcome in [
        ("agency-a", "DELIVER"),
        ("agency-b", "WITHHOLD"),
        ("agency-c", "WITHHOLD"),
    ]:
        labels = {"agency": agency, "notice_type": "WANTED_PERSON", "outcome": outcome}
        assert value(registry, "notices_decisions_total", **labels) == 1, agency
    delivered = {"agency": "agency-a", "notice_type": "WANTED_PERSON", "outcome": "DELIVER"}
    assert value(registry, "notices_delivered_total", **delivered) == 1
    assert value(registry, "notices_delivered_total", **{**delivered, "agency": "agency-b"}) is None
    rules = {
        sample.labels["rule"]
        for family in registry.collect()
        for sample in family.samples
        if sample.name == "notices_decision_rules_total" and sample.labels["outcome"] == "WITHHOLD"
    }
    assert rules, "a withheld notice names the rules that withheld it"
    assert value(
        registry, "notices_distribution_latency_seconds_count", notice_type="WANTED_PERSON"
    )


def test_a_subscriber_counts_what_reached_its_sink_and_how_late(
    registry: CollectorRegistry, hub: Settings
) -> None:
    metrics = SubscriberMetrics(registry, agency="agency-a")
    now = dt.datetime.now(dt.UTC)
    received = notice("late").model_copy(update={"issued_at": now - dt.timedelta(minutes=10)})
    received = received.model_copy(
        update={"source": received.source.model_copy(update={"received_at": now})}
    )
    metrics.delivered(received)

    labels = {"agency": "agency-a", "notice_type": "WANTED_PERSON"}
    assert value(registry, "notices_received_total", **labels) == 1
    issued = value(registry, "notices_issued_to_delivery_seconds_sum", **labels)
    assert issued is not None and 600 <= issued < 660
    ingested = value(registry, "notices_ingest_to_delivery_seconds_sum", **labels)
    assert ingested is not None and 0 <= ingested < 60
    assert value(registry, "notices_issued_to_delivery_seconds_bucket", **labels, le="300.0") == 0
    assert value(registry, "notices_issued_to_delivery_seconds_bucket", **labels, le="900.0") == 1


async def test_refusals_and_expiries_of_a_subscriber_are_read_at_scrape_time(
    registry: CollectorRegistry, hub: Settings
) -> None:
    subscriber = Subscriber(
        hub, topics=["m.deliver.agency-a"], group_id="g", sink=lambda _: None, serde=SERDE
    )
    metrics = SubscriberMetrics(registry, agency="agency-a")
    metrics.watch(subscriber)
    assert value(registry, "notices_expired_total", agency="agency-a") == 0

    subscriber.refused.update(["clearance", "clearance", "caveats"])
    subscriber.expired = 3

    assert value(registry, "notices_refused_total", agency="agency-a", rule="clearance") == 2
    assert value(registry, "notices_refused_total", agency="agency-a", rule="caveats") == 1
    assert value(registry, "notices_expired_total", agency="agency-a") == 3


def test_lag_of_a_partition_that_went_away_is_no_longer_reported(
    registry: CollectorRegistry,
) -> None:
    metrics = OffsetMetrics(registry)
    metrics.set_lag("g", {TopicPartition("t", 0): 5, TopicPartition("t", 1): 7})
    metrics.set_lag("h", {TopicPartition("u", 0): 1})
    metrics.set_lag("g", {TopicPartition("t", 0): 2})

    lag = "notices_consumer_lag_records"
    assert value(registry, lag, group="g", topic="t", partition="0") == 2
    assert value(registry, lag, group="g", topic="t", partition="1") is None
    assert value(registry, lag, group="h", topic="u", partition="0") == 1


def test_an_audit_verification_that_finds_faults_is_counted(registry: CollectorRegistry) -> None:
    metrics = AuditMetrics(registry)
    metrics.verified(VerifyReport(records=10, chains=2, faults=[]))
    assert value(registry, "notices_audit_chain_faults") == 0
    assert value(registry, "notices_audit_verify_failures_total") == 0

    fault = ChainFault("notices.audit[0]@3", "c", "record seq 3 was altered (hash differs)")
    metrics.verified(VerifyReport(records=10, chains=2, faults=[fault, fault]))
    assert value(registry, "notices_audit_chain_faults") == 2
    assert value(registry, "notices_audit_verify_failures_total") == 1
    assert value(registry, "notices_audit_verified_records") == 10
    assert (value(registry, "notices_audit_last_verified_timestamp_seconds") or 0) > 0


async def test_every_metric_follows_prometheus_naming_and_has_bounded_labels(
    registry: CollectorRegistry, hub: Settings
) -> None:
    service = watched_ingest(registry, hub)
    DistributorMetrics(registry)
    subscriber = SubscriberMetrics(registry, agency="agency-a")
    OffsetMetrics(registry).set_lag("g", {TopicPartition("t", 0): 1})
    AuditMetrics(registry)
    commit(service, transformed(service, raw(RED_DETAIL), raw(b"{broken", offset=1)))
    subscriber.delivered(notice("n"))

    families = list(registry.collect())
    assert len(families) >= 25
    for family in families:
        assert family.name.startswith("notices_"), family.name
        assert family.documentation, family.name
        units = {"histogram": ("_seconds",), "gauge": ("_records", "_faults", "_seconds")}
        assert family.name.endswith(units.get(family.type, ("",))), family.name
        for sample in family.samples:
            if family.type == "counter":
                assert sample.name.endswith(("_total", "_created")), sample.name
            assert set(sample.labels) <= BOUNDED_LABELS | {"le"}, sample.name


def test_two_collectors_of_one_kind_in_a_registry_are_refused(registry: CollectorRegistry) -> None:
    SubscriberMetrics(registry, agency="a")
    with pytest.raises(ValueError, match="Duplicated"):
        SubscriberMetrics(registry, agency="b")
