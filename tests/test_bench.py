"""`notices bench --quick` on the tests' broker: it runs every scenario and its figures are
positive. Nothing here judges speed: the figures depend on the machine and its load.

The registry-framing row writes to SCHEMA_REGISTRY_URL when set, else to the Apicurio Registry
the benchmark starts itself, as it does for anyone running it: that start is under test too."""

from __future__ import annotations

import json
import math
import socket
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from broker.bench.results import BenchReport, Figure, percentile
from broker.bench.runner import targets
from broker.cli_bench import bench
from broker.cli_support import write_markdown
from broker.schema_catalog import SchemaCatalog
from broker.serde import NoticeSerde, encode_record, to_record
from tests.conftest import FIXTURES, KafkaUnderTest
from tests.samples import sample_notice
from tests.test_serde import newer_schema_with_optional_field

SCENARIOS = (
    "r1", "r1.confluent", "p1", "r2", "p2.1", "p2.1.registry", "p2.10", "p2.50",
    "p2.50.deliveries", "latency.max", "latency.p50", "latency.p99", "latency.p99.9",
    "latency.raw.p99", "memory.1000000", "memory.5000000", "metrics.share",
)  # fmt: skip


def bench_app() -> typer.Typer:
    app = typer.Typer()
    app.command()(bench)
    return app


@pytest.mark.kafka
@pytest.mark.slow
def test_the_quick_benchmark_runs_every_scenario_with_positive_figures(
    kafka_under_test: KafkaUnderTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_under_test.hub.bootstrap_servers)
    out, table = tmp_path / "bench.json", tmp_path / "benchmarks.md"
    result = CliRunner().invoke(
        bench_app(),
        ["--quick", "--out", str(out), "--markdown", str(table), "--fixtures", str(FIXTURES)],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    figures = {figure["key"]: figure for figure in report["figures"]}
    assert set(SCENARIOS) <= set(figures)
    for key, figure in figures.items():
        if figure["status"] != "ok":
            assert figure["status"] == "not built", key
            continue
        assert len(figure["values"]) >= 1, key
        if key == "metrics.cost":  # a difference of two rates: any sign
            assert all(math.isfinite(v) for v in figure["values"])
        else:
            assert all(v > 0 for v in figure["values"]), (key, figure["values"])
            assert figure["min"] <= figure["median"] <= figure["max"], key
    assert len(figures["r1"]["values"]) == 3
    registry = figures["p2.1.registry"]
    assert registry["status"] == "ok", registry["note"]  # the registry started: measured
    assert len(registry["values"]) == 3 and registry["min"] > 0
    machine = report["machine"]
    assert machine["cpu_count"] >= 1 and machine["python"] and machine["aiokafka"]
    assert {t["name"] for t in report["targets"]} >= {"ingest vs raw produce", "latency"}
    assert "| R1 raw produce (aiokafka) | notices/s |" in table.read_text()
    assert "| P2 distribution, 1 recipient, registry framing | notices/s |" in table.read_text()
    assert "notices bench: median of 3 runs" in result.output


@pytest.mark.slow
def test_an_unreachable_broker_is_named_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{port}")
    for name in ("NOTICES_SECURITY_PROTOCOL", "NOTICES_SASL_USERNAME", "NOTICES_SASL_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(
        bench_app(), ["--quick", "--out", str(tmp_path / "x.json"), "--fixtures", str(FIXTURES)]
    )
    assert result.exit_code == 1
    assert f"cannot reach Kafka at 127.0.0.1:{port}" in " ".join(result.output.split())
    assert not (tmp_path / "x.json").exists()


def test_percentiles_interpolate_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == pytest.approx(50.5)
    assert percentile(values, 0.99) == pytest.approx(99.01)
    assert percentile([7.0], 0.999) == 7.0


def test_targets_are_judged_on_medians_and_a_missing_figure_is_not_judged() -> None:
    def figure(key: str, *values: float, status: str = "ok") -> Figure:
        return Figure(key, key, key, "x", list(values), status=status)

    report = BenchReport(machine={}, config={"list_sizes_bytes": [10, 100]})
    report.figures = [
        figure("r1", 1000, 1100, 900),
        figure("p1", 600, 400, 500),
        figure("r2", 1000),
        figure("p2.1", 400),
        figure("p2.1.deliveries", 400),
        figure("p2.10.deliveries", 800),
        figure("p2.50.deliveries", 300),
        figure("latency.p99", 30),
        figure("latency.raw.p99", 10),
        figure("memory.10", 100),
        figure("memory.100", 110),
        figure("metrics.cost", status="not built"),
        figure("metrics.share", status="not built"),
    ]
    verdicts = {target.name: target.met for target in targets(report)}
    assert verdicts == {
        "ingest vs raw produce": True,  # 500 / 1000
        "distribution vs raw pass-through": False,  # 400 / 1000
        "fan-out": False,  # 300 deliveries/s at 50 recipients < 400 at 1
        "latency": False,  # 3 x raw
        "memory": True,  # 1.1 x
        "metrics cost": None,
    }


def test_the_table_replaces_only_its_own_part_of_the_markdown_file(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    write_markdown(page, "first table\n", marker="bench", title="Benchmarks")
    assert page.read_text().startswith("# Benchmarks")
    page.write_text(page.read_text() + "\n## Hotspots\n\nkept\n")
    write_markdown(page, "second table\n", marker="bench", title="Benchmarks")
    text = page.read_text()
    assert "second table" in text and "first table" not in text
    assert text.count("<!-- bench:begin -->") == text.count("<!-- bench:end -->") == 1
    assert text.endswith("## Hotspots\n\nkept\n")


def test_the_serde_shortcuts_give_the_bytes_a_fresh_encoding_gives() -> None:
    """Encoding remembers its last notice, and decoding primes it with the bytes read (the
    distributor's fan-out, issue #7): both must give what encoding anew gives."""
    catalog = SchemaCatalog.from_directory()
    serde = NoticeSerde(catalog)
    notice = sample_notice("shortcut")
    data = NoticeSerde(catalog).encode(notice)
    assert serde.encode(notice) == serde.encode(notice) == data
    decoded = serde.decode(data)
    assert serde.encode(decoded) == NoticeSerde(catalog).encode(decoded) == data
    # Written with another schema: resolved on reading, so its bytes are not this notice's.
    newer = catalog.add_writer(newer_schema_with_optional_field())
    record = {**to_record(notice), "handling_instructions": "not in the current schema"}
    resolved = serde.decode(encode_record(newer, record))
    assert serde.encode(resolved) == data
    # A variant is another object, never mistaken for the notice it was copied from.
    variant = decoded.model_copy(update={"version": 2})
    assert serde.encode(variant) != data
    assert serde.decode(serde.encode(variant)) == variant
