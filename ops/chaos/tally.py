"""What a chaos run proved, from what the readers saw and what the oracle expects. Pure.

The standard is Apache Kafka's TransactionsTest and Jepsen's Kafka checker: output set equal
to the expected set (nothing lost, nothing twice), nothing from an aborted transaction seen by
a committed reader, and here also nothing delivered that the sharing rules did not allow.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
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
    held: Expected | None = None
    """For a notice embargoed when the run starts: its decision when it was deferred, audited
    before this one, which is made afresh on its release (``broker.distribution``)."""


def expectations(
    notices: Iterable[NoticeEnvelope], policy: Policy, now: dt.datetime
) -> dict[Pair, Expected]:
    """Every decision the run must produce, from the oracle written apart from the engine."""
    result = {}
    for notice in notices:
        release = notice.not_before if notice.not_before and notice.not_before > now else None
        for recipient in policy.recipients:
            outcome, _, redacted = oracle(notice, recipient, release or now, policy)
            want = Expected(outcome, tuple(redacted))
            if release is not None:
                held, _, held_redacted = oracle(notice, recipient, now, policy)
                want = Expected(outcome, tuple(redacted), Expected(held, tuple(held_redacted)))
            result[notice.notice_id, recipient.agency_id] = want
    return result


@dataclass(frozen=True)
class Seen:
    """One delivery or audit record as a reader found it."""

    pair: Pair
    outcome: str
    redacted: tuple[str, ...]
    where: Offset
    released: bool = False
    """An audit record of the decision made when an embargoed notice came back released."""
    at: dt.datetime | None = None
    """A delivery's Kafka timestamp: when the distributor sent it."""


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
    misordered: list[str] = field(default_factory=list)
    """Deliveries out of the order their notices were read in, where a row asks for it."""
    early: list[str] = field(default_factory=list)
    """Deliveries of an embargoed notice before its not_before."""
    late: list[str] = field(default_factory=list)
    """Embargoed notices delivered later than allowed after their not_before, or never."""

    @property
    def ok(self) -> bool:
        return not (
            self.lost
            or self.duplicated
            or self.leaked
            or self.audit_faults
            or self.aborted_reads
            or self.misordered
            or self.early
            or self.late
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
            ("out of order", self.misordered),
            ("released early", self.early),
            ("released late", self.late),
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
    decided = Counter[tuple[Pair, bool]]()
    for seen in audit:
        decided[seen.pair, seen.released] += 1
        want = expected.get(seen.pair)
        if want is not None and want.held is not None and not seen.released:
            want = want.held
        elif want is not None and want.held is None and seen.released:
            want = None  # a decision on release of a notice that was not to be held
        if want is None or (seen.outcome, seen.redacted) != (want.outcome, want.redacted):
            result.audit_faults.append(f"{seen.pair} at {seen.where}: {seen.outcome}, not {want}")
    result.audit_faults += [
        f"{pair}: {n} audit records{' on release' if released else ''}"
        for (pair, released), n in decided.items()
        if n > 1
    ]
    result.audit_faults += [
        f"{pair}: no audit record" for pair in expected if not decided[pair, False]
    ]
    result.audit_faults += [
        f"{pair}: no audit record on release"
        for pair, want in expected.items()
        if want.held is not None and not decided[pair, True]
    ]
    aborted = set(uncommitted) - set(committed)
    result.aborted_records = len(aborted)
    result.aborted_reads = sorted(aborted.intersection(seen_during))
    return result


def misordered(read: Iterable[tuple[str, str]], deliveries: Iterable[Seen]) -> list[str]:
    """Deliveries that a reader of one deliver partition meets out of input order: for each
    notice type (one input partition each, in ``read``'s order of (notice id, type)), the
    notices must come in the order they were read in. Types interleave freely."""
    position = {notice: (kind, index) for index, (notice, kind) in enumerate(read)}
    last: dict[tuple[str, int, str], tuple[int, Seen]] = {}
    found = []
    for seen in sorted(deliveries, key=lambda seen: seen.where):
        notice = seen.pair[0]
        if notice not in position:
            continue
        kind, index = position[notice]
        topic, partition, _ = seen.where
        before = last.get((topic, partition, kind))
        if before is not None and before[0] >= index:
            found.append(f"{notice} at {seen.where} after {before[1].pair[0]}")
        last[topic, partition, kind] = (index, seen)
    return found


def embargo_breaches(
    not_before: Mapping[str, dt.datetime],
    deliveries: Iterable[Seen],
    expected: Mapping[Pair, Expected],
    *,
    within: dt.timedelta,
) -> tuple[list[str], list[str]]:
    """(early, late): deliveries of an embargoed notice sent before its not_before, and the
    embargoed notices entitled to a delivery that did not get one ``within`` after it. A
    delivery's time is its record's timestamp, in whole milliseconds, so it counts as early
    only if it is before not_before's millisecond."""
    sent: defaultdict[Pair, list[Seen]] = defaultdict(list)
    for seen in deliveries:
        if seen.pair[0] in not_before:
            sent[seen.pair].append(seen)
    early, late = [], []
    for pair, want in expected.items():
        release = not_before.get(pair[0])
        if release is None or want.outcome not in DELIVERED:
            continue
        due = release.replace(microsecond=release.microsecond // 1000 * 1000)
        for seen in sent[pair]:
            if seen.at is None or seen.at < due:
                early.append(f"{pair} at {seen.where}: sent {seen.at}, not before {release}")
        if not any(seen.at is not None and seen.at - release <= within for seen in sent[pair]):
            times = [str(seen.at) for seen in sent[pair]]
            late.append(f"{pair}: due {release}, sent {times or 'never'}")
    return early, late
