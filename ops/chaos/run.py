"""One fault row's run: a hub of its own on the brokers, the workload, the faults, the verdict.

Each row gets its own topic prefix and consumer groups, so rows run one after the other on the
same brokers without seeing each other's records. The services run as processes
(``ops.chaos.services``); the workload is produced as the hub; the readers
(``ops.chaos.observe``) and the oracle (``ops.chaos.oracle``) decide what happened.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from aiokafka import ConsumerRecord

from broker import audit
from broker.access import DISTRIBUTOR, INGEST, HubNames, service_acls
from broker.errors import ChaosError
from broker.fault_points import FaultPlan
from broker.kafka_clients import new_admin, new_producer
from broker.models import NoticeEnvelope, NoticeType
from broker.publisher import notice_record
from broker.raw import FORMAT_HEADER
from broker.schema_catalog import SchemaCatalog
from broker.serde import NoticeSerde
from broker.settings import Settings
from broker.topics import TopicNames, ensure_declared_topics, ensure_topics
from broker.transactional import Outgoing
from ops.acls import apply_acls
from ops.chaos import workload
from ops.chaos.brokers import Brokers
from ops.chaos.observe import Progress, delivery_seen, read_to_end, where
from ops.chaos.services import Service
from ops.chaos.tally import (
    Expected,
    Pair,
    Seen,
    Tally,
    embargo_breaches,
    expectations,
    misordered,
    tally,
)

log = logging.getLogger(__name__)

RECOVERY_LIMIT = 60.0
"""Processing must resume within this many seconds of each fault ending (issue 9)."""
RELEASE_WITHIN = dt.timedelta(seconds=5)
"""An embargoed notice must be delivered within this long after its not_before (issue 9)."""
_SERDE = NoticeSerde(SchemaCatalog.from_directory())
_SEND_CHUNK = 1_000
_PACE_TICK = 0.1
"""Seconds of a paced workload per chunk sent."""


@dataclass(frozen=True)
class RunConfig:
    notices: int
    seed: int
    workdir: Path
    finish_timeout: float = 600.0
    """How long the services may take to decide everything once the faults are over."""


@dataclass
class RowResult:
    row: str
    brokers: str
    injections: int
    tally: Tally
    recoveries: list[float]
    audit_chain_ok: bool
    audit_chain_faults: list[str]
    seconds: float
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    """Why the row stopped before its verdict (``broken``): nothing was counted."""

    @classmethod
    def broken(cls, row: str, brokers: str, notices: int, error: str, seconds: float) -> RowResult:
        """A row that could not finish, as a failed result, so a campaign goes on to the next
        row and still reports this one."""
        return cls(row, brokers, 0, Tally(notices), [], False, [], seconds, error=error)

    @property
    def longest_recovery(self) -> float:
        return max(self.recoveries, default=0.0)

    @property
    def ok(self) -> bool:
        return (
            self.tally.ok
            and self.audit_chain_ok
            and self.longest_recovery <= RECOVERY_LIMIT
            and not self.notes
            and self.error is None
        )


@dataclass
class Hub:
    """What a fault row acts on while its run is under way."""

    settings: Settings
    brokers: Brokers
    ingest: Service
    distributors: list[Service]
    progress: Progress
    decisions: int
    """Audit records the run ends with: one per notice and recipient, and one more for each
    embargoed one, on its release."""
    workdir: Path
    seed: int
    poison: int
    recoveries: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Findings a row makes beyond the tally (a zombie that did not stop, say)."""
    releases: list[dt.datetime] = field(default_factory=list)
    """The embargoed notices' release times, in order, for a row that strikes around them."""

    def new_distributor(self) -> Service:
        """Another distributor instance, in the same group as the first, a dynamic member."""
        first = self.distributors[0]
        index = len(self.distributors)
        service = Service(
            f"distributor-{index}",
            first.args,
            first.env,
            self.workdir / f"distributor-{index}.log",
            static_membership=False,
        )
        self.distributors.append(service)
        return service

    async def milestone(self, share: float) -> None:
        """Wait until ``share`` of all decisions are committed (the moment of a fault)."""
        target = int(self.decisions * share)
        if not await self.progress.wait_for(target, RECOVERY_LIMIT * 5):
            raise ChaosError(f"the run stalled below {target} of {self.decisions} decisions")

    async def recovered(self, fault_ended: float) -> float:
        """Record and return how long processing took to resume after a fault ended at
        ``fault_ended`` (``time.monotonic()``; compared with record timestamps on the wall
        clock)."""
        wall = time.time() - (time.monotonic() - fault_ended)
        seconds = await self.progress.recovery_after(wall, self.decisions, RECOVERY_LIMIT * 2)
        self.recoveries.append(seconds)
        return seconds


