"""A chaos campaign: the chosen fault rows one after the other, each on the brokers it needs.

The single-node broker and the 3-node cluster are started once, when a row first needs them,
and each row runs a hub of its own on them (``ops.chaos.run``), so one row's leftovers cannot
make the next one pass or fail.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broker.bench.results import machine_info, now_iso
from broker.errors import ChaosError
from ops.chaos.brokers import Brokers, ProxiedBroker, SingleBroker, ThreeNodes
from ops.chaos.denials import DenialCell, run_matrix
from ops.chaos.rows import QUICK, ROWS
from ops.chaos.run import RowResult, RunConfig, run_row
from ops.kafka_jars import KAFKA_VERSION

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CampaignConfig:
    rows: list[str]
    notices: int
    seed: int
    workdir: Path
    denials: bool = True
    """Also run the denial matrix (``ops.chaos.denials``) on the single-node broker."""

    @classmethod
    def for_mode(cls, *, quick: bool, workdir: Path, seed: int = 7) -> CampaignConfig:
        """The quick run is the issue's: 10,000 notices and rows 1, 3, 4, 10 and 12; the full
        run every row with 100,000."""
        if quick:
            return cls(rows=list(QUICK), notices=10_000, seed=seed, workdir=workdir)
        return cls(rows=list(ROWS), notices=100_000, seed=seed, workdir=workdir)

    def check(self) -> None:
        unknown = [key for key in self.rows if key not in ROWS]
        if unknown:
            raise ChaosError(f"unknown fault rows {unknown}; known: {', '.join(ROWS)}")
        if self.notices < 1:
            raise ChaosError(f"a run needs at least one notice, not {self.notices}")


@dataclass
class CampaignReport:
    config: CampaignConfig
    machine: dict[str, Any]
    started: str
    rows: list[RowResult] = field(default_factory=list)
    denials: list[DenialCell] = field(default_factory=list)
    finished: str | None = None

    @property
    def ok(self) -> bool:
        ran = bool(self.rows) or bool(self.denials)
        return ran and all(row.ok for row in self.rows) and all(c.ok for c in self.denials)


_KINDS: dict[str, type[SingleBroker] | type[ThreeNodes]] = {
    "single": SingleBroker,
    "cluster": ThreeNodes,
    "proxied": ProxiedBroker,
}


class _Brokers:
    """Started on first use, stopped at the end of the campaign, whatever happened."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._started: dict[str, Brokers] = {}

    def of_kind(self, kind: str) -> Brokers:
        if kind not in self._started:
            self._started[kind] = _KINDS[kind](self._workdir / f"brokers-{kind}")
        return self._started[kind]

    def stop(self) -> None:
        for brokers in self._started.values():
            brokers.stop()


async def run_campaign(
    config: CampaignConfig,
    *,
    step: Callable[[str], None] = lambda _: None,
    done: Callable[[CampaignReport], None] = lambda _: None,
) -> CampaignReport:
    """Every row of ``config`` in order; ``step`` is told what starts, for a progress display,
    and ``done`` gets the report after each row, so a long run that is cut short keeps what
    it measured. A row that cannot finish (its run stalls, a broker will not start) is
    reported as failed, with the error, and the next row runs."""
    config.check()
    report = CampaignReport(config, machine_info(KAFKA_VERSION), now_iso())
    run = RunConfig(notices=config.notices, seed=config.seed, workdir=config.workdir)
    brokers = _Brokers(config.workdir)
    try:
        for key in config.rows:
            row = ROWS[key]
            step(f"row {key}: {row.title}")
            faults = row.first_faults(config.seed) if row.first_faults else None
            started = time.monotonic()
            try:
                result = await run_row(
                    key,
                    brokers.of_kind(row.brokers),
                    run,
                    row.inject,
                    poison=row.poison,
                    first_faults=faults,
                    pace=row.pace(config.notices),
                    service_principals=row.service_principals,
                    notice_partitions=row.notice_partitions,
                    embargo=row.embargo,
                )
            except Exception as error:
                log.exception("row %s stopped before its verdict", key)
                result = RowResult.broken(
                    key,
                    _KINDS[row.brokers].name,
                    config.notices,
                    f"{type(error).__name__}: {error}",
                    time.monotonic() - started,
                )
            report.rows.append(result)
            done(report)
        if config.denials:
            step("the denial matrix")
            single = brokers.of_kind("single")
            report.denials = await run_matrix(single.hub(), single.login)
    finally:
        brokers.stop()
    report.finished = now_iso()
    return report
