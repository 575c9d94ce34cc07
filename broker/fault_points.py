"""Faults a service injects into itself, at points no outside signal can hit reliably.

The chaos harness (``ops.chaos``, issue 9) kills services from outside at random moments, but
the moments that matter most for exactly-once are inside a transaction: after its records are
sent, after its offsets are sent, while its commit is in flight. A service started with
``NOTICES_FAULTS`` set kills itself there, aborts some transactions on purpose (proving the
rewind), or stalls with a transaction open. Unset, which is how every real deployment runs,
each point costs one attribute check.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)

STALLING = "fault injection: stalling"
"""How the log line a stall begins with starts: the harness waits for it, and reads the
stalled transactional id at its end."""


class FaultPoint(StrEnum):
    AFTER_SENDS = "after-sends"
    """The batch's records are queued in the open transaction; its offsets are not."""
    AFTER_OFFSETS = "after-offsets"
    """The input offsets are sent to the transaction; the commit is not."""
    DURING_COMMIT = "during-commit"
    """The commit request is on its way; its outcome is unknown to the service."""


class FaultPlan(BaseModel):
    """What to inject, as JSON in ``NOTICES_FAULTS``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kill_at: FaultPoint | None = None
    kill_after: int = Field(default=0, ge=0)
    """Transactions that pass ``kill_at`` before the one that is killed there."""
    abort_ratio: float = Field(default=0.0, ge=0.0, le=1.0)
    """Share of transactions the service aborts itself after sending everything."""
    stall_seconds: float = Field(default=0.0, ge=0.0)
    """Hold the ``stall_after``-th transaction open this long, past its timeout if longer."""
    stall_after: int = Field(default=0, ge=0)
    seed: int | None = None


class ApplicationAbort(Exception):
    """A transaction the service aborted on purpose (``FaultPlan.abort_ratio``)."""


class FaultInjector:
    """Counts transactions through each point and acts where the plan says."""

    def __init__(self, plan: FaultPlan | None) -> None:
        self.plan = plan
        self._passed: dict[FaultPoint, int] = dict.fromkeys(FaultPoint, 0)
        self._random = random.Random(plan.seed if plan else None)
        self._transactions = 0

    async def reached(self, point: FaultPoint, transactional_id: str) -> None:
        """Called at ``point`` of every transaction; may kill the process or stall it there."""
        plan = self.plan
        if plan is None:
            return
        if point is FaultPoint.AFTER_SENDS:
            self._transactions += 1
            if plan.stall_seconds and self._transactions == plan.stall_after + 1:
                log.warning(
                    "%s %.1f s in a transaction of %s",
                    STALLING,
                    plan.stall_seconds,
                    transactional_id,
                )
                await asyncio.sleep(plan.stall_seconds)
        if plan.kill_at is point:
            if self._passed[point] == plan.kill_after:
                log.warning("fault injection: SIGKILL %s", point)
                os.kill(os.getpid(), signal.SIGKILL)
            self._passed[point] += 1

    def abort_now(self) -> bool:
        """Whether to abort this transaction on purpose."""
        plan = self.plan
        return plan is not None and self._random.random() < plan.abort_ratio
