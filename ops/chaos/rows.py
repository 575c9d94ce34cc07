"""The fault rows of issue 9, each a way of hurting a running hub, numbered as the issue does.

A row's injections happen at milestones of the run's progress (a share of all decisions
committed), so every fault meets the services in the middle of their work rather than before
it or after it; each records how long processing took to resume once the fault was over.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from broker.fault_points import STALLING, FaultPlan, FaultPoint
from ops.chaos import workload
from ops.chaos.rows_more import (
    EMBARGO,
    LONG_PAUSE,
    PAUSE,
    broker_pauses,
    coordinator_loss,
    embargo_restarts,
    long_stalls,
    network_faults,
    revoked_write,
    rolling_bounces,
)
from ops.chaos.run import RECOVERY_LIMIT, Hub, Inject, moments
from ops.chaos.services import Service

INJECTIONS = 5
"""At least this many injections per row and run (issue 9), where the row allows it."""
ZOMBIE_STALL = 5.0
"""Seconds a zombie-to-be holds its transaction open before going on: ample for the harness
(polling its log every 50 ms) to freeze it first. Frozen, the stall runs out, so the zombie
tries to go on the moment it is thawed, which is once its partition's new owner has fenced it."""
SPREAD = 200.0
"""Seconds a paced row produces its workload over: 50 notices a second in the quick run, at
which a zombie or a bounce late in the row still meets work, and 500 in the full run, half of
what one distributor decides on this machine (about 1,100 a second)."""
EMBARGO_SPREAD = 1_000.0
"""Row 13's span: 100 notices a second in the full run. Its verdict needs every embargoed
notice still embargoed when first decided, so its input must stay within what the hub decides
while it is being restarted: at 500 a second, restarted every half minute, first decisions came
25 to 48 s after their planned time (measured), close to the shortest embargo, 30 s."""


@dataclass(frozen=True)
class Row:
    number: int
    title: str
    brokers: Literal["single", "cluster", "proxied"]
    inject: Inject
    first_faults: Callable[[int], FaultPlan] | None = None
    """Faults the first distributor starts with, given the run's seed."""
    poison: int = 4
    spread: float | None = None
    """Seconds over which the workload is produced while the services run, for rows whose
    faults need work still arriving when they strike; None produces the whole workload before
    the services start. A span rather than a rate, so the row takes about as long whatever
    the number of notices (``pace``)."""
    service_principals: bool = False
    """Run the services as their own principals with their ACLs (``run_row``'s option)."""
    notice_partitions: int | None = None
    """Partitions of the notices topics instead of the declared ones (``run_row``'s option)."""
    embargo: workload.Embargo | None = None
    """Embargo a share of the (paced) workload (``run_row``'s option)."""

    def pace(self, notices: int) -> float | None:
        """Notices per second that spread ``notices`` over the row's ``spread``."""
        return None if self.spread is None else notices / self.spread


async def distributor_kills(hub: Hub) -> int:
    """SIGKILL at random moments from outside, and at chosen points of a transaction from
    inside (after its sends, after its offsets, during its commit)."""
    rand = random.Random(hub.seed)
    points = [FaultPoint.AFTER_SENDS, FaultPoint.AFTER_OFFSETS, FaultPoint.DURING_COMMIT]
    made = 0
    for share, point in zip(moments(len(points), rand), points, strict=True):
        service = hub.distributors[0]
        await hub.milestone(share)
        await service.kill()
        service.start(FaultPlan(kill_at=point, kill_after=rand.randint(1, 4)))
        made += 1
        await hub.recovered(time.monotonic())
        if await service.wait_for_exit_by_itself(RECOVERY_LIMIT) is None:
            hub.notes.append(f"the distributor did not reach {point} within {RECOVERY_LIMIT} s")
            await service.kill()
        else:
            made += 1
        service.start()
        await hub.recovered(time.monotonic())
    return made


async def clean_restarts(hub: Hub) -> int:
    """SIGTERM each service in turn, and start it again."""
    rand = random.Random(hub.seed)
    for index, share in enumerate(moments(INJECTIONS + 1, rand)):
        service = hub.ingest if index % 2 else hub.distributors[0]
        await hub.milestone(share)
        await service.terminate()
        service.start()
        await hub.recovered(time.monotonic())
    return INJECTIONS + 1


async def application_aborts(hub: Hub) -> int:
    """The distributor aborts about a third of its transactions itself (``first_faults``)."""
    await hub.milestone(1.0)
    return hub.distributors[0].log_count("aborted on purpose")


async def broker_kills(hub: Hub) -> int:
    """SIGKILL a broker and start it again on its storage: each in turn on a cluster."""
    rand = random.Random(hub.seed)
    for index, share in enumerate(moments(INJECTIONS, rand)):
        node = index % hub.brokers.nodes
        await hub.milestone(share)
        await hub.brokers.kill(node)
        await asyncio.sleep(rand.uniform(0.5, 1.5))
        await hub.brokers.restart(node)
        await hub.recovered(time.monotonic())
    return INJECTIONS


