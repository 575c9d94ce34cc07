"""The chaos report's lines (``ops.chaos.report``), pure: a row that stopped before its verdict
must read as a failure with nothing counted, not as a clean row of zeros."""

from __future__ import annotations

from pathlib import Path

from ops.chaos.campaign import CampaignConfig, CampaignReport
from ops.chaos.report import HEADERS, cells, findings, markdown
from ops.chaos.run import RowResult
from ops.chaos.tally import Tally


def _report(*rows: RowResult) -> CampaignReport:
    config = CampaignConfig(rows=[r.row for r in rows], notices=100, seed=1, workdir=Path("."))
    machine = {
        "cpu_count": 2,
        "cpu_model": "test",
        "python": "3.11",
        "aiokafka": "0.14.0",
        "kafka": "4.1.1",
        "load_average_at_start": [0.0, 0.0, 0.0],
    }
    return CampaignReport(config, machine, "start", list(rows), finished="end")


def test_a_row_that_stopped_shows_no_counts_and_fails_the_campaign() -> None:
    broken = RowResult.broken("5", "3 nodes", 100, "ChaosError: the run stalled", 12.0)
    report = _report(broken)

    assert cells(broken) == ["5", "3 nodes", *["-"] * (len(HEADERS) - 3), "ERROR"]
    assert not report.ok
    assert findings(report) == ["row 5: stopped before its verdict: ChaosError: the run stalled"]
    assert "| 5 | rolling clean bounce; one partition, order kept | 3 nodes | - |" in markdown(
        report, command="notices chaos"
    )


def test_a_finished_row_shows_its_counts() -> None:
    clean = RowResult(
        "12", "single node", 40, Tally(100, dead_letters=40, poison=40), [0.5], True, [], 3.0
    )

    assert cells(clean)[-1] == "pass"
    assert cells(clean)[3] == "100"
    assert _report(clean).ok
