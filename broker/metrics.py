"""The hub's Prometheus metrics: their names and labels, and how each service's numbers reach them.

One class per concern, each taking the ``CollectorRegistry`` to register in and the name prefix
(as faststream's ``MetricsContainer`` does), so a test gets a fresh registry and two hubs in one
Prometheus keep apart. Names carry their unit (``_seconds``, ``_records``) and counters end in
``_total``. Labels take bounded values only: agencies, formats the adapters know, notice types,
outcomes, rules, error class names, Kafka groups, topics and partitions; never a notice id or a
value read from a payload, each of which would make a new time series.

How the numbers get here:

- The consume-transform-produce services (ingest, distributor) are observed per batch through
  ``TransactionalProcessor.observers``: what a batch read and produced is counted when its
  transaction commits, so a batch rewound after a failed commit counts once and the counts
  agree with what readers of the topics see.
- Counters a service already keeps (unmapped source fields, the subscriber's refusals, the
  embargo releases, the committed transactions) are read at scrape time by a custom collector.
- Latencies are observed where they end: a hop's when its batch commits, the end-to-end ones
  when the subscriber's sink accepts the notice (``Subscriber(delivered=...)``).

Scrapes run on the services' event loop (``broker.metrics_server``), so collectors read the
services' counters without locking.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Generic, TypeVar

from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from broker.audit import VerifyReport
from broker.models import NoticeEnvelope, NoticeType
from broker.policy.decision import Outcome, Rule
from broker.raw import FORMAT_HEADER, header
from broker.topics import TopicNames
from broker.transactional import Produced

if TYPE_CHECKING:
    from broker.distributor import DistributorService
    from broker.embargo import EmbargoReleaser
    from broker.ingest import IngestService
    from broker.transactional import TransactionalProcessor
    from consumers.subscriber import Subscriber

M = TypeVar("M", bound=MetricWrapperBase)

DEFAULT_PREFIX = "notices"
UNKNOWN = "unknown"
"""The label value for anything outside a label's known values (an unknown format header)."""

