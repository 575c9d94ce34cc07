"""``notices translate``, ``formats``, ``lists load`` and ``dlq replay``: formats in and out."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from adapters.base import TranslationContext
from adapters.registry import default_registry
from broker.access import DLQ_REPLAY, LISTS
from broker.cli_support import console, err_console, errors_as_one_line, run, settings_for
from broker.dlq_replay import replay_dlq
from broker.errors import TranslationError
from broker.list_loader import ListLoader
from broker.models import Originator
from broker.serde import NoticeSerde

lists_app = typer.Typer(help="Load list snapshots (sanctions lists) as ALERT/UPDATE/CANCEL.")
dlq_app = typer.Typer(help="Inspect and re-drive the dead-letter topic.")

FormatOption = Annotated[
    str | None,
    typer.Option("--format", help="Format id (see `notices formats`) [default: detected]."),
]


def formats() -> None:
    """List the format ids the installed adapters translate."""
    table = Table("format", "adapter", "version")
    registry = default_registry()
    for fmt in registry.formats:
        adapter = registry.for_format(fmt)
        table.add_row(fmt, adapter.name, adapter.version)
    console.print(table)


def translate(
    file: Annotated[Path, typer.Argument(help="A payload or list file in a source format.")],
    fmt: FormatOption = None,
    agency: Annotated[str, typer.Option(help="Originating agency to stamp.")] = "local",
) -> None:
    """Translate a file offline (no Kafka): one canonical notice per line on stdout.

    A failure goes to stderr with its location and reason; the exit code is non-zero only if
    nothing could be read.
    """
    if not file.is_file():
        err_console.print(f"[red]error:[/red] no such file: {file}")
        raise typer.Exit(2)
    fmt = fmt or _detect(file)
    registry = default_registry()
    with errors_as_one_line(code=2):
        adapter = registry.for_format(fmt)
    ctx = TranslationContext(fmt, Originator(agency_id=agency), dt.datetime.now(dt.UTC), path=file)
    count = 0
    try:
        for notice in adapter.translate(ctx):
            sys.stdout.write(notice.model_dump_json() + "\n")
            count += 1
    except TranslationError as exc:
        typer.echo(f"{file}: at {exc.where}: {exc.reason}", err=True)
    except ValueError as exc:  # a canonical model refusing what the adapter built
        typer.echo(f"{file}: canonical notice: {exc}", err=True)
    for where, times in sorted(ctx.unmapped.items()):
        typer.echo(f"{file}: unmapped {where} ({times}x)", err=True)
    typer.echo(f"{count} notices from {file} ({fmt})", err=True)
    if count == 0:
        raise typer.Exit(1)


def _detect(file: Path) -> str:
    with file.open("rb") as stream:
        head = stream.read(65536)
    fmt = default_registry().detect(head)
    if fmt is None:
        err_console.print(
            f"[red]error:[/red] cannot tell the format of {file}; name it with --format "
            "(see `notices formats`)"
        )
        raise typer.Exit(2)
    return fmt


@lists_app.command("load")
def lists_load(
    file: Annotated[Path, typer.Argument(help="The list snapshot file (any size).")],
    agency: Annotated[str, typer.Option(help="The list's publisher, e.g. un, ofac.")],
    fmt: FormatOption = None,
) -> None:
    """Publish what a snapshot changed: ALERT new entries, UPDATE changed, CANCEL delisted."""
    if not file.is_file():
        err_console.print(f"[red]error:[/red] no such file: {file}")
        raise typer.Exit(2)
    settings = settings_for(LISTS)
    fmt = fmt or _detect(file)
    with errors_as_one_line(code=2):
        loader = ListLoader(
            settings,
            registry=default_registry(),
            serde=NoticeSerde.from_settings(settings),
            agency=agency,
            fmt=fmt,
        )

    async def load() -> None:
        with Progress(
            TextColumn("{task.description}"),
            TextColumn("{task.completed} entries"),
            TimeElapsedColumn(),
            console=err_console,
        ) as progress:
            task = progress.add_task(f"Reading {file.name}", total=None)
            report = await loader.load(file, lambda n: progress.update(task, completed=n))
        console.print(
            f"{report.list_id}: {report.alerts} ALERT, {report.updates} UPDATE, "
            f"{report.cancels} CANCEL; {report.unchanged} unchanged, "
            f"{report.duplicates} duplicate entries ignored"
        )

    run(load(), settings)


@dlq_app.command("replay")
def dlq_replay(
    reason: Annotated[
        str | None, typer.Option(help="Only dead letters whose reason contains this text.")
    ] = None,
) -> None:
    """Send dead letters back to the topics they came from, after a fix (resumable)."""
    settings = settings_for(DLQ_REPLAY)

    async def replay() -> None:
        with Progress(
            TextColumn("Replaying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
        ) as progress:
            task = progress.add_task("replay", total=None)
            report = await replay_dlq(
                settings,
                reason_contains=reason,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        for topic, count in sorted(report.replayed.items()):
            console.print(f"{count} replayed to {topic}")
        for why, count in sorted(report.skipped.items()):
            console.print(f"{count} skipped: {why}")
        if not report.replayed and not report.skipped:
            console.print("nothing to replay")

    run(replay(), settings)
