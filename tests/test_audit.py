"""The audit chain: every alteration, removal or reordering is found and placed."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest

from broker import audit

DECIDED = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)


def chain(length: int, name: str = "notices.wanted-person/0") -> list[tuple[str, bytes]]:
    head = audit.ChainHead()
    records = []
    for seq in range(length):
        value, head = audit.append(
            head,
            name,
            decided_at=DECIDED,
            notice_id=f"n-{seq}",
            version=1,
            msg_type="ALERT",
            notice_type="WANTED_PERSON",
            originator="fr-pj",
            recipient="de-bka",
            outcome="DELIVER",
            rules=["tlp-amber"],
            redacted=[],
            delivered_sha256=None,
            source=f"notices.wanted-person[0]@{seq}",
        )
        records.append((f"audit[0]@{seq}", value))
    return records


def test_an_intact_trail_verifies() -> None:
    report = audit.verify([*chain(5), *chain(3, "notices.freeze-order/2")])
    assert report.ok and report.records == 8 and report.chains == 2


def test_an_altered_record_is_found_where_it_is() -> None:
    records = chain(5)
    where, value = records[2]
    tampered = orjson.loads(value)
    tampered["outcome"] = "WITHHOLD"
    records[2] = (where, orjson.dumps(tampered))
    faults = audit.verify(records).faults
    assert [(f.where, f.problem) for f in faults] == [
        ("audit[0]@2", "record seq 2 was altered (hash differs)")
    ]


def test_a_removed_record_is_a_gap() -> None:
    records = chain(5)
    del records[2]
    faults = audit.verify(records).faults
    assert [f.where for f in faults] == ["audit[0]@3"]
    assert "seq 2 missing before seq 3" in faults[0].problem


@pytest.mark.parametrize("first, second", [(1, 2), (0, 4)])
def test_reordered_records_are_found(first: int, second: int) -> None:
    records = chain(5)
    records[first], records[second] = records[second], records[first]
    assert not audit.verify(records).ok


def test_a_record_rewritten_with_a_fresh_hash_breaks_the_next_link() -> None:
    records = chain(4)
    where, value = records[1]
    forged = orjson.loads(value)
    forged["recipient"] = "us-fbi"
    forged["hash"] = audit.record_hash({k: v for k, v in forged.items() if k != "hash"})
    records[1] = (where, orjson.dumps(forged))
    faults = audit.verify(records).faults
    assert [f.where for f in faults] == ["audit[0]@2"]
    assert "does not link" in faults[0].problem


def test_garbage_is_reported_not_raised() -> None:
    faults = audit.verify([("audit[0]@0", b"not json")]).faults
    assert faults and "not an audit record" in faults[0].problem
