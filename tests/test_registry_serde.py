"""The Confluent wire format against a real schema registry: ids, both framings, evolution,
and what producers and readers do when the registry is down.

Each test writes under subjects of its own topic prefix, on the session's registry; the tests
that stop a registry start one of their own.
"""

from __future__ import annotations

import copy
import io
import json
import socket
import uuid
from pathlib import Path

import pytest
from fastavro import schemaless_writer
from fastavro.schema import parse_schema
from hypothesis import given, settings
from typer.testing import CliRunner

from broker import framing
from broker.cli_registry import registry_app
from broker.errors import (
    IncompatibleSchema,
    RegistryStartError,
    RegistryUnavailable,
    UnknownSchemaId,
)
from broker.kafka_clients import new_admin, new_producer
from broker.models import NoticeEnvelope, NoticeType
from broker.registry_client import SchemaRegistryClient
from broker.schema_catalog import SchemaCatalog, load_envelope_schema, plain_schema, schema_text
from broker.serde import NoticeSerde, to_record
from broker.settings import Settings
from broker.topics import TopicNames, TopicSpec, ensure_topics
from consumers.subscriber import Subscriber
from ops.registry import load_running, start_registry
from tests.kafka_helpers import running, until
from tests.registry_fixtures import (  # noqa: F401 (fixtures)
    registry_client,
    registry_url,
    start_apicurio,
    topic_prefix,
)
from tests.samples import sample_notice
from tests.strategies import notices
from tests.test_serde import newer_schema_with_optional_field

pytestmark = pytest.mark.slow


def serde(url: str) -> NoticeSerde:
    """A serde with empty caches, as a freshly started service has."""
    return NoticeSerde(SchemaCatalog.from_directory(), SchemaRegistryClient(url))


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/apis/ccompat/v7"


def framed(schema_id: int, schema: dict[str, object], record: dict[str, object]) -> bytes:
    out = io.BytesIO(framing.header(schema_id))
    out.seek(0, io.SEEK_END)
    schemaless_writer(out, parse_schema(schema), record)
    return out.getvalue()


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("notice_type", list(NoticeType))
def test_every_notice_type_round_trips_through_the_registry(
    registry_url: str,  # noqa: F811
    registry_client: SchemaRegistryClient,  # noqa: F811
    topic_prefix: str,  # noqa: F811
    notice_type: NoticeType,
) -> None:
    topic = TopicNames(topic_prefix).notices(notice_type)
    writer = serde(registry_url)
    schema_id = registry_client.register(
        framing.subject(topic), schema_text(writer.catalog.reader.schema)
    )

    @given(notices(notice_type))
    @settings(max_examples=20, deadline=None)
    def round_trip(notice: NoticeEnvelope) -> None:
        data = writer.encode_for(topic, notice)
        assert data[:1] == b"\x00"
        assert int.from_bytes(data[1:5], "big") == schema_id
        # A reader that has never seen the id resolves it through the registry.
        assert serde(registry_url).decode(data) == notice

    round_trip()


def test_a_producer_sets_its_subjects_to_full_transitive_before_registering(
    registry_url: str,  # noqa: F811
    registry_client: SchemaRegistryClient,  # noqa: F811
    topic_prefix: str,  # noqa: F811
) -> None:
    topics = TopicNames(topic_prefix)
    serde(registry_url).register(topics.all_notices)

    for topic in topics.all_notices:
        assert registry_client.compatibility(framing.subject(topic)) == "FULL_TRANSITIVE"


def test_one_reader_takes_both_framings(
    registry_url: str,  # noqa: F811
    topic_prefix: str,  # noqa: F811
) -> None:
    notice = sample_notice()
    topic = f"{topic_prefix}notices.wanted_person"
    with_registry = serde(registry_url)
    single_object = with_registry.encode(notice)
    confluent = with_registry.encode_for(topic, notice)

    assert single_object[:2] == b"\xc3\x01"
    assert confluent[:1] == b"\x00"
    reader = serde(registry_url)
    assert reader.decode(single_object) == reader.decode(confluent) == notice


