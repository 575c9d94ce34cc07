"""What the adapter tests share: handing a payload to an adapter as the ingest service would,
checking a mapping.yml, and the damage the fuzz tests do to real payloads.

Each adapter's tests describe their source once (a ``Feed``) and translate payloads through
it, so that the context an adapter sees in a test is the one the service would give it.
"""

from __future__ import annotations

import datetime as dt
import re
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import orjson
import pytest
import yaml
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from adapters.base import Adapter, TranslationContext
from broker.errors import TranslationError
from broker.models import NoticeEnvelope, Originator
from tests.conftest import REPO_ROOT


@dataclass(frozen=True)
class Feed:
    """The headers one source's payloads arrive with, so that a test hands its adapter the
    context the ingest service would."""

    format: str
    originator: Originator
    received_at: dt.datetime

    def context(self, raw: bytes = b"", path: Path | None = None) -> TranslationContext:
        return TranslationContext(
            format=self.format,
            originator=self.originator,
            received_at=self.received_at,
            raw=raw,
            path=path,
        )

    def translate(
        self, adapter: Adapter, raw: bytes
    ) -> tuple[list[NoticeEnvelope], TranslationContext]:
        """The notices with their context, whose ``unmapped`` counter the tests read too."""
        ctx = self.context(raw)
        return list(adapter.translate(ctx)), ctx

    def failure(self, adapter: Adapter, raw: bytes) -> TranslationError:
        """The fault that stops the payload; the test fails if there is none."""
        with pytest.raises(TranslationError) as caught:
            list(adapter.translate(self.context(raw)))
        return caught.value

    def peak_memory(self, adapter: Adapter, raw: bytes) -> int:
        """The most memory, in bytes, that translating the payload held at once, each notice
        dropped as it comes out: what a streaming adapter keeps bounded."""
        tracemalloc.start()
        try:
            for _ in adapter.translate(self.context(raw)):
                pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def mapping_tables(package: str, model: type[BaseModel]) -> dict[str, Any]:
    """The adapter's mapping.yml as plain tables, once checked to be valid as shipped and to
    refuse a table nobody reads, so that a test can spoil one table and expect only that."""
    tables: dict[str, Any] = yaml.safe_load(
        (REPO_ROOT / "adapters" / package / "mapping.yml").read_text("utf-8")
    )
    model.model_validate(tables)
    with pytest.raises(ValidationError, match="extra_forbidden"):
        model.model_validate(tables | {"colours": {}})
    return tables


def notices_or_placed_error(adapter: Adapter, ctx: TranslationContext) -> list[NoticeEnvelope]:
    """What any payload, however damaged, must give: notices valid as canonical notices, or
    (then none) a TranslationError that says where and why. Any other exception fails."""
    try:
        notices = list(adapter.translate(ctx))
    except TranslationError as error:
        assert error.where
        assert error.reason
        return []
    for notice in notices:
        assert NoticeEnvelope.model_validate(notice.model_dump()) == notice
    return notices


# Damage the fuzz tests do to real payloads, whatever their format.

_BAD_BYTES = (
    b"\x00",  # valid UTF-8, but no XML character and no JSON one outside a string
    b"\xff",
    b"\xff\xfe",
    b"\x80\x80",
    b"\x80\x93",
    b"\xc3",
    b"\xc3\x28",
    b"\xed\xa0\x80",  # a UTF-16 surrogate, which UTF-8 must not encode
    b"\xf0\x28\x8c\x28",
    b"\xf8\x88",
)
"""Bytes a reader must turn into a placed fault rather than a decoder's exception: stray
continuation bytes, cut or malformed sequences, and NUL."""


@st.composite
def _truncated(draw: st.DrawFn, raw: bytes) -> bytes:
    """A transfer cut short: any strict prefix, down to nothing."""
    return raw[: draw(st.integers(0, len(raw) - 1))]


@st.composite
def _with_bad_bytes(draw: st.DrawFn, raw: bytes) -> bytes:
    at = draw(st.integers(0, len(raw)))
    return raw[:at] + draw(st.sampled_from(_BAD_BYTES)) + raw[at:]


