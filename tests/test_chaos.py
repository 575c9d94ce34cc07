"""`notices chaos --quick`, whole: the services as processes, real brokers, real faults.

Issue 9's quick run: 10,000 notices per fault row, rows 1, 3, 4 (one node and three), 10 and
12, each injected at least five times, with nothing lost, duplicated, leaked or read from an
aborted transaction, every decision audited once, the audit chain whole, and processing back
within 60 s of each fault. It starts its own single-node broker and 3-node cluster from the
same jars as the session's broker, so it needs no fixture.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from ops.chaos.rows import QUICK

pytestmark = [pytest.mark.slow]

AT_LEAST = 5


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("chaos")
    report = folder / "report.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "broker.cli",
            "chaos",
            "--quick",
            "--out",
            str(report),
            "--keep",
            str(folder / "run"),
        ],
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    print(done.stdout[-5000:], done.stderr[-5000:])
    assert report.is_file(), f"no report (exit {done.returncode}):\n{done.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(report.read_text())
    result["exit_code"] = done.returncode
    return result


def rows(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["row"]: row for row in report["rows"]}


def test_every_quick_row_ran_on_ten_thousand_notices(quick_run: dict[str, Any]) -> None:
    assert list(rows(quick_run)) == QUICK
    assert {row["notices"] for row in quick_run["rows"]} == {10_000}


@pytest.mark.parametrize("row", QUICK)
def test_nothing_lost_duplicated_leaked_or_read_from_an_aborted_transaction(
    quick_run: dict[str, Any], row: str
) -> None:
    result = rows(quick_run)[row]
    assert result["faults"] == []
    assert (result["lost"], result["duplicated"], result["leaked"]) == (0, 0, 0)
    assert result["aborted_reads"] == 0
    assert result["audit_faults"] == 0 and result["audit_chain_ok"]
    assert result["dead_letters"] == result["poison"]
    assert max(result["recoveries_s"], default=0) <= 60
    assert result["ok"]


@pytest.mark.parametrize("row", ["1", "3", "4", "4c", "10", "12"])
def test_each_fault_was_injected_at_least_five_times(quick_run: dict[str, Any], row: str) -> None:
    assert rows(quick_run)[row]["injections"] >= AT_LEAST


def test_the_application_aborts_really_aborted(quick_run: dict[str, Any]) -> None:
    """The read_uncommitted reader saw records the committed readers never did."""
    assert rows(quick_run)["3"]["aborted_records_seen"] > 0


def test_the_command_passed_as_a_whole(quick_run: dict[str, Any]) -> None:
    assert quick_run["ok"]
    assert quick_run["exit_code"] == 0


def test_the_report_names_the_machine(quick_run: dict[str, Any]) -> None:
    machine = quick_run["machine"]
    assert machine["cpu_count"] and machine["kafka"] and machine["date"]
