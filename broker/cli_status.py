"""``notices status``: the hub's topics, consumer groups and dead letters, from the live cluster."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from broker.cli_support import console, run, settings_for
from broker.cluster_status import ClusterStatus, cluster_status
from ops.local_kafka import HUB_USER


def status(
    sample: Annotated[
        float, typer.Option(min=0.1, help="Seconds over which throughput is measured.")
    ] = 2.0,
) -> None:
    """Show per-topic throughput, each consumer group's lag and the DLQ depth."""
    settings = settings_for(HUB_USER)

    async def show() -> None:
        with console.status(f"Reading offsets for {sample:g} s..."):
            found = await cluster_status(settings, sample_seconds=sample)
        print_status(found)

    run(show(), settings)


def print_status(found: ClusterStatus) -> None:
    topics = Table(title="Topics")
    topics.add_column("topic")
    topics.add_column("partitions", justify="right")
    topics.add_column("end offset", justify="right")
    topics.add_column("per second", justify="right")
    for topic in found.topics:
        topics.add_row(
            topic.topic, str(topic.partitions), str(topic.end_offset), f"{topic.per_second:.1f}"
        )
    console.print(topics)

    lags = Table(title="Consumer lag")
    lags.add_column("group")
    lags.add_column("topic")
    lags.add_column("lag", justify="right")
    for lag in found.lags:
        lags.add_row(lag.group, lag.topic, str(lag.lag))
    console.print(lags if found.lags else "No consumer group has committed on the hub's topics.")

    if found.dlq_depth is None:
        console.print(f"{found.dlq_topic} does not exist yet.")
    else:
        console.print(f"{found.dlq_topic}: {found.dlq_depth} dead letters not yet replayed")
