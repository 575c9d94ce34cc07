"""One benchmark run from start to end: the broker, the scenarios in order, the targets.

The broker is the one the tests use: the cluster of ``KAFKA_BOOTSTRAP_SERVERS`` (with the
``NOTICES_*`` security settings) when set, else the local secured broker of
``ops.local_kafka`` started in a temporary folder and stopped at the end. So is the schema
registry of the registry-framing row: ``SCHEMA_REGISTRY_URL`` when set, else the local
Apicurio Registry of ``ops.registry``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiokafka.errors import KafkaConnectionError, KafkaError

from broker.bench.payloads import Synthesizer
from broker.bench.results import BenchReport, Figure, Target, machine_info, now_iso
from broker.bench.scenarios import Bench, BenchConfig, Profiling, Steps
from broker.errors import NoticeBrokerError
from broker.kafka_clients import new_admin
from broker.settings import Settings
from ops import local_kafka
from ops.registry import start_registry

PROBE_TIMEOUT = 15.0
FANOUT = (1, 10, 50)


class BrokerUnreachable(NoticeBrokerError):
    def __init__(self, bootstrap: str, cause: BaseException) -> None:
        super().__init__(
            f"cannot reach Kafka at {bootstrap} ({type(cause).__name__}: {cause}); check "
            "KAFKA_BOOTSTRAP_SERVERS and the NOTICES_SECURITY_PROTOCOL / NOTICES_SASL_* "
            "settings, or unset KAFKA_BOOTSTRAP_SERVERS to let the benchmark start a local broker"
        )


@contextlib.contextmanager
def bench_broker(workdir: Path) -> Iterator[tuple[Settings, str]]:
    """The hub's settings for the broker to measure on, and its Kafka version."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        settings = Settings()
        yield settings, os.environ.get("KAFKA_VERSION", "external cluster (version not known)")
        return
    broker = local_kafka.start_kafka(workdir / "kafka")
    try:
        yield broker.client_settings(Settings()), broker.version
    finally:
        broker.stop()


@contextlib.contextmanager
def bench_registry(url: str | None, workdir: Path) -> Iterator[str]:
    """The URL of the schema registry for the registry-framing row: ``url`` when set, else
    a local Apicurio Registry started in ``workdir`` (LocalRegistryError if it does not
    start) that runs for that row only, so that its JVM takes no CPU from the others.

    Started and stopped in the caller's thread, though the caller is a coroutine: nothing
    else runs between scenarios, and an interrupt then reaches ``start_registry``, which
    stops a half-started registry, where a worker thread would leave it running.
    """
    if url is not None:
        yield url
        return
    registry = start_registry(workdir / "registry")
    try:
        yield registry.url
    finally:
        registry.stop()


async def probe(settings: Settings) -> None:
    """Fail early, and clearly, when the broker cannot be reached or refuses the login."""
    admin = new_admin(settings, request_timeout_ms=int(PROBE_TIMEOUT * 1000))
    try:
        await asyncio.wait_for(admin.start(), PROBE_TIMEOUT)
        await asyncio.wait_for(admin.describe_cluster(), PROBE_TIMEOUT)
    except (KafkaConnectionError, KafkaError, TimeoutError, OSError) as exc:
        raise BrokerUnreachable(settings.bootstrap_servers, exc) from exc
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


def metrics_built() -> bool:
    try:
        importlib.import_module("broker.metrics")
        importlib.import_module("broker.metrics_server")
    except ImportError:
        return False
    return True


def expected_steps(config: BenchConfig, *, with_metrics: bool, profiling: bool) -> int:
    """How many ``Steps.step`` calls a run makes, for the progress bar."""
    runs = config.runs
    throughput = runs + config.warm_runs + (1 if profiling else 0)
    return (
        2 * throughput  # R1 with aiokafka, then with confluent-kafka
        + throughput
        + (runs if with_metrics else 0)  # P1, metrics off and on
        + throughput  # R2
        + len(FANOUT) * throughput  # P2
        + 1
        + throughput  # P2 in the registry framing: its registry, then its runs
        + 2
        + 2 * runs  # latency: warm-up, the hub's maximum, then hub and raw in turn
        + len(config.list_sizes) * (1 + config.list_runs)  # memory
    )


async def run_bench(
    settings: Settings,
    config: BenchConfig,
    *,
    fixtures: Path,
    kafka_version: str,
    steps: Steps,
    workdir: Path | None = None,
    profiling: Profiling | None = None,
) -> BenchReport:
    """Every scenario, in one process tree on one broker; the figures and the targets.

    ``settings.schema_registry_url`` serves the registry-framing row only: every other
    scenario writes the single-object encoding, which that row is set beside.
    """
    await probe(settings)
    report = BenchReport(machine=machine_info(kafka_version), config=config.to_json())
    report.started_at = now_iso()
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        bench = Bench(
            settings.model_copy(update={"schema_registry_url": None}),
            config,
            synth=Synthesizer(fixtures),
            workdir=workdir,
            steps=steps,
            profiling=profiling,
        )
        try:
            await bench.raw_produce()
            await bench.ingest()
            await bench.pass_through()
            for recipients in FANOUT:
                await bench.distribution(recipients)
                if recipients == 1:  # back to back, for the two framings to meet the same load
                    await bench.registry_framing(
                        bench_registry(settings.schema_registry_url, workdir)
                    )
            await bench.latency()
            await bench.memory()
        finally:
            await bench.cleanup()
    report.figures = order(bench.figures)
    report.finished_at = now_iso()
    report.machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report.targets = targets(report)
    report.notes = notes(report, bench.notes)
    return report


