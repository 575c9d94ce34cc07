"""Offline schema compatibility: can a reader on one schema read data written with another?

The rules are the Avro specification's "Schema Resolution", which fastavro applies when it
reads but has no function to check ahead of time: records match by full name (or the reader's
aliases), reader fields missing from the writer need defaults, writer enum symbols missing from
the reader need the reader's enum default, numbers promote int -> long -> float -> double,
string and bytes read each other, and every branch of a writer union must be readable.

``notices schemas check`` applies FULL_TRANSITIVE, the mode the hub sets on its registry
subjects (``broker.framing``): the schema in schemas/ against every released version kept in
schemas/released/, in both directions, so a change is refused in review before any registry
refuses it in production.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastavro.schema import parse_schema

from broker.errors import IncompatibleSchema
from broker.schema_catalog import ParsedSchema, plain_schema

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_PROMOTIONS = frozenset(
    {
        ("int", "long"),
        ("int", "float"),
        ("int", "double"),
        ("long", "float"),
        ("long", "double"),
        ("float", "double"),
        ("string", "bytes"),
        ("bytes", "string"),
    }
)


def reading_problems(reader: ParsedSchema, writer: ParsedSchema) -> list[str]:
    """Where a reader on ``reader`` fails on data written with ``writer``, one line each
    (``path: what``); empty when every datum of ``writer`` resolves."""
    check = _Resolution(_named_types(reader), _named_types(writer))
    check.resolve(plain_schema(reader), plain_schema(writer), "$")
    return check.problems


def full_problems(current: ParsedSchema, released: ParsedSchema) -> list[str]:
    """Both directions: readers on ``current`` read ``released`` data and the reverse."""
    backward = [f"new reader, old data: {p}" for p in reading_problems(current, released)]
    forward = [f"old reader, new data: {p}" for p in reading_problems(released, current)]
    return backward + forward


def check_full_transitive(current: ParsedSchema, releases: Mapping[str, ParsedSchema]) -> None:
    """Raise IncompatibleSchema naming every release ``current`` breaks, and where."""
    broken = {name: full_problems(current, schema) for name, schema in releases.items()}
    reasons = tuple(f"{name}: {p}" for name, problems in broken.items() for p in problems)
    if reasons:
        names = ", ".join(name for name, problems in broken.items() if problems)
        raise IncompatibleSchema(against=f"released schema(s) {names}", reasons=reasons)


def _named_types(schema: ParsedSchema) -> dict[str, Any]:
    """Full name -> definition, for resolving references by name."""
    named: dict[str, Any] = {}
    parse_schema(plain_schema(schema), named_schemas=named)
    return {name: plain_schema(definition) for name, definition in named.items()}


def _kind(schema: Any) -> str:
    if isinstance(schema, list):
        return "union"
    if isinstance(schema, dict):
        return str(schema["type"]) if isinstance(schema["type"], str) else _kind(schema["type"])
    return str(schema)


@dataclass
class _Resolution:
    reader_names: dict[str, Any]
    writer_names: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    _visiting: set[tuple[str, str]] = field(default_factory=set)

    def resolve(self, reader: Any, writer: Any, path: str) -> None:
        reader = self._definition(reader, self.reader_names)
        writer = self._definition(writer, self.writer_names)
        if isinstance(writer, list):
            for branch in writer:
                self.resolve(reader, branch, f"{path}<{_label(branch)}>")
        elif isinstance(reader, list):
            if not any(self._readable(branch, writer) for branch in reader):
                self.problems.append(
                    f"{path}: no branch of the reader's union "
                    f"[{', '.join(map(_label, reader))}] reads the writer's {_label(writer)}"
                )
        else:
            self._resolve_single(reader, writer, path)

    def _resolve_single(self, reader: Any, writer: Any, path: str) -> None:
        rkind, wkind = _kind(reader), _kind(writer)
        if rkind != wkind:
            if (wkind, rkind) not in _PROMOTIONS:
                self.problems.append(f"{path}: reader type {rkind} cannot read writer type {wkind}")
            return
        if rkind == "record":
            self._record(reader, writer, path)
        elif rkind == "enum":
            self._enum(reader, writer, path)
        elif rkind == "array":
            self.resolve(reader["items"], writer["items"], f"{path}[]")
        elif rkind == "map":
            self.resolve(reader["values"], writer["values"], f"{path}{{}}")
        elif rkind == "fixed":
            self._same_name(reader, writer, path)
            if reader["size"] != writer["size"]:
                self.problems.append(
                    f"{path}: fixed size {reader['size']} cannot read size {writer['size']}"
                )

    def _readable(self, reader: Any, writer: Any) -> bool:
        """Whether one union branch reads ``writer``, without reporting the branches that
        do not (one that does is enough)."""
        trial = _Resolution(self.reader_names, self.writer_names, _visiting=set(self._visiting))
        trial.resolve(reader, writer, "")
        return not trial.problems

    def _record(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> None:
        if not self._same_name(reader, writer, path):
            return
        pair = (reader["name"], writer["name"])
        if pair in self._visiting:  # a recursive type: this pair is being checked already
            return
        self._visiting.add(pair)
        written = {f["name"]: f for f in writer["fields"]}
        for wanted in reader["fields"]:
            names = [wanted["name"], *wanted.get("aliases", [])]
            source = next((written[name] for name in names if name in written), None)
            where = f"{path}.{wanted['name']}"
            if source is not None:
                self.resolve(wanted["type"], source["type"], where)
            elif "default" not in wanted:
                self.problems.append(f"{where}: not written, and the reader has no default")
        self._visiting.discard(pair)

    def _enum(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> None:
        if not self._same_name(reader, writer, path):
            return
        unknown = [s for s in writer["symbols"] if s not in reader["symbols"]]
        if unknown and "default" not in reader:
            self.problems.append(
                f"{path}: symbols {unknown} unknown to the reader's enum {reader['name']}, "
                "which has no default"
            )

    def _same_name(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> bool:
        if writer["name"] in (reader["name"], *reader.get("aliases", [])):
            return True
        self.problems.append(
            f"{path}: reader's {reader['name']} is not the written {writer['name']}"
        )
        return False

    @staticmethod
    def _definition(schema: Any, names: dict[str, Any]) -> Any:
        """A reference by name replaced by what it names; primitives and inline types stay."""
        if isinstance(schema, str) and schema not in _PRIMITIVES:
            return names[schema]
        return schema


def _label(schema: Any) -> str:
    if isinstance(schema, str):
        return schema
    if isinstance(schema, dict):
        return str(schema.get("name") or _kind(schema))
    return "union"
