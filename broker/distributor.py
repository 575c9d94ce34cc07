"""The distributor: canonical notices in, each agency's entitled share out, every decision audited.

For each notice it plans the deliveries (``broker.distribution``, pure) and produces, in the
input batch's own Kafka transaction (``broker.transactional``): the notices to each
deliver.<agency>, one audit record per recipient to notices.audit, the ledger entry (and, once
per batch, the audit chain head) to the compacted notices.ledger, and embargoed notices to
notices.deferred.
A crash anywhere rolls all of it back together with the input offsets, so a delivery is
neither lost nor made twice, and the audit trail matches the deliveries exactly.

The ledger and chain heads are also held in memory; changes a batch makes are staged per
input partition and become current only when its transaction commits (``BatchHooks``).
When a partition is claimed, the ledger topic is read to its end first, so an instance that
takes a partition over continues the previous owner's ledger and chain.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import ConsumerRecord, TopicPartition

from broker import audit
from broker.distribution import Delivery, LedgerEntry, plan
from broker.errors import WireFormatError
from broker.ingest import dead_letter_headers
from broker.models import NoticeEnvelope
from broker.policy.profiles import Policy
from broker.publisher import routing_headers
from broker.serde import NoticeSerde
from broker.settings import Settings
from broker.topic_reader import TopicReader
from broker.topics import TopicNames, ensure_declared_topics
from broker.transactional import Outgoing, TransactionalProcessor
from broker.translation import DeadLetter

log = logging.getLogger(__name__)

RELEASE_AT_HEADER = "release-at"
CLAIM_CATCH_UP = 10.0
"""Seconds a claim waits for the ledger's open transactions to end. A peer's transaction
held open (a frozen instance's, found by the chaos harness's zombie row) would otherwise hold
the claim, and with it the rebalance that would fence that peer, until the transaction
timeout: past this the claim fails and is tried again after the rebalance."""
NOTICE_KEY = "notice:"
CHAIN_KEY = "chain:"


@dataclass
class DistributorStats:
    """Counts of committed work since start, by outcome and by recipient: a batch rewound
    after a failed transaction is counted once, when it commits."""

    decisions: Counter[str] = field(default_factory=Counter)
    deliveries: Counter[str] = field(default_factory=Counter)
    deferred: int = 0
    dead_lettered: int = 0

    def add(self, other: DistributorStats) -> None:
        self.decisions.update(other.decisions)
        self.deliveries.update(other.deliveries)
        self.deferred += other.deferred
        self.dead_lettered += other.dead_lettered


_Encoded = list[tuple[Delivery, bytes | None]]
"""Each delivery with the bytes sent for it, encoded once for the topic and the audit hash."""


@dataclass
class _Staged:
    ledger: dict[str, LedgerEntry] = field(default_factory=dict)
    chain: audit.ChainHead | None = None
    stats: DistributorStats = field(default_factory=DistributorStats)


class DistributorService:
    def __init__(
        self,
        settings: Settings,
        *,
        policy: Policy,
        serde: NoticeSerde,
        group_id: str = "notices-distributor",
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.settings = settings
        self.policy = policy
        self.serde = serde
        self.clock = clock
        self.topics = TopicNames(settings.topic_prefix)
        self.stats = DistributorStats()
        self.processor = TransactionalProcessor(
            settings, group_id=group_id, role="distributor", transform=self.transform, hooks=self
        )
        self._ledger: dict[str, LedgerEntry] = {}
        self._chains: dict[str, audit.ChainHead] = {}
        self._staged: dict[TopicPartition, _Staged] = {}
        self._state: TopicReader | None = None
        """The ledger topic's reader while running (Kafka clients need the running loop)."""

    @property
    def recipients(self) -> list[str]:
        return sorted(profile.agency_id for profile in self.policy.recipients)

    async def run(self) -> None:
        """Distribute until cancelled; every recipient's deliver topic is created first."""
        await ensure_declared_topics(self.settings, self.recipients)
        deliver_topics = [self.topics.deliver(agency) for agency in self.recipients]
        await asyncio.to_thread(self.serde.register, deliver_topics)
        self._state = TopicReader(self.settings, self.topics.ledger, role="distributor-ledger")
        await self._state.start()
        try:
            await self.processor.run(pattern=self.topics.distributor_pattern)
        finally:
            await self._state.stop()
            self._state = None

    # BatchHooks: the in-memory state follows the transactions.

    async def partition_claimed(self, tp: TopicPartition) -> None:
        self._staged.pop(tp, None)
        if self._state is None:
            raise RuntimeError("partitions are claimed only while the distributor runs")
        for record in await self._state.catch_up(within=CLAIM_CATCH_UP):
            self._apply_state((record.key or b"").decode(), record.value)

    def batch_closing(self, tp: TopicPartition) -> list[Outgoing]:
        """The partition's audit chain head once per batch: written per notice it was a
        quarter of the distributor's records (performance, issue #7), and the transaction
        makes the head and the audit records it covers visible together either way."""
        staged = self._staged.get(tp)
        if staged is None or staged.chain is None:
            return []
        key = f"{CHAIN_KEY}{_chain_id(tp)}".encode()
        return [Outgoing(topic=self.topics.ledger, key=key, value=staged.chain.to_json())]

    def batch_committed(self, tp: TopicPartition) -> None:
        staged = self._staged.pop(tp, None)
        if staged is None:
            return
        self._ledger.update(staged.ledger)
        self.stats.add(staged.stats)
        if staged.chain is not None:
            self._chains[_chain_id(tp)] = staged.chain

    def batch_aborted(self, tp: TopicPartition) -> None:
        self._staged.pop(tp, None)

    def _apply_state(self, key: str, value: bytes | None) -> None:
        if key.startswith(NOTICE_KEY):
            notice_id = key.removeprefix(NOTICE_KEY)
            if value is None:
                self._ledger.pop(notice_id, None)
            else:
                self._ledger[notice_id] = LedgerEntry.from_json(value)
        elif key.startswith(CHAIN_KEY) and value is not None:
            self._chains[key.removeprefix(CHAIN_KEY)] = audit.ChainHead.from_json(value)

    # The transform: one notice in, its deliveries, audit records and state out.

    def transform(self, record: ConsumerRecord[bytes, bytes]) -> list[Outgoing]:
        tp = TopicPartition(record.topic, record.partition)
        staged = self._staged.setdefault(tp, _Staged())
        try:
            notice = self.serde.decode(record.value or b"")
        except WireFormatError as exc:
            staged.stats.dead_lettered += 1
            return [self._dead_letter(record, exc)]
        entry = staged.ledger.get(notice.notice_id, self._ledger.get(notice.notice_id))
        outcome = plan(notice, self.policy, self.clock(), entry)
        encoded = [(delivery, self._encode(delivery)) for delivery in outcome.deliveries]
        outputs = self._deliveries(notice, encoded, staged.stats)
        outputs += self._audit(record, staged, notice, encoded)
        if outcome.deferred_until is not None:
            staged.stats.deferred += 1
            outputs.append(self._deferral(record, notice, outcome.deferred_until))
        if outcome.ledger is not None:
            staged.ledger[notice.notice_id] = outcome.ledger
            outputs.append(
                Outgoing(
                    topic=self.topics.ledger,
                    key=f"{NOTICE_KEY}{notice.notice_id}".encode(),
                    value=outcome.ledger.to_json(),
                )
            )
        return outputs

    def _encode(self, delivery: Delivery) -> bytes | None:
        if delivery.notice is None:
            return None
        return self.serde.encode_for(self.topics.deliver(delivery.recipient), delivery.notice)

    def _deliveries(
        self, notice: NoticeEnvelope, encoded: _Encoded, stats: DistributorStats
    ) -> list[Outgoing]:
        outputs = []
        for delivery, value in encoded:
            stats.decisions[delivery.outcome] += 1
            if delivery.notice is None or value is None:
                continue
            stats.deliveries[delivery.recipient] += 1
            outputs.append(
                Outgoing(
                    topic=self.topics.deliver(delivery.recipient),
                    key=notice.notice_id.encode(),
                    value=value,
                    headers=[
                        *routing_headers(delivery.notice),
                        ("decision", delivery.outcome.encode()),
                        ("redacted", ",".join(delivery.redacted).encode()),
                    ],
                )
            )
        return outputs

    def _audit(
        self,
        record: ConsumerRecord[bytes, bytes],
        staged: _Staged,
        notice: NoticeEnvelope,
        encoded: _Encoded,
    ) -> list[Outgoing]:
        """One chained audit record per decision. Its headers repeat what the metrics count
        (notice type, recipient, outcome, rules), so that counting a committed decision does
        not parse its JSON: at 50 recipients that was a quarter of the distributor's time."""
        tp = TopicPartition(record.topic, record.partition)
        chain = _chain_id(tp)
        head = staged.chain or self._chains.get(chain, audit.ChainHead())
        outputs = []
        decided_at = self.clock()
        for delivery, value in encoded:
            entry, head = audit.append(
                head,
                chain,
                decided_at=decided_at,
                notice_id=notice.notice_id,
                version=notice.version,
                msg_type=notice.msg_type.value,
                notice_type=notice.notice_type.value,
                originator=notice.originator.agency_id,
                recipient=delivery.recipient,
                outcome=delivery.outcome,
                rules=list(delivery.rules),
                redacted=list(delivery.redacted),
                delivered_sha256=None if value is None else hashlib.sha256(value).hexdigest(),
                source=f"{record.topic}[{record.partition}]@{record.offset}",
            )
            outputs.append(
                Outgoing(
                    topic=self.topics.audit,
                    key=chain.encode(),
                    value=entry,
                    headers=[
                        ("notice-type", notice.notice_type.value.encode()),
                        ("recipient", delivery.recipient.encode()),
                        ("outcome", delivery.outcome.encode()),
                        ("rules", ",".join(delivery.rules).encode()),
                    ],
                )
            )
        staged.chain = head
        return outputs

    def _deferral(
        self, record: ConsumerRecord[bytes, bytes], notice: NoticeEnvelope, until: dt.datetime
    ) -> Outgoing:
        """The notice as it came, keyed per version, until the embargo releaser hands it back."""
        return Outgoing(
            topic=self.topics.deferred,
            key=f"{notice.notice_id}@{notice.version}".encode(),
            value=record.value,
            headers=[
                *[(k, v) for k, v in record.headers if k != RELEASE_AT_HEADER],
                (RELEASE_AT_HEADER, until.isoformat().encode()),
            ],
        )

    def _dead_letter(self, record: ConsumerRecord[bytes, bytes], exc: WireFormatError) -> Outgoing:
        log.warning(
            "undecodable notice at %s[%d]@%d: %s",
            record.topic,
            record.partition,
            record.offset,
            exc,
        )
        letter = DeadLetter(type(exc).__name__, "record value", str(exc))
        return Outgoing(
            topic=self.topics.dlq,
            key=record.key,
            value=record.value,
            headers=dead_letter_headers(record, letter),
        )


def _chain_id(tp: TopicPartition) -> str:
    return f"{tp.topic}/{tp.partition}"
