"""The scenarios, each a pair measured in the same run: raw Kafka clients, then the hub's real
services (IngestService, DistributorService, Subscriber, ListLoader) doing the same job.

Throughput is measured on a backlog, the way a service meets one after a restart or a burst:
the service runs and has claimed every input partition (a warm-up record each), it is paused
by holding its batch lock (``TransactionalProcessor.lock``: what a rebalance takes), the
backlog is produced and acknowledged, and the clock runs from releasing the lock to the commit
of the transaction holding the last record. Start-up, group joins and producer fencing are
thus outside the figures, on both sides alike.

Every scenario runs on topics of its own (a topic prefix per scenario), deleted afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from adapters.registry import AdapterRegistry, default_registry
from broker.bench.clients import (
    Counting,
    PassThrough,
    Record,
    ServiceDied,
    confluent_produce,
    produce,
    send_all,
)
from broker.bench.payloads import (
    AGENCIES,
    INTERPOL_AGENCY,
    UN_AGENCY,
    UN_FORMAT,
    EncodedNotice,
    RawPayload,
    Synthesizer,
)
from broker.bench.results import NOT_BUILT, NOT_MEASURED, Figure, percentile
from broker.distributor import DistributorService
from broker.errors import IncompatibleSchema, LocalRegistryError, SchemaRegistryError
from broker.ingest import IngestService
from broker.kafka_clients import new_admin, new_consumer, new_producer
from broker.models import NoticeEnvelope, NoticeType
from broker.policy.profiles import GroupDefinition, Policy, RecipientProfile
from broker.registry_client import SchemaRegistryClient
from broker.schema_catalog import SchemaCatalog
from broker.serde import NoticeSerde
from broker.settings import Settings
from broker.topics import TopicNames, ensure_declared_topics
from broker.transactional import BatchObserver, Produced
from consumers.guard import DeliveryGuard
from consumers.subscriber import Subscriber

log = logging.getLogger(__name__)

WARM_TIMEOUT = 120.0
"""Group join, one transactional producer per partition, a child process's imports."""
RAW_PARTITIONS = 3
NOTICE_PARTITIONS = 6
_REGISTRY_VARIABLES = ("SCHEMA_REGISTRY_URL", "NOTICES_SCHEMA_REGISTRY_URL")
"""Where ``Settings.schema_registry_url`` is read from."""
_COUNTRIES = (
    *("DE", "FR", "IT", "ES", "NL", "BE", "AT", "PL", "SE", "DK", "FI", "IE", "PT", "GR"),
    *("CZ", "HU", "RO", "BG", "HR", "SI", "SK", "LT", "LV", "EE", "LU", "MT", "CY", "GB"),
    *("NO", "CH", "IS", "US", "CA", "AU", "NZ", "JP", "KR", "BR", "AR", "MX", "ZA", "MA"),
)


@dataclass(frozen=True)
class BenchConfig:
    quick: bool
    runs: int
    r1_notices: int
    p1_payloads: int
    r2_notices: int
    p2_notices: dict[int, int]
    """Notices per run, by number of recipient profiles."""
    confluent_notices: int
    warm_runs: int
    """Unmeasured runs before the measured ones of each throughput scenario (caches, the
    broker's first segments): the first of several runs is often the odd one out."""
    latency_seconds: float
    pipeline_max_notices: int
    """How many notices measure the hub pipeline's maximum rate, half of which is offered."""
    list_sizes: tuple[int, int]
    list_runs: int

    @classmethod
    def for_mode(cls, *, quick: bool) -> BenchConfig:
        if quick:
            return cls(
                quick=True,
                runs=3,
                r1_notices=600,
                p1_payloads=150,
                r2_notices=300,
                p2_notices={1: 60, 10: 24, 50: 8},
                confluent_notices=600,
                warm_runs=0,
                latency_seconds=1.0,
                pipeline_max_notices=150,
                list_sizes=(1_000_000, 5_000_000),
                list_runs=1,
            )
        return cls(
            quick=False,
            runs=3,
            r1_notices=10_000,
            p1_payloads=1_500,
            r2_notices=5_000,
            p2_notices={1: 1_500, 10: 600, 50: 200},
            confluent_notices=10_000,
            warm_runs=1,
            latency_seconds=15.0,
            pipeline_max_notices=2_000,
            list_sizes=(10_000_000, 100_000_000),
            list_runs=3,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "quick": self.quick,
            "runs": self.runs,
            "warm_runs": self.warm_runs,
            "r1_notices": self.r1_notices,
            "p1_payloads": self.p1_payloads,
            "r2_notices": self.r2_notices,
            "p2_notices": {str(k): v for k, v in self.p2_notices.items()},
            "confluent_notices": self.confluent_notices,
            "latency_seconds": self.latency_seconds,
            "pipeline_max_notices": self.pipeline_max_notices,
            "list_sizes_bytes": list(self.list_sizes),
            "list_runs": self.list_runs,
        }


class Steps(Protocol):
    """Where progress goes: one call per step done, with what comes next."""

    def step(self, description: str) -> None: ...


class Profiling(Protocol):
    """Wraps one measured section (pyinstrument, when ``--profile`` asks for it)."""

    def section(self, name: str) -> contextlib.AbstractContextManager[None]: ...


