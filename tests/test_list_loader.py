"""List snapshots through the real broker: v1, then v2 with one entry added, one changed and
one removed, emits exactly ALERT, UPDATE and CANCEL; loading v2 again emits nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adapters.registry import AdapterRegistry
from adapters.un_sc import UnScAdapter
from broker import models as m
from broker.list_loader import ListLoader
from broker.settings import Settings
from broker.topics import TopicNames
from tests.conftest import FIXTURES
from tests.kafka_helpers import SERDE, read_records

pytestmark = pytest.mark.kafka

UN_LIST = FIXTURES / "sanctions" / "un_sc_consolidated_2020-03-20_excerpt.xml"
FORMAT = "un-sc-consolidated-xml"
_INDIVIDUAL = re.compile(rb"<INDIVIDUAL>.*?</INDIVIDUAL>", re.DOTALL)
_REFERENCE = re.compile(rb"<REFERENCE_NUMBER>\s*(.*?)\s*</REFERENCE_NUMBER>")


def reference(block: bytes) -> str:
    found = _REFERENCE.search(block)
    assert found is not None
    return found[1].decode()


def second_snapshot(first: bytes) -> tuple[bytes, dict[str, str]]:
    """v1 with its first individual delisted, its second renamed, a new one listed."""
    removed, changed, template = _INDIVIDUAL.findall(first)[:3]
    added = template.replace(reference(template).encode(), b"KPi.999")
    renamed = changed.replace(b"</SECOND_NAME>", b" JR</SECOND_NAME>", 1)
    second = (
        first.replace(removed, b"").replace(changed, renamed).replace(template, template + added)
    )
    return second, {
        "removed": reference(removed),
        "changed": reference(changed),
        "added": "KPi.999",
    }


def loader(settings: Settings) -> ListLoader:
    return ListLoader(
        settings,
        registry=AdapterRegistry([UnScAdapter()]),
        serde=SERDE,
        agency="un",
        fmt=FORMAT,
        batch_size=20,
    )


async def test_snapshots_become_alert_update_cancel(settings: Settings, tmp_path: Path) -> None:
    first = UN_LIST.read_bytes()
    second, refs = second_snapshot(first)
    v2 = tmp_path / "v2.xml"
    v2.write_bytes(second)

    report = await loader(settings).load(UN_LIST)
    listed = report.alerts
    assert (listed, report.updates, report.cancels) == (85, 0, 0)

    report = await loader(settings).load(v2)
    assert (report.alerts, report.updates, report.cancels) == (1, 1, 1)
    assert report.unchanged == listed - 2

    again = await loader(settings).load(v2)
    assert again.published == 0 and again.unchanged == listed

    topic = TopicNames(settings.topic_prefix).notices(m.NoticeType.FREEZE_ORDER)
    records = await read_records(settings, topic, listed + 3)
    notices = [SERDE.decode(r.value or b"") for r in records]
    assert len(notices) == listed + 3
    latest = {n.notice_id: n for n in sorted(notices, key=lambda n: n.version)}
    by_reference = {
        n.body.listing_reference: n for n in latest.values() if isinstance(n.body, m.FreezeOrder)
    }
    cancel = by_reference[refs["removed"]]
    assert (cancel.msg_type, cancel.version) == (m.MsgType.CANCEL, 2)
    assert cancel.references == [m.NoticeReference(notice_id=cancel.notice_id, version=1)]
    update = by_reference[refs["changed"]]
    assert (update.msg_type, update.version) == (m.MsgType.UPDATE, 2)
    assert isinstance(update.body, m.FreezeOrder)
    assert update.body.subject.names[0].full_name.endswith("JR")
    alert = by_reference["KPi.999"]
    assert (alert.msg_type, alert.version) == (m.MsgType.ALERT, 1)


async def test_a_broken_file_publishes_what_it_read_and_delists_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    await loader(settings).load(UN_LIST)
    truncated = tmp_path / "truncated.xml"
    truncated.write_bytes(UN_LIST.read_bytes()[:20_000])
    with pytest.raises(Exception) as failure:
        await loader(settings).load(truncated)
    assert "line" in str(failure.value)
    rerun = await loader(settings).load(UN_LIST)
    assert rerun.published == 0