_ORDER = (
    "r1", "p1", "r2", "p2.1", "p2.1.deliveries", "p2.1.registry", "p2.10", "p2.10.deliveries",
    "p2.50", "p2.50.deliveries", "latency.max", "latency.rate", "latency.p50", "latency.p99",
    "latency.p99.9", "latency.raw.p50", "latency.raw.p99", "latency.raw.p99.9",
)  # fmt: skip
_LATE = ("p1.metrics", "metrics.cost", "metrics.share", "r1.confluent")


def order(figures: list[Figure]) -> list[Figure]:
    """The pairs first (R1, P1, R2, P2, latency), then memory, metrics, the faster client."""

    def rank(figure: Figure) -> tuple[int, int]:
        if figure.key in _ORDER:
            return 0, _ORDER.index(figure.key)
        if figure.key in _LATE:
            return 2, _LATE.index(figure.key)
        return 1, 0

    return sorted(figures, key=rank)


def _ratio(report: BenchReport, top: str, bottom: str) -> float:
    a, b = report.figure(top), report.figure(bottom)
    if not (a.measured and b.measured) or b.median == 0:
        return math.nan
    return a.median / b.median


def targets(report: BenchReport) -> list[Target]:
    """The issue's targets, judged on the medians."""
    found: list[Target] = []

    def judge(name: str, goal: str, value: float, measured: str, ok: bool) -> None:
        found.append(Target(name, goal, measured, None if math.isnan(value) else ok))

    p1 = _ratio(report, "p1", "r1")
    judge("ingest vs raw produce", "P1 >= 0.5 x R1", p1, f"P1/R1 = {p1:.2f}", p1 >= 0.5)
    p2 = _ratio(report, "p2.1", "r2")
    judge(
        "distribution vs raw pass-through",
        "P2 (1 recipient) >= 0.5 x R2",
        p2,
        f"P2/R2 = {p2:.2f}",
        p2 >= 0.5,
    )
    fan = [(k, _ratio(report, f"p2.{k}.deliveries", "p2.1.deliveries")) for k in FANOUT[1:]]
    worst = min(value for _, value in fan)
    judge(
        "fan-out",
        "no worse than linear: deliveries/s at 10 and 50 recipients >= at 1",
        worst,
        ", ".join(f"{k}: {value:.2f} x" for k, value in fan),
        worst >= 1.0,
    )
    lat = _ratio(report, "latency.p99", "latency.raw.p99")
    judge("latency", "p99 <= 2 x raw p99", lat, f"p99 hub/raw = {lat:.2f}", lat <= 2.0)
    small, large = (f"memory.{size}" for size in report.config["list_sizes_bytes"])
    mem = _ratio(report, large, small)
    judge(
        "memory",
        "peak RSS of the large list within 20% of the small one",
        mem,
        f"large/small = {mem:.2f}",
        mem <= 1.2,
    )
    cost, share = report.figure("metrics.cost"), report.figure("metrics.share")
    measured = (
        f"{share.median:.1f}% of P1's time in metrics code; on/off A/B {cost.median:+.1f}% "
        f"(min {cost.min:+.1f}, max {cost.max:+.1f})"
        if share.measured and cost.measured
        else share.status
    )
    found.append(
        Target(
            "metrics cost",
            "<= 3% of P1 (judged on the time spent in the metrics' own code, which the on/off "
            "throughput A/B confirms only within this machine's noise)",
            measured,
            None if not share.measured else share.median <= 3.0,
        )
    )
    return found


def notes(report: BenchReport, extra: list[str]) -> list[str]:
    machine = report.machine
    found = [
        f"Measured on {machine['cpu_count']} CPU cores shared with the Kafka broker (a JVM) and "
        f"with other work: load average {machine['load_average_at_start']} at the start, "
        f"{machine.get('load_average_at_end')} at the end. Figures are comparable within one "
        "run (each pair ran back to back on the same broker), less so across machines.",
        "Throughput: a backlog produced while the consumer is paused, timed from its release to "
        "the commit of the transaction holding the last record (start-up excluded, both sides).",
        "Latency: offered at half the hub pipeline's maximum rate, measured end to end with "
        "its three processes (ingest, distributor, subscriber) and the broker sharing these "
        "cores. The raw pipeline has the hub's hop count: R1 producer -> R2 pass-through -> "
        "R2 pass-through -> consumer committing after each batch, at the same offered load.",
        "Memory: peak RSS (VmHWM) of a process of its own running the real ListLoader on a UN "
        "list of the fixture's records repeated with new reference numbers.",
    ]
    return found + extra


def config_for(quick: bool) -> BenchConfig:
    return BenchConfig.for_mode(quick=quick)


def report_json(report: BenchReport) -> dict[str, Any]:
    return report.to_json()
