"""The raw baselines, and the counter every measured consumer reports its commits to.

Each baseline does what the hub's own code does minus the hub's work, with the hub's own
client settings, so that the ratio real/raw is the cost of the hub and nothing else:

- R1 ``produce``: ``broker.kafka_clients.new_producer`` (acks=all, idempotent, the same
  linger) sending pre-encoded canonical notices, keyed and headed like ``notice_record``.
- R2 ``PassThrough``: consume read_committed, produce the same bytes in one transaction per
  input batch and partition, with the batch's offsets in that transaction, one transactional
  producer per input partition: ``broker.transactional`` without the transform. It sends
  with the hub's ``send_outputs`` (aiokafka's record batches), so that the pair differs by
  the hub's work only, not by how records reach the client.
- ``confluent_produce``: R1 again with confluent-kafka's (librdkafka's) Producer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from broker.bench.payloads import EncodedNotice
from broker.kafka_clients import new_consumer, new_producer
from broker.settings import Settings
from broker.transactional import Outgoing, Produced, send_outputs

Record = tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]
"""One record to send: topic, key, value, headers."""

FETCH_MAX_WAIT_MS = 100
"""As ``broker.transactional`` fetches, so both sides wait the same on an idle partition."""


class ServiceDied(RuntimeError):
    """A service under measurement stopped on its own: its exception is the cause."""


class Counting:
    """Committed input records and outputs, and when the last commit happened.

    A ``broker.transactional.BatchObserver`` for the hub's services; the pass-through calls
    ``add`` itself. Counting is all it does, so it costs both sides the same.
    """

    def __init__(self) -> None:
        self.records = 0
        self.outputs = 0
        self.failures = 0
        self.last_commit = 0.0
        self._changed = asyncio.Event()

    def add(self, records: int, outputs: int) -> None:
        self.records += records
        self.outputs += outputs
        self.last_commit = time.perf_counter()
        self._changed.set()

    def batch_committed(self, tp: TopicPartition, produced: Produced) -> None:
        self.add(len(produced), sum(len(outputs) for _, outputs in produced))

    def batch_failed(self, tp: TopicPartition, produced: Produced, error: Exception) -> None:
        self.failures += 1

    async def reach(self, records: int, *, within: float, task: asyncio.Task[None]) -> None:
        """Wait until ``records`` input records are committed; fail if ``task`` died."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self.records < records:
            if task.done():
                raise ServiceDied(f"{task.get_name()} stopped") from _exception(task)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"{task.get_name()}: {self.records} of {records} records committed after "
                    f"{within:.0f} s"
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 1.0))


def _exception(task: asyncio.Task[None]) -> BaseException | None:
    if task.cancelled():
        return None
    return task.exception()


async def send_all(producer: AIOKafkaProducer, records: Sequence[Record]) -> None:
    """Queue every (topic, key, value, headers), then wait for every acknowledgement."""
    acks = [
        await producer.send(topic, value, key=key, headers=headers)
        for topic, key, value, headers in records
    ]
    await asyncio.gather(*acks)


async def produce(
    settings: Settings, notices: Sequence[tuple[str, EncodedNotice]], *, warm: bool = True
) -> float:
    """R1: seconds for the hub's producer settings to send ``notices`` (topic, notice), all
    acknowledged. The producer is started, and warmed up with a few sends, beforehand."""
    producer = new_producer(settings, role="bench-raw")
    await producer.start()
    try:
        if warm:  # metadata, connections, the first batches: not what is measured
            await send_all(producer, [(t, n.key, n.value, n.headers) for t, n in notices[:200]])
        started = time.perf_counter()
        await send_all(producer, [(t, n.key, n.value, n.headers) for t, n in notices])
        return time.perf_counter() - started
    finally:
        await producer.stop()