def moments(count: int, rand: random.Random, *, within: float = 0.8) -> list[float]:
    """``count`` shares of the run (milestones for faults) spread over its first ``within``,
    jittered: a long fault stretches the run, and each must still meet work to do."""
    step = within / count
    return [step * (i + 0.5) + rand.uniform(-step / 4, step / 4) for i in range(count)]


Inject = Callable[[Hub], Awaitable[int]]
"""A fault row's injections into a running hub; returns how many it made."""


async def run_row(
    name: str,
    brokers: Brokers,
    config: RunConfig,
    inject: Inject,
    *,
    poison: int,
    first_faults: FaultPlan | None = None,
    service_principals: bool = False,
    pace: float | None = None,
    notice_partitions: int | None = None,
    embargo: workload.Embargo | None = None,
) -> RowResult:
    """Run the workload, with ``poison`` records among it, through a fresh hub on ``brokers``
    while ``inject`` makes faults; the first distributor starts with ``first_faults``. With
    ``service_principals`` the services log in as their own users with the ACLs
    ``broker.access`` derives, as production runs them, instead of as the hub. With ``pace``,
    the workload is produced at that many notices per second while the services run.

    With ``notice_partitions`` the notices topics have that many partitions instead of the
    declared number, and with one the verdict also checks that each deliver partition has
    every type's notices in the order they were read in. With ``embargo`` (and a ``pace``) a
    share of the notices is embargoed, and the verdict also checks that each was delivered
    after its not_before and within ``RELEASE_WITHIN`` of it."""
    started = time.monotonic()
    run_id = f"chaos-{uuid.uuid4().hex[:8]}"
    workdir = config.workdir / f"{name.replace(' ', '-')}-{run_id}"
    workdir.mkdir(parents=True)
    settings = brokers.hub().model_copy(
        update={
            "topic_prefix": f"{run_id}.",
            "ingest_group_id": f"{run_id}-ingest",
            "agencies": {agency.agency_id: agency.country for agency in workload.AGENCIES},
            "replication_factor": min(3, brokers.nodes),
        }
    )
    topics = TopicNames(settings.topic_prefix)
    recipients = [agency.agency_id for agency in workload.POLICY.recipients]
    if notice_partitions is not None:
        await _notices_topics(settings, notice_partitions)
    await ensure_declared_topics(settings, recipients)
    ingest_login = distributor_login = settings
    if service_principals:
        ingest_login, distributor_login = await _service_logins(brokers, settings, run_id)
    notices = list(workload.notices(run_id, config.notices, seed=config.seed))
    start = dt.datetime.now(dt.UTC)
    if embargo is not None:
        if pace is None:
            raise ChaosError("an embargoed workload is produced at a pace, to date its embargoes")
        notices = list(
            workload.embargoed(notices, embargo, start=start, pace=pace, seed=config.seed)
        )
    expected = expectations(notices, workload.POLICY, start)
    not_before = {
        n.notice_id: n.not_before for n in notices if n.not_before and n.not_before > start
    }
    letters = workload.poison(poison, seed=config.seed)
    hub = Hub(
        settings=settings,
        brokers=brokers,
        ingest=_service("ingest", ["ingest"], ingest_login, workdir),
        distributors=[_distributor(distributor_login, workdir, run_id)],
        progress=Progress(settings, [topics.audit, *map(topics.deliver, recipients)], topics.audit),
        decisions=sum(1 + (want.held is not None) for want in expected.values()),
        workdir=workdir,
        seed=config.seed,
        poison=poison,
        releases=sorted(not_before.values()),
    )
    await hub.progress.start()
    producing = asyncio.create_task(
        _produce(settings, topics, notices, letters, pace=pace, start=start)
    )
    try:
        if pace is None:
            await producing
        hub.ingest.start()
        hub.distributors[0].start(first_faults)
        injections = await inject(hub)
        await producing
        await _finish(hub, config.finish_timeout)
    finally:
        producing.cancel()
        for service in [hub.ingest, *hub.distributors]:
            await service.terminate()
        await hub.progress.stop()
    result_tally, chain = await _verify(
        settings,
        topics,
        expected,
        hub.progress,
        poison,
        ordered=notice_partitions == 1,
        not_before=not_before,
    )
    return RowResult(
        row=name,
        brokers=brokers.name,
        injections=injections,
        tally=result_tally,
        recoveries=hub.recoveries,
        audit_chain_ok=chain.ok,
        audit_chain_faults=[str(fault) for fault in chain.faults[:5]],
        seconds=time.monotonic() - started,
        notes=hub.notes,
    )


