"""The main job on the embedded default, end to end, for a first look at the hub.

It starts a real Kafka (unless one is configured), the ingest service, the distributor with
the example sharing policy and one agency's subscriber in this process, publishes the example
payloads as INTERPOL would, shows what that agency received (re-checked against its own
profile), what each agency was sent, what was dead-lettered and whether the audit trail
verifies, and stops everything.

On the Kafka it starts, everyone logs in as on a real hub: each service as its own principal,
INTERPOL's liaison system and the subscriber as their agencies, in the groups their ACLs allow;
the hub's super user only creates the topics and reads the audit trail. A configured cluster is
used with the login the environment gives, in groups of the demo's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from adapters.base import TranslationContext
from adapters.registry import AdapterRegistry, default_registry
from broker.access import DISTRIBUTOR, INGEST, HubNames, agency_group
from broker.audit_trail import verify_topic
from broker.distributor import DistributorService
from broker.errors import NoticeBrokerError
from broker.ingest import IngestService
from broker.kafka_clients import new_producer
from broker.models import NoticeEnvelope, Originator, WantedPersonNotice
from broker.policy.profiles import load_policy
from broker.raw import publish_raw
from broker.serde import NoticeSerde
from broker.settings import Settings
from broker.timeutil import utcnow
from broker.topics import TopicNames, ensure_declared_topics
from broker.translation import DeadLetter, translate_record
from consumers.guard import DeliveryGuard
from consumers.sinks import JsonLinesSink
from consumers.subscriber import Subscriber
from ops.local_kafka import HUB_USER, LocalKafka, grant, start_kafka

AGENCY = "interpol"
RECIPIENT = "de-bka"
FORMAT = "interpol-notice-json"
POLICY = Path(__file__).resolve().parent.parent / "examples" / "policy" / "policy.yml"
WAIT_SECONDS = 60.0
OUTPUT = Path("var/demo/received.jsonl")


class DemoTimeout(NoticeBrokerError):
    def __init__(self, expected: int, received: int) -> None:
        super().__init__(
            f"the subscriber received {received} of {expected} notices within {WAIT_SECONDS:.0f} s"
        )


@dataclass(frozen=True)
class _Logins:
    """Who each part of the demo logs in as, and the groups the consumers read in."""

    hub: Settings
    ingest: Settings
    distributor: Settings
    liaison: Settings
    subscriber: Settings
    distributor_group: str
    subscriber_group: str

    @classmethod
    def given(cls, settings: Settings) -> _Logins:
        """One login for all; groups of the demo's own, so that it joins no group of a real
        hub on the same cluster."""
        return cls(
            settings,
            settings,
            settings,
            settings,
            settings,
            distributor_group=f"demo-{uuid.uuid4().hex[:8]}",
            subscriber_group=f"demo-{uuid.uuid4().hex[:8]}",
        )

    @classmethod
    def on(cls, broker: LocalKafka, settings: Settings) -> _Logins:
        """Each its own user on the demo's broker, in the groups its ACLs name."""

        def login(user: str) -> Settings:
            return broker.client_settings(settings, user=user)

        return cls(
            login(HUB_USER),
            login(INGEST),
            login(DISTRIBUTOR),
            login(AGENCY),
            login(RECIPIENT),
            distributor_group=DISTRIBUTOR,
            subscriber_group=agency_group(TopicNames(settings.topic_prefix), RECIPIENT),
        )


def expected_notices(registry: AdapterRegistry, payloads: list[bytes]) -> int:
    """How many notices the payloads hold, by the same translation the ingest service runs."""
    total = 0
    for payload in payloads:
        ctx = TranslationContext(FORMAT, Originator(agency_id=AGENCY), utcnow(), payload)
        outcome = translate_record(registry, ctx)
        total += 0 if isinstance(outcome, DeadLetter) else len(outcome)
    return total


async def run_demo(settings: Settings, examples: Path, console: Console) -> None:
    configured = any(
        os.environ.get(name) for name in ("KAFKA_BOOTSTRAP_SERVERS", "NOTICES_BOOTSTRAP_SERVERS")
    )
    with tempfile.TemporaryDirectory(prefix="notices-demo-") as tmp:
        if configured:
            console.print(f"Using the Kafka cluster at {settings.bootstrap_servers}")
            prefixed = settings.model_copy(update={"topic_prefix": f"demo-{uuid.uuid4().hex[:8]}."})
            await _demo(_Logins.given(prefixed), examples, console)
            return
        with console.status("Starting Apache Kafka from the Maven Central jars..."):
            broker = await asyncio.to_thread(
                start_kafka, Path(tmp) / "kafka", agencies=[AGENCY, RECIPIENT]
            )
        console.print(f"Kafka {broker.version} up at {broker.bootstrap_servers}")
        try:
            await asyncio.to_thread(grant, broker, HubNames.of(settings))
            await _demo(_Logins.on(broker, settings), examples, console)
        finally:
            with console.status("Stopping Kafka..."):
                await asyncio.to_thread(broker.stop)
            console.print("Kafka stopped.")