class NoProfiling:
    def section(self, name: str) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


def bench_policy(recipients: int) -> Policy:
    """``recipients`` profiles, varied like a real hub's (countries, clearances, groups)."""
    clearances = ("SECRET", "CONFIDENTIAL", "RESTRICTED", "TOP_SECRET")
    return Policy.model_validate(
        {
            "groups": {"EU": GroupDefinition(description="EU members")},
            "recipients": [
                RecipientProfile.model_validate(
                    {
                        "agency_id": recipient_id(i),
                        "country": _COUNTRIES[i % len(_COUNTRIES)],
                        "clearance": clearances[i % len(clearances)],
                        "groups": ("EU",) if i % 3 else (),
                    }
                )
                for i in range(recipients)
            ],
        }
    )


def recipient_id(index: int) -> str:
    return f"bench-{index + 1:02d}"


@contextlib.asynccontextmanager
async def running(
    service: Coroutine[Any, Any, None], name: str
) -> AsyncIterator[asyncio.Task[None]]:
    """Run a service for the block; a service that died on its own fails the block."""
    task = asyncio.create_task(service, name=name)
    try:
        yield task
    finally:
        died = task.done() and not task.cancelled() and task.exception() is not None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if died:
            raise ServiceDied(f"{name} stopped on its own") from task.exception()


@contextlib.asynccontextmanager
async def started(producer: AIOKafkaProducer) -> AsyncIterator[AIOKafkaProducer]:
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


def _partition(key: bytes, partitions: int) -> int:
    """Where Kafka's default partitioner (murmur2, as aiokafka's) puts ``key``."""
    every = list(range(partitions))
    return int(DefaultPartitioner()(key, every, every))


def _cover(
    candidates: Iterator[NoticeEnvelope], partitions: int, types: Sequence[NoticeType]
) -> list[NoticeEnvelope]:
    """Notices whose keys land on every partition of each type's topic: a warm-up that makes
    a consumer claim every partition the measurement will use."""
    wanted = {(t, p) for t in types for p in range(partitions)}
    chosen: list[NoticeEnvelope] = []
    for notice in candidates:
        spot = (notice.notice_type, _partition(notice.notice_id.encode(), partitions))
        if spot in wanted:
            wanted.discard(spot)
            chosen.append(notice)
        if not wanted:
            return chosen
    raise RuntimeError("could not cover every partition")


async def declare_topics(settings: Settings, recipients: Sequence[str] = ()) -> None:
    """Create the hub's topics and wait until the broker's metadata lists them all: a
    service's first reader (the distributor's ledger) must not race their creation."""
    await ensure_declared_topics(settings, recipients)
    names = {
        spec.name
        for spec in TopicNames(settings.topic_prefix).declared(settings.agencies, recipients)
    }
    admin = new_admin(settings)
    await admin.start()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while missing := names - set(await admin.list_topics()):
            if loop.time() > deadline:
                raise TimeoutError(f"topics not created after 60 s: {sorted(missing)}")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


