"""The pydantic models and the .avsc files describe the same notice, and notices survive Avro.

The drift check walks every named type of the envelope schema and the model class of the same
name, comparing field names and order, types, optionality, defaults and enum symbols; any
change made to one side only fails here.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import types
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import AwareDatetime, BaseModel

from broker import models
from broker.schema_catalog import SchemaCatalog
from broker.serde import NoticeSerde
from schemas import SCHEMA_DIR
from tests.strategies import notices

PRIMITIVES = {"string": "str", "int": "int", "long": "int", "double": "float", "boolean": "bool"}
LOGICAL = {"timestamp-micros": "datetime", "date": "date"}


def _named_types() -> dict[str, dict[str, Any]]:
    """Every named type defined in schemas/, by short name, including nested definitions."""
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if node.get("type") in ("record", "enum") and "name" in node:
                found[node["name"]] = node
            for value in node.values():
                walk(value)

    for path in sorted(SCHEMA_DIR.glob("*.avsc")):
        walk(json.loads(path.read_text()))
    return found


NAMED = _named_types()
RECORDS = sorted(name for name, node in NAMED.items() if node["type"] == "record")
ENUMS = sorted(name for name, node in NAMED.items() if node["type"] == "enum")


def avro_shape(node: Any) -> str:
    if isinstance(node, str):
        if node in PRIMITIVES:
            return PRIMITIVES[node]
        return avro_shape(NAMED[node])
    if isinstance(node, list):
        branches = [avro_shape(branch) for branch in node if branch != "null"]
        inner = branches[0] if len(branches) == 1 else f"union[{'|'.join(branches)}]"
        return f"optional[{inner}]" if "null" in node else inner
    if "logicalType" in node:
        return LOGICAL[node["logicalType"]]
    if node["type"] == "array":
        return f"list[{avro_shape(node['items'])}]"
    if node["type"] in ("record", "enum"):
        return f"{node['type']}:{node['name']}"
    return avro_shape(node["type"])


def model_shape(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is Annotated:
        return model_shape(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        args = get_args(annotation)
        branches = [model_shape(arg) for arg in args if arg is not type(None)]
        inner = branches[0] if len(branches) == 1 else f"union[{'|'.join(branches)}]"
        return f"optional[{inner}]" if type(None) in args else inner
    if origin is list:
        return f"list[{model_shape(get_args(annotation)[0])}]"
    if annotation in (AwareDatetime, dt.datetime):
        return "datetime"
    if annotation is dt.date:
        return "date"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return f"enum:{annotation.__name__}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"record:{annotation.__name__}"
    return {str: "str", int: "int", float: "float", bool: "bool"}[annotation]


@pytest.mark.parametrize("name", RECORDS)
def test_record_matches_model_field_by_field(name: str) -> None:
    record = NAMED[name]
    model: type[BaseModel] = getattr(models, name)
    assert record.get("doc"), f"record {name} has no doc"
    assert [f["name"] for f in record["fields"]] == list(model.model_fields)
    for field in record["fields"]:
        model_field = model.model_fields[field["name"]]
        where = f"{name}.{field['name']}"
        assert field.get("doc"), f"{where} has no doc"
        assert avro_shape(field["type"]) == model_shape(model_field.annotation), where
        assert model_field.is_required() == ("default" not in field), where
        if "default" in field:
            assert model_field.get_default(call_default_factory=True) == field["default"], where


@pytest.mark.parametrize("name", ENUMS)
def test_enum_symbols_match(name: str) -> None:
    enum_class: type[enum.Enum] = getattr(models, name)
    assert [member.value for member in enum_class] == NAMED[name]["symbols"]


def test_every_model_has_a_schema() -> None:
    modelled = {
        name
        for name, value in vars(models).items()
        if isinstance(value, type)
        and issubclass(value, (BaseModel, enum.Enum))
        and value.__module__ == models.__name__
        and not name.startswith("_")
    }
    assert modelled == set(NAMED)


SERDE = NoticeSerde(SchemaCatalog.from_directory())


@settings(max_examples=300, deadline=None)
@given(notices())
def test_every_notice_round_trips_through_avro(notice: models.NoticeEnvelope) -> None:
    assert SERDE.decode(SERDE.encode(notice)) == notice


@pytest.mark.parametrize("notice_type", list(models.NoticeType))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_each_body_type_round_trips(notice_type: models.NoticeType, data: st.DataObject) -> None:
    notice = data.draw(notices(notice_type))
    decoded = SERDE.decode(SERDE.encode(notice))
    assert type(decoded.body) is models.BODY_TYPES[notice_type]
    assert decoded == notice