async def _notices_topics(settings: Settings, partitions: int) -> None:
    """Create the notices topics as declared but with ``partitions`` partitions, before the
    services declare theirs: they only create topics that are missing."""
    wanted = set(TopicNames(settings.topic_prefix).all_notices)
    specs = [
        dataclasses.replace(spec, partitions=partitions)
        for spec in TopicNames(settings.topic_prefix).declared(settings.agencies)
        if spec.name in wanted
    ]
    admin = new_admin(settings)
    await admin.start()
    try:
        await ensure_topics(admin, specs, replication_factor=settings.replication_factor)
    finally:
        await admin.close()


def _service(name: str, args: list[str], settings: Settings, workdir: Path) -> Service:
    return Service(name, args, settings.to_env(), workdir / f"{name}.log")


def _distributor_group(run_id: str) -> str:
    return f"{run_id}-distributor"


def _distributor(settings: Settings, workdir: Path, run_id: str) -> Service:
    policy = workdir / "policy.json"
    policy.write_text(json.dumps(workload.POLICY.model_dump(mode="json"), indent=1))
    args = ["distribute", "--policy", str(policy), "--group", _distributor_group(run_id)]
    return _service("distributor-0", args, settings, workdir)


async def _service_logins(
    brokers: Brokers, settings: Settings, run_id: str
) -> tuple[Settings, Settings]:
    """The ingest's and the distributor's settings logged in as their own principals, each
    granted what ``broker.access`` derives for this run's topic prefix and groups."""
    names = HubNames.of(settings, distributor_group=_distributor_group(run_id))
    await asyncio.to_thread(apply_acls, settings, service_acls(names))

    def login(user: str) -> Settings:
        own = brokers.login(user)
        return settings.model_copy(
            update={"sasl_username": own.sasl_username, "sasl_password": own.sasl_password}
        )

    return login(INGEST), login(DISTRIBUTOR)


async def _produce(
    settings: Settings,
    topics: TopicNames,
    notices: list[NoticeEnvelope],
    poison: list[workload.Poison],
    *,
    pace: float | None,
    start: dt.datetime,
) -> None:
    """The workload as ingest would have written it, and the poison among it, each record
    acknowledged by every in-sync replica: all at once, or ``pace`` notices per second from
    ``start``. Paced, each chunk waits for its own moment on the wall clock rather than a tick
    after the last, so the input keeps to the plan the embargoes were dated by: with ticks it
    fell behind, and some of row 13's notices meant to be embargoed came after their time."""
    producer = new_producer(settings, role="chaos-workload")
    await producer.start()
    try:
        records = [notice_record(notice, _SERDE, topics) for notice in notices]
        agencies = [agency.agency_id for agency in workload.AGENCIES]
        for index, letter in enumerate(poison):
            if letter.topic_kind == "raw":
                topic = topics.raw(agencies[index % len(agencies)])
                headers = [(FORMAT_HEADER, b"interpol-notice-json")]
            else:
                topic = topics.notices(NoticeType(letter.topic_kind))
                headers = []
            at = (index + 1) * len(records) // (len(poison) + 1)
            records.insert(at, Outgoing(topic, letter.value, headers=headers))
        size = _SEND_CHUNK if pace is None else max(1, round(pace * _PACE_TICK))
        for first in range(0, len(records), size):
            if pace is not None:
                due = start + dt.timedelta(seconds=first / pace)
                await asyncio.sleep(max(0.0, (due - dt.datetime.now(dt.UTC)).total_seconds()))
            chunk = records[first : first + size]
            acks = [
                await producer.send(r.topic, r.value, key=r.key, headers=list(r.headers))
                for r in chunk
            ]
            await asyncio.gather(*acks)
    finally:
        await producer.stop()