class Bench:
    """One benchmark run: the hub's settings, inputs, and the figures found so far."""

    def __init__(
        self,
        hub: Settings,
        config: BenchConfig,
        *,
        synth: Synthesizer,
        workdir: Path,
        steps: Steps,
        profiling: Profiling | None = None,
        registry: AdapterRegistry | None = None,
    ) -> None:
        self.hub = hub
        self.config = config
        self.synth = synth
        self.workdir = workdir
        self.steps = steps
        self.profiling = profiling or NoProfiling()
        self.warm = config.warm_runs + (0 if profiling is None else 1)
        """Unmeasured runs per throughput scenario; the last one is profiled, if asked."""
        self.registry = registry or default_registry()
        self.serde = NoticeSerde.from_settings(hub)
        self.run_id = uuid.uuid4().hex[:8]
        self.figures: list[Figure] = []
        self.notes: list[str] = []
        largest = max(config.p2_notices.values())
        self._pool = synth.notices((self.warm + config.runs) * largest, self.registry, self.serde)
        self._per_run = largest
        self._warm = synth.notices(2, self.registry, self.serde)
        """One notice of each type, sent to every partition to warm a consumer up; never
        among the measured ones, which the distributor's ledger would then call superseded."""

    # Plumbing

    def settings_for(self, name: str) -> Settings:
        prefix = f"bench-{self.run_id}-{name}."
        return self.hub.model_copy(
            update={
                "topic_prefix": prefix,
                "agencies": dict(AGENCIES),
                "ingest_group_id": f"{prefix}ingest",
            }
        )

    def figure(self, key: str, scenario: str, label: str, unit: str, **extra: Any) -> Figure:
        found = Figure(key, scenario, label, unit, **extra)
        self.figures.append(found)
        return found

    async def drop_topics(self, settings: Settings) -> None:
        """Delete a scenario's topics: a long run must not fill the broker's disk."""
        admin = new_admin(settings)
        await admin.start()
        try:
            names = [t for t in await admin.list_topics() if t.startswith(settings.topic_prefix)]
            if names:
                await admin.delete_topics(names)
        except Exception as exc:  # cleanup only: the figures stand
            log.warning("could not delete the topics of %s: %r", settings.topic_prefix, exc)
        finally:
            await admin.close()

    async def cleanup(self) -> None:
        """Delete whatever topics of this run are left (a scenario that failed half-way)."""
        await self.drop_topics(
            self.hub.model_copy(update={"topic_prefix": f"bench-{self.run_id}-"})
        )

    def runs(self) -> range:
        """Run numbers of a throughput scenario: negative ones are warm-ups, not counted."""
        return range(-self.warm, self.config.runs)

    def label(self, run: int) -> str:
        return "warm-up" if run < 0 else f"run {run + 1}"

    def profile_name(self, run: int, name: str) -> str | None:
        """The last warm-up is the profiled run, when profiling: never a measured one."""
        return name if run == -1 and not isinstance(self.profiling, NoProfiling) else None

    def run_pool(self, run: int, count: int) -> list[EncodedNotice]:
        """Fresh notice ids for each run of one scenario (the distributor remembers ids)."""
        start = (run + self.warm) * self._per_run
        return self._pool[start : start + count]

    def _cycled(self, count: int) -> list[EncodedNotice]:
        return [self._pool[i % len(self._pool)] for i in range(count)]

    async def _paused_backlog(
        self,
        lock: asyncio.Lock,
        counter: Counting,
        task: asyncio.Task[None],
        producer: AIOKafkaProducer,
        records: list[Record],
        profile: str | None = None,
    ) -> float:
        """Seconds a paused consumer takes to commit ``records`` once let go."""
        target = counter.records + len(records)
        async with lock:
            await send_all(producer, records)
        with self.profiling.section(profile) if profile else contextlib.nullcontext():
            started_at = time.perf_counter()
            await counter.reach(target, within=WARM_TIMEOUT + len(records) / 5, task=task)
        return counter.last_commit - started_at

    # R1 and P1

    async def raw_produce(self) -> Figure:
        settings = self.settings_for("r1")
        await declare_topics(settings)
        topics = TopicNames(settings.topic_prefix)
        figure = self.figure("r1", "R1 raw produce (aiokafka)", "notices/s", "notices/s")
        notices = [
            (topics.notices(n.notice.notice_type), n) for n in self._cycled(self.config.r1_notices)
        ]
        for run in self.runs():
            self.steps.step(f"R1 raw produce, {self.label(run)}")
            rate = len(notices) / await produce(settings, notices)
            if run >= 0:
                figure.values.append(rate)
        self.figures.append(await self._confluent(settings, topics))
        await self.drop_topics(settings)
        return figure

    async def _confluent(self, settings: Settings, topics: TopicNames) -> Figure:
        figure = Figure(
            "r1.confluent", "R1 raw produce (confluent-kafka)", "notices/s", "notices/s"
        )
        notices = [
            (topics.notices(n.notice.notice_type), n)
            for n in self._cycled(self.config.confluent_notices)
        ]
        for run in self.runs():
            self.steps.step(f"R1 with confluent-kafka, {self.label(run)}")
            rate = len(notices) / await asyncio.to_thread(confluent_produce, settings, notices)
            if run >= 0:
                figure.values.append(rate)
        return figure

    async def ingest(self) -> None:
        """P1, with the metrics off and on in alternate runs of the same service."""
        settings = self.settings_for("p1")
        await declare_topics(settings)
        topics = TopicNames(settings.topic_prefix)
        service = IngestService(settings, registry=self.registry, serde=self.serde)
        counter = Counting()
        service.processor.observers.append(counter)
        metrics, why_not = _ingest_metrics(service)
        off = self.figure("p1", "P1 ingest (IngestService)", "notices/s", "notices/s")
        on = self.figure("p1.metrics", "P1 ingest, metrics on", "notices/s", "notices/s")
        cost = self.figure(
            "metrics.cost",
            "Metrics cost on P1",
            "throughput lost (on/off)",
            "%",
            note="1 - on/off of the pair of runs made back to back",
        )
        share = self.figure(
            "metrics.share",
            "Metrics cost on P1",
            "time in metrics code",
            "%",
            note="the metrics observers' own time, plus one scrape per 15 s, over the run's",
        )
        if metrics is None:
            for figure in (on, cost, share):
                figure.status, figure.note = NOT_BUILT, why_not
        producer = new_producer(settings, role="bench-liaison")
        async with running(service.run(), "ingest") as task, started(producer):
            warm = [
                producer.send(
                    topics.raw(payload.agency),
                    payload.value,
                    key=uuid.uuid4().bytes,
                    partition=partition,
                    headers=payload.headers,
                )
                for partition in range(RAW_PARTITIONS)
                for payload in (self.synth.interpol_detail(), self.synth.un_individual())
            ]
            await asyncio.gather(*[await sent for sent in warm])
            await counter.reach(len(warm), within=WARM_TIMEOUT, task=task)
            for run in self.runs():
                # Off and on alternate, and which goes first too, so that a drift of the
                # machine's load during the run does not read as the metrics' cost.
                modes: tuple[bool, ...] = (False, True) if run % 2 == 0 else (True, False)
                if metrics is None or run < 0:
                    modes = (False,)
                rates: dict[bool, float] = {}
                for with_metrics in modes:
                    label = "metrics on" if with_metrics else "metrics off"
                    self.steps.step(f"P1 ingest ({label}), {self.label(run)}")
                    watched: list[BatchObserver] = [counter]
                    if metrics is not None and with_metrics:
                        watched.append(metrics)
                    service.processor.observers[:] = watched
                    spent = metrics.seconds if metrics else 0.0
                    rates[with_metrics] = await self._ingest_run(
                        service, counter, task, producer, topics, self.profile_name(run, "p1")
                    )
                    if metrics is not None and with_metrics and run >= 0:
                        run_seconds = self.config.p1_payloads / rates[True]
                        in_metrics = metrics.seconds - spent + metrics.scrape() * run_seconds / 15
                        share.values.append(100 * in_metrics / run_seconds)
                if run < 0:
                    continue
                off.values.append(rates[False])
                if metrics is not None:
                    on.values.append(rates[True])
                    cost.values.append(100 * (1 - rates[True] / rates[False]))
        await self.drop_topics(settings)

    async def _ingest_run(
        self,
        service: IngestService,
        counter: Counting,
        task: asyncio.Task[None],
        producer: AIOKafkaProducer,
        topics: TopicNames,
        profile: str | None,
    ) -> float:
        payloads = self.synth.raw_payloads(self.config.p1_payloads)
        translated = sum(service.stats.translated.values())
        dead = sum(service.stats.dead_lettered.values())
        records = [_raw_record(topics, payload) for payload in payloads]
        seconds = await self._paused_backlog(
            service.processor.lock, counter, task, producer, records, profile
        )
        if sum(service.stats.dead_lettered.values()) != dead:
            raise RuntimeError(f"P1: dead letters among synthesized payloads: {service.stats}")
        if sum(service.stats.translated.values()) - translated != len(payloads):
            raise RuntimeError("P1: fewer notices than payloads")
        return len(payloads) / seconds

    # R2 and P2

    async def pass_through(self) -> Figure:
        settings = self.settings_for("r2")
        target = recipient_id(0)
        await declare_topics(settings, [target])
        topics = TopicNames(settings.topic_prefix)
        figure = self.figure("r2", "R2 raw pass-through (transactional)", "notices/s", "notices/s")
        passthrough = PassThrough(
            settings,
            group_id=f"{settings.topic_prefix}passthrough",
            pattern=topics.distributor_pattern,
            target=topics.deliver(target),
        )
        producer = new_producer(settings, role="bench-raw")
        async with running(passthrough.run(), "pass-through") as task, started(producer):
            await self._warm_distribution(producer, topics, passthrough.counter, task)
            for run in self.runs():
                self.steps.step(f"R2 raw pass-through, {self.label(run)}")
                notices = self._cycled(self.config.r2_notices)
                seconds = await self._paused_backlog(
                    passthrough.lock,
                    passthrough.counter,
                    task,
                    producer,
                    [_notice_record(topics, n) for n in notices],
                )
                if run >= 0:
                    figure.values.append(len(notices) / seconds)
        await self.drop_topics(settings)
        return figure

    async def _warm_distribution(
        self,
        producer: AIOKafkaProducer,
        topics: TopicNames,
        counter: Counting,
        task: asyncio.Task[None],
        serde: NoticeSerde | None = None,
    ) -> None:
        """One notice of each type to every partition, framed as ``_notice_record`` frames."""
        records = [_notice_record(topics, n, serde) for n in self._warm]
        warm = [
            producer.send(topic, value, key=key, partition=partition, headers=headers)
            for partition in range(NOTICE_PARTITIONS)
            for topic, key, value, headers in records
        ]
        await asyncio.gather(*[await sent for sent in warm])
        await counter.reach(len(warm), within=WARM_TIMEOUT, task=task)

    async def distribution(self, recipients: int) -> None:
        """P2 at ``recipients`` profiles: notices/s and deliveries/s."""
        scenario = f"P2 distribution, {recipients} recipient{'s' if recipients > 1 else ''}"
        await self._distribute(
            f"p2-{recipients}",
            recipients,
            self.figure(f"p2.{recipients}", scenario, "notices/s", "notices/s"),
            self.figure(f"p2.{recipients}.deliveries", scenario, "deliveries/s", "deliveries/s"),
        )

    async def registry_framing(self, registry: contextlib.AbstractContextManager[str]) -> None:
        """P2 at 1 recipient again in the registry's framing (issue #8): the Confluent wire
        format (0x00, the 4-byte schema id, the datum), ids from the real registry whose URL
        ``registry`` yields. The distributor writes its deliveries so, as a service given
        SCHEMA_REGISTRY_URL does, and reads inputs written so ahead of the clock, as the
        ingest service would write them. It runs right after P2 at 1 recipient, on the same
        notices, so that the two framings meet the same broker and load.

        A registry that does not start, or does not register the schema, makes the row "not
        measured" with the reason, and the rest of the run stands.
        """
        figure = self.figure(
            "p2.1.registry",
            "P2 distribution, 1 recipient, registry framing",
            "notices/s",
            "notices/s",
            note="inputs and deliveries in the Confluent wire format, ids from a real registry",
        )
        name = "p2-1-registry"
        topics = TopicNames(self.settings_for(name).topic_prefix)
        with contextlib.ExitStack() as stack:
            self.steps.step("P2 registry framing: the schema registry")
            try:
                client = stack.enter_context(SchemaRegistryClient(stack.enter_context(registry)))
                serde = NoticeSerde(SchemaCatalog.from_directory(), client)
                await asyncio.to_thread(serde.register, topics.all_notices)
            except (LocalRegistryError, SchemaRegistryError, IncompatibleSchema) as exc:
                log.warning("P2 in the registry framing is not measured: %s", exc)
                figure.status, figure.note = NOT_MEASURED, str(exc).splitlines()[0]
                return
            await self._distribute(name, 1, figure, serde=serde)

    async def _distribute(
        self,
        name: str,
        recipients: int,
        notices_fig: Figure,
        deliveries_fig: Figure | None = None,
        serde: NoticeSerde | None = None,
    ) -> None:
        """Backlogs of the pool's notices through the real DistributorService at
        ``recipients`` profiles, on topics of ``name``: notices/s, and deliveries/s if asked.

        ``serde`` is the framing under test: the service runs with it and its inputs are
        written as it writes them (``_notice_record``); by default the bench's serde and the
        pool's single-object bytes.
        """
        settings = self.settings_for(name)
        service = DistributorService(
            settings,
            policy=bench_policy(recipients),
            serde=serde or self.serde,
            group_id=f"{settings.topic_prefix}distributor",
        )
        await declare_topics(settings, service.recipients)
        topics = TopicNames(settings.topic_prefix)
        counter = Counting()
        service.processor.observers.append(counter)
        producer = new_producer(settings, role="bench-raw")
        count = self.config.p2_notices[recipients]
        async with running(service.run(), f"distributor-{name}") as task, started(producer):
            # The warm-up notices are not new ids for this prefix's ledger: fresh per scenario.
            await self._warm_distribution(producer, topics, counter, task, serde)
            for run in self.runs():
                self.steps.step(f"{notices_fig.scenario}, {self.label(run)}")
                notices = self.run_pool(run, count)
                delivered = sum(service.stats.deliveries.values())
                seconds = await self._paused_backlog(
                    service.processor.lock,
                    counter,
                    task,
                    producer,
                    [_notice_record(topics, n, serde) for n in notices],
                    self.profile_name(run, name),
                )
                if run >= 0:
                    notices_fig.values.append(len(notices) / seconds)
                    if deliveries_fig is not None:
                        deliveries_fig.values.append(
                            (sum(service.stats.deliveries.values()) - delivered) / seconds
                        )
        await self.drop_topics(settings)

    # Latency

    async def latency(self) -> None:
        """End to end at half the hub pipeline's maximum rate, the hub's pipeline and the raw.

        Both pipelines start together and warm up together. The hub pipeline's maximum is
        measured end to end (a burst through ingest, distributor and subscriber, which share
        this machine's cores as they would not in production), and half of it is offered to
        both. The windows alternate (hub, raw, hub, ...), so a change in the machine's load
        shows in both; each pipeline's idle processes poll Kafka while the other is measured.
        """
        most = self.figure(
            "latency.max",
            "Latency, hub pipeline maximum",
            "end to end",
            "notices/s",
            note=f"bursts of {self.config.pipeline_max_notices} notices, first sent to last "
            "received; half the median is the offered load",
        )
        offered = self.figure("latency.rate", "Latency, offered load", "rate", "notices/s")
        hub = _Pipeline(
            [
                self.figure(
                    f"latency.{q}", "Latency, hub (ingest, distributor, subscriber)", q, "ms"
                )
                for q in ("p50", "p99", "p99.9")
            ]
        )
        raw = _Pipeline(
            [
                self.figure(f"latency.raw.{q}", "Latency, raw (R1, R2, R2, consumer)", q, "ms")
                for q in ("p50", "p99", "p99.9")
            ]
        )
        hub_settings, raw_settings = self.settings_for("lat"), self.settings_for("latraw")
        agency = recipient_id(0)
        await declare_topics(hub_settings, [agency])
        await declare_topics(raw_settings, [agency])
        async with contextlib.AsyncExitStack() as stack:
            self.steps.step("Latency: starting both pipelines, warming up")
            await self._start_hub_pipeline(stack, hub, hub_settings, agency)
            await self._start_raw_pipeline(stack, raw, raw_settings, agency)
            await asyncio.gather(hub.send(self, rate=0), raw.send(self, rate=0))
            self.steps.step("Latency: the hub pipeline's maximum rate")
            for _ in range(self.config.runs):
                count = self.config.pipeline_max_notices
                hub.records, hub.ids = self._hub_window(hub.topics, count)
                started_at = time.perf_counter()
                await hub.send(self, rate=0)
                most.values.append(count / (max(hub.arrived[i] for i in hub.ids) - started_at))
            rate = round(most.median / 2, 1)
            offered.values.append(rate)
            for run in range(self.config.runs):
                count = max(1, int(rate * self.config.latency_seconds))
                self.steps.step(f"Latency, hub pipeline, run {run + 1}")
                hub.records, hub.ids = self._hub_window(hub.topics, count)
                await hub.send(self, rate=rate, measure=True)
                self.steps.step(f"Latency, raw pipeline, run {run + 1}")
                raw.records, raw.ids = self._raw_window(raw.topics, count, run)
                await raw.send(self, rate=rate, measure=True)
        await self.drop_topics(hub_settings)
        await self.drop_topics(raw_settings)

    async def _start_hub_pipeline(
        self, stack: contextlib.AsyncExitStack, hub: _Pipeline, settings: Settings, agency: str
    ) -> None:
        """Ingest and distributor in processes of their own, a real Subscriber here."""
        policy = bench_policy(1)
        hub.topics = TopicNames(settings.topic_prefix)

        def sink(notice: NoticeEnvelope) -> None:
            hub.arrived[notice.notice_id] = time.perf_counter()

        subscriber = Subscriber(
            settings,
            topics=[hub.topics.deliver(agency)],
            group_id=f"{settings.topic_prefix}subscriber",
            sink=sink,
            serde=self.serde,
            guard=DeliveryGuard(policy, agency),
        )
        distributor = {
            "policy": policy.model_dump_json(),
            "group_id": f"{settings.topic_prefix}distributor",
        }
        ingest = await stack.enter_async_context(self.child("ingest", {}, settings, "lat-ingest"))
        dist = await stack.enter_async_context(
            self.child("distribute", distributor, settings, "lat-distributor")
        )
        task = await stack.enter_async_context(running(subscriber.run(), "subscriber"))
        hub.producer = await stack.enter_async_context(
            started(new_producer(settings, role="bench-liaison"))
        )
        hub.alive = _alive(task, ingest, dist)
        warm = self._warm_payloads()
        hub.records = [_raw_record(hub.topics, p) for p in warm]
        hub.ids = [p.notice_id for p in warm]

    async def _start_raw_pipeline(
        self, stack: contextlib.AsyncExitStack, raw: _Pipeline, settings: Settings, agency: str
    ) -> None:
        """Two pass-throughs (raw -> middle -> deliver) in processes of their own, a raw
        consumer here."""
        raw.topics = TopicNames(settings.topic_prefix)
        middle = raw.topics.notices(NoticeType.WANTED_PERSON)
        hop_a = {
            "group_id": f"{settings.topic_prefix}hop-a",
            "pattern": raw.topics.raw_pattern,
            "target": middle,
        }
        hop_b = {
            "group_id": f"{settings.topic_prefix}hop-b",
            "pattern": f"^{middle.replace('.', '[.]')}$",
            "target": raw.topics.deliver(agency),
        }
        consumer = _raw_consumer(settings, raw.topics.deliver(agency), raw.arrived)
        a = await stack.enter_async_context(
            self.child("passthrough", hop_a, settings, "latraw-hop-a")
        )
        b = await stack.enter_async_context(
            self.child("passthrough", hop_b, settings, "latraw-hop-b")
        )
        task = await stack.enter_async_context(running(consumer, "raw consumer"))
        raw.producer = await stack.enter_async_context(
            started(new_producer(settings, role="bench-raw"))
        )
        raw.alive = _alive(task, a, b)
        raw.records = self._raw_warm(raw.topics)
        raw.ids = [(record[1] or b"").decode() for record in raw.records]

    def _hub_window(self, topics: TopicNames, count: int) -> tuple[list[Record], list[str]]:
        payloads = self.synth.raw_payloads(count)
        return [_raw_record(topics, p) for p in payloads], [p.notice_id for p in payloads]

    def _raw_window(
        self, topics: TopicNames, count: int, run: int
    ) -> tuple[list[Record], list[str]]:
        """Canonical notices as R1 sends them, each under a key of its own: the raw pipeline
        never decodes, and the key is what its consumer recognises."""
        records: list[Record] = []
        ids = []
        for i, n in enumerate(self._cycled(count)):
            wanted = n.notice.notice_type is NoticeType.WANTED_PERSON
            ids.append(f"{n.notice.notice_id}#{run}.{i}")
            topic = topics.raw(INTERPOL_AGENCY if wanted else UN_AGENCY)
            records.append((topic, ids[-1].encode(), n.value, n.headers))
        return records, ids

    def _warm_payloads(self) -> list[RawPayload]:
        """Payloads whose notices land on every notices partition: the distributor claims
        them all before the clock runs (``paced`` spreads them over the raw partitions)."""
        by_id: dict[str, RawPayload] = {}

        def candidates() -> Iterator[NoticeEnvelope]:
            from broker.bench.payloads import translate_all

            while True:
                payloads = self.synth.raw_payloads(20)
                by_id.update((p.notice_id, p) for p in payloads)
                yield from translate_all(payloads, self.registry)

        chosen = _cover(
            candidates(), NOTICE_PARTITIONS, (NoticeType.WANTED_PERSON, NoticeType.FREEZE_ORDER)
        )
        return [by_id[notice.notice_id] for notice in chosen]

    def _raw_warm(self, topics: TopicNames) -> list[Record]:
        """For each raw topic, keys that cover every partition of the middle topic."""
        records: list[Record] = []
        for agency, notice in zip(AGENCIES, self._warm, strict=True):
            covered: set[int] = set()
            for i in range(10_000):
                key = f"warm-{agency}-{i}".encode()
                partition = _partition(key, NOTICE_PARTITIONS)
                if partition not in covered:
                    covered.add(partition)
                    records.append((topics.raw(agency), key, notice.value, notice.headers))
                if len(covered) == NOTICE_PARTITIONS:
                    break
        return records

    async def paced(
        self,
        producer: AIOKafkaProducer,
        records: list[Record],
        rate: float,
        sent: dict[str, float],
        ids: list[str] | None = None,
    ) -> None:
        """Send at ``rate`` records/s (0: at once, each topic's partitions in turn), stamping each
        id's send time; every send acknowledged before returning."""
        loop = asyncio.get_running_loop()
        started_at = loop.time()
        acks = []
        per_topic: Counter[str] = Counter()
        for i, (topic, key, value, headers) in enumerate(records):
            if rate > 0:
                delay = started_at + i / rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                partition = None
            else:
                partition = per_topic[topic] % RAW_PARTITIONS
                per_topic[topic] += 1
            if ids is not None:
                sent[ids[i]] = time.perf_counter()
            acks.append(
                await producer.send(topic, value, key=key, headers=headers, partition=partition)
            )
        await asyncio.gather(*acks)

    @contextlib.asynccontextmanager
    async def child(
        self, role: str, args: dict[str, Any], settings: Settings, name: str
    ) -> AsyncIterator[asyncio.subprocess.Process]:
        """A participant in a process of its own (``broker.bench.child``), stopped by SIGTERM."""
        log_path = self.workdir / f"{name}.log"
        env = _child_env(settings)
        with log_path.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "broker.bench.child",
                role,
                json.dumps(args),
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            yield process
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 20)
                except TimeoutError:
                    process.kill()
                    await process.wait()
        if process.returncode not in (0, -15):
            tail = log_path.read_text(errors="replace").splitlines()[-15:]
            raise ServiceDied(f"{name} exited with {process.returncode}:\n" + "\n".join(tail))

    # Memory

    async def memory(self) -> None:
        """Peak RSS of the real ListLoader, in a process of its own, on a small and a large
        UN list; also how long each load took."""
        sizes = self.config.list_sizes
        files = []
        for size in sizes:
            self.steps.step(f"Memory: writing a {size / 1e6:g} MB UN list")
            path = self.workdir / f"un-list-{size}.xml"
            entries = await asyncio.to_thread(self.synth.write_un_list, path, size)
            files.append((size, path, entries))
        peaks = {
            size: self.figure(
                f"memory.{size}",
                f"ListLoader, {size / 1e6:g} MB UN list",
                "peak RSS",
                "MB",
                note=f"{entries} entries, in a process of its own",
            )
            for size, _, entries in files
        }
        rates = {
            size: self.figure(
                f"memory.{size}.rate",
                f"ListLoader, {size / 1e6:g} MB UN list",
                "load rate",
                "entries/s",
                note=f"{entries} entries; ListLoader.load from its call to its last commit",
            )
            for size, _, entries in files
        }
        for run in range(self.config.list_runs):
            for size, path, entries in files:
                self.steps.step(f"Memory: loading {size / 1e6:g} MB, run {run + 1}")
                settings = self.settings_for(f"mem{size // 1_000_000}-{run}")
                result = await self._load(settings, path, f"load-{size}-{run}")
                if result["published"] != entries:
                    raise RuntimeError(
                        f"ListLoader published {result['published']} of {entries} entries"
                    )
                peaks[size].values.append(result["peak_rss_bytes"] / 1e6)
                rates[size].values.append(entries / result["seconds"])
                await self.drop_topics(settings)

    async def _load(self, settings: Settings, path: Path, name: str) -> dict[str, Any]:
        out = self.workdir / f"{name}.json"
        log_path = self.workdir / f"{name}.log"
        args = {"path": str(path), "agency": UN_AGENCY, "format": UN_FORMAT, "out": str(out)}
        argv = [sys.executable, "-m", "broker.bench.child", "load", json.dumps(args)]
        env = _child_env(settings)
        with log_path.open("wb") as log_file:
            process = await asyncio.create_subprocess_exec(
                *argv, env=env, stdout=log_file, stderr=subprocess.STDOUT
            )
        try:
            code = await process.wait()
        finally:
            if process.returncode is None:  # interrupted: the load must not run on
                process.kill()
                await process.wait()
        if code != 0:
            tail = log_path.read_text(errors="replace").splitlines()[-15:]
            raise RuntimeError(f"ListLoader exited with {code}:\n" + "\n".join(tail))
        result: dict[str, Any] = json.loads(out.read_text())
        return result


