"""Schema evolution held to FULL_TRANSITIVE offline (``notices schemas check``), with the
verdicts cross-checked against a real registry's, and released schemas known to readers."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastavro.schema import parse_schema
from typer.testing import CliRunner

from broker import framing
from broker.cli_registry import schemas_app
from broker.errors import IncompatibleSchema
from broker.registry_client import SchemaRegistryClient
from broker.schema_catalog import (
    SchemaCatalog,
    load_envelope_schema,
    load_releases,
    plain_schema,
    schema_text,
)
from broker.schema_compat import check_full_transitive, full_problems
from broker.serde import NoticeSerde, encode_record, to_record
from schemas import SCHEMA_DIR
from tests.registry_fixtures import registry_client, registry_url, topic_prefix  # noqa: F401
from tests.samples import sample_notice

Schema = dict[str, Any]


def current() -> Schema:
    plain: Schema = copy.deepcopy(plain_schema(load_envelope_schema()))
    return plain


def field_of(record: Schema, name: str) -> Schema:
    found: Schema = next(f for f in record["fields"] if f["name"] == name)
    return found


def named(schema: Schema, name: str) -> Schema:
    """The definition of the named type ``name``, wherever ``schema`` defines it inline."""
    found = _find(schema, name)
    assert found is not None, f"{name} is not defined in the schema"
    return found


def _find(schema: Any, name: str) -> Schema | None:
    if isinstance(schema, dict):
        if schema.get("type") in ("record", "enum", "fixed") and schema.get("name") == name:
            return schema
        fields = schema.get("fields", [])
        children = [schema.get("type"), schema.get("items"), schema.get("values"), *fields]
    else:
        children = schema if isinstance(schema, list) else []
    for child in children:
        if (found := _find(child, name)) is not None:
            return found
    return None


def add_optional_field(s: Schema) -> None:
    s["fields"].append({"name": "handling", "type": ["null", "string"], "default": None})


def add_required_field(s: Schema) -> None:
    s["fields"].append({"name": "handling", "type": "string"})


def drop_field_with_default(s: Schema) -> None:
    s["fields"] = [f for f in s["fields"] if f["name"] != "expires_at"]


def drop_field_without_default(s: Schema) -> None:
    s["fields"] = [f for f in s["fields"] if f["name"] != "version"]


def change_field_type(s: Schema) -> None:
    field_of(s, "version")["type"] = "string"


def widen_int_to_long(s: Schema) -> None:
    field_of(s, "version")["type"] = "long"


def add_symbol_to_enum_with_default(s: Schema) -> None:
    named(s, "noticebroker.Tlp")["symbols"].append("PURPLE")


def add_symbol_to_enum_without_default(s: Schema) -> None:
    named(s, "noticebroker.MsgType")["symbols"].append("EXPIRE")


def add_body_type(s: Schema) -> None:
    body = field_of(s, "body")
    body["type"].append({"type": "record", "name": "noticebroker.Advisory", "fields": []})


# Before/after: what a change does to readers of the released schema, both ways.
CHANGES: list[tuple[Callable[[Schema], None], bool]] = [
    (add_optional_field, True),
    (drop_field_with_default, True),
    (add_symbol_to_enum_with_default, True),
    (add_required_field, False),  # new readers cannot read old data
    (drop_field_without_default, False),  # old readers cannot read new data
    (change_field_type, False),
    (widen_int_to_long, False),  # long -> int does not narrow, so old readers fail
    (add_symbol_to_enum_without_default, False),
    (add_body_type, False),  # a new union branch: old readers have nowhere to put it
]


@pytest.mark.parametrize(
    ("change", "compatible"), CHANGES, ids=lambda c: getattr(c, "__name__", "")
)
def test_changes_are_judged_full_transitive(
    change: Callable[[Schema], None], compatible: bool
) -> None:
    changed = current()
    change(changed)
    problems = full_problems(parse_schema(changed), load_envelope_schema())
    assert (problems == []) is compatible, problems


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "compatible"), CHANGES, ids=lambda c: getattr(c, "__name__", "")
)
def test_the_offline_verdict_is_the_registrys(
    registry_client: SchemaRegistryClient,  # noqa: F811
    topic_prefix: str,  # noqa: F811
    change: Callable[[Schema], None],
    compatible: bool,
) -> None:
    subject = framing.subject(f"{topic_prefix}notices.wanted_person")
    registry_client.set_compatibility(subject, framing.COMPATIBILITY)
    registry_client.register(subject, schema_text(load_envelope_schema()))
    changed = current()
    change(changed)

    if compatible:
        registry_client.register(subject, json.dumps(changed))
    else:
        with pytest.raises(IncompatibleSchema):
            registry_client.register(subject, json.dumps(changed))


def test_a_check_names_every_release_broken_and_where() -> None:
    changed = current()
    change_field_type(changed)
    releases = {"v1": load_envelope_schema(), "v1.1": load_envelope_schema()}

    with pytest.raises(IncompatibleSchema) as caught:
        check_full_transitive(parse_schema(changed), releases)
    assert caught.value.against == "released schema(s) v1, v1.1"
    assert (
        "v1: new reader, old data: $.version: reader type string cannot read writer type int"
        in (caught.value.reasons)
    )


# --- the command ------------------------------------------------------------------------------


@pytest.fixture
def schemas(tmp_path: Path) -> Path:
    """A copy of schemas/ with its releases, to change."""
    copied = tmp_path / "schemas"
    shutil.copytree(SCHEMA_DIR, copied, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return copied


def edit(schemas: Path, type_name: str, change: Callable[[Schema], None]) -> None:
    path = schemas / f"{type_name}.avsc"
    schema = json.loads(path.read_text())
    change(schema)
    path.write_text(json.dumps(schema, indent=2))


def test_the_repositorys_schemas_pass_the_check() -> None:
    result = CliRunner().invoke(schemas_app, ["check", "--schemas", str(SCHEMA_DIR)])
    assert result.exit_code == 0, result.output
    assert "FULL_TRANSITIVE compatible with v1" in result.output


def test_the_check_refuses_a_changed_field_type(schemas: Path) -> None:
    def agency_id_as_int(originator: Schema) -> None:
        field_of(originator, "agency_id")["type"] = "int"

    edit(schemas, "noticebroker.Originator", agency_id_as_int)
    result = CliRunner().invoke(schemas_app, ["check", "--schemas", str(schemas)])

    assert result.exit_code == 1
    assert "incompatible with released schema(s) v1" in result.output
    assert "$.originator.agency_id: reader type int cannot read writer type string" in result.output


def test_a_compatible_change_is_released_once(schemas: Path) -> None:
    edit(schemas, "noticebroker.NoticeEnvelope", add_optional_field)
    runner = CliRunner()

    assert runner.invoke(schemas_app, ["check", "--schemas", str(schemas)]).exit_code == 0
    released = runner.invoke(schemas_app, ["release", "v2", "--schemas", str(schemas)])
    assert released.exit_code == 0, released.output
    assert list(load_releases(schemas / "released")) == ["v1", "v2"]
    again = runner.invoke(schemas_app, ["release", "v2", "--schemas", str(schemas)])
    assert again.exit_code == 2
    assert "never rewritten" in again.output


def test_an_incompatible_change_is_not_released(schemas: Path) -> None:
    edit(schemas, "noticebroker.NoticeEnvelope", change_field_type)
    result = CliRunner().invoke(schemas_app, ["release", "v2", "--schemas", str(schemas)])

    assert result.exit_code == 1
    assert not (schemas / "released" / "v2.avsc").exists()


# --- readers know the releases ----------------------------------------------------------------


def test_a_reader_decodes_single_object_data_of_a_release_without_being_told(
    schemas: Path,
) -> None:
    older = current()
    drop_field_with_default(older)
    (schemas / "released" / "v0.avsc").write_text(json.dumps(older))
    writer = SchemaCatalog(parse_schema(older)).reader
    notice = sample_notice()
    record = {k: v for k, v in to_record(notice).items() if k != "expires_at"}

    decoded = NoticeSerde(SchemaCatalog.from_directory(schemas)).decode(
        encode_record(writer, record)
    )
    assert decoded == notice