async def _finish(hub: Hub, within: float) -> None:
    """Let the services decide everything. A service that dies when no fault is being made is
    a finding of the row: it is noted and started again, so the tally still counts the rest."""
    deadline = time.monotonic() + within
    while hub.progress.audit_records < hub.decisions:
        if not hub.ingest.is_running():
            hub.notes.append(f"ingest exited with {hub.ingest.exit_code()} after the faults")
            hub.ingest.start()
        if not any(service.is_running() for service in hub.distributors):
            last = hub.distributors[-1]
            hub.notes.append(f"{last.name} exited with {last.exit_code()} after the faults")
            last.start()
        if time.monotonic() >= deadline:
            raise ChaosError(
                f"only {hub.progress.audit_records} of {hub.decisions} decisions within "
                f"{within:g} s after the faults; logs in {hub.workdir}"
            )
        await asyncio.sleep(0.2)


async def _verify(
    settings: Settings,
    topics: TopicNames,
    expected: Mapping[Pair, Expected],
    progress: Progress,
    poison: int,
    *,
    ordered: bool,
    not_before: Mapping[str, dt.datetime],
) -> tuple[Tally, audit.VerifyReport]:
    """The tally of what was committed; with ``ordered``, also the order of the deliveries
    against the notices topics' (one partition each), and with ``not_before``, the times of
    the embargoed notices' deliveries."""
    recipients = sorted({recipient for _, recipient in expected})
    outputs = [topics.audit, *map(topics.deliver, recipients)]
    inputs = topics.all_notices if ordered else []
    committed = await read_to_end(
        settings, [*outputs, topics.dlq, *inputs], isolation="read_committed"
    )
    uncommitted = await read_to_end(settings, outputs, isolation="read_uncommitted")
    deliveries, decisions, read = [], [], []
    chain_input = []
    for record in sorted(committed, key=where):
        if record.topic == topics.audit:
            chain_input.append((record.partition, record.offset, record))
            decisions.append(_audit_seen(topics, record))
        elif record.topic in inputs:
            if record.key:
                read.append((record.key.decode(), record.topic))
        elif record.topic != topics.dlq:
            sent = dt.datetime.fromtimestamp(record.timestamp / 1000, dt.UTC)
            deliveries.append(dataclasses.replace(delivery_seen(topics, record), at=sent))
    chain = audit.verify(
        (f"{r.topic}[{r.partition}]@{r.offset}", r.value) for _, _, r in sorted(chain_input)
    )
    result = tally(
        expected,
        deliveries,
        decisions,
        uncommitted=[where(r) for r in uncommitted],
        committed=[where(r) for r in committed if r.topic in outputs],
        seen_during=progress.seen,
        dead_letters=sum(r.topic == topics.dlq for r in committed),
        poison=poison,
    )
    if ordered:
        result.misordered = misordered(read, deliveries)
    if not_before:
        result.early, result.late = embargo_breaches(
            not_before, deliveries, expected, within=RELEASE_WITHIN
        )
    return result, chain


def _audit_seen(topics: TopicNames, record: ConsumerRecord[bytes, bytes]) -> Seen:
    value = orjson.loads(record.value or b"{}")
    return Seen(
        pair=(value["notice_id"], value["recipient"]),
        outcome=value["outcome"],
        redacted=tuple(value.get("redacted") or ()),
        where=where(record),
        released=str(value.get("source", "")).startswith(f"{topics.released}["),
    )
