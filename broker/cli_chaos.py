"""``notices chaos``: the hub's services under faults, against real brokers, judged by an oracle.

Registered in ``broker.cli`` as ``app.command()(cli_chaos.chaos)``.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from broker.cli_support import console, errors_as_one_line, write_markdown
from ops.chaos.campaign import CampaignConfig, CampaignReport, run_campaign
from ops.chaos.report import HEADERS, as_json, cells, denial_summary, findings, markdown
from ops.chaos.rows import ROWS

DEFAULT_OUT = Path("var/chaos/report.json")


def chaos(
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help="10,000 notices, rows 1, 3, 4, 10 and 12 and the denial matrix (the test "
            "suite's run).",
        ),
    ] = False,
    rows: Annotated[
        list[str] | None,
        typer.Option("--row", help=f"Only this fault row (repeatable): {', '.join(ROWS)}."),
    ] = None,
    notices: Annotated[
        int | None, typer.Option(min=1, help="Notices per row (10,000 quick, else 100,000).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the workload and of the faults.")] = 7,
    out: Annotated[Path, typer.Option(help="Where to write the report as JSON.")] = DEFAULT_OUT,
    markdown_file: Annotated[
        Path | None,
        typer.Option(
            "--markdown",
            help="Also write the table to this Markdown file (docs/chaos.md); only the part "
            "between <!-- chaos:begin --> and <!-- chaos:end --> is replaced.",
        ),
    ] = None,
    denials: Annotated[
        bool, typer.Option(help="Also run the denial matrix of every agency principal.")
    ] = True,
    keep: Annotated[
        Path | None,
        typer.Option(help="Keep the brokers' data and the services' logs in this folder."),
    ] = None,
) -> None:
    """Run the services as processes on a local broker and a 3-node cluster, inject faults,
    and check that nothing was lost, duplicated, leaked or read from an aborted transaction.

    Exits 1 when any row fails; every row's verdict and findings are in the report.
    """
    command = "notices chaos" + (" --quick" if quick else "")
    with errors_as_one_line(), tempfile.TemporaryDirectory(prefix="notices-chaos-") as scratch:
        workdir = keep or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        config = CampaignConfig.for_mode(quick=quick, workdir=workdir, seed=seed)
        config = CampaignConfig(
            rows=rows or config.rows,
            notices=notices or config.notices,
            seed=seed,
            workdir=workdir,
            denials=denials,
        )
        config.check()
        console.print(
            f"{len(config.rows)} fault rows, {config.notices:,} notices each; logs in {workdir}"
        )
        out.parent.mkdir(parents=True, exist_ok=True)

        def save(report: CampaignReport) -> None:
            out.write_text(json.dumps(as_json(report), indent=2) + "\n")

        with console.status("Starting brokers...") as status:
            report = asyncio.run(run_campaign(config, step=status.update, done=save))
        save(report)
        if markdown_file is not None:
            table = markdown(report, command=command)
            write_markdown(markdown_file, table, marker="chaos", title="Chaos runs")
    _print(report)
    console.print(f"report: {out}" + (f", table: {markdown_file}" if markdown_file else ""))
    if not report.ok:
        raise typer.Exit(1)


def _print(report: CampaignReport) -> None:
    table = Table(*HEADERS, title="Faults injected, and what the readers found", expand=True)
    for result in report.rows:
        table.add_row(*cells(result))
    console.print(table)
    if report.denials:
        console.print(denial_summary(report))
    for line in findings(report):
        console.print(f"[red]{line}[/red]")
