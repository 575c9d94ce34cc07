"""docker-compose.yml, checked without a Docker engine (these machines have none).

Structurally: the services, images, ports, volumes and each service's environment, against the
code and files they name (the settings the services read, who each logs in as, the users and
ACLs script against broker/access.py, the scrape targets, Grafana's provisioning). And the parts
most likely to be wrong unseen, the Kafka broker's start script and the access script: they are
run here with the Apache Kafka jars of the same version as the image, with their ports and paths
moved; then each service must log in with the password compose gives it, and do what it does at
start under its own principal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiokafka.errors import KafkaConnectionError
from cryptography import x509

from broker.access import DISTRIBUTOR, INGEST, AclBinding, HubNames, Operation, Pattern, Resource
from broker.kafka_clients import new_admin
from broker.policy.profiles import load_policy
from broker.settings import Settings
from broker.topic_reader import partitions_of
from broker.topics import TopicNames, ensure_declared_topics
from ops.acls import listed_acls
from ops.compose_access import (
    SCRIPT,
    compose_acls,
    compose_agencies,
    compose_users,
    password_variable,
    render,
)
from ops.kafka_jars import KAFKA_VERSION, fetch_kafka
from ops.local_kafka import HUB_USER, LOG4J_CONFIG
from ops.processes import free_ports
from ops.registry import APICURIO_VERSION
from ops.tls import CA_FILE, KEYSTORE_FILE, subject_alt_names
from tests.conftest import REPO_ROOT

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
HUB_SERVICES = ("ingest", "distributor", "subscriber")
LOGINS = {"ingest": INGEST, "distributor": DISTRIBUTOR, "subscriber": "de-bka"}
"""Who each service logs in as: the hub services as their own principals, the subscriber as
the agency whose deliveries it reads."""
_DEFAULTED = re.compile(r"\$\{(\w+):-([^}]*)\}")


def interpolated(value: str) -> str:
    """What compose makes of ``${VAR:-default}`` with VAR unset, and of ``$$``."""
    return _DEFAULTED.sub(lambda match: match.group(2), value).replace("$$", "$")


def environment(service: str) -> dict[str, str]:
    env = SERVICES[service].get("environment", {})
    return {name: interpolated(str(value)) for name, value in env.items()}


def host_ports(service: str) -> dict[int, int]:
    """Container port -> host port."""
    pairs = (str(spec).split(":") for spec in SERVICES[service].get("ports", []))
    return {int(container): int(host) for host, container in pairs}


def mounts(service: str) -> dict[str, Path]:
    """Container path -> the repository path bind-mounted there (named volumes: ``volumes``)."""
    found = {}
    for spec in SERVICES[service].get("volumes", []):
        source, target, *_ = spec.split(":")
        if source.startswith("./"):
            found[target] = REPO_ROOT / source
    return found


def volumes(service: str) -> dict[str, tuple[str, bool]]:
    """Container path -> the named volume mounted there, and whether read-only."""
    found = {}
    for spec in SERVICES[service].get("volumes", []):
        source, target, *options = spec.split(":")
        if source in COMPOSE.get("volumes", {}):
            found[target] = (source, options == ["ro"])
    return found


def server_properties() -> dict[str, str]:
    """The server.properties the kafka service's start script writes, as compose runs it."""
    [script] = SERVICES["kafka"]["command"]
    body = script.split("cat > /tmp/server.properties <<EOF\n", 1)[1].split("\nEOF", 1)[0]
    lines = (line.strip() for line in body.splitlines())
    return dict(line.split("=", 1) for line in lines if line)


def tls_command() -> list[str]:
    """The ``python -m ops.tls`` arguments of the tls service."""
    [arguments] = re.findall(r"python -m ops\.tls ([^&]+?) &&", SERVICES["tls"]["command"])
    return shlex.split(arguments)