class _Pipeline:
    """One end-to-end pipeline under measurement: what it sends next, and what arrived."""

    def __init__(self, figures: list[Figure]) -> None:
        self.figures = figures
        self.arrived: dict[str, float] = {}
        self.topics = TopicNames()
        self.producer: AIOKafkaProducer | None = None
        self.alive: Callable[[], None] = lambda: None
        self.records: list[Record] = []
        self.ids: list[str] = []

    async def send(self, bench: Bench, *, rate: float, measure: bool = False) -> None:
        """Send ``records`` at ``rate`` (0: all at once), wait until all arrived; with
        ``measure``, add the window's percentiles to the figures."""
        if self.producer is None:
            raise RuntimeError("the pipeline has not started")
        sent: dict[str, float] = {}
        await bench.paced(self.producer, self.records, rate, sent, self.ids)
        await _arrival(self.ids, self.arrived, WARM_TIMEOUT, self.alive)
        if measure:
            _add_percentiles(self.figures, sent, self.arrived)


def _child_env(settings: Settings) -> dict[str, str]:
    """The environment a benchmark child rebuilds ``settings`` from. A schema registry named
    in this process's environment is not passed on: ``to_env`` leaves an unset URL out, and
    a child finding one would write the registry framing where the figures say single-object.
    """
    inherited = {k: v for k, v in os.environ.items() if k not in _REGISTRY_VARIABLES}
    return {**inherited, **settings.to_env()}


