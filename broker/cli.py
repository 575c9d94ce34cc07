"""The ``notices`` command: run the local broker, the hub's services, and the demo.

User errors (a broker that is not running, a file that does not exist, a bad setting) end
with one clear line and exit code 1 or 2, never a traceback.
"""

from __future__ import annotations

import logging
import shlex
import sys
import uuid
from pathlib import Path
from typing import Annotated

import typer

from adapters.registry import default_registry
from broker import cli_adapters, cli_bench, cli_chaos, cli_hub, cli_status
from broker.access import INGEST, SERVICE_USERS, HubNames, agency_group
from broker.cli_registry import registry_app, schemas_app
from broker.cli_support import (
    DEFAULT_POLICY,
    PolicyOption,
    console,
    err_console,
    errors_as_one_line,
    policy_from,
    run,
    settings_for,
    settings_from_env,
)
from broker.errors import PolicyError
from broker.ingest import IngestService
from broker.kafka_clients import new_producer
from broker.lifecycle import until_signalled
from broker.metrics_server import serve_ingest, serve_subscriber
from broker.raw import publish_raw
from broker.serde import NoticeSerde
from broker.topics import TopicNames, ensure_declared_topics
from consumers.guard import DeliveryGuard
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
app.add_typer(cli_hub.audit_app, name="audit")
app.add_typer(cli_adapters.lists_app, name="lists")
app.add_typer(cli_adapters.dlq_app, name="dlq")
app.add_typer(registry_app, name="registry")
app.add_typer(schemas_app, name="schemas")
app.command()(cli_hub.distribute)
app.command()(cli_hub.explain)
app.command()(cli_adapters.translate)
app.command()(cli_adapters.formats)
app.command()(cli_status.status)
app.command()(cli_bench.bench)
app.command()(cli_chaos.chaos)
DataDirOption = Annotated[
    Path | None,
    typer.Option(help="Broker data folder [default: <cache>/run/kafka]."),
]


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
        errors_as_one_line(),
        console.status(f"Fetching Apache Kafka {kafka_jars.KAFKA_VERSION} with Maven..."),
    ):
        libs = kafka_jars.fetch_kafka()
    console.print(f"Apache Kafka {kafka_jars.KAFKA_VERSION} jars in {libs}")


@kafka_app.command("up")
def kafka_up(
    port: Annotated[int, typer.Option(help="Client port on 127.0.0.1.")] = 9092,
    data_dir: DataDirOption = None,
    agency: Annotated[
        list[str] | None,
        typer.Option(
            help="Agency to give a SCRAM user and its ACLs (repeatable) "
            "[default: the agencies of NOTICES_AGENCIES]."
        ),
    ] = None,
) -> None:
    """Start a single-node KRaft broker (SASL/SCRAM, ACLs) in the background; wait for it."""
    folder = data_dir or local_kafka.default_data_dir()
    if running := local_kafka.load_running(folder):
        console.print(f"Kafka already running at {running.bootstrap_servers} (pid {running.pid})")
        return
    settings = settings_from_env()
    with (
        errors_as_one_line(),
        console.status("Starting Apache Kafka (fetching jars on first use)..."),
    ):
        broker = local_kafka.start_kafka(
            folder, port=port, agencies=agency or list(settings.agencies)
        )
        local_kafka.grant(broker, HubNames.of(settings))
    console.print(f"Kafka {broker.version} up at {broker.bootstrap_servers} (pid {broker.pid})")
    _print_access(broker)
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
    """Say whether the local broker runs, where, and who may log in."""
    broker = _running_broker(data_dir)
    console.print(f"Kafka {broker.version} at {broker.bootstrap_servers} (pid {broker.pid})")
    _print_access(broker)


@kafka_app.command("add-agency")
def kafka_add_agency(
    agency_id: Annotated[str, typer.Argument(help="Agency id, e.g. fr-police.")],
    data_dir: DataDirOption = None,
) -> None:
    """Give an agency a SCRAM user and its ACLs on the running local broker."""
    broker = _running_broker(data_dir)
    settings = settings_from_env()
    topics = TopicNames(settings.topic_prefix)
    with errors_as_one_line():
        local_kafka.add_agencies(broker, [agency_id])
        local_kafka.grant(broker, HubNames.of(settings))
    console.print(
        f"User:{agency_id} may write {topics.raw(agency_id)} and read {topics.deliver(agency_id)} "
        f"in group {agency_group(topics, agency_id)}; its login: "
        f'eval "$(notices kafka env --user {agency_id})"'
    )


@kafka_app.command("env")
def kafka_env(
    user: Annotated[
        str,
        typer.Option(help="Log in as this user: the hub, a service (notices-ingest...), an agency"),
    ] = local_kafka.HUB_USER,
    data_dir: DataDirOption = None,
) -> None:
    """Print the shell exports that point the other commands at the local broker.

    Use as: eval "$(notices kafka env)". The password is printed: mind where the output goes.
    """
    broker = _running_broker(data_dir)
    with errors_as_one_line():
        login = broker.client_settings(user=user)
    fields = ("bootstrap_servers", "security_protocol", "sasl_mechanism", "sasl_username")
    for name, value in login.to_env(*fields, "sasl_password", "ssl_cafile").items():
        typer.echo(f"export {name}={shlex.quote(value)}")
    if login.ssl_cafile is None:  # an agency's CA from an earlier eval would contradict it
        typer.echo("unset NOTICES_SSL_CAFILE")


