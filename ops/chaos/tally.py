"""What a chaos run proved, from what the readers saw and what the oracle expects. Pure.

The standard is Apache Kafka's TransactionsTest and Jepsen's Kafka checker: output set equal
to the expected set (nothing lost, nothing twice), nothing from an aborted transaction seen by
a committed reader, and here also nothing delivered that the sharing rules did not allow.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from broker.models import NoticeEnvelope
from broker.policy.profiles import Policy
from ops.chaos.oracle import expected as oracle

DELIVERED = frozenset({"DELIVER", "DELIVER_REDACTED"})

Pair = tuple[str, str]
"""(notice id, recipient)."""
Offset = tuple[str, int, int]
"""(topic, partition, offset) of one record."""


@dataclass(frozen=True)
class Expected:
    """The oracle's outcome and redacted fields for one (notice, recipient)."""

    outcome: str
    redacted: tuple[str, ...]


def expectations(
    notices: Iterable[NoticeEnvelope], policy: Policy, now: dt.datetime
) -> dict[Pair, Expected]:
    """Every decision the run must produce, from the oracle written apart from the engine."""
    return {
        (notice.notice_id, recipient.agency_id): Expected(outcome, tuple(redacted))
        for notice in notices
        for recipient in policy.recipients
        for outcome, _, redacted in [oracle(notice, recipient, now, policy)]
    }


@dataclass(frozen=True)
class Seen:
    """One delivery or audit record as a reader found it."""

    pair: Pair
    outcome: str
    redacted: tuple[str, ...]
    where: Offset


@dataclass
class Tally:
    notices: int
    lost: list[Pair] = field(default_factory=list)
    duplicated: list[Pair] = field(default_factory=list)
    leaked: list[str] = field(default_factory=list)
    """Deliveries the rules did not allow as made: to a recipient not entitled, unredacted
    where fields had to go, or of a notice nobody sent."""
    audit_faults: list[str] = field(default_factory=list)
    aborted_reads: list[Offset] = field(default_factory=list)
    aborted_records: int = 0
    """Records of aborted transactions the read_uncommitted reader saw: proof aborts happened."""
    dead_letters: int = 0
    poison: int = 0

    @property
    def ok(self) -> bool:
        return not (
            self.lost
            or self.duplicated
            or self.leaked
            or self.audit_faults
            or self.aborted_reads
            or self.dead_letters != self.poison
        )

    def faults(self) -> list[str]:
        """Each way the run failed, with examples, for a report or an assertion message."""
        found = []
        named: list[tuple[str, list[Any]]] = [
            ("lost", self.lost),
            ("duplicated", self.duplicated),
            ("leaked", self.leaked),
            ("audit", self.audit_faults),
            ("aborted reads", self.aborted_reads),
        ]
        for name, items in named:
            if items:
                found.append(f"{name}: {len(items)}, e.g. {items[:3]}")
        if self.dead_letters != self.poison:
            found.append(f"dead letters: {self.dead_letters} for {self.poison} poison records")
        return found


def tally(
    expected: Mapping[Pair, Expected],
    deliveries: Iterable[Seen],
    audit: Iterable[Seen],
    *,
    uncommitted: Iterable[Offset] = (),
    committed: Iterable[Offset] = (),
    seen_during: Iterable[Offset] = (),
    dead_letters: int = 0,
    poison: int = 0,
) -> Tally:
    """Compare the committed output with the expectations.

    ``uncommitted`` is every offset the read_uncommitted reader saw on the same topics as
    ``committed``; those it saw that the committed reader did not are aborted records, and any
    of them in ``seen_during`` (the committed reader that ran during the faults) is an aborted
    read.
    """
    result = Tally(
        notices=len({notice for notice, _ in expected}), dead_letters=dead_letters, poison=poison
    )
    delivered = Counter[Pair]()
    for seen in deliveries:
        delivered[seen.pair] += 1
        want = expected.get(seen.pair)
        if want is None or want.outcome not in DELIVERED:
            result.leaked.append(f"{seen.pair} at {seen.where}: expected {want}")
        elif (seen.outcome, seen.redacted) != (want.outcome, want.redacted):
            result.leaked.append(f"{seen.pair} at {seen.where}: {seen.outcome} {seen.redacted}")
    for pair, want in expected.items():
        if want.outcome in DELIVERED and delivered[pair] == 0:
            result.lost.append(pair)
    result.duplicated = [pair for pair, count in delivered.items() if count > 1]
    decided = Counter[Pair]()
    for seen in audit:
        decided[seen.pair] += 1
        want = expected.get(seen.pair)
        if want is None or (seen.outcome, seen.redacted) != (want.outcome, want.redacted):
            result.audit_faults.append(f"{seen.pair} at {seen.where}: {seen.outcome}, not {want}")
    result.audit_faults += [f"{pair}: {n} audit records" for pair, n in decided.items() if n > 1]
    result.audit_faults += [f"{pair}: no audit record" for pair in expected if not decided[pair]]
    aborted = set(uncommitted) - set(committed)
    result.aborted_records = len(aborted)
    result.aborted_reads = sorted(aborted.intersection(seen_during))
    return result
