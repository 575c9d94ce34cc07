"""Consume, transform, produce: each input batch and its outputs in one Kafka transaction.

The outputs of a batch and the commit of its input offsets become visible together or not at
all, so a crash at any point neither loses nor duplicates anything for ``read_committed``
readers.

aiokafka has no KIP-447 (transactional offset commits carry no group generation), so zombies
are fenced the older way, as Kafka Streams did before 2.6 (see ../shared/KAFKA-LOCAL.md):
- one transactional producer per input partition, its transactional id derived from the group,
  topic and partition, so whoever processes a partition has the same id and starting its
  producer fences any previous owner;
- a partition's position is taken from the committed offset *after* its producer started, so
  nothing a fenced owner committed is processed twice;
- a rebalance waits for the batch in flight (one lock), so no transaction spans a revocation;
- a transaction that fails, or whose commit outcome is unknown, is never retried on the same
  producer: the producer is replaced (the new epoch aborts whatever the old one left open) and
  the partition rewinds to its committed offset.
A producer fenced by another instance means this instance is the zombie: that is fatal. But
aiokafka raises the same ProducerFenced when the coordinator aborted a transaction that outlived
its timeout (it bumps the epoch either way, and aiokafka's old protocol versions get the same
error code), so a transaction open for longer than the timeout is treated as failed instead:
its partition rewinds and is claimed again (found by the chaos harness, issue #9, row 11).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import IllegalOperation, KafkaError, ProducerFenced
from aiokafka.partitioner import DefaultPartitioner, murmur2

from broker.errors import TransactionFailed
from broker.fault_points import ApplicationAbort, FaultInjector, FaultPoint
from broker.kafka_clients import new_consumer, new_producer
from broker.settings import Settings

log = logging.getLogger(__name__)

_CLOSE_TIMEOUT = 10.0
TRANSACTION_TIMEOUT_MS = 60_000
"""The producers' transaction timeout (aiokafka's default, set explicitly because a fence after
this long is taken for the coordinator's abort rather than for another instance's claim)."""
_RETRY_SECONDS = 1.0
"""Pause before claiming again after a claim failed: the broker is likely down or moving."""
_FETCH_MAX_WAIT_MS = 100
"""Fetches return this soon when there is nothing new: a released embargo or a notice is
decided within a tenth of a second of its commit, at the cost of more idle fetches."""


@functools.lru_cache(maxsize=16_384)
def _key_hash(key: bytes) -> int:
    return int(murmur2(key)) & 0x7FFFFFFF


def _partitioner(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    """aiokafka's default partitioner, same partitions for the same keys, with each key's
    murmur2 hash remembered.

    Performance (issue #7): aiokafka hashes every key in pure Python, and the distributor
    sends the same keys over and over: one notice id to each recipient's topic, one audit
    chain id for every decision of a partition. Unkeyed records keep the default's choice.
    """
    if key is None:
        return int(DefaultPartitioner()(key, all_partitions, available))
    return all_partitions[_key_hash(key) % len(all_partitions)]


@dataclass(frozen=True)
class Outgoing:
    """One record to produce, as a transform returns it."""

    topic: str
    value: bytes | None
    key: bytes | None = None
    headers: Sequence[tuple[str, bytes]] = field(default_factory=list)


Transform = Callable[[ConsumerRecord[bytes, bytes]], list[Outgoing]]
"""What one input record becomes. Must not raise: failures are outputs too (dead letters)."""


class BatchHooks(Protocol):
    """State a transform keeps beside Kafka, kept in step with the transactions.

    A stateful transform (the distributor's delivery ledger and audit chain) stages its
    changes while a batch is transformed and makes them current only once the batch's
    transaction has committed; an aborted batch leaves the state as it was, matching the
    rewound offsets.
    """

    async def partition_claimed(self, tp: TopicPartition) -> None:
        """The partition's producer has fenced any previous owner: catch up with its state."""
        ...

    def batch_closing(self, tp: TopicPartition) -> list[Outgoing]:
        """Records the batch ends with, in its transaction: state written once per batch
        rather than per record (the distributor's audit chain head)."""
        ...

    def batch_committed(self, tp: TopicPartition) -> None: ...

    def batch_aborted(self, tp: TopicPartition) -> None: ...


Produced = Sequence[tuple[ConsumerRecord[bytes, bytes], list[Outgoing]]]
"""Each input record of a batch with what the transform made of it."""


class BatchObserver(Protocol):
    """Told the fate of every batch, so that metrics count what Kafka committed, once."""

    def batch_committed(self, tp: TopicPartition, produced: Produced) -> None: ...

    def batch_failed(self, tp: TopicPartition, produced: Produced, error: Exception) -> None:
        """The batch's transaction failed: it is rewound and will be processed again."""
        ...


class _WaitForBatch(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, processor: TransactionalProcessor) -> None:
        self._processor = processor

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        async with self._processor.lock:
            self._processor.assigned.difference_update(revoked)
            for tp in revoked:
                await self._processor.drop_producer(tp)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        """Partitions are claimed on their first batch: claiming dozens here would hold up
        the group's rebalance past its timeout."""
        self._processor.assigned.update(assigned)


class TransactionalProcessor:
    def __init__(
        self,
        settings: Settings,
        *,
        group_id: str,
        role: str,
        transform: Transform,
        hooks: BatchHooks | None = None,
        commit_timeout: float = 30.0,
    ) -> None:
        self.settings = settings
        self.group_id = group_id
        self.role = role
        self.transform = transform
        self.hooks = hooks
        self.commit_timeout = commit_timeout
        self.lock = asyncio.Lock()
        self.assigned: set[TopicPartition] = set()
        """Input partitions this instance owns, as the group last assigned them."""
        self.transactions = 0
        self.observers: list[BatchObserver] = []
        self.faults = FaultInjector(settings.faults)
        self._producers: dict[TopicPartition, AIOKafkaProducer] = {}
        self._next: dict[TopicPartition, int] = {}
        """Per partition, the first offset not yet committed: records fetched before a claim
        or rewind moved the position back arrive with lower offsets, and are dropped."""

    async def run(self, *, pattern: str) -> None:
        """Process the topics matching ``pattern`` until cancelled or fenced."""
        consumer = new_consumer(
            self.settings,
            group_id=self.group_id,
            role=self.role,
            metadata_max_age_ms=30_000,
            fetch_max_wait_ms=_FETCH_MAX_WAIT_MS,
        )
        consumer.subscribe(pattern=pattern, listener=_WaitForBatch(self))
        await consumer.start()
        try:
            while True:
                batch = await consumer.getmany(
                    timeout_ms=500, max_records=self.settings.batch_max_records
                )
                # One partition's transaction after the other, never side by side: state
                # such as the distributor's ledger spans input partitions (a notice's type
                # topic and notices.released), and a batch must see what the one before it
                # committed, or a recall could miss a recipient.
                async with self.lock:
                    claimed = await self._process_batch(consumer, batch)
                if not claimed:
                    await asyncio.sleep(_RETRY_SECONDS)
        finally:
            async with self.lock:
                for tp in list(self._producers):
                    await self.drop_producer(tp)
            await consumer.stop()

    async def _process_batch(
        self,
        consumer: AIOKafkaConsumer,
        batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
    ) -> bool:
        """Each partition's records in turn; False if a claim failed, leaving the rest of the
        batch to be fetched again once the lock has been free for a rebalance: a claim that
        failed waiting on a peer's open transaction would fail again for every partition."""
        pending = [(tp, records) for tp, records in batch.items() if tp in consumer.assignment()]
        for index, (tp, records) in enumerate(pending):
            if not await self._process(consumer, tp, records):
                for later, rest in pending[index + 1 :]:
                    self._again(consumer, later, rest[0].offset)
                return False
        return True

    def transactional_id(self, tp: TopicPartition) -> str:
        return f"{self.group_id}.{tp.topic}.{tp.partition}"

    async def _process(
        self,
        consumer: AIOKafkaConsumer,
        tp: TopicPartition,
        records: list[ConsumerRecord[bytes, bytes]],
    ) -> bool:
        """Claim the partition if need be and commit the batch in one transaction, or rewind
        it; False only if the claim failed."""
        if tp not in self._producers:
            try:
                await self.claim(consumer, [tp, *consumer.assignment()])
            except (KafkaError, TimeoutError) as exc:
                log.warning(
                    "claiming %s[%d] failed (%r): trying again", tp.topic, tp.partition, exc
                )
                self._again(consumer, tp, records[0].offset)
                return False
        producer = self._producers[tp]
        records = [record for record in records if record.offset >= self._next[tp]]
        if not records:
            return True
        produced = [(record, self.transform(record)) for record in records]
        outputs = [output for _, made in produced for output in made]
        if self.hooks is not None:
            outputs += self.hooks.batch_closing(tp)
        began = time.monotonic()
        failed: Exception
        try:
            await self._commit_batch(producer, tp, outputs, records[-1].offset + 1)
        except ProducerFenced as exc:
            open_for = time.monotonic() - began
            if open_for < TRANSACTION_TIMEOUT_MS / 1000:
                raise  # another instance owns this partition now: this one is the zombie
            # Taken for the coordinator's abort on timeout. Had the group given the partition
            # away meanwhile, the revocation waits for the lock and gets it before the next
            # batch, so no claim follows; only an instance frozen past the session timeout too
            # and fenced before its first heartbeat after thawing could claim once, fencing the
            # new owner, and the rewinds keep that from losing or repeating anything.
            failed, why = exc, f"fenced after {open_for:.0f} s open, past its timeout"
        except ApplicationAbort as exc:
            log.warning("transaction on %s[%d] aborted on purpose", tp.topic, tp.partition)
            self._undo(tp, produced, exc)
            self._again(consumer, tp, records[0].offset)
            return True
        except (KafkaError, TimeoutError) as exc:
            failed, why = exc, f"failed ({exc!r})"
        else:
            self._next[tp] = records[-1].offset + 1
            if self.hooks is not None:
                self.hooks.batch_committed(tp)
            for observer in self.observers:
                observer.batch_committed(tp, produced)
            return True
        log.warning(
            "transaction on %s[%d] %s: replacing its producer and rewinding",
            tp.topic,
            tp.partition,
            why,
        )
        self._undo(tp, produced, failed)
        await self.drop_producer(tp)
        self._again(consumer, tp, records[0].offset)
        return True

    def _undo(self, tp: TopicPartition, produced: Produced, error: Exception) -> None:
        """The batch did not commit: the state it staged goes, and observers are told."""
        if self.hooks is not None:
            self.hooks.batch_aborted(tp)
        for observer in self.observers:
            observer.batch_failed(tp, produced, error)

    def _again(self, consumer: AIOKafkaConsumer, tp: TopicPartition, first: int) -> None:
        """Fetch the batch that starts at ``first`` again.

        Without asking the broker, which may be what just failed: ``first`` is at or after the
        committed offset (``_next``), and a partition whose producer was dropped is claimed
        again before its next batch, which rewinds it to the committed offset the broker then
        gives, whatever the outcome of a commit this instance could not learn.
        """
        consumer.seek(tp, first)
        self._next[tp] = first

    async def _commit_batch(
        self,
        producer: AIOKafkaProducer,
        tp: TopicPartition,
        outputs: list[Outgoing],
        next_offset: int,
    ) -> None:
        transactional_id = self.transactional_id(tp)
        await producer.begin_transaction()
        await send_outputs(producer, outputs)
        await self.faults.reached(FaultPoint.AFTER_SENDS, transactional_id)
        await producer.send_offsets_to_transaction({tp: next_offset}, self.group_id)
        await self.faults.reached(FaultPoint.AFTER_OFFSETS, transactional_id)
        if self.faults.abort_now():
            await producer.abort_transaction()
            raise ApplicationAbort(f"{tp.topic}[{tp.partition}]")
        commit = asyncio.ensure_future(producer.commit_transaction())
        await asyncio.sleep(0)
        await self.faults.reached(FaultPoint.DURING_COMMIT, transactional_id)
        await asyncio.wait_for(commit, self.commit_timeout)
        self.transactions += 1

    async def claim(self, consumer: AIOKafkaConsumer, partitions: Iterable[TopicPartition]) -> None:
        """Fence the previous owners of every partition given that has no producer yet, catch
        up with the state, go back to each one's committed offset: only once the new producers
        have fenced are those offsets final.

        All of them at once, on the first batch after an assignment: a previous owner that
        crashed may have left a transaction open on any of its partitions, and until the new
        owner's producer fences it, that transaction holds back what the state topic's readers
        may see (its last stable offset), committed records after it included. Catching up
        before every old transaction is fenced would miss those, and a ledger or audit chain
        would carry on from stale state (found by the chaos harness, issue #9).
        Records already fetched stay usable from the committed offset on (``_next`` drops the
        older ones), which spares a partition's first records a second fetch.
        """
        unclaimed = [tp for tp in dict.fromkeys(partitions) if tp not in self._producers]
        try:
            # Side by side: one after the other, two dozen of them added a second to the
            # moment a restarted distributor releases a due embargo.
            await asyncio.gather(*(self._start_producer(tp) for tp in unclaimed))
            for tp in unclaimed:
                if self.hooks is not None:
                    await self.hooks.partition_claimed(tp)
                await self._rewind(consumer, tp)
        except BaseException:
            for tp in unclaimed:  # claimed again, from the start, on their next batch
                await self.drop_producer(tp)
            raise

    async def _start_producer(self, tp: TopicPartition) -> None:
        """Kept before it starts, so that a start that fails (broker gone) is closed too."""
        producer = new_producer(
            self.settings,
            role=self.role,
            transactional_id=self.transactional_id(tp),
            partitioner=_partitioner,
            transaction_timeout_ms=TRANSACTION_TIMEOUT_MS,
        )
        self._producers[tp] = producer
        await producer.start()

    async def drop_producer(self, tp: TopicPartition) -> None:
        """Close a partition's producer; a transaction it left open is aborted by its successor."""
        producer = self._producers.pop(tp, None)
        if producer is not None:
            with contextlib.suppress(KafkaError, TimeoutError):
                await asyncio.wait_for(producer.stop(), _CLOSE_TIMEOUT)

    async def _rewind(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> None:
        committed = await consumer.committed(tp)
        if committed is None:
            committed = (await consumer.beginning_offsets([tp]))[tp]
        consumer.seek(tp, committed)
        self._next[tp] = committed


async def send_outputs(producer: AIOKafkaProducer, outputs: Sequence[Outgoing]) -> None:
    """Queue ``outputs`` in the producer's open transaction, as record batches per partition.

    Performance (issue #7): ``producer.send`` costs aiokafka a coroutine, a future and a
    partitioner call for every record, and that was most of the distributor's Kafka time (it
    writes two records per recipient per notice). The records go into aiokafka's own batches
    instead (``create_batch`` / ``send_batch``), each partition's in their order, partitioned
    as ``send`` would (``_partitioner``); committing the transaction flushes them, as it did
    the records one by one. Three times the records per second on this path, measured.
    """
    every: dict[str, list[int]] = {}
    batches: dict[tuple[str, int], Any] = {}
    for output in outputs:
        if (partitions := every.get(output.topic)) is None:
            partitions = every[output.topic] = sorted(await producer.partitions_for(output.topic))
        where = (output.topic, _partitioner(output.key, partitions, partitions))
        record = {"key": output.key, "value": output.value, "headers": list(output.headers)}
        batch = batches.get(where)
        if batch is None or batch.append(timestamp=None, **record) is None:
            if batch is not None:  # full: on its way, and a new one for this partition
                await _send_batch(producer, batch, *where)
            batch = batches[where] = producer.create_batch()
            batch.append(timestamp=None, **record)  # a batch takes its first record always
    for (topic, partition), batch in batches.items():
        await _send_batch(producer, batch, topic, partition)


async def _send_batch(producer: AIOKafkaProducer, batch: Any, topic: str, partition: int) -> None:
    """Queue one record batch. Its delivery is not awaited (the commit flushes it, or fails
    with the transaction's error), so its outcome is marked retrieved here: asyncio would
    otherwise log every failed batch of a refused transaction as an unretrieved error."""
    try:
        delivered = await producer.send_batch(batch, topic, partition=partition)
    except (IllegalOperation, AssertionError) as exc:
        raise TransactionFailed(topic, partition) from exc
    delivered.add_done_callback(_retrieved)


def _retrieved(delivered: asyncio.Future[Any]) -> None:
    if not delivered.cancelled():
        delivered.exception()
