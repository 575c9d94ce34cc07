"""Loading a list snapshot file: stream it through its adapter, publish only what changed.

A sanctions list is a file of megabytes to hundreds of megabytes, too big for one Kafka
record, so it does not travel through raw.<agency>: the loader runs the adapter where the
file is (as a liaison system may), streaming it entry by entry, and publishes the lifecycle
``broker.snapshots`` derives against the list's state in the compacted notices.list-state
topic. Notices and the state they imply are committed together, one Kafka transaction per
batch, so an interrupted load resumes where it stopped: entries already published read as
unchanged. Delistings are published only after the whole file was read, so a truncated or
broken file never delists the entries it did not reach.

One transactional id per list means two loaders of the same list cannot both publish: the
second fences the first.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaProducer

from adapters.base import TranslationContext
from adapters.registry import AdapterRegistry
from broker.kafka_clients import new_producer
from broker.models import MsgType, NoticeEnvelope, Originator, Source
from broker.publisher import notice_record
from broker.serde import NoticeSerde
from broker.settings import Settings
from broker.snapshots import ListedEntry, SnapshotDiff
from broker.topic_reader import TopicReader
from broker.topics import TopicNames, ensure_declared_topics

log = logging.getLogger(__name__)

_COMMIT_TIMEOUT = 60.0
TRANSACTIONS = "notices-lists."
"""What the list loader's transactional ids start with, after the hub's topic prefix."""


@dataclass
class LoadReport:
    list_id: str
    alerts: int = 0
    updates: int = 0
    cancels: int = 0
    unchanged: int = 0
    duplicates: int = 0
    unmapped: Counter[str] = field(default_factory=Counter)

    @property
    def published(self) -> int:
        return self.alerts + self.updates + self.cancels


class ListLoader:
    def __init__(
        self,
        settings: Settings,
        *,
        registry: AdapterRegistry,
        serde: NoticeSerde,
        agency: str,
        fmt: str,
        batch_size: int = 500,
    ) -> None:
        self.settings = settings
        self.adapter = registry.for_format(fmt)
        self.serde = serde
        self.topics = TopicNames(settings.topic_prefix)
        self.fmt = fmt
        self.originator = Originator(agency_id=agency, country=settings.agencies.get(agency))
        self.list_id = f"{agency}/{fmt}"
        self.batch_size = batch_size

    @property
    def transactional_id(self) -> str:
        """One per list, so a second load of the same list fences the first; behind the
        topic prefix, so that two hubs sharing a cluster do not fence each other's."""
        return f"{self.topics.prefix}{TRANSACTIONS}{self.list_id}"

    async def load(
        self, path: Path, progress: Callable[[int], None] = lambda _: None
    ) -> LoadReport:
        """Publish what ``path`` changes in the list; raises TranslationError on a bad file,
        after committing the entries before the fault (never any delisting)."""
        await ensure_declared_topics(self.settings)
        await asyncio.to_thread(self.serde.register, self.topics.all_notices)
        diff = SnapshotDiff(self.list_id, await self._state())
        report = LoadReport(self.list_id)
        ctx = TranslationContext(
            format=self.fmt,
            originator=self.originator,
            received_at=dt.datetime.now(dt.UTC),
            path=path,
        )
        producer = new_producer(
            self.settings, role="list-loader", transactional_id=self.transactional_id
        )
        await producer.start()
        try:
            batch: list[NoticeEnvelope] = []
            read = 0
            try:
                for notice in self.adapter.translate(ctx):
                    read += 1
                    progress(read)
                    if (published := diff.entry(notice)) is not None:
                        batch.append(published)
                    if len(batch) >= self.batch_size:
                        await self._commit(producer, batch, diff, report)
                        batch = []
            finally:
                await self._commit(producer, batch, diff, report)
                report.unchanged, report.duplicates = diff.unchanged, diff.duplicates
                report.unmapped.update(ctx.unmapped)
            source = Source(
                format=self.fmt,
                original_id=path.name,
                adapter=self.adapter.name,
                adapter_version=self.adapter.version,
                received_at=ctx.received_at,
                sha256=ctx.sha256,
            )
            cancels = diff.vanished(originator=self.originator, source=source, now=ctx.received_at)
            await self._commit(producer, cancels, diff, report)
        finally:
            await producer.stop()
        return report

    async def _state(self) -> dict[str, ListedEntry]:
        reader = TopicReader(self.settings, self.topics.list_state, role="list-loader")
        await reader.start()
        try:
            records = await reader.catch_up()
        finally:
            await reader.stop()
        state: dict[str, ListedEntry] = {}
        for record in records:
            notice_id = (record.key or b"").decode()
            if record.value is None:
                state.pop(notice_id, None)
            else:
                state[notice_id] = ListedEntry.model_validate_json(record.value)
        return state

    async def _commit(
        self,
        producer: AIOKafkaProducer,
        notices: list[NoticeEnvelope],
        diff: SnapshotDiff,
        report: LoadReport,
    ) -> None:
        """Publish ``notices`` and the state they imply in one transaction."""
        if not notices:
            return
        await producer.begin_transaction()
        for notice in notices:
            record = notice_record(notice, self.serde, self.topics)
            await producer.send(
                record.topic, record.value, key=record.key, headers=list(record.headers)
            )
            entry = diff.changes.pop(notice.notice_id)
            await producer.send(
                self.topics.list_state,
                None if entry is None else entry.model_dump_json().encode(),
                key=notice.notice_id.encode(),
            )
        await asyncio.wait_for(producer.commit_transaction(), _COMMIT_TIMEOUT)
        for notice in notices:
            match notice.msg_type:
                case MsgType.ALERT:
                    report.alerts += 1
                case MsgType.UPDATE:
                    report.updates += 1
                case MsgType.CANCEL:
                    report.cancels += 1
