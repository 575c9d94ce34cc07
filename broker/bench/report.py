"""A benchmark report as a rich table, as Markdown (docs/benchmarks.md), and as JSON."""

from __future__ import annotations

from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table

from broker.bench.results import BenchReport, Figure, Target


def number(value: float) -> str:
    if value != value:  # NaN
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _cells(figure: Figure) -> list[str]:
    """A figure that was not measured says why in its row, not only in the JSON."""
    if not figure.measured:
        status = f"{figure.status}: {figure.note}" if figure.note else figure.status
        return [figure.scenario, figure.label, status, "", "", ""]
    return [
        figure.scenario,
        figure.label,
        number(figure.median),
        number(figure.min),
        number(figure.max),
        figure.unit,
    ]


def _verdict(target: Target) -> str:
    return {True: "met", False: "MISSED", None: "not judged"}[target.met]


def machine_line(report: BenchReport) -> str:
    m = report.machine
    return (
        f"{m['cpu_count']} x {m['cpu_model']}, {m['ram_gib']} GiB RAM, {m['os']}, "
        f"Python {m['python']}, aiokafka {m['aiokafka']}, confluent-kafka {m['confluent_kafka']}, "
        f"Kafka {m['kafka']}; {m['date']}; load average {m['load_average_at_start']} -> "
        f"{m.get('load_average_at_end', '?')}"
    )


def print_report(report: BenchReport, console: Console) -> None:
    runs = report.config["runs"]
    table = Table(title=f"notices bench: median of {runs} runs, with min and max")
    for column in ("scenario", "figure", "median", "min", "max", "unit"):
        table.add_column(column, justify="right" if column in {"median", "min", "max"} else "left")
    for figure in report.figures:
        table.add_row(*_cells(figure))
    console.print(table)
    goals = Table(title="Targets")
    for column in ("target", "goal", "measured", "verdict"):
        goals.add_column(column)
    for target in report.targets:
        style = {True: "green", False: "red", None: "yellow"}[target.met]
        goals.add_row(
            target.name, target.goal, target.measured, f"[{style}]{_verdict(target)}[/{style}]"
        )
    console.print(goals)
    console.print(f"Machine: {machine_line(report)}", markup=False)
    for note in report.notes:
        console.print(f"- {note}", markup=False)


def markdown(report: BenchReport, *, command: str) -> str:
    runs = report.config["runs"]
    lines = [
        "## Latest run",
        "",
        f"Written by `{command}` on {report.finished_at}. Each figure is the median of {runs} "
        "runs, with the smallest and largest; the raw Kafka baseline of each pair ran in the "
        "same run, on the same broker.",
        "",
        f"**Machine:** {machine_line(report)}",
        "",
        "| scenario | figure | median | min | max | unit |",
        "|---|---|---:|---:|---:|---|",
    ]
    lines += ["| " + " | ".join(_cells(figure)) + " |" for figure in report.figures]
    lines += ["", "### Targets", "", "| target | goal | measured | verdict |", "|---|---|---|---|"]
    lines += [f"| {t.name} | {t.goal} | {t.measured} | {_verdict(t)} |" for t in report.targets]
    lines += ["", "### Notes", ""]
    lines += [f"- {note}" for note in report.notes]
    return "\n".join(lines) + "\n"


def write_json(report: BenchReport, path: Path) -> None:
    path.write_bytes(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2) + b"\n")
