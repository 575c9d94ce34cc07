"""``notices distribute``, ``notices explain`` and ``notices audit verify``: sharing enforcement."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from adapters.base import TranslationContext
from adapters.registry import default_registry
from broker.access import DISTRIBUTOR
from broker.audit_trail import verify_topic
from broker.cli_support import (
    DEFAULT_POLICY,
    PolicyOption,
    console,
    err_console,
    errors_as_one_line,
    policy_from,
    run,
    settings_for,
)
from broker.distributor import DistributorService
from broker.embargo import EmbargoReleaser
from broker.lifecycle import until_signalled
from broker.metrics_server import serve_distributor
from broker.models import NoticeEnvelope, Originator
from broker.policy.decision import Outcome
from broker.policy.explain import explain as explain_notice
from broker.serde import NoticeSerde
from broker.topics import TopicNames
from broker.translation import DeadLetter, translate_record
from ops.local_kafka import HUB_USER

audit_app = typer.Typer(help="Check the hash-chained audit trail of distribution decisions.")


def distribute(
    policy: PolicyOption = DEFAULT_POLICY,
    group: Annotated[str, typer.Option(help="Consumer group id.")] = DISTRIBUTOR,
) -> None:
    """Run the distributor: notices.* -> deliver.<agency> per the policy, audited."""
    settings = settings_for(DISTRIBUTOR)
    loaded = policy_from(policy)
    serde = NoticeSerde.from_settings(settings)
    service = DistributorService(settings, policy=loaded, serde=serde, group_id=group)
    releaser = EmbargoReleaser(settings, group_id=group)
    topics = TopicNames(settings.topic_prefix)
    console.print(
        f"Distributing {', '.join(topics.all_notices)} to {len(loaded.recipients)} recipients "
        f"({', '.join(service.recipients)}) per {policy} (Ctrl-C stops)"
    )

    run(until_signalled(serve_distributor(service, releaser)), settings)


def explain(
    notice_file: Annotated[
        Path, typer.Argument(help="A canonical notice (JSON) or a source-format file.")
    ],
    recipient: Annotated[
        list[str] | None, typer.Option(help="Only this agency (repeatable).")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", help="Source format of the file [default: canonical JSON or detected]."
        ),
    ] = None,
    at: Annotated[
        dt.datetime | None, typer.Option(help="Decide as of this time [default: now].")
    ] = None,
    policy: PolicyOption = DEFAULT_POLICY,
) -> None:
    """Who would receive a notice, who would not, and the rules behind each answer (no Kafka)."""
    loaded = policy_from(policy)
    now = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    unknown = sorted(set(recipient or ()) - {p.agency_id for p in loaded.recipients})
    if unknown:
        err_console.print(f"[red]error:[/red] not in {policy}: {', '.join(unknown)}")
        raise typer.Exit(2)
    for notice in _notices_in(notice_file, fmt):
        table = Table(title=f"{notice.notice_id} v{notice.version} {notice.msg_type.value}")
        for column in ("recipient", "outcome", "rules", "redacted"):
            table.add_column(column)
        for profile, decision in explain_notice(notice, loaded, now):
            if recipient and profile.agency_id not in recipient:
                continue
            colour = "green" if decision.outcome is not Outcome.WITHHOLD else "red"
            table.add_row(
                profile.agency_id,
                f"[{colour}]{decision.outcome.value}[/{colour}]",
                ", ".join(decision.rules),
                ", ".join(decision.redacted_fields),
            )
        console.print(table)


def _notices_in(path: Path, fmt: str | None) -> list[NoticeEnvelope]:
    with errors_as_one_line(code=2):
        data = path.read_bytes()
    if fmt is None:
        try:
            return [NoticeEnvelope.model_validate_json(data)]
        except ValidationError:
            fmt = default_registry().detect(data[:65536])
            if fmt is None:
                err_console.print(
                    f"[red]error:[/red] {path} is neither a canonical notice nor a format "
                    "recognised on its own; name it with --format (see `notices formats`)"
                )
                raise typer.Exit(2) from None
    ctx = TranslationContext(
        fmt, Originator(agency_id="explain"), dt.datetime.now(dt.UTC), path=path
    )
    outcome = translate_record(default_registry(), ctx)
    if isinstance(outcome, DeadLetter):
        err_console.print(f"[red]error:[/red] {path}: at {outcome.where}: {outcome.reason}")
        raise typer.Exit(1)
    return outcome


@audit_app.command("verify")
def audit_verify(
    topic: Annotated[
        str | None, typer.Option(help="Audit topic [default: the hub's notices.audit].")
    ] = None,
) -> None:
    """Read the whole audit trail and check every hash chain; exit 1 on any fault."""
    settings = settings_for(HUB_USER)

    async def check() -> None:
        with console.status("Reading the audit trail..."):
            report = await verify_topic(settings, topic)
        for fault in report.faults:
            err_console.print(f"[red]FAULT[/red] {fault}")
        verdict = (
            "[green]intact[/green]" if report.ok else f"[red]{len(report.faults)} faults[/red]"
        )
        console.print(f"{report.records} records in {report.chains} chains: {verdict}")
        if not report.ok:
            sys.exit(1)

    run(check(), settings)
