"""The translation boundary: whatever an adapter does, the outcome is notices or a dead letter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.base import TranslationContext
from adapters.interpol import InterpolAdapter
from adapters.registry import AdapterRegistry, default_registry
from broker.models import NoticeEnvelope, Originator
from broker.translation import DeadLetter, translate_record
from tests.samples import ISSUED


def context(raw: bytes, fmt: str = "interpol-notice-json") -> TranslationContext:
    return TranslationContext(fmt, Originator(agency_id="interpol"), ISSUED, raw)


class BuggyAdapter:
    """An adapter with a bug, as real adapters will sometimes have."""

    name: str = "buggy"
    version: str = "0"
    formats: tuple[str, ...] = ("buggy-json",)

    def translate(self, ctx: TranslationContext) -> Iterator[NoticeEnvelope]:
        raise KeyError("forename")

    def detect(self, head: bytes) -> bool:
        return False


def test_unknown_format_is_a_dead_letter_naming_the_known_ones() -> None:
    outcome = translate_record(default_registry(), context(b"{}", fmt="stanag-4774"))
    assert isinstance(outcome, DeadLetter)
    assert outcome.error_type == "UnsupportedFormat"
    assert outcome.where == "header 'format'"
    assert "interpol-notice-json" in outcome.reason


def test_missing_format_header_is_a_dead_letter() -> None:
    outcome = translate_record(default_registry(), context(b"{}", fmt=""))
    assert isinstance(outcome, DeadLetter)
    assert outcome.error_type == "UnsupportedFormat"


def test_empty_payload_is_a_dead_letter() -> None:
    outcome = translate_record(default_registry(), context(b""))
    assert outcome == DeadLetter("TranslationError", "record value", "empty payload")


def test_an_adapter_bug_becomes_a_dead_letter_not_a_crash() -> None:
    registry = AdapterRegistry([InterpolAdapter(), BuggyAdapter()])
    outcome = translate_record(registry, context(b"{}", fmt="buggy-json"))
    assert outcome == DeadLetter("KeyError", "adapter", "adapter bug: KeyError('forename')")


def test_two_adapters_cannot_claim_one_format() -> None:
    class Twin(BuggyAdapter):
        name: str = "twin"

    with pytest.raises(ValueError, match="'buggy-json' is claimed by both 'buggy' and 'twin'"):
        AdapterRegistry([BuggyAdapter(), Twin()])
