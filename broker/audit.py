"""The audit trail of distribution decisions, as hash chains anyone can verify. Pure: no Kafka.

Every decision (who got which notice, who did not, and by which rules) becomes one audit
record that carries the hash of the record before it. Records are chained per input
partition of the distributor, the unit that exactly one distributor instance owns at a time,
so chains never interleave however many instances run; the chain id is the record's Kafka key,
which keeps a chain in one audit partition, in order.

Altering a record breaks its own hash, removing one leaves a gap in the sequence numbers, and
moving one breaks the links and the order: ``verify`` names each fault and where it is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

GENESIS = "0" * 64


class AuditRecord(BaseModel):
    """One decision, as written to notices.audit (JSON, so auditors need no Avro tooling)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    chain: str
    seq: int
    prev: str
    decided_at: dt.datetime
    notice_id: str
    version: int
    msg_type: str
    notice_type: str
    originator: str
    recipient: str
    outcome: str
    rules: list[str]
    redacted: list[str]
    delivered_sha256: str | None
    source: str
    """Where the decided notice was read: topic[partition]@offset."""
    hash: str

    def expected_hash(self) -> str:
        return record_hash(self.model_dump(mode="json", exclude={"hash"}))


def record_hash(fields: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces) of every field but the hash."""
    return hashlib.sha256(orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True)
class ChainHead:
    """Where a chain stands: the next sequence number and the hash to link to."""

    seq: int = 0
    hash: str = GENESIS

    def to_json(self) -> bytes:
        return orjson.dumps({"seq": self.seq, "hash": self.hash})

    @classmethod
    def from_json(cls, data: bytes) -> ChainHead:
        raw = orjson.loads(data)
        return cls(seq=int(raw["seq"]), hash=str(raw["hash"]))


def append(head: ChainHead, chain: str, **decision: Any) -> tuple[bytes, ChainHead]:
    """The next record of ``chain`` for ``decision`` as written to notices.audit, and the
    head after it.

    Validated and dumped once (performance, issue #7): at 50 recipients building each
    record twice over was the largest part of a notice's distribution. The hash covers the
    same JSON form the record is written in, so ``expected_hash`` agrees with it on reading.
    """
    fields = {"chain": chain, "seq": head.seq, "prev": head.hash, **decision}
    dumped = AuditRecord.model_validate({**fields, "hash": GENESIS}).model_dump(mode="json")
    del dumped["hash"]
    digest = record_hash(dumped)
    dumped["hash"] = digest
    return orjson.dumps(dumped, option=orjson.OPT_SORT_KEYS), ChainHead(head.seq + 1, digest)


@dataclass(frozen=True)
class ChainFault:
    """One thing wrong with the trail, placed where an auditor can look it up."""

    where: str
    chain: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: chain {self.chain!r}: {self.problem}"


@dataclass(frozen=True)
class VerifyReport:
    records: int
    chains: int
    faults: list[ChainFault]

    @property
    def ok(self) -> bool:
        return not self.faults


def verify(records: Iterable[tuple[str, bytes | None]]) -> VerifyReport:
    """Check every chain in ``records`` (location, value) given in log order."""
    heads: dict[str, ChainHead] = {}
    faults: list[ChainFault] = []
    count = 0
    for where, value in records:
        count += 1
        faults.extend(_check(where, value, heads))
    return VerifyReport(records=count, chains=len(heads), faults=faults)


def _check(where: str, value: bytes | None, heads: dict[str, ChainHead]) -> Iterator[ChainFault]:
    try:
        record = AuditRecord.model_validate(orjson.loads(value or b""))
    except (orjson.JSONDecodeError, ValidationError) as exc:
        yield ChainFault(where, "?", f"not an audit record: {exc}")
        return
    head = heads.get(record.chain, ChainHead())
    if record.expected_hash() != record.hash:
        yield ChainFault(where, record.chain, f"record seq {record.seq} was altered (hash differs)")
    if record.seq > head.seq:
        missing = (
            f"seq {head.seq}"
            if record.seq == head.seq + 1
            else f"seqs {head.seq}..{record.seq - 1}"
        )
        yield ChainFault(
            where, record.chain, f"{missing} missing before seq {record.seq} (removed)"
        )
    elif record.seq < head.seq:
        yield ChainFault(
            where,
            record.chain,
            f"seq {record.seq} after seq {head.seq - 1} (reordered or replayed)",
        )
    if record.seq == head.seq and record.prev != head.hash:
        yield ChainFault(
            where, record.chain, f"seq {record.seq} does not link to the record before"
        )
    heads[record.chain] = ChainHead(record.seq + 1, record.hash)