def _raw_record(topics: TopicNames, payload: RawPayload) -> Record:
    return (topics.raw(payload.agency), uuid.uuid4().bytes, payload.value, payload.headers)


def _notice_record(
    topics: TopicNames, notice: EncodedNotice, serde: NoticeSerde | None = None
) -> Record:
    """``notice`` on its notices topic: the pool's single-object bytes, or as ``serde`` writes
    to that topic (``encode_for``: the Confluent wire format when it has a registry)."""
    topic = topics.notices(notice.notice.notice_type)
    value = notice.value if serde is None else serde.encode_for(topic, notice.notice)
    return (topic, notice.key, value, notice.headers)


def _alive(task: asyncio.Task[None], *children: asyncio.subprocess.Process) -> Callable[[], None]:
    def check() -> None:
        if task.done():
            raise ServiceDied(f"{task.get_name()} stopped")
        for child in children:
            if child.returncode is not None:
                raise ServiceDied(f"a benchmark child process exited with {child.returncode}")

    return check


async def _arrival(
    ids: list[str], arrived: dict[str, float], within: float, alive: Callable[[], None]
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while any(i not in arrived for i in ids):
        alive()
        if loop.time() > deadline:
            missing = sum(1 for i in ids if i not in arrived)
            raise TimeoutError(f"{missing} of {len(ids)} notices did not arrive in {within:.0f} s")
        await asyncio.sleep(0.05)


def _add_percentiles(
    figures: list[Figure], sent: dict[str, float], arrived: dict[str, float]
) -> None:
    latencies = sorted((arrived[i] - t) * 1000 for i, t in sent.items())
    for figure, q in zip(figures, (0.50, 0.99, 0.999), strict=True):
        figure.values.append(percentile(latencies, q))


async def _raw_consumer(settings: Settings, topic: str, arrived: dict[str, float]) -> None:
    """The raw pipeline's end: read committed, stamp, commit each partition's batch after it
    (as the Subscriber does after its sink)."""
    consumer = new_consumer(
        settings, topic, group_id=f"{settings.topic_prefix}raw-consumer", role="bench-raw"
    )
    await consumer.start()
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=500, max_records=settings.batch_max_records)
            for tp, records in batch.items():
                for record in records:
                    arrived[(record.key or b"").decode()] = time.perf_counter()
                await consumer.commit({tp: records[-1].offset + 1})
    finally:
        await consumer.stop()