def test_without_a_registry_the_topic_aware_encode_is_single_object() -> None:
    notice = sample_notice()
    plain = NoticeSerde(SchemaCatalog.from_directory())

    assert plain.encode_for("notices.wanted_person", notice) == plain.encode(notice)
    plain.register(["notices.wanted_person"])  # nothing to do, and no error


def test_a_reader_without_a_registry_names_what_it_lacks(
    registry_url: str,  # noqa: F811
    topic_prefix: str,  # noqa: F811
) -> None:
    data = serde(registry_url).encode_for(f"{topic_prefix}notices.wanted_person", sample_notice())

    with pytest.raises(UnknownSchemaId, match="no schema registry is configured") as caught:
        NoticeSerde(SchemaCatalog.from_directory()).decode(data)
    assert caught.value.data == data
    assert not caught.value.retriable


def test_the_serde_for_settings_uses_the_registry_they_name(
    registry_url: str,  # noqa: F811
    topic_prefix: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCHEMA_REGISTRY_URL", registry_url)
    data = NoticeSerde.from_settings(Settings()).encode_for(
        f"{topic_prefix}notices.wanted_person", sample_notice()
    )
    assert data[:1] == b"\x00"
    assert NoticeSerde.from_settings(Settings(schema_registry_url=None)).registry is None


# --- evolution --------------------------------------------------------------------------------


def test_a_v1_reader_decodes_v2_data_through_the_registry(
    registry_url: str,  # noqa: F811
    registry_client: SchemaRegistryClient,  # noqa: F811
    topic_prefix: str,  # noqa: F811
) -> None:
    topic = f"{topic_prefix}notices.wanted_person"
    v1 = serde(registry_url)
    v1.register([topic])
    v2 = newer_schema_with_optional_field()
    v2_id = registry_client.register(framing.subject(topic), json.dumps(v2))
    notice = sample_notice()
    data = framed(v2_id, v2, {**to_record(notice), "handling_instructions": "no copies"})

    assert v2_id != framing.schema_id(v1.encode_for(topic, notice))
    assert serde(registry_url).decode(data) == notice


def incompatible_v3() -> dict[str, object]:
    """The envelope with ``version`` turned from int into string."""
    schema = copy.deepcopy(plain_schema(load_envelope_schema()))
    for field in schema["fields"]:
        if field["name"] == "version":
            field["type"] = "string"
    plain: dict[str, object] = schema
    return plain


def test_an_incompatible_v3_is_refused_at_registration_with_the_registrys_reason(
    registry_url: str,  # noqa: F811
    topic_prefix: str,  # noqa: F811
) -> None:
    topic = f"{topic_prefix}notices.wanted_person"
    serde(registry_url).register([topic])
    v3 = NoticeSerde(
        SchemaCatalog(parse_schema(incompatible_v3())), SchemaRegistryClient(registry_url)
    )

    with pytest.raises(IncompatibleSchema) as caught:
        v3.encode_for(topic, sample_notice())
    assert caught.value.against.startswith(f"subject {framing.subject(topic)}")
    assert "compatib" in caught.value.reasons[0].lower()  # the registry's own explanation


# --- unknown ids and a registry that is down --------------------------------------------------


def test_an_id_the_registry_does_not_have_is_a_typed_error_keeping_the_bytes(
    registry_url: str,  # noqa: F811
) -> None:
    data = framing.header(2_000_000_000) + b"\x02\x00"

    with pytest.raises(UnknownSchemaId, match="has no schema with this id") as caught:
        serde(registry_url).decode(data)
    assert caught.value.schema_id == 2_000_000_000
    assert caught.value.data == data
    assert not caught.value.retriable


def test_a_registry_down_at_start_is_reported_and_nothing_is_encoded() -> None:
    down = serde(closed_port_url())

    with pytest.raises(RegistryUnavailable, match="no answer"):
        down.register(["notices.wanted_person"])
    with pytest.raises(RegistryUnavailable):
        down.encode_for("notices.wanted_person", sample_notice())
    with pytest.raises(UnknownSchemaId, match="no answer") as caught:
        down.decode(framing.header(1) + b"\x00")
    assert caught.value.retriable


def test_a_registry_down_mid_run_stops_only_what_needs_a_new_id(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> None:
    registry = start_apicurio(tmp_path_factory.mktemp("registry-mid-run"), pytestconfig)
    notice = sample_notice()
    try:
        producer, warm_reader = serde(registry.url), serde(registry.url)
        before = producer.encode_for("notices.wanted_person", notice)
        assert warm_reader.decode(before) == notice
    finally:
        registry.stop()

    # Cached ids: publishing goes on, and so does reading what was read before.
    after = producer.encode_for("notices.wanted_person", sample_notice(version=2))
    assert after[:5] == before[:5]
    assert warm_reader.decode(after) == sample_notice(version=2)
    # A subject or an id not met yet needs the registry: typed errors, retriable for readers.
    with pytest.raises(RegistryUnavailable):
        producer.encode_for("notices.freeze_order", notice)
    with pytest.raises(UnknownSchemaId, match="no answer") as caught:
        serde(registry.url).decode(after)
    assert caught.value.retriable
    assert caught.value.data == after


# --- one topic, both framings, one real consumer ----------------------------------------------


@pytest.mark.kafka
async def test_one_subscriber_reads_a_topic_holding_both_framings(
    registry_url: str,  # noqa: F811
    settings: Settings,
) -> None:
    topic = TopicNames(settings.topic_prefix).notices(NoticeType.WANTED_PERSON)
    admin = new_admin(settings)
    await admin.start()
    try:
        await ensure_topics(admin, [TopicSpec(topic, 1)], replication_factor=1)
    finally:
        await admin.close()
    writer = serde(registry_url)
    sent = [sample_notice(f"mixed-{uuid.uuid4().hex[:6]}", version=v) for v in range(1, 7)]
    producer = new_producer(settings, role="test-mixed")
    await producer.start()
    try:
        for i, notice in enumerate(sent):
            value = writer.encode(notice) if i % 2 else writer.encode_for(topic, notice)
            await producer.send_and_wait(topic, value, key=notice.notice_id.encode())
    finally:
        await producer.stop()

    received: list[NoticeEnvelope] = []
    subscriber = Subscriber(
        settings,
        topics=[topic],
        group_id=f"mixed-{uuid.uuid4().hex[:6]}",
        sink=received.append,
        serde=serde(registry_url),
    )
    async with running(subscriber.run()) as task:
        await until(lambda: len(received) >= len(sent) or task.done(), "six notices")
    assert received == sent


# --- the local registry itself ----------------------------------------------------------------


def test_a_registry_that_cannot_start_fails_with_its_own_log(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RegistryStartError, match="exited with code") as caught:
            start_registry(tmp_path, port=port)

    assert any(str(port) in line for line in caught.value.log_lines)
    assert load_running(tmp_path) is None


def test_the_cli_starts_finds_and_stops_a_registry(tmp_path: Path) -> None:
    runner = CliRunner()
    folder = ["--data-dir", str(tmp_path)]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    up = runner.invoke(registry_app, ["up", "--port", str(port), *folder])
    try:
        assert up.exit_code == 0, up.output
        url = f"http://127.0.0.1:{port}/apis/ccompat/v7"
        assert f"export SCHEMA_REGISTRY_URL={url}" in up.output
        status = runner.invoke(registry_app, ["status", *folder])
        assert status.exit_code == 0
        assert url in status.output
    finally:
        down = runner.invoke(registry_app, ["down", *folder])
    assert down.exit_code == 0
    assert "stopped" in down.output
    assert runner.invoke(registry_app, ["status", *folder]).exit_code == 1
