"""The hub's services as separate operating-system processes, to kill, stop, pause and restart.

A fault inside one Python process (a cancelled task) is not a crash: buffers the kernel has
not sent, a half-written transaction and a lost session are what a real SIGKILL leaves, so
the harness runs each service as `notices ingest` / `notices distribute` would be run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from broker.errors import ChaosError
from broker.fault_points import FaultPlan

log = logging.getLogger(__name__)


@dataclass
class Service:
    """One service instance: its command, environment and log; each start appends to the log.

    A replica restarted in place has its name as its static group membership id
    (``Settings.group_instance_id``), as in production, so it takes its partitions back at
    once. Instances added for a while are dynamic members: a static one that is gone holds up
    every rebalance until its session times out.
    """

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    static_membership: bool = True
    starts: int = 0
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, faults: FaultPlan | None = None) -> None:
        """Start (again); ``faults`` are injected by this start only."""
        if self.is_running():
            raise ChaosError(f"{self.name} is already running (pid {self.pid})")
        env = {**os.environ, **self.env}
        env.pop("NOTICES_FAULTS", None)
        env.pop("NOTICES_GROUP_INSTANCE_ID", None)
        if self.static_membership:
            env["NOTICES_GROUP_INSTANCE_ID"] = self.name
        if faults is not None:
            env["NOTICES_FAULTS"] = faults.model_dump_json(exclude_none=True)
        command = [sys.executable, "-m", "broker.cli", "-v", *self.args]
        with self.log_path.open("ab") as log:
            log.write(f"\n=== start {self.starts + 1}: {faults}\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        self.starts += 1

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def exit_code(self) -> int | None:
        return None if self._process is None else self._process.poll()

    async def kill(self) -> None:
        """SIGKILL: no cleanup at all, as a crash or an OOM kill."""
        self._signal(signal.SIGKILL)
        await self.wait(10)

    async def terminate(self, within: float = 30) -> None:
        """SIGTERM and wait for the clean shutdown; SIGKILL if it does not come. A paused
        process is resumed first, or the signal would wait with it."""
        self._signal(signal.SIGTERM)
        self._signal(signal.SIGCONT)
        if not await self.wait(within):
            log.warning("%s did not stop within %g s of SIGTERM: killed", self.name, within)
            await self.kill()

    def pause(self) -> None:
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    async def wait(self, within: float) -> bool:
        """Whether the process has exited within ``within`` seconds. Awaited, not slept: the
        harness's reader and its paced workload go on meanwhile (a blocking wait for a slow
        shutdown once held row 13's input back by 30 s)."""
        deadline = time.monotonic() + within
        while self.is_running():
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def wait_for_exit_by_itself(self, within: float) -> int | None:
        """The exit code once the process ends on its own, or None if it is still running."""
        await self.wait(within)
        return self.exit_code()

    def log_count(self, text: str) -> int:
        """How many lines of the log (all starts) contain ``text``."""
        return len(self.log_lines(text))

    def log_lines(self, text: str) -> list[str]:
        """The lines of the log (all starts) that contain ``text``."""
        try:
            with self.log_path.open(encoding="utf-8", errors="replace") as log:
                return [line.rstrip("\n") for line in log if text in line]
        except FileNotFoundError:
            return []

    def _signal(self, signum: signal.Signals) -> None:
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._process.pid, signum)