def settings_of(service: str) -> Settings:
    """What ``Settings()`` reads in the service's container."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith(("NOTICES_", "KAFKA_"))]:
            patch.delenv(name)
        for name, value in environment(service).items():
            patch.setenv(name, value)
        return Settings()


def test_the_stack_is_kafka_the_hub_services_prometheus_and_grafana() -> None:
    services = {"tls", "kafka", "access", "schema-registry", *HUB_SERVICES, "prometheus"}
    services |= {"grafana"}
    assert set(SERVICES) == services
    registry = SERVICES["schema-registry"]["image"]
    assert registry == f"apicurio/apicurio-registry-mem:{APICURIO_VERSION}", "as ops/registry"
    assert host_ports("schema-registry") == {8080: 8081}
    assert SERVICES["kafka"]["image"] == f"apache/kafka:{KAFKA_VERSION}", "as the local broker"
    assert SERVICES["prometheus"]["image"].startswith("prom/prometheus:v")
    assert SERVICES["grafana"]["image"].startswith("grafana/grafana:")
    for service in HUB_SERVICES:
        assert SERVICES[service]["image"].startswith("python:3.11")
        assert mounts(service)["/app"] == REPO_ROOT / "."
    for name, spec in SERVICES.items():
        for dependency in spec.get("depends_on", {}):
            assert dependency in SERVICES, f"{name} depends on a service that is not there"
    published = [port for service in SERVICES for port in host_ports(service).values()]
    assert len(published) == len(set(published)), "two services publish the same host port"
    assert host_ports("kafka") == {29092: 29092}
    assert host_ports("prometheus") == {9090: 9090}
    assert host_ports("grafana") == {3000: 3000}


@pytest.mark.parametrize("service", HUB_SERVICES)
def test_each_hub_service_gets_the_settings_it_needs_to_log_in_and_be_scraped(
    service: str,
) -> None:
    env = environment(service)
    unknown = {
        name
        for name in env
        if name.startswith("NOTICES_")
        and name.removeprefix("NOTICES_").lower() not in Settings.model_fields
    }
    assert not unknown, f"variables no setting reads: {unknown}"
    settings = settings_of(service)
    if service == "subscriber":  # an agency: over TLS, trusting the compose CA
        assert settings.bootstrap_servers == "kafka:9094"
        assert settings.security_protocol == "SASL_SSL"
        assert settings.ssl_cafile == Path("/tls") / CA_FILE
        assert volumes("subscriber")["/tls"] == ("kafka-tls", True)
    else:
        assert settings.bootstrap_servers == "kafka:9092"
        assert settings.security_protocol == "SASL_PLAINTEXT"
    assert settings.sasl_mechanism == "SCRAM-SHA-512"
    user = LOGINS[service]
    assert settings.sasl_login == (user, environment("access")[password_variable(user)])
    assert settings.metrics_host == "0.0.0.0"
    assert settings.schema_registry_url == "http://schema-registry:8080/apis/ccompat/v7"
    assert settings.metrics_port in host_ports(service), "the metrics port is published"
    assert f"localhost:{settings.metrics_port}/ready" in " ".join(
        SERVICES[service]["healthcheck"]["test"]
    )
    assert SERVICES[service]["depends_on"]["access"]["condition"] == (
        "service_completed_successfully"
    ), "users and ACLs exist before the service logs in"
    assert "kafka" not in SERVICES[service]["depends_on"]


def test_the_access_service_runs_the_generated_script_once_kafka_answers() -> None:
    access = SERVICES["access"]
    assert access["image"] == SERVICES["kafka"]["image"], "the same Kafka tools"
    assert mounts("access")["/ops/compose-access.sh"] == SCRIPT
    assert access["command"] == ["/ops/compose-access.sh"]
    assert access["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    env = environment("access")
    assert env["KAFKA_BOOTSTRAP"] == environment("ingest")["KAFKA_BOOTSTRAP_SERVERS"]
    assert env["HUB_PASSWORD"] == environment("kafka")["HUB_PASSWORD"]
    assert {password_variable(user) for user in compose_users()} <= set(env)


def test_agencies_connect_over_tls_with_the_ca_the_tls_service_makes() -> None:
    """SASL_SSL on every listener outside the compose network's hub traffic, the broker's key
    and the CA from the volume the one-shot tls service fills (for the name agencies inside
    compose use), and Kafka started only once that service succeeded."""
    tls = SERVICES["tls"]
    assert mounts("tls")["/app"] == REPO_ROOT / "."
    [folder, *hosts] = tls_command()
    assert hosts == ["--host", "kafka"]
    assert volumes("tls")[folder] == ("kafka-tls", False)
    assert "chown -R 1000:1000 /tls" in tls["command"], "readable by the kafka image's user"
    kafka = SERVICES["kafka"]
    assert kafka["depends_on"] == {"tls": {"condition": "service_completed_successfully"}}
    [(mount_point, (volume, read_only))] = volumes("kafka").items() - {
        ("/var/lib/kafka/data", ("kafka-data", False))
    }
    assert (volume, read_only) == ("kafka-tls", True)
    props = server_properties()
    protocols = dict(pair.split(":") for pair in props["listener.security.protocol.map"].split(","))
    assert protocols == {
        "CLIENT": "SASL_PLAINTEXT",
        "AGENCY": "SASL_SSL",
        "HOST": "SASL_SSL",
        "CONTROLLER": "PLAINTEXT",
    }
    advertised = dict(pair.split("://") for pair in props["advertised.listeners"].split(","))
    assert advertised == {"CLIENT": "kafka:9092", "AGENCY": "kafka:9094", "HOST": "localhost:29092"}
    assert host_ports("kafka") == {29092: 29092}, "only the TLS listener is published"
    assert props["ssl.keystore.type"] == props["ssl.truststore.type"] == "PEM"
    assert props["ssl.keystore.location"] == f"{mount_point}/{KEYSTORE_FILE}"
    assert props["ssl.truststore.location"] == f"{mount_point}/{CA_FILE}"


def test_the_access_script_is_what_broker_access_derives() -> None:
    assert SCRIPT.read_text() == render(), (
        "ops/compose-access.sh is stale: run `.venv/bin/python -m ops.compose_access > "
        "ops/compose-access.sh`"
    )


def _granted_by(script: str) -> set[AclBinding]:
    """The bindings the script's kafka-acls.sh calls add: every operation given on every
    resource given, for the principal (kafka-acls.sh's own semantics)."""
    flags = {"--topic": Resource.TOPIC, "--group": Resource.GROUP}
    flags["--transactional-id"] = Resource.TRANSACTIONAL_ID
    granted = set()
    for line in script.splitlines():
        if not line.startswith("allow "):
            continue
        _, principal, *args = shlex.split(line)
        pairs = list(zip(args[::2], args[1::2], strict=True))
        [pattern] = [
            Pattern(value.upper()) for flag, value in pairs if flag == "--resource-pattern-type"
        ]
        operations = [Operation(value.upper()) for flag, value in pairs if flag == "--operation"]
        resources = [(flags[flag], value) for flag, value in pairs if flag in flags]
        assert len(pairs) == 1 + len(operations) + len(resources), line
        granted |= {
            AclBinding(principal, resource, name, operation, pattern)
            for resource, name in resources
            for operation in operations
        }
    return granted


def test_the_access_script_grants_exactly_the_derived_bindings() -> None:
    assert _granted_by(SCRIPT.read_text()) == set(compose_acls())


def test_the_compose_hub_is_the_one_the_bindings_name() -> None:
    """Default topic names and groups: no prefix, no other group in the services' settings or
    the distributor's command; and the agency compose publishes for is an example agency."""
    for service in ("ingest", "distributor"):
        assert HubNames.of(settings_of(service)) == HubNames()
    assert "--group" not in SERVICES["distributor"]["command"]
    assert set(settings_of("ingest").agencies) <= set(compose_agencies())


def test_the_services_run_the_hub_commands_with_the_example_policy() -> None:
    assert "notices ingest" in SERVICES["ingest"]["command"]
    command = SERVICES["distributor"]["command"]
    assert "notices distribute --policy examples/policy/policy.yml" in command
    policy = load_policy(REPO_ROOT / "examples" / "policy" / "policy.yml")
    subscriber = SERVICES["subscriber"]["command"]
    [agency] = re.findall(r"--agency (\S+)", subscriber)
    assert agency in {profile.agency_id for profile in policy.recipients}
    assert "--policy examples/policy/policy.yml" in subscriber


def test_prometheus_scrapes_every_hub_service_where_compose_runs_it() -> None:
    config_dir = mounts("prometheus")["/etc/prometheus"]
    config = yaml.safe_load((config_dir / "prometheus.yml").read_text())
    assert "--config.file=/etc/prometheus/prometheus.yml" in SERVICES["prometheus"]["command"]
    for rule_file in config["rule_files"]:
        assert (config_dir / rule_file).is_file()
    targets = {
        job["job_name"]: target
        for job in config["scrape_configs"]
        for static in job["static_configs"]
        for target in static["targets"]
    }
    for service in HUB_SERVICES:
        port = environment(service)["NOTICES_METRICS_PORT"]
        assert targets[f"notices-{service}"] == f"{service}:{port}"


def test_grafana_is_provisioned_with_the_prometheus_datasource_and_the_dashboard() -> None:
    volumes = mounts("grafana")
    provisioning = volumes["/etc/grafana/provisioning"]
    [datasource] = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    assert datasource["url"] == f"http://prometheus:{next(iter(host_ports('prometheus')))}"
    [provider] = yaml.safe_load((provisioning / "dashboards" / "notice-broker.yml").read_text())[
        "providers"
    ]
    dashboards = volumes[provider["options"]["path"]]
    [dashboard_file] = dashboards.glob("*.json")
    home = environment("grafana")["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{provider['options']['path']}/{dashboard_file.name}"

    dashboard = json.loads(dashboard_file.read_text())
    variables = {variable["name"] for variable in dashboard["templating"]["list"]}
    assert variables == {"agency", "notice_type"}
    uids = {
        target["datasource"]["uid"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    }
    assert uids == {datasource["uid"]}
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        pytest.fail("java is not on PATH: the local Kafka needs a Java 17+ runtime", pytrace=False)
    return java


TOOLS = {
    "kafka-storage.sh": "kafka.tools.StorageTool",
    "kafka-server-start.sh": "kafka.Kafka",
    "kafka-configs.sh": "kafka.admin.ConfigCommand",
    "kafka-acls.sh": "org.apache.kafka.tools.AclCommand",
}
"""The image's scripts the compose services run, and the main class each starts."""


@dataclass(frozen=True)
class ComposeKafka:
    """The kafka service run here: its listeners' addresses, the client.properties its health
    check uses, the CA the tls service made, and its process."""

    bootstrap: str
    agency: str
    host: str
    client_properties: Path
    ca_file: Path
    process: subprocess.Popen[bytes]


def _make_tls(folder: Path) -> Path:
    """The tls service's ``python -m ops.tls`` (without its pip install and chown), into
    ``folder``: the volume's contents."""
    _, *hosts = tls_command()
    made = subprocess.run(
        [sys.executable, "-m", "ops.tls", str(folder), *hosts],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    [certificate] = x509.load_pem_x509_certificates((folder / KEYSTORE_FILE).read_bytes())
    assert {"kafka", "localhost"} <= subject_alt_names(certificate), "the names clients use"
    return folder


@contextlib.contextmanager
def compose_kafka(folder: Path) -> Iterator[ComposeKafka]:
    """The tls service's command and the kafka service's start script run on this machine."""
    libs = fetch_kafka()
    java = _java()
    client, agency, host, controller = free_ports(4)
    [tls_mount] = {path for path, (volume, _) in volumes("kafka").items() if volume == "kafka-tls"}
    tls = _make_tls(folder / "tls")
    for tool, main in TOOLS.items():
        shim = folder / tool
        shim.write_text(
            f'#!/bin/sh\nexec {java} -Xmx512m -cp "{libs}/*" '
            f'-Dlog4j2.configurationFile={LOG4J_CONFIG} {main} "$@"\n'
        )
        shim.chmod(0o755)
    [script] = SERVICES["kafka"]["command"]
    moved = {
        "CLIENT://:9092": f"CLIENT://127.0.0.1:{client}",
        "AGENCY://:9094": f"AGENCY://127.0.0.1:{agency}",
        "HOST://:29092": f"HOST://127.0.0.1:{host}",
        "CLIENT://kafka:9092": f"CLIENT://127.0.0.1:{client}",
        "AGENCY://kafka:9094": f"AGENCY://127.0.0.1:{agency}",
        "HOST://localhost:29092": f"HOST://127.0.0.1:{host}",
        f"{tls_mount}/": f"{tls}/",
        "localhost:9093": f"127.0.0.1:{controller}",
        "/var/lib/kafka/data": str(folder / "data"),
        "/opt/kafka/bin/": f"{folder}/",
        "/tmp/": f"{folder}/",
    }
    for image_path in moved:
        assert image_path in script, image_path
    script = re.sub("|".join(map(re.escape, moved)), lambda match: moved[match[0]], script)
    log = folder / "kafka.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", "-c", interpolated(script)],
            env={**os.environ, **environment("kafka")},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield ComposeKafka(
            bootstrap=f"127.0.0.1:{client}",
            agency=f"127.0.0.1:{agency}",
            host=f"127.0.0.1:{host}",
            client_properties=folder / "client.properties",
            ca_file=tls / CA_FILE,
            process=process,
        )
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.slow
async def test_the_compose_kafka_and_access_scripts_let_each_service_start_as_itself(
    tmp_path: Path,
) -> None:
    with compose_kafka(tmp_path) as kafka:
        bootstrap = kafka.bootstrap
        hub = Settings(
            bootstrap_servers=bootstrap,
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="SCRAM-SHA-512",
            sasl_username=HUB_USER,
            sasl_password=environment("kafka")["HUB_PASSWORD"],
        )
        deadline = time.monotonic() + 90
        while (
            await asyncio.to_thread(_health_check, bootstrap, kafka.client_properties)
        ).returncode:
            log = (tmp_path / "kafka.log").read_text()[-4000:]
            assert kafka.process.poll() is None, f"the broker exited:\n{log}"
            assert time.monotonic() < deadline, f"the health check never passed:\n{log}"
            await asyncio.sleep(1)
        access = await asyncio.to_thread(_run_access_script, tmp_path, bootstrap)
        assert access.returncode == 0, access.stdout[-4000:]
        assert set(compose_acls()) <= await asyncio.to_thread(listed_acls, hub)

        moved = {"kafka:9092": bootstrap, "kafka:9094": kafka.agency}

        def login(service: str) -> Settings:
            settings = settings_of(service)
            update: dict[str, object] = {"bootstrap_servers": moved[settings.bootstrap_servers]}
            if settings.ssl_cafile is not None:
                update["ssl_cafile"] = kafka.ca_file
            return settings.model_copy(update=update)

        topics = TopicNames()
        # `notices topics create` in the ingest service, then the distributor at its start.
        created = await ensure_declared_topics(login("ingest"))
        assert {topics.dlq, topics.raw("interpol")} <= set(created)
        recipients = compose_agencies()
        created = await ensure_declared_topics(login("distributor"), recipients)
        assert set(created) == {topics.deliver(agency) for agency in recipients}
        # The subscriber's agency sees its topic once the broker has its partitions' leaders.
        deadline = time.monotonic() + 30
        while not await partitions_of(login("subscriber"), topics.deliver("de-bka")):
            assert time.monotonic() < deadline, "de-bka never saw its deliver topic"
            await asyncio.sleep(0.2)

        # From the host: TLS with the compose CA is served, plaintext is refused.
        from_host = login("subscriber").model_copy(update={"bootstrap_servers": kafka.host})
        assert await partitions_of(from_host, topics.deliver("de-bka"))
        plaintext = from_host.model_copy(
            update={"security_protocol": "SASL_PLAINTEXT", "ssl_cafile": None}
        )
        admin = new_admin(plaintext, request_timeout_ms=5000)
        try:
            with pytest.raises(KafkaConnectionError, match="Unable to bootstrap"):
                await admin.start()
        finally:
            await admin.close()


def _run_access_script(folder: Path, bootstrap: str) -> subprocess.CompletedProcess[str]:
    """The access service's script with the tools of ``compose_kafka``'s folder."""
    script = SCRIPT.read_text()
    moved = {"tools=/opt/kafka/bin": f"tools={folder}", "hub=/tmp/": f"hub={folder}/"}
    for image_path, here in moved.items():
        assert image_path in script, image_path
        script = script.replace(image_path, here)
    env = {**os.environ, **environment("access"), "KAFKA_BOOTSTRAP": bootstrap}
    return subprocess.run(
        ["bash", "-c", script],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=900,
        check=False,
    )


def _health_check(bootstrap: str, client_properties: Path) -> subprocess.CompletedProcess[str]:
    """The kafka service's health check, with its tool from the same jars."""
    command = SERVICES["kafka"]["healthcheck"]["test"][1]
    assert "--command-config /tmp/client.properties" in command
    libs = fetch_kafka()
    java = _java()
    return subprocess.run(
        [
            java,
            "-cp",
            f"{libs}/*",
            "org.apache.kafka.tools.BrokerApiVersionsCommand",
            "--bootstrap-server",
            bootstrap,
            "--command-config",
            str(client_properties),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
