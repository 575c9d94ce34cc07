"""The fault rows of issue 9 that hold a fault for long: a paused broker, a transaction held past
its timeout, a coordinator's node lost, a broken network, a revoked write permission; and those
that check more than the tally: a rolling bounce (order), restarts around embargo releases.

Each holds its fault for a fixed time (the issue's or one past a timeout that matters) rather
than a random one, so that what the row proves does not depend on the seed; the moments still
come from the run's progress, as in ``ops.chaos.rows``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections.abc import Awaitable, Callable

from broker.access import DISTRIBUTOR, AclBinding, Operation, Pattern, Resource, principal
from broker.errors import ChaosError
from broker.fault_points import STALLING, FaultPlan
from broker.topic_reader import partitions_of
from broker.topics import TopicNames
from broker.transactional import TRANSACTION_TIMEOUT_MS
from ops.acls import apply_acls, remove_acls
from ops.chaos import workload
from ops.chaos.brokers import ProxiedBroker, ThreeNodes
from ops.chaos.run import RECOVERY_LIMIT, Hub, Inject, moments
from ops.chaos.services import Service

log = logging.getLogger(__name__)

TRANSACTION_TIMEOUT = TRANSACTION_TIMEOUT_MS / 1000
_TIMEOUT_CHECK = 10.0
"""How often the broker looks for timed-out transactions (its default
``transaction.abort.timed.out.transaction.cleanup.interval.ms``)."""
PAUSE = 10.0
LONG_PAUSE = TRANSACTION_TIMEOUT + _TIMEOUT_CHECK
"""A broker frozen this long finds, once thawed, every transaction open before it timed out."""
STALL = TRANSACTION_TIMEOUT + 2 * _TIMEOUT_CHECK
"""A transaction held open this long is aborted by its coordinator before the service goes on."""
COORDINATOR_DOWN = 120.0
REQUEST_TIMEOUT = 40.0
"""aiokafka's default ``request_timeout_ms``, which the services keep."""
DELAY = REQUEST_TIMEOUT + 5
BLACKHOLE = 30.0
REFUSING = 5.0
REVOKED = 60.0
BOUNCE_ROUNDS = 2
"""Each node bounced twice: six injections, at least the five a row makes (issue 9)."""
RESTARTS = 6
"""Three by SIGTERM and three by SIGKILL, in turn."""
EMBARGO = workload.Embargo(share=0.2, delay=(30.0, 60.0))
"""A fifth of the notices embargoed: the least delay is past the longest a SIGKILLed
distributor is away (its group's session timeout, 10 s, and a restart), so each is still
embargoed when first decided."""


def broker_pauses(seconds: float, count: int) -> Inject:
    """SIGSTOP the broker for ``seconds``, ``count`` times: its sockets stay open and accept,
    nothing answers, and its clocks jump when it is thawed."""

    async def inject(hub: Hub) -> int:
        for share in moments(count, random.Random(hub.seed), within=0.7):
            await hub.milestone(share)
            hub.brokers.pause(0)
            try:
                await asyncio.sleep(seconds)
            finally:
                hub.brokers.resume(0)
            await hub.recovered(time.monotonic())
        return count

    return inject


async def long_stalls(hub: Hub) -> int:
    """A distributor that holds a transaction open past its timeout, twice: its coordinator
    aborts it and bumps the producer's epoch, and the service must carry on from its committed
    offsets without dying and without losing or repeating anything."""
    rand = random.Random(hub.seed)
    made = 0
    for share in moments(2, rand, within=0.7):
        service = hub.distributors[0]
        await hub.milestone(share)
        await service.terminate()
        stalls = service.log_count(STALLING)
        service.start(FaultPlan(stall_seconds=STALL, stall_after=rand.randint(1, 3)))
        if not await _stalling(hub, service, stalls):
            continue
        await asyncio.sleep(STALL)
        await hub.recovered(time.monotonic())
        made += 1
        if not service.is_running():
            code = service.exit_code()
            hub.notes.append(f"{service.name} exited with {code} after its transaction timed out")
            service.start()
    return made


async def _stalling(hub: Hub, service: Service, before: int) -> bool:
    """Whether ``service`` reached the stall its current start was given, its log having
    counted ``before`` stalls until then: within the recovery limit, or it is not working."""
    deadline = time.monotonic() + RECOVERY_LIMIT
    while service.log_count(STALLING) == before:
        if not service.is_running():
            hub.notes.append(f"{service.name} exited with {service.exit_code()} before stalling")
            service.start()
            return False
        if time.monotonic() >= deadline:
            hub.notes.append(f"{service.name} did not reach its stall in {RECOVERY_LIMIT:g} s")
            return False
        await asyncio.sleep(0.05)
    return True


async def coordinator_loss(hub: Hub) -> int:
    """SIGKILL the node that coordinates the distributors' group (and the transactions of
    about a third of its partitions), keep it down for two minutes, start it again. The
    other two still hold a majority and every partition's data: processing must resume while
    the node is down, not when it comes back."""
    brokers = hub.brokers
    if not isinstance(brokers, ThreeNodes):
        raise ChaosError(f"row 6 needs the 3-node cluster, not a {brokers.name}")
    group = _distributor_group(hub.distributors[0])
    await hub.milestone(0.15)
    node = await brokers.group_coordinator(group)
    ids = await _transactional_ids(hub, group)
    theirs = [i for i in ids if await brokers.transaction_coordinator(i) == node]
    log.info(
        "row 6: node %d coordinates %s and %d of its %d transactional ids",
        node,
        group,
        len(theirs),
        len(ids),
    )
    if not theirs:
        hub.notes.append(f"node {node} coordinates none of {group}'s transactions")
    await brokers.kill(node)
    lost = time.monotonic()
    await hub.recovered(lost)
    await asyncio.sleep(max(0.0, COORDINATOR_DOWN - (time.monotonic() - lost)))
    await brokers.restart(node)
    await hub.recovered(time.monotonic())
    return 1