class PassThrough:
    """R2: the hub's consume-transform-produce loop with the identity as its transform."""

    def __init__(
        self,
        settings: Settings,
        *,
        group_id: str,
        pattern: str,
        target: str,
        role: str = "bench-passthrough",
    ) -> None:
        self.settings = settings
        self.group_id = group_id
        self.pattern = pattern
        self.target = target
        self.role = role
        self.lock = asyncio.Lock()
        """Held between batches, like ``TransactionalProcessor.lock``: holding it pauses."""
        self.counter = Counting()
        self._producers: dict[TopicPartition, AIOKafkaProducer] = {}

    async def run(self) -> None:
        consumer = new_consumer(
            self.settings,
            group_id=self.group_id,
            role=self.role,
            metadata_max_age_ms=30_000,
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        )
        consumer.subscribe(pattern=self.pattern)
        await consumer.start()
        try:
            while True:
                batch = await consumer.getmany(
                    timeout_ms=500, max_records=self.settings.batch_max_records
                )
                async with self.lock:
                    for tp, records in batch.items():  # one after the other, as the hub does
                        if tp not in self._producers:
                            await self._start_producer(tp)
                        await self._pass(tp, records)
        finally:
            for producer in self._producers.values():
                with contextlib.suppress(KafkaError, TimeoutError):
                    await asyncio.wait_for(producer.stop(), 10.0)
            await consumer.stop()

    async def _pass(self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        producer = self._producers[tp]
        await producer.begin_transaction()
        await send_outputs(
            producer, [Outgoing(self.target, r.value, r.key, r.headers) for r in records]
        )
        await producer.send_offsets_to_transaction({tp: records[-1].offset + 1}, self.group_id)
        await producer.commit_transaction()
        self.counter.add(len(records), len(records))

    async def _start_producer(self, tp: TopicPartition) -> AIOKafkaProducer:
        producer = new_producer(
            self.settings,
            role=self.role,
            transactional_id=f"{self.group_id}.{tp.topic}.{tp.partition}",
        )
        await producer.start()
        self._producers[tp] = producer
        return producer


def confluent_config(settings: Settings, *, role: str) -> dict[str, Any]:
    """librdkafka's names for what ``new_producer`` sets (acks, idempotence, linger, login)."""
    config: dict[str, Any] = {
        "bootstrap.servers": settings.bootstrap_servers,
        "client.id": f"{settings.client_id}-{role}",
        "acks": "all",
        "enable.idempotence": True,
        "linger.ms": settings.linger_ms,
        "security.protocol": settings.security_protocol,
    }
    if (login := settings.sasl_login) is not None:
        config.update(
            {
                "sasl.mechanism": settings.sasl_mechanism,
                "sasl.username": login[0],
                "sasl.password": login[1],
            }
        )
    if settings.ssl_cafile is not None:
        config["ssl.ca.location"] = str(settings.ssl_cafile)
    return config


def confluent_produce(settings: Settings, notices: Sequence[tuple[str, EncodedNotice]]) -> float:
    """R1 with confluent-kafka: seconds to send ``notices``, every delivery reported. Blocking
    (librdkafka's own threads do the work): run it in a worker thread."""
    from confluent_kafka import Producer

    producer = Producer(confluent_config(settings, role="bench-confluent"))
    failed: list[str] = []

    def delivered(err: Any, _msg: Any) -> None:
        if err is not None:
            failed.append(str(err))

    for topic, notice in notices[:200]:  # warm up, as ``produce`` does
        producer.produce(topic, notice.value, key=notice.key, headers=list(notice.headers))
    producer.flush(60)
    started = time.perf_counter()
    for topic, notice in notices:
        while True:
            try:
                producer.produce(
                    topic,
                    notice.value,
                    key=notice.key,
                    headers=list(notice.headers),
                    on_delivery=delivered,
                )
                break
            except BufferError:  # the local queue is full: let deliveries drain it
                producer.poll(0.05)
        producer.poll(0)
    remaining = producer.flush(120)
    elapsed = time.perf_counter() - started
    if remaining or failed:
        raise RuntimeError(
            f"confluent-kafka: {remaining} undelivered, {len(failed)} failed "
            f"({failed[:1] or 'timeout'})"
        )
    return elapsed