async def _demo(logins: _Logins, examples: Path, console: Console) -> None:
    settings = logins.hub
    registry = default_registry()
    serde = NoticeSerde.from_settings(settings)
    policy = load_policy(POLICY)
    files, payloads = await asyncio.to_thread(_read_examples, examples)
    expected = expected_notices(registry, payloads)
    received: list[NoticeEnvelope] = []
    topics = TopicNames(settings.topic_prefix)
    await ensure_declared_topics(settings, [r.agency_id for r in policy.recipients])

    ingest = IngestService(logins.ingest, registry=registry, serde=serde)
    distributor = DistributorService(
        logins.distributor, policy=policy, serde=serde, group_id=logins.distributor_group
    )
    with JsonLinesSink(OUTPUT) as jsonl:

        def sink(notice: NoticeEnvelope) -> None:
            jsonl(notice)
            received.append(notice)

        subscriber = Subscriber(
            logins.subscriber,
            topics=[topics.deliver(RECIPIENT)],
            group_id=logins.subscriber_group,
            sink=sink,
            serde=serde,
            guard=DeliveryGuard(policy, RECIPIENT),
        )
        services = [ingest.run(), distributor.run(), subscriber.run()]
        tasks = [asyncio.create_task(service) for service in services]
        try:
            await _publish(logins.liaison, files, payloads, console)
            await _wait_for(expected, received, tasks, console)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    _show(received, ingest, console)
    sent = ", ".join(f"{a} {n}" for a, n in sorted(distributor.stats.deliveries.items()))
    console.print(f"deliveries by agency (policy {POLICY.name}): {sent}")
    report = await verify_topic(settings)
    verdict = "intact" if report.ok else f"{len(report.faults)} faults"
    console.print(f"audit trail: {report.records} decisions in {report.chains} chains, {verdict}")


def _read_examples(examples: Path) -> tuple[list[Path], list[bytes]]:
    """The example payloads, in name order; also empties the output file of a previous run."""
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.unlink(missing_ok=True)
    files = sorted(examples.glob("*.json"))
    return files, [path.read_bytes() for path in files]


async def _publish(
    settings: Settings, files: list[Path], payloads: list[bytes], console: Console
) -> None:
    producer = new_producer(settings, role="demo-liaison")
    await producer.start()
    try:
        for path, payload in zip(files, payloads, strict=True):
            meta = await publish_raw(
                producer,
                TopicNames(settings.topic_prefix),
                agency_id=AGENCY,
                fmt=FORMAT,
                payload=payload,
            )
            console.print(f"published {path.name} ({len(payload)} bytes) to {meta.topic}")
    finally:
        await producer.stop()


async def _wait_for(
    expected: int,
    received: list[NoticeEnvelope],
    tasks: list[asyncio.Task[None]],
    console: Console,
) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    with console.status("") as status:
        while len(received) < expected:
            status.update(f"Subscriber received {len(received)}/{expected} notices...")
            for task in tasks:
                if task.done():
                    task.result()  # a service that stopped early explains itself here
            if asyncio.get_running_loop().time() > deadline:
                raise DemoTimeout(expected, len(received))
            await asyncio.sleep(0.1)


def _show(received: list[NoticeEnvelope], ingest: IngestService, console: Console) -> None:
    table = Table(title=f"{len(received)} notices received by the subscriber of {RECIPIENT}")
    table.add_column("notice_id", overflow="fold")
    for column in ("msg", "name", "born", "nationalities", "action"):
        table.add_column(column)
    for notice in received:
        body = notice.body
        assert isinstance(body, WantedPersonNotice)
        subject = body.subject
        table.add_row(
            notice.notice_id,
            notice.msg_type.value,
            subject.names[0].full_name if subject.names else "(no name published)",
            ", ".join(str(span.earliest) for span in subject.dates_of_birth),
            ", ".join(subject.nationalities),
            body.action_requested.value,
        )
    console.print(table)
    dead = sum(ingest.stats.dead_lettered.values())
    console.print(
        f"{dead} payload(s) sent to the dead-letter topic with the reason in headers; "
        f"notices written to {OUTPUT}"
    )
