"""Reading a JSON payload the way adapters need: by popping, with a path for every fault.

Each JSON object is read by popping the fields an adapter maps, as zavod's crawlers do: what
is left at the end is what nothing mapped, and goes to the context's unmapped counter, so a
change in a source's format shows up as a counter instead of as silently missing data. Every
fault names its JSON path (``$.notices[3].entity_id``) or, for text that is not JSON, its
line and column.

A key given twice in one object is refused, not resolved: JSON leaves it to the reader which
value counts, and one system reading the first ``"classification"`` where the hub reads the
last would see another marking than the one the hub enforced.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from typing import Any, TypeVar

import orjson

from adapters.base import TranslationContext
from broker.errors import TranslationError

V = TypeVar("V")


class JsonFields:
    """One JSON object of the payload, read by popping: what is left is what nothing mapped."""

    def __init__(
        self, data: dict[str, Any], path: str, ctx: TranslationContext, blanks: frozenset[str]
    ) -> None:
        self.path = path
        self._rest = dict(data)
        self._ctx = ctx
        self._blanks = blanks

    def at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def error(self, where: str, reason: str) -> TranslationError:
        return TranslationError(format=self._ctx.format, where=where, reason=reason)

    def text(self, key: str) -> str | None:
        """The stripped string; null, '' and the source's blank placeholders all mean "no value"."""
        return self._text(self._rest.pop(key, None), self.at(key))

    def required_text(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise self.error(self.at(key), "missing or empty")
        return value

    def texts(self, key: str) -> list[tuple[str, str]]:
        """The strings of a list field, each with its path; a null list reads as empty."""
        values = self._list(key, "strings")
        items = ((f"{self.at(key)}[{i}]", value) for i, value in enumerate(values))
        return [(where, text) for where, value in items if (text := self._text(value, where))]

    def number(self, key: str) -> float | None:
        value = self._rest.pop(key, None)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(self.at(key), f"expected a number, found {json_type(value)}")
        if value < 0:
            raise self.error(self.at(key), f"{value} is negative")
        return float(value)

    def child(self, key: str) -> JsonFields:
        """The object at ``key``; an empty one when it is absent, which reads as all-null."""
        value = self._rest.pop(key, None)
        return self._object({} if value is None else value, self.at(key))

    def children(self, key: str) -> list[JsonFields]:
        values = self._list(key, "objects")
        return [self._object(value, f"{self.at(key)}[{i}]") for i, value in enumerate(values)]

    def lookup(self, where: str, code: str, table: Mapping[str, V]) -> V | None:
        """The table's value for ``code``; a code the table lacks is counted, never guessed."""
        value = table.get(code)
        if value is None:
            self.report_unknown(where, code)
        return value

    def report_unknown(self, where: str, code: str) -> None:
        """Count a value (not a field) that nothing could map, so a new code gets noticed."""
        self._ctx.unmapped[f"{where}={code}"] += 1

    def ignore(self, *keys: str) -> None:
        """Pop fields known to carry nothing for the canonical form, so they are not counted."""
        for key in keys:
            self._rest.pop(key, None)

    def audit(self) -> None:
        """Count the fields nothing popped; empty ones carry no data, so they are not counted."""
        self._ctx.report_unmapped(
            self.path, {key for key, value in self._rest.items() if not _is_empty(value)}
        )

    def _text(self, value: Any, where: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(where, f"expected a string, found {json_type(value)}")
        value = value.strip()
        return value if value and value not in self._blanks else None

    def _list(self, key: str, of: str) -> list[Any]:
        value = self._rest.pop(key, None)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(self.at(key), f"expected an array of {of}, found {json_type(value)}")
        return value

    def _object(self, value: Any, where: str) -> JsonFields:
        if not isinstance(value, dict):
            raise self.error(where, f"expected an object, found {json_type(value)}")
        return JsonFields(value, where, self._ctx, self._blanks)


def parse_json(ctx: TranslationContext) -> Any:
    """The JSON document; faults are placed by line and column, as an editor shows them."""
    raw = ctx.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise TranslationError(
            format=ctx.format,
            where=_line_column(raw[: err.start].decode("utf-8")),
            reason=f"not UTF-8 ({err.reason}), which JSON must be",
        ) from err
    text = text.removeprefix("\ufeff")
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as err:
        raise TranslationError(
            format=ctx.format,
            where=f"line {err.lineno} column {err.colno}",
            reason=f"invalid JSON: {err.msg}",
        ) from err
    if not _surely_unique_keys(text, document):
        _refuse_duplicate_keys(text, ctx)
    return document


def _surely_unique_keys(text: str, document: Any) -> bool:
    """Whether no object of ``text`` repeats a key, told cheaply from orjson's result (which
    keeps the last of repeated keys without saying so); False only means "look closer".

    Outside strings, a colon of valid JSON separates one member, and orjson writes every
    colon of a string as is. So unless the text escapes a colon (``\\u003a``), the text and
    the document written back hold equally many colons exactly when no member was dropped: a
    dropped member takes its separator with it, and colons in strings only ever go with it.
    """
    if "\\u003" in text:
        return False
    try:
        written = orjson.dumps(document)
    except orjson.JSONEncodeError:  # nested deeper than orjson writes (255 levels)
        return False
    return text.count(":") == written.count(b":")


def _refuse_duplicate_keys(text: str, ctx: TranslationContext) -> None:
    """Raise at a repeated key (the outermost first), by its JSON path. The slow path: the
    standard library's parser hands over every member, repeated ones included."""
    try:
        document = json.loads(text, object_pairs_hook=_Members)
    except RecursionError as err:
        raise TranslationError(
            format=ctx.format, where="$", reason="nested too deeply to check for repeated keys"
        ) from err
    pending: deque[tuple[str, Any]] = deque([("$", document)])
    while pending:
        path, value = pending.popleft()
        if isinstance(value, _Members):
            seen: set[str] = set()
            for key, member in value:
                where = f"{path}.{key}"
                if key in seen:
                    raise TranslationError(
                        format=ctx.format,
                        where=where,
                        reason=f"duplicate key {key!r}: refused rather than resolved, since "
                        "readers may take either value",
                    )
                seen.add(key)
                pending.append((where, member))
        elif isinstance(value, list):
            pending.extend((f"{path}[{i}]", item) for i, item in enumerate(value))


class _Members(list[tuple[str, Any]]):
    """An object's members in order, repeated keys kept (the ``object_pairs_hook`` result)."""


def _line_column(before: str) -> str:
    line = before.count("\n") + 1
    column = len(before) - before.rfind("\n")
    return f"line {line} column {column}"


def _is_empty(value: Any) -> bool:
    """Whether a value holds nothing but nulls and empty strings, however deep (no recursion:
    JSON may nest deeper than Python's stack)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif item is not None and item != "":
            return False
    return True


def json_type(value: Any) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int() | float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "an array"
        case _:
            return "an object"
