"""``notices bench``: the hub's real services side by side with raw Kafka, on one broker.

Registered in ``broker.cli`` as ``app.command()(cli_bench.bench)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from broker.bench.payloads import default_fixtures
from broker.bench.profiling import PyinstrumentProfiling
from broker.bench.report import markdown, print_report, write_json
from broker.bench.runner import bench_broker, expected_steps, metrics_built, run_bench
from broker.bench.scenarios import BenchConfig
from broker.cli_support import console, errors_as_one_line, write_markdown

DEFAULT_OUT = Path("var/bench/results.json")


class ProgressSteps:
    """``Steps`` on a rich progress bar: each step advances it and names what runs now."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task
        self._first = True

    def step(self, description: str) -> None:
        if not self._first:
            self._progress.advance(self._task)
        self._first = False
        self._progress.update(self._task, description=description)


def bench(
    quick: Annotated[
        bool, typer.Option("--quick", help="A small smoke run (under a minute): tiny sizes.")
    ] = False,
    out: Annotated[Path, typer.Option(help="Where to write the results as JSON.")] = DEFAULT_OUT,
    markdown_file: Annotated[
        Path | None,
        typer.Option(
            "--markdown",
            help="Also write the table to this Markdown file (docs/benchmarks.md); only the "
            "part between <!-- bench:begin --> and <!-- bench:end --> is replaced when the file "
            "has them.",
        ),
    ] = None,
    fixtures: Annotated[
        Path | None,
        typer.Option(
            envvar="NOTICES_FIXTURES",
            help="Folder of the real sample files (wanted/, sanctions/); by default "
            "../shared/fixtures beside the repository.",
        ),
    ] = None,
    profile: Annotated[
        Path | None,
        typer.Option(
            help="Profile an extra, unmeasured run of P1 and of each P2 with pyinstrument "
            "(pip install 'notice-broker[profile]'); the profiles go to this folder."
        ),
    ] = None,
) -> None:
    """Benchmark ingest, distribution, latency and memory against raw Kafka clients.

    Uses the cluster of KAFKA_BOOTSTRAP_SERVERS (and NOTICES_* security settings) when set,
    else starts the local secured broker in a temporary folder. Prints the table, writes JSON.
    """
    config = BenchConfig.for_mode(quick=quick)
    command = "notices bench" + (" --quick" if quick else "")
    with errors_as_one_line(), contextlib.ExitStack() as stack:
        profiling = None if profile is None else PyinstrumentProfiling(profile)
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="notices-bench-")))
        with console.status("Finding or starting the Kafka broker..."):
            settings, kafka_version = stack.enter_context(bench_broker(workdir))
        total = expected_steps(
            config, with_metrics=metrics_built(), profiling=profiling is not None
        )
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("Preparing inputs", total=total)
            report = asyncio.run(
                run_bench(
                    settings,
                    config,
                    fixtures=fixtures or default_fixtures(),
                    kafka_version=kafka_version,
                    steps=ProgressSteps(progress, task),
                    workdir=workdir,
                    profiling=profiling,
                )
            )
            progress.update(task, completed=total, description="Done")
        out.parent.mkdir(parents=True, exist_ok=True)
        write_json(report, out)
        if markdown_file is not None:
            write_markdown(
                markdown_file,
                markdown(report, command=command),
                marker="bench",
                title="Benchmarks",
            )
    print_report(report, console)
    console.print(f"results: {out}" + (f", table: {markdown_file}" if markdown_file else ""))
    if profiling is not None:
        console.print(f"profiles: {', '.join(str(p) for p in profiling.written)}")
