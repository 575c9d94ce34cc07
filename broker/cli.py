"""The ``notices`` command: run the local broker, the hub's services, and the demo.

User errors (a broker that is not running, a file that does not exist, a bad setting) end
with one clear line and exit code 1 or 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from aiokafka.errors import KafkaConnectionError, KafkaError
from pydantic import ValidationError
from rich.console import Console

from adapters.registry import default_registry
from broker.errors import NoticeBrokerError
from broker.ingest import IngestService
from broker.kafka_clients import new_producer
from broker.lifecycle import until_signalled
from broker.raw import publish_raw
from broker.schema_catalog import SchemaCatalog
from broker.serde import NoticeSerde
from broker.settings import Settings
from broker.topics import TopicNames, ensure_declared_topics
from consumers.sinks import JsonLinesSink
from consumers.subscriber import Subscriber
from ops import kafka_jars, local_kafka

app = typer.Typer(
    help="Cross-border notice broker: national formats in, canonical Avro notices on Kafka out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
kafka_app = typer.Typer(help="Run a local single-node Apache Kafka from Maven Central jars.")
topics_app = typer.Typer(help="Manage the hub's topics.")
app.add_typer(kafka_app, name="kafka")
app.add_typer(topics_app, name="topics")
console = Console()
err_console = Console(stderr=True)

DataDirOption = Annotated[
    Path | None,
    typer.Option(help="Broker data folder [default: <cache>/run/kafka]."),
]


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        err_console.print(f"[red]invalid settings in the environment:[/red]\n{exc}")
        raise typer.Exit(2) from None


@contextlib.contextmanager
def _errors_as_one_line() -> Iterator[None]:
    """The broker's, Kafka's and the OS's errors end the command with one line and exit 1."""
    try:
        yield
    except (NoticeBrokerError, KafkaError, OSError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


def _run(coro: Coroutine[Any, Any, None], settings: Settings) -> None:
    """Run a coroutine; an unreachable cluster is named, with what to do about it."""
    with _errors_as_one_line():
        try:
            asyncio.run(coro)
        except KafkaConnectionError:
            err_console.print(
                f"[red]error:[/red] cannot reach Kafka at {settings.bootstrap_servers}; start one "
                "with `notices kafka up` or set KAFKA_BOOTSTRAP_SERVERS"
            )
            raise typer.Exit(1) from None


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at INFO.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # aiokafka logs every transient coordinator hiccup of a broker that just started as an
    # error; the services retry those themselves, so show them only when asked.
    logging.getLogger("aiokafka").setLevel(logging.INFO if verbose else logging.CRITICAL)


@kafka_app.command("fetch")
def kafka_fetch() -> None:
    """Download the Apache Kafka jars with Maven into the cache (done by `up` if needed)."""
    with (
        _errors_as_one_line(),
        console.status(f"Fetching Apache Kafka {kafka_jars.KAFKA_VERSION} with Maven..."),
    ):
        libs = kafka_jars.fetch_kafka()
    console.print(f"Apache Kafka {kafka_jars.KAFKA_VERSION} jars in {libs}")


@kafka_app.command("up")
def kafka_up(
    port: Annotated[int, typer.Option(help="Client port on 127.0.0.1.")] = 9092,
    data_dir: DataDirOption = None,
) -> None:
    """Start a single-node KRaft broker in the background and wait until it answers."""
    folder = data_dir or local_kafka.default_data_dir()
    if running := local_kafka.load_running(folder):
        console.print(f"Kafka already running at {running.bootstrap_servers} (pid {running.pid})")
        return
    with (
        _errors_as_one_line(),
        console.status("Starting Apache Kafka (fetching jars on first use)..."),
    ):
        broker = local_kafka.start_kafka(folder, port=port)
    console.print(f"Kafka {broker.version} up at {broker.bootstrap_servers} (pid {broker.pid})")
    console.print(f"log: {broker.log_path}")


@kafka_app.command("down")
def kafka_down(data_dir: DataDirOption = None) -> None:
    """Stop the broker started by `up` (SIGTERM, then SIGKILL after 30 s)."""
    folder = data_dir or local_kafka.default_data_dir()
    broker = local_kafka.load_running(folder)
    if broker is None:
        console.print("No local Kafka is running.")
        return
    broker.stop()
    console.print(f"Kafka at {broker.bootstrap_servers} stopped.")


@kafka_app.command("status")
def kafka_status(data_dir: DataDirOption = None) -> None:
    """Say whether the local broker runs, and where."""
    broker = local_kafka.load_running(data_dir or local_kafka.default_data_dir())
    if broker is None:
        console.print("No local Kafka is running.")
        raise typer.Exit(1)
    console.print(f"Kafka {broker.version} at {broker.bootstrap_servers} (pid {broker.pid})")


@topics_app.command("create")
def topics_create() -> None:
    """Create every declared topic that does not exist yet (idempotent)."""
    settings = _settings()

    async def create() -> None:
        created = await ensure_declared_topics(settings)
        console.print(f"created: {', '.join(created)}" if created else "all topics already exist")

    _run(create(), settings)


@app.command()
def ingest() -> None:
    """Run the ingest service: raw.<agency> -> notices.<type>, failures to notices.dlq."""
    settings = _settings()
    service = IngestService(
        settings, registry=default_registry(), serde=NoticeSerde(SchemaCatalog.from_directory())
    )
    topics = TopicNames(settings.topic_prefix)
    console.print(
        f"Ingesting {topics.raw('*')} at {settings.bootstrap_servers} into "
        f"{', '.join(topics.all_notices)} (Ctrl-C stops)"
    )
    _run(until_signalled(service.run()), settings)


@app.command()
def subscribe(
    out: Annotated[Path, typer.Option(help="JSON-lines file the notices are appended to.")],
    group: Annotated[str, typer.Option(help="Consumer group id.")] = "notices-subscriber",
    topic: Annotated[
        list[str] | None, typer.Option(help="Topic to read (repeatable) [default: notices.*].")
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(help="JSON-lines file for records that do not decode [default: OUT.rejects]."),
    ] = None,
) -> None:
    """Run a subscriber that appends each notice to a JSON-lines file, then commits."""
    settings = _settings()
    with JsonLinesSink(out) as sink, JsonLinesSink(rejects or Path(f"{out}.rejects")) as rejected:
        subscriber = Subscriber(
            settings,
            topics=topic or TopicNames(settings.topic_prefix).all_notices,
            group_id=group,
            sink=sink,
            serde=NoticeSerde(SchemaCatalog.from_directory()),
            rejects=rejected.reject,
        )
        console.print(
            f"Subscribed to {', '.join(subscriber.topics)} as group {group}, writing to {out} "
            "(Ctrl-C stops)"
        )
        _run(until_signalled(subscriber.run()), settings)


@app.command()
def publish(
    files: Annotated[list[Path], typer.Argument(help="Payload files, sent byte for byte.")],
    agency: Annotated[str, typer.Option(help="Publishing agency: writes raw.<agency>.")],
    fmt: Annotated[str, typer.Option("--format", help="Format header, e.g. interpol-notice-json.")],
) -> None:
    """Publish native-format payloads as a liaison system would."""
    settings = _settings()
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        err_console.print(f"[red]error:[/red] no such file: {', '.join(missing)}")
        raise typer.Exit(2)

    async def send() -> None:
        producer = new_producer(settings, role="publish")
        await producer.start()
        try:
            for path in files:
                meta = await publish_raw(
                    producer,
                    TopicNames(settings.topic_prefix),
                    agency_id=agency,
                    fmt=fmt,
                    payload=path.read_bytes(),
                    key=uuid.uuid5(uuid.NAMESPACE_URL, str(path.resolve())).bytes,
                )
                console.print(f"{path} -> {meta.topic}[{meta.partition}]@{meta.offset}")
        finally:
            await producer.stop()

    _run(send(), settings)


@app.command()
def demo(
    examples: Annotated[
        Path, typer.Option(help="Folder of INTERPOL-format example payloads.")
    ] = Path("examples/interpol"),
) -> None:
    """Start Kafka, ingest and a subscriber, publish the examples, show what arrived, stop."""
    from broker.demo import run_demo

    if not examples.is_dir():
        err_console.print(f"[red]error:[/red] no example folder at {examples}")
        raise typer.Exit(2)
    settings = _settings()
    _run(run_demo(settings, examples, console), settings)


if __name__ == "__main__":
    app()