def damaged_xml(
    raw: bytes,
    *,
    nest_at: Sequence[int],
    texts: Sequence[tuple[int, int]] | None = None,
    renames: Sequence[bytes] = (),
) -> st.SearchStrategy[bytes]:
    """One kind of damage an XML payload meets in transfer or from a careless writer: cut
    short, bad bytes, any text for one of ``texts`` (by default every text node), or
    elements thousands deep at one of ``nest_at``. Given ``renames``, also damage aimed past
    the parser at the reader's own checks: one byte changed anywhere, markup included, or a
    leaf element under one of those names."""
    if texts is None:
        texts = [match.span(1) for match in re.finditer(rb">([^<>]+)<", raw)]
    kinds = [
        _truncated(raw),
        _with_bad_bytes(raw),
        _xml_text_replaced(raw, texts),
        _xml_nested(raw, nest_at),
    ]
    if renames:
        kinds += [_flipped(raw), _xml_leaf_renamed(raw, renames)]
    return st.one_of(kinds)


@st.composite
def _flipped(draw: st.DrawFn, raw: bytes) -> bytes:
    at = draw(st.integers(0, len(raw) - 1))
    return raw[:at] + bytes([draw(st.integers(0, 255))]) + raw[at + 1 :]


@st.composite
def _xml_text_replaced(draw: st.DrawFn, raw: bytes, spans: Sequence[tuple[int, int]]) -> bytes:
    """Any text, escaped so that the document stays well-formed."""
    start, end = draw(st.sampled_from(spans))
    garbage = draw(st.text(st.characters(exclude_categories=["Cs"]), max_size=40))
    return raw[:start] + escape(garbage, {'"': "&quot;"}).encode() + raw[end:]


@st.composite
def _xml_nested(draw: st.DrawFn, raw: bytes, positions: Sequence[int]) -> bytes:
    """Parsers that recurse must not crash on depth."""
    at, depth = draw(st.sampled_from(positions)), draw(st.integers(1, 5000))
    return raw[:at] + b"<x>" * depth + b"</x>" * depth + raw[at:]


@st.composite
def _xml_leaf_renamed(draw: st.DrawFn, raw: bytes, names: Sequence[bytes]) -> bytes:
    leaf = draw(st.sampled_from(list(re.finditer(rb"<(\w+)>([^<>]*)</\1>", raw))))
    other = draw(st.sampled_from(names))
    renamed = b"<" + other + b">" + leaf[2] + b"</" + other + b">"
    return raw[: leaf.start()] + renamed + raw[leaf.end() :]


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)  # what JSON writers write
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
"""Any JSON value, to stand where the format expects another type or shape."""


def damaged_json(
    raw: bytes, values: st.SearchStrategy[Any] = JSON_VALUES
) -> st.SearchStrategy[bytes]:
    """One kind of damage a JSON payload meets in transfer or from a careless writer: cut
    short, bad bytes, one of ``values`` instead of any value of the document, or arrays
    thousands deep instead of one."""
    doc = orjson.loads(raw)
    paths = st.sampled_from(_json_paths(doc))
    return st.one_of(
        _truncated(raw),
        _with_bad_bytes(raw),
        st.tuples(paths, values).map(lambda found: orjson.dumps(_json_replaced(doc, *found))),
        st.tuples(paths, st.integers(1, 3000)).map(lambda found: _json_nested(doc, *found)),
    )


def _json_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value in a parsed JSON document, the document's own (``()``) first."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _json_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _json_paths(item, (*path, index))
    return found


def _json_replaced(doc: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy with the value at ``path`` replaced: the original serves every example."""
    if not path:
        return new
    head, *rest = path
    copy: Any = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[head] = _json_replaced(doc[head], tuple(rest), new)
    return copy


def _json_nested(doc: Any, path: tuple[Any, ...], depth: int) -> bytes:
    """The document with arrays ``depth`` deep at ``path``, written as text because orjson
    refuses to write more than 255 levels."""
    placeholder = orjson.dumps(_json_replaced(doc, path, "\x00nest\x00"))
    return placeholder.replace(b'"\\u0000nest\\u0000"', b"[" * depth + b"]" * depth, 1)