class _TimedMetrics:
    """The metrics' observers of one service, and the time they took: a BatchObserver."""

    def __init__(self, observers: list[BatchObserver], registry: Any) -> None:
        self.observers = observers
        self.registry = registry
        self.seconds = 0.0

    def batch_committed(self, tp: TopicPartition, produced: Produced) -> None:
        started_at = time.perf_counter()
        for observer in self.observers:
            observer.batch_committed(tp, produced)
        self.seconds += time.perf_counter() - started_at

    def batch_failed(self, tp: TopicPartition, produced: Produced, error: Exception) -> None:
        for observer in self.observers:
            observer.batch_failed(tp, produced, error)

    def scrape(self) -> float:
        """Seconds one Prometheus scrape of the registry takes (the service's loop pays it)."""
        from prometheus_client import generate_latest

        started_at = time.perf_counter()
        generate_latest(self.registry)
        return time.perf_counter() - started_at


def _ingest_metrics(service: IngestService) -> tuple[_TimedMetrics | None, str]:
    """The observers ``broker.metrics_server.serve_ingest`` attaches to the ingest service
    (not its offsets monitor, a poll every 15 s), or None and why when no metrics are wired
    into the services yet."""
    try:
        from prometheus_client import CollectorRegistry

        from broker.metrics import IngestMetrics, TransactionMetrics
        from broker.metrics_server import serve_ingest  # noqa: F401  (the wiring exists)
    except ImportError as exc:
        return None, f"broker.metrics is not wired into the services ({exc})"
    before = len(service.processor.observers)
    registry = CollectorRegistry()
    IngestMetrics(registry).watch(service)
    TransactionMetrics(registry).watch(service.processor, dlq_topic=service.topics.dlq)
    added = service.processor.observers[before:]
    del service.processor.observers[before:]
    return _TimedMetrics(list(added), registry), ""