async def rebalances(hub: Hub) -> int:
    """Distributor instances added and removed mid-run, with transactions open."""
    rand = random.Random(hub.seed)
    steps = ["add", "add", "remove", "add", "remove", "remove"]
    for step, share in zip(steps, moments(len(steps), rand), strict=True):
        await hub.milestone(share)
        if step == "add":
            hub.new_distributor().start()
        else:
            running = [service for service in hub.distributors if service.is_running()]
            await rand.choice(running).terminate()
        await hub.recovered(time.monotonic())
    return len(steps)


async def zombies(hub: Hub) -> int:
    """A second distributor joins, is frozen with a transaction open, and is thawed once the
    first has taken that transaction's partition back and fenced its transactional id: the
    thawed one must find itself fenced and stop, and nothing it had in flight may appear."""
    rand = random.Random(hub.seed)
    survivor = hub.distributors[0]
    made = 0
    for share in moments(INJECTIONS, rand):
        await hub.milestone(share)
        zombie = hub.new_distributor()
        zombie.start(FaultPlan(stall_seconds=ZOMBIE_STALL, stall_after=rand.randint(0, 1)))
        transactional_id = await _stalled(zombie)
        if transactional_id is None:
            hub.notes.append(f"{zombie.name} never held a transaction open")
            await zombie.kill()
            continue
        claimed = f"for transactional id {transactional_id}"
        before = survivor.log_count(claimed)
        zombie.pause()
        deadline = time.monotonic() + RECOVERY_LIMIT
        while time.monotonic() < deadline:
            if survivor.log_count(claimed) > before:
                break
            await asyncio.sleep(0.1)
        zombie.resume()
        thawed = time.monotonic()
        made += 1
        code = await zombie.wait_for_exit_by_itself(RECOVERY_LIMIT)
        if code is None:
            hub.notes.append(f"zombie {zombie.name} still ran {RECOVERY_LIMIT:g} s after thawing")
            await zombie.kill()
        elif zombie.log_count("ProducerFenced") == 0:
            hub.notes.append(f"zombie {zombie.name} exited with {code}, not on being fenced")
        await hub.recovered(thawed)
    return made


async def _stalled(service: Service) -> str | None:
    """The transactional id whose transaction ``service`` holds open, once it says so."""
    deadline = time.monotonic() + RECOVERY_LIMIT
    while service.is_running() and time.monotonic() < deadline:
        for line in service.log_lines(STALLING):
            return str(line.rsplit(" ", 1)[-1])
        await asyncio.sleep(0.05)
    return None


async def poison_only(hub: Hub) -> int:
    """The poison is in the workload (``Row.poison``): the run just has to get past it."""
    await hub.milestone(1.0)
    return hub.poison


def _aborting(seed: int) -> FaultPlan:
    return FaultPlan(abort_ratio=1 / 3, seed=seed)


ROWS: dict[str, Row] = {
    "1": Row(1, "distributor SIGKILL, random and at chosen points", "single", distributor_kills),
    "2": Row(2, "clean restart (SIGTERM) of each service", "single", clean_restarts),
    "3": Row(3, "aborts the application triggers", "single", application_aborts, _aborting),
    "4": Row(4, "broker hard kill and restart, single node", "single", broker_kills),
    "4c": Row(4, "broker hard kill and restart, each of 3 nodes", "cluster", broker_kills),
    "5": Row(
        5,
        "rolling clean bounce; one partition, order kept",
        "cluster",
        rolling_bounces,
        spread=SPREAD,
        notice_partitions=1,
    ),
    "6": Row(6, "coordinators' node lost for two minutes", "cluster", coordinator_loss),
    "7": Row(7, "broker paused (SIGSTOP) for 10 s", "single", broker_pauses(PAUSE, INJECTIONS)),
    "7l": Row(7, "broker paused past the txn timeout", "single", broker_pauses(LONG_PAUSE, 1)),
    "8": Row(8, "network faults through a TCP proxy", "proxied", network_faults),
    "9": Row(9, "rebalance: distributors added and removed", "single", rebalances),
    "10": Row(10, "zombie distributor fenced", "single", zombies, spread=SPREAD),
    "11": Row(11, "a transaction stalled past its timeout", "single", long_stalls),
    "12": Row(12, "poison records on every input topic", "single", poison_only, poison=40),
    "13": Row(
        13,
        "embargoed notices across distributor restarts",
        "single",
        embargo_restarts,
        spread=EMBARGO_SPREAD,
        embargo=EMBARGO,
    ),
    "14": Row(
        14,
        "distributor's write on one deliver topic revoked for 60 s",
        "single",
        revoked_write,
        service_principals=True,
    ),
}

QUICK = ["1", "3", "4", "4c", "10", "12"]