LATENCY_BUCKETS = (
    *(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
    *(300.0, 900.0, 3600.0, 4 * 3600.0, 24 * 3600.0, 7 * 24 * 3600.0),
)
"""From a hop inside the hub (milliseconds) to a notice issued days before it was published."""

_NOTICE_TYPES = frozenset(t.value for t in NoticeType)
_OUTCOMES = frozenset(o.value for o in Outcome)
_RULES = frozenset(r.value for r in Rule)
_REFUSAL_RULES = (*(r.value for r in Rule), "not-redacted", "none")
"""What a subscriber's re-check can refuse by (``consumers.guard``, ``consumers.subscriber``):
each is exported from the start at 0, so the first refusal is an increase an alert sees."""


def _known(value: str, known: Iterable[str]) -> str:
    return value if value in known else UNKNOWN


def _texts(headers: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    """Headers by name, as text; a repeated header reads as its last value, like ``header``."""
    return {name: value.decode("utf-8", "replace") for name, value in headers}


def _seconds_since(kafka_timestamp_ms: int, now: float) -> float:
    """Clocks of other hosts may run ahead: a negative latency is read as none."""
    return max(0.0, now - kafka_timestamp_ms / 1000)


class _Children(Generic[M]):
    """The labelled children of one metric, each looked up in prometheus-client once.

    Performance (issue #7): ``labels()`` checks its arguments and takes a lock on every call,
    which the services made for every record and every counter. Label values are bounded
    (see the module docstring), so this cache is too.
    """

    def __init__(self, metric: M) -> None:
        self._metric = metric
        self._children: dict[tuple[str, ...], M] = {}

    def __call__(self, *labels: str) -> M:
        child = self._children.get(labels)
        if child is None:
            child = self._children[labels] = self._metric.labels(*labels)
        return child


class _ScrapeTime(Collector):
    """A collector whose families are computed when Prometheus scrapes."""

    def __init__(self, collect: Callable[[], Iterable[Metric]], names: Iterable[str]) -> None:
        self._collect = collect
        self._names = list(names)

    def collect(self) -> Iterable[Metric]:
        return self._collect()

    def describe(self) -> Iterable[Metric]:
        """Lets the registry refuse a second collector of the same names."""
        return [CounterMetricFamily(name, "") for name in self._names]


class TransactionMetrics:
    """What every consume-transform-produce service shares: transactions, failures, dead
    letters. One instance watches every processor of a process, labelled by its role."""

    def __init__(self, registry: CollectorRegistry, prefix: str = DEFAULT_PREFIX) -> None:
        self.produce_errors = Counter(
            f"{prefix}_kafka_produce_errors_total",
            "Transactions that failed (produce, offsets or commit); their batch is retried.",
            ["service"],
            registry=registry,
        )
        self.retried_records = Counter(
            f"{prefix}_kafka_retried_records_total",
            "Input records processed again because their batch's transaction failed.",
            ["service"],
            registry=registry,
        )
        self.dead_lettered = Counter(
            f"{prefix}_dead_lettered_total",
            "Records committed to the dead-letter topic, by the error that sent them there.",
            ["service", "reason"],
            registry=registry,
        )
        self._prefix = prefix
        self._processors: list[TransactionalProcessor] = []
        registry.register(_ScrapeTime(self._collect, [f"{prefix}_transactions_committed"]))

    def watch(self, processor: TransactionalProcessor, *, dlq_topic: str) -> None:
        """Count ``processor``'s batches from now on; its dead letters go to ``dlq_topic``."""
        service = processor.role
        self.produce_errors.labels(service)
        self.retried_records.labels(service)
        processor.observers.append(_Watched(self, service, dlq_topic))
        self._processors.append(processor)

    def _collect(self) -> Iterator[Metric]:
        committed = CounterMetricFamily(
            f"{self._prefix}_transactions_committed",
            "Transactions committed: each is one input batch with its outputs and offsets.",
            labels=["service"],
        )
        for processor in self._processors:
            committed.add_metric([processor.role], processor.transactions)
        yield committed


class _Watched:
    """One processor's batches, as ``TransactionMetrics`` counts them."""

    def __init__(self, metrics: TransactionMetrics, service: str, dlq_topic: str) -> None:
        self._metrics = metrics
        self._service = service
        self._dlq_topic = dlq_topic
        self._dead_lettered = _Children(metrics.dead_lettered)

    def batch_committed(self, tp: TopicPartition, produced: Produced) -> None:
        for _, outputs in produced:
            for output in outputs:
                if output.topic == self._dlq_topic:
                    reason = header(list(output.headers), "dlq.error") or UNKNOWN
                    self._dead_lettered(self._service, reason).inc()

    def batch_failed(self, tp: TopicPartition, produced: Produced, error: Exception) -> None:
        self._metrics.produce_errors.labels(self._service).inc()
        self._metrics.retried_records.labels(self._service).inc(len(produced))


class IngestMetrics:
    """The ingest service: raw records in, notices and failures out, per agency and format."""

    def __init__(self, registry: CollectorRegistry, prefix: str = DEFAULT_PREFIX) -> None:
        self.ingested_records = Counter(
            f"{prefix}_ingested_records_total",
            "Raw records whose translation was committed, by publishing agency and format.",
            ["agency", "format"],
            registry=registry,
        )
        self.translated = Counter(
            f"{prefix}_translated_total",
            "Canonical notices committed to notices.<type>.",
            ["agency", "format", "notice_type"],
            registry=registry,
        )
        self.translation_failures = Counter(
            f"{prefix}_translation_failures_total",
            "Raw records that did not translate (and went to the dead-letter topic).",
            ["agency", "format", "reason"],
            registry=registry,
        )
        self.latency = Histogram(
            f"{prefix}_ingest_latency_seconds",
            "From a raw record's Kafka timestamp to the commit of its translation.",
            ["agency"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._prefix = prefix
        self._services: list[IngestService] = []
        registry.register(_ScrapeTime(self._collect, [f"{prefix}_unmapped_source_fields"]))

    def watch(self, service: IngestService) -> None:
        service.processor.observers.append(
            _IngestBatches(self, service.topics, frozenset(service.registry.formats))
        )
        self._services.append(service)

    def _collect(self) -> Iterator[Metric]:
        unmapped = CounterMetricFamily(
            f"{self._prefix}_unmapped_source_fields_total",
            "Source fields no mapping read (reason unmapped_field), or values of mapped fields "
            "no table knows (reason unknown_value): a source changing its format shows here.",
            labels=["format", "field", "reason"],
        )
        for service in self._services:
            for key, count in service.stats.unmapped_fields.items():
                fmt, _, path = key.partition(":")
                field, is_value, _ = path.partition("=")
                reason = "unknown_value" if is_value else "unmapped_field"
                unmapped.add_metric([fmt, field, reason], count)
        yield unmapped


class _IngestBatches:
    def __init__(self, metrics: IngestMetrics, topics: TopicNames, formats: frozenset[str]):
        self._topics = topics
        self._formats = formats
        self._ingested = _Children(metrics.ingested_records)
        self._latency = _Children(metrics.latency)
        self._failures = _Children(metrics.translation_failures)
        self._translated = _Children(metrics.translated)

    def batch_committed(self, tp: TopicPartition, produced: Produced) -> None:
        agency = self._topics.agency_of_raw(tp.topic)
        latency = self._latency(agency)
        now = time.time()
        ingested: Tally[str] = Tally()
        failures: Tally[tuple[str, str]] = Tally()
        translated: Tally[tuple[str, str]] = Tally()
        for record, outputs in produced:
            fmt = _known(header(record.headers, FORMAT_HEADER), self._formats)
            ingested[fmt] += 1
            latency.observe(_seconds_since(record.timestamp, now))
            for output in outputs:
                fields = _texts(output.headers)
                if output.topic == self._topics.dlq:
                    failures[fmt, fields.get("dlq.error") or UNKNOWN] += 1
                else:
                    translated[fmt, _known(fields.get("notice-type", ""), _NOTICE_TYPES)] += 1
        for fmt, count in ingested.items():
            self._ingested(agency, fmt).inc(count)
        for (fmt, reason), count in failures.items():
            self._failures(agency, fmt, reason).inc(count)
        for (fmt, notice_type), count in translated.items():
            self._translated(agency, fmt, notice_type).inc(count)

    def batch_failed(self, tp: TopicPartition, produced: Produced, error: Exception) -> None:
        """Counted by ``TransactionMetrics``; the batch itself is counted when it commits."""


class DistributorMetrics:
    """The distributor: decisions and the rules behind them, deliveries per recipient agency.

    Read from the audit records each batch commits, which hold every decision with its rules:
    the metrics then say what the audit trail says.
    """

    def __init__(self, registry: CollectorRegistry, prefix: str = DEFAULT_PREFIX) -> None:
        self.decisions = Counter(
            f"{prefix}_decisions_total",
            "Distribution decisions committed, one per notice and recipient agency.",
            ["agency", "notice_type", "outcome"],
            registry=registry,
        )
        self.decision_rules = Counter(
            f"{prefix}_decision_rules_total",
            "Rules that fired in committed decisions, each counted once per decision.",
            ["outcome", "rule"],
            registry=registry,
        )
        self.delivered = Counter(
            f"{prefix}_delivered_total",
            "Notices committed to deliver.<agency>, whole or redacted.",
            ["agency", "notice_type", "outcome"],
            registry=registry,
        )
        self.deferred = Counter(
            f"{prefix}_deferred_total",
            "Embargoed notices held in notices.deferred until their release time.",
            ["notice_type"],
            registry=registry,
        )
        self.latency = Histogram(
            f"{prefix}_distribution_latency_seconds",
            "From a notice's Kafka timestamp on its notices topic to the commit of its "
            "deliveries and audit records.",
            ["notice_type"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._prefix = prefix
        self._releasers: list[EmbargoReleaser] = []
        registry.register(_ScrapeTime(self._collect, [f"{prefix}_embargo_released"]))

    def watch(self, service: DistributorService, releaser: EmbargoReleaser | None = None) -> None:
        recipients = frozenset(service.recipients)
        service.processor.observers.append(_DistributorBatches(self, service.topics, recipients))
        if releaser is not None:
            self._releasers.append(releaser)

    def _collect(self) -> Iterator[Metric]:
        released = CounterMetricFamily(
            f"{self._prefix}_embargo_released",
            "Embargoed notices handed back to the distributor at their release time.",
        )
        released.add_metric([], sum(releaser.released for releaser in self._releasers))
        yield released


class _DistributorBatches:
    def __init__(self, metrics: DistributorMetrics, topics: TopicNames, recipients: frozenset[str]):
        self._topics = topics
        self._recipients = recipients
        self._latency = _Children(metrics.latency)
        self._deferred = _Children(metrics.deferred)
        self._delivered = _Children(metrics.delivered)
        self._decisions = _Children(metrics.decisions)
        self._decision_rules = _Children(metrics.decision_rules)

    def batch_committed(self, tp: TopicPartition, produced: Produced) -> None:
        now = time.time()
        decisions: Tally[tuple[str, str, str]] = Tally()
        rules: Tally[tuple[str, str]] = Tally()
        delivered: Tally[tuple[str, str, str]] = Tally()
        deferred: Tally[str] = Tally()
        for record, outputs in produced:
            notice_type = _known(header(record.headers, "notice-type"), _NOTICE_TYPES)
            self._latency(notice_type).observe(_seconds_since(record.timestamp, now))
            for output in outputs:
                if output.topic == self._topics.audit:
                    # The audit record's headers repeat its JSON (DistributorService): read
                    # them rather than parse every decision again.
                    fields = _texts(output.headers)
                    outcome = _known(fields.get("outcome", ""), _OUTCOMES)
                    agency = _known(fields.get("recipient", ""), self._recipients)
                    kind = _known(fields.get("notice-type", ""), _NOTICE_TYPES)
                    decisions[agency, kind, outcome] += 1
                    for rule in filter(None, fields.get("rules", "").split(",")):
                        rules[outcome, _known(rule, _RULES)] += 1
                elif output.topic == self._topics.deferred:
                    deferred[notice_type] += 1
                elif (agency := self._topics.agency_of_deliver(output.topic)) in self._recipients:
                    fields = _texts(output.headers)
                    kind = _known(fields.get("notice-type", ""), _NOTICE_TYPES)
                    delivered[agency, kind, _known(fields.get("decision", ""), _OUTCOMES)] += 1
        for key, count in decisions.items():
            self._decisions(*key).inc(count)
        for (outcome, rule), count in rules.items():
            self._decision_rules(outcome, rule).inc(count)
        for key, count in delivered.items():
            self._delivered(*key).inc(count)
        for kind, count in deferred.items():
            self._deferred(kind).inc(count)

    def batch_failed(self, tp: TopicPartition, produced: Produced, error: Exception) -> None:
        """Counted by ``TransactionMetrics``; the batch itself is counted when it commits."""


class SubscriberMetrics:
    """An agency's subscriber: what reached its sink and how late, what it refused or dropped.

    One per registry: the agency is a label every series of it carries.
    """

    def __init__(
        self, registry: CollectorRegistry, prefix: str = DEFAULT_PREFIX, *, agency: str
    ) -> None:
        self.agency = agency
        self.received = Counter(
            f"{prefix}_received_total",
            "Notices the subscribing agency's sink accepted.",
            ["agency", "notice_type"],
            registry=registry,
        )
        self.issued_to_delivery = Histogram(
            f"{prefix}_issued_to_delivery_seconds",
            "From a notice's issued_at (the originator's clock) to its sink accepting it.",
            ["agency", "notice_type"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.ingest_to_delivery = Histogram(
            f"{prefix}_ingest_to_delivery_seconds",
            "From the hub receiving a notice's raw payload (source.received_at) to the "
            "subscribing agency's sink accepting it.",
            ["agency", "notice_type"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._prefix = prefix
        self._subscribers: list[Subscriber] = []
        self._received = _Children(self.received)
        self._issued_to_delivery = _Children(self.issued_to_delivery)
        self._ingest_to_delivery = _Children(self.ingest_to_delivery)
        registry.register(_ScrapeTime(self._collect, [f"{prefix}_refused", f"{prefix}_expired"]))

    def watch(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def delivered(self, notice: NoticeEnvelope) -> None:
        """A notice reached the sink: ``Subscriber(delivered=...)`` calls this."""
        now = dt.datetime.now(dt.UTC)
        labels = (self.agency, notice.notice_type.value)
        self._received(*labels).inc()
        self._issued_to_delivery(*labels).observe(
            max(0.0, (now - notice.issued_at).total_seconds())
        )
        self._ingest_to_delivery(*labels).observe(
            max(0.0, (now - notice.source.received_at).total_seconds())
        )

    def _collect(self) -> Iterator[Metric]:
        refused = CounterMetricFamily(
            f"{self._prefix}_refused",
            "Delivered notices the agency's own re-check refused (a policy violation by the "
            "hub), by the rule that denied them.",
            labels=["agency", "rule"],
        )
        expired = CounterMetricFamily(
            f"{self._prefix}_expired",
            "Delivered notices dropped because they expired before the sink got them.",
            labels=["agency"],
        )
        total_expired = 0
        by_rule: dict[str, int] = {}
        for subscriber in self._subscribers:
            total_expired += subscriber.expired
            for rule, count in subscriber.refused.items():
                by_rule[rule] = by_rule.get(rule, 0) + count
        for rule in sorted({*_REFUSAL_RULES, *by_rule}):
            refused.add_metric([self.agency, rule], by_rule.get(rule, 0))
        expired.add_metric([self.agency], total_expired)
        yield refused
        yield expired


class OffsetMetrics:
    """What Kafka's offsets say: consumer lag per group and partition, dead letters waiting."""

    def __init__(self, registry: CollectorRegistry, prefix: str = DEFAULT_PREFIX) -> None:
        self.consumer_lag = Gauge(
            f"{prefix}_consumer_lag_records",
            "Offsets between a group's committed position and the end of the partition "
            "(a transaction's commit marker counts as one).",
            ["group", "topic", "partition"],
            registry=registry,
        )
        self.dlq_depth = Gauge(
            f"{prefix}_dlq_depth_records",
            "Dead letters not yet replayed.",
            ["topic"],
            registry=registry,
        )
        self.poll_failures = Counter(
            f"{prefix}_offsets_poll_failures_total",
            "Times asking Kafka for offsets failed; lag and DLQ depth keep their last values.",
            registry=registry,
        )
        self._lag_series: dict[str, set[tuple[str, str, str]]] = {}

    def set_lag(self, group: str, lag: dict[TopicPartition, int]) -> None:
        """Replace the group's series, so a partition that went away stops being reported."""
        series = {(group, tp.topic, str(tp.partition)) for tp in lag}
        for gone in self._lag_series.get(group, set()) - series:
            self.consumer_lag.remove(*gone)
        for tp, records in lag.items():
            self.consumer_lag.labels(group, tp.topic, str(tp.partition)).set(records)
        self._lag_series[group] = series


class AuditMetrics:
    """Whether the audit trail on the cluster still verifies."""

    def __init__(self, registry: CollectorRegistry, prefix: str = DEFAULT_PREFIX) -> None:
        self.chain_faults = Gauge(
            f"{prefix}_audit_chain_faults",
            "Faults (altered, missing or reordered records) the last verification found.",
            registry=registry,
        )
        self.verify_failures = Counter(
            f"{prefix}_audit_verify_failures_total",
            "Verifications of the audit trail that found a fault.",
            registry=registry,
        )
        self.records_verified = Gauge(
            f"{prefix}_audit_verified_records",
            "Audit records the last verification read.",
            registry=registry,
        )
        self.last_verified = Gauge(
            f"{prefix}_audit_last_verified_timestamp_seconds",
            "When the audit trail was last verified (Unix time).",
            registry=registry,
        )

    def verified(self, report: VerifyReport) -> None:
        self.chain_faults.set(len(report.faults))
        self.records_verified.set(report.records)
        self.last_verified.set(time.time())
        if not report.ok:
            self.verify_failures.inc()