def _running_broker(data_dir: Path | None) -> local_kafka.LocalKafka:
    broker = local_kafka.load_running(data_dir or local_kafka.default_data_dir())
    if broker is None:
        err_console.print("No local Kafka is running; start one with `notices kafka up`.")
        raise typer.Exit(1)
    return broker


def _print_access(broker: local_kafka.LocalKafka) -> None:
    with errors_as_one_line():
        agencies = broker.credentials().agencies
    console.print(
        f"hub and services: SASL_PLAINTEXT on {broker.bootstrap_servers}; agencies: SASL_SSL on "
        f"{broker.agency_bootstrap_servers}, the broker's certificate signed by the CA in "
        f"{broker.tls.ca_cert}; SCRAM-SHA-512 on both"
    )
    console.print(
        f"User:{local_kafka.HUB_USER} is a super user; "
        f"services: {', '.join(SERVICE_USERS)}; agencies: {', '.join(agencies) or 'none'}"
    )
    console.print(
        f"passwords in {broker.credentials_path}; the other commands log in as their own "
        "principal; for another login (the hub's, for instance) in the environment:"
    )
    console.print('  eval "$(notices kafka env --user hub)"', markup=False)


@topics_app.command("create")
def topics_create() -> None:
    """Create every declared topic that does not exist yet (idempotent)."""
    settings = settings_for(local_kafka.HUB_USER)

    async def create() -> None:
        created = await ensure_declared_topics(settings)
        console.print(f"created: {', '.join(created)}" if created else "all topics already exist")

    run(create(), settings)


@app.command()
def ingest() -> None:
    """Run the ingest service: raw.<agency> -> notices.<type>, failures to notices.dlq."""
    settings = settings_for(INGEST)
    service = IngestService(
        settings, registry=default_registry(), serde=NoticeSerde.from_settings(settings)
    )
    topics = TopicNames(settings.topic_prefix)
    console.print(
        f"Ingesting {topics.raw('*')} at {settings.bootstrap_servers} into "
        f"{', '.join(topics.all_notices)} (Ctrl-C stops)"
    )
    run(until_signalled(serve_ingest(service)), settings)


@app.command()
def subscribe(
    out: Annotated[Path, typer.Option(help="JSON-lines file the notices are appended to.")],
    agency: Annotated[
        str | None,
        typer.Option(
            help="Read this agency's deliver topic in its group, re-checking every notice "
            "against its profile in --policy (refused ones are logged and counted)."
        ),
    ] = None,
    policy: PolicyOption = DEFAULT_POLICY,
    group: Annotated[
        str | None,
        typer.Option(help="Consumer group id [default: deliver.<agency>, or notices-subscriber]."),
    ] = None,
    topic: Annotated[
        list[str] | None,
        typer.Option(help="Topic to read (repeatable) [default: deliver.<agency>, or notices.*]."),
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(help="JSON-lines file for records that do not decode [default: OUT.rejects]."),
    ] = None,
) -> None:
    """Run a subscriber that appends each notice to a JSON-lines file, then commits."""
    settings = settings_for(agency or local_kafka.HUB_USER)
    topics = TopicNames(settings.topic_prefix)
    guard = None if agency is None else _guard(policy, agency)
    default_topics = topics.all_notices if agency is None else [topics.deliver(agency)]
    group_id = group or ("notices-subscriber" if agency is None else agency_group(topics, agency))
    with JsonLinesSink(out) as sink, JsonLinesSink(rejects or Path(f"{out}.rejects")) as rejected:
        subscriber = Subscriber(
            settings,
            topics=topic or default_topics,
            group_id=group_id,
            sink=sink,
            serde=NoticeSerde.from_settings(settings),
            rejects=rejected.reject,
            guard=guard,
        )
        console.print(
            f"Subscribed to {', '.join(subscriber.topics)} as group {group_id}, writing to {out} "
            "(Ctrl-C stops)"
        )
        run(until_signalled(serve_subscriber(subscriber, agency=agency or "hub")), settings)


def _guard(policy: Path, agency: str) -> DeliveryGuard:
    with errors_as_one_line(code=2):
        loaded = policy_from(policy)
        if loaded.profile(agency) is None:
            raise PolicyError(file=str(policy), problems=((agency, "no such recipient"),))
    return DeliveryGuard(loaded, agency)


@app.command()
def publish(
    files: Annotated[list[Path], typer.Argument(help="Payload files, sent byte for byte.")],
    agency: Annotated[str, typer.Option(help="Publishing agency: writes raw.<agency>.")],
    fmt: Annotated[str, typer.Option("--format", help="Format header, e.g. interpol-notice-json.")],
) -> None:
    """Publish native-format payloads as a liaison system would."""
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        err_console.print(f"[red]error:[/red] no such file: {', '.join(missing)}")
        raise typer.Exit(2)
    settings = settings_for(agency)

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

    run(send(), settings)


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
    settings = settings_from_env()
    run(run_demo(settings, examples, console), settings)


if __name__ == "__main__":
    app()