def _distributor_group(service: Service) -> str:
    return service.args[service.args.index("--group") + 1]


async def _transactional_ids(hub: Hub, group: str) -> list[str]:
    """The distributor's transactional ids: one per input partition
    (``broker.transactional``)."""
    topics = TopicNames(hub.settings.topic_prefix)
    return [
        f"{group}.{topic}.{partition}"
        for topic in [*topics.all_notices, topics.released]
        for partition in await partitions_of(hub.settings, topic)
    ]


async def network_faults(hub: Hub) -> int:
    """Through the proxy in front of the broker: connections reset; responses delayed past
    the request timeout; connections reset and new ones refused for a while; a 30 s
    blackhole; a last reset."""
    brokers = hub.brokers
    if not isinstance(brokers, ProxiedBroker):
        raise ChaosError(f"row 8 needs the broker behind a proxy, not a {brokers.name}")
    proxy = brokers.proxy

    async def refuse() -> None:
        proxy.reset(refuse_new=True)
        await asyncio.sleep(REFUSING)
        proxy.pass_through()

    async def delay() -> None:
        proxy.delay(DELAY)
        await asyncio.sleep(DELAY + 5)
        proxy.pass_through()

    async def blackhole() -> None:
        proxy.blackhole()
        await asyncio.sleep(BLACKHOLE)
        proxy.pass_through()

    async def reset() -> None:
        proxy.reset()

    faults: list[Callable[[], Awaitable[None]]] = [reset, delay, refuse, blackhole, reset]
    for fault, share in zip(
        faults, moments(len(faults), random.Random(hub.seed), within=0.7), strict=True
    ):
        await hub.milestone(share)
        await fault()
        await hub.recovered(time.monotonic())
    return len(faults)


async def revoked_write(hub: Hub) -> int:
    """The distributor's WRITE on one agency's deliver topic taken away for 60 s and given
    back. Its grant is one PREFIXED binding for every deliver topic, so the revocation puts a
    LITERAL binding for each other deliver topic in its place: only the one topic is denied.
    Every decision for that agency must wait, none may go elsewhere (the tally's leaks) or to
    the dead-letter topic (its count), and none may be lost."""
    topics = TopicNames(hub.settings.topic_prefix)
    recipients = sorted(agency.agency_id for agency in workload.POLICY.recipients)
    victim = recipients[hub.seed % len(recipients)]

    def write(topic: str, pattern: Pattern = Pattern.LITERAL) -> AclBinding:
        return AclBinding(principal(DISTRIBUTOR), Resource.TOPIC, topic, Operation.WRITE, pattern)

    every = write(topics.deliver(""), Pattern.PREFIXED)
    others = [write(topics.deliver(agency)) for agency in recipients if agency != victim]
    await hub.milestone(0.3)
    await asyncio.to_thread(apply_acls, hub.settings, others)
    await asyncio.to_thread(remove_acls, hub.settings, [every])
    log.info("row 14: %s may not write %s", DISTRIBUTOR, topics.deliver(victim))
    await asyncio.sleep(REVOKED)
    await asyncio.to_thread(apply_acls, hub.settings, [every])
    await asyncio.to_thread(remove_acls, hub.settings, others)
    await hub.recovered(time.monotonic())
    for service in hub.distributors:
        if service.exit_code() is not None:
            hub.notes.append(f"{service.name} exited with {service.exit_code()} when denied")
            service.start()
    return 1


async def rolling_bounces(hub: Hub) -> int:
    """Each node of the cluster in turn stopped cleanly and started again, the next one only
    once every partition has all its replicas back in sync, as a rolling upgrade does it; two
    rounds. The notices topics have one partition in this row (``Row.notice_partitions``), so
    the verdict also checks that the deliveries keep the notices' order; the workload is paced
    (``Row.spread``), since a bounce takes about 20 s and would otherwise meet an idle hub."""
    brokers = hub.brokers
    if not isinstance(brokers, ThreeNodes):
        raise ChaosError(f"row 5 needs the 3-node cluster, not a {brokers.name}")
    count = BOUNCE_ROUNDS * brokers.nodes
    for index, share in enumerate(moments(count, random.Random(hub.seed))):
        node = index % brokers.nodes
        await hub.milestone(share)
        await brokers.bounce(node)
        log.info("row 5: node %d bounced", node)
        await hub.recovered(time.monotonic())
    return count


async def embargo_restarts(hub: Hub) -> int:
    """The distributor, whose process runs the embargo releaser too, stopped shortly before an
    embargoed notice is due, by SIGTERM and SIGKILL in turn, and started again at once: the
    new instance must release what was pending, none before its time and each within the
    issue's 5 s of it (the verdict's early and late)."""
    if not hub.releases:
        raise ChaosError("row 13 needs an embargoed workload (Row.embargo)")
    rand = random.Random(hub.seed)
    for index in range(RESTARTS):
        due = hub.releases[(2 * index + 1) * len(hub.releases) // (2 * RESTARTS)]
        strike = due - dt.timedelta(seconds=rand.uniform(0.5, 3.0))
        await asyncio.sleep(max(0.0, (strike - dt.datetime.now(dt.UTC)).total_seconds()))
        service = hub.distributors[0]
        if index % 2:
            await service.kill()
        else:
            await service.terminate()
        service.start()
        log.info("row 13: %s restarted before a release due at %s", service.name, due)
        await hub.recovered(time.monotonic())
    return RESTARTS
