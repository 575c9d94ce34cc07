"""What a benchmark run found: figures (each the median of its runs, with min and max), the
targets they are held against, and the machine they were measured on."""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

NOT_BUILT = "not built"
NOT_MEASURED = "not measured"
"""A scenario whose prerequisite outside Kafka (the schema registry) was not there: the
figure's ``note`` says why, and the rest of the run stands without it."""


@dataclass
class Figure:
    """One measured quantity over its runs; ``status`` says when there is nothing to measure."""

    key: str
    scenario: str
    label: str
    unit: str
    values: list[float] = field(default_factory=list)
    status: str = "ok"
    note: str = ""

    @property
    def measured(self) -> bool:
        return self.status == "ok" and bool(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else math.nan

    @property
    def min(self) -> float:
        return min(self.values) if self.values else math.nan

    @property
    def max(self) -> float:
        return max(self.values) if self.values else math.nan

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.measured:
            data.update(median=self.median, min=self.min, max=self.max)
        return data


@dataclass
class Target:
    """A goal from the issue, and whether the figures meet it (None: could not be judged)."""

    name: str
    goal: str
    measured: str
    met: bool | None


@dataclass
class BenchReport:
    machine: dict[str, Any]
    config: dict[str, Any]
    figures: list[Figure] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started_at: str = ""
    finished_at: str = ""

    def figure(self, key: str) -> Figure:
        for figure in self.figures:
            if figure.key == key:
                return figure
        raise KeyError(key)

    def to_json(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "config": self.config,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "figures": [figure.to_json() for figure in self.figures],
            "targets": [asdict(target) for target in self.targets],
            "notes": self.notes,
        }


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by linear interpolation between closest ranks, as numpy's
    default; ``sorted_values`` must be sorted and not empty."""
    if not sorted_values:
        raise ValueError("no values")
    position = (len(sorted_values) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def machine_info(kafka_version: str) -> dict[str, Any]:
    """What the figures depend on: hardware, OS, Python, client and broker versions, load."""
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "ram_gib": _ram_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "aiokafka": _version("aiokafka"),
        "confluent_kafka": _confluent_versions(),
        "kafka": kafka_version,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "date": now_iso(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _confluent_versions() -> str:
    try:
        import confluent_kafka
    except ImportError:
        return "not installed"
    return f"{_version('confluent-kafka')} (librdkafka {confluent_kafka.libversion()[0]})"
