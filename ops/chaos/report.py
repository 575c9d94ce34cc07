"""The chaos report: one line per fault row, as a terminal table, Markdown and JSON. Pure."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ops.chaos.campaign import CampaignReport
from ops.chaos.denials import ALLOWED, format_cell
from ops.chaos.rows import ROWS
from ops.chaos.run import RowResult

HEADERS = [
    "row",
    "brokers",
    "injections",
    "notices",
    "lost",
    "duplicated",
    "leaked",
    "aborted reads",
    "audit",
    "aborted records seen",
    "longest recovery",
    "verdict",
]
"""The terminal's columns; the Markdown table adds each row's fault after its number."""


def cells(result: RowResult) -> list[str]:
    """A row's line; one that stopped before its verdict shows no counts, as none were made."""
    tally = result.tally
    if result.error is not None:
        return [result.row, result.brokers, *["-"] * (len(HEADERS) - 3), "ERROR"]
    audit = "ok" if result.audit_chain_ok and not tally.audit_faults else "FAULTS"
    return [
        result.row,
        result.brokers,
        str(result.injections),
        f"{tally.notices:,}",
        str(len(tally.lost)),
        str(len(tally.duplicated)),
        str(len(tally.leaked)),
        str(len(tally.aborted_reads)),
        audit,
        f"{tally.aborted_records:,}",
        f"{result.longest_recovery:.1f} s",
        "pass" if result.ok else "FAIL",
    ]


def denial_summary(report: CampaignReport) -> str:
    cells = report.denials
    refused = sum(cell.ok and cell.expected != ALLOWED for cell in cells)
    controls = sum(cell.ok and cell.expected == ALLOWED for cell in cells)
    wanted = sum(cell.expected != ALLOWED for cell in cells)
    return (
        f"Denial matrix: {refused} of {wanted} forbidden actions refused with the exact error, "
        f"{controls} of {len(cells) - wanted} granted actions allowed."
    )


def findings(report: CampaignReport) -> list[str]:
    """Why each failed row (or denial cell) failed, one line per reason."""
    lines = [f"denial matrix: {format_cell(cell)}" for cell in report.denials if not cell.ok]
    for result in report.rows:
        reasons = [*result.tally.faults(), *result.audit_chain_faults, *result.notes]
        if result.error is not None:
            reasons.append(f"stopped before its verdict: {result.error}")
        if result.longest_recovery > 60:
            reasons.append(f"recovery took {result.longest_recovery:.0f} s")
        lines += [f"row {result.row}: {reason}" for reason in reasons]
    return lines


def _with_title(row: list[str]) -> list[str]:
    return [row[0], ROWS[row[0]].title, *row[1:]]


def markdown(report: CampaignReport, *, command: str) -> str:
    machine = report.machine
    lines = [
        f"`{command}`, {report.started} to {report.finished}; {machine['cpu_count']} CPUs "
        f"({machine['cpu_model']}), Python {machine['python']}, aiokafka {machine['aiokafka']}, "
        f"Apache Kafka {machine['kafka']}, load average at start "
        f"{', '.join(map(str, machine['load_average_at_start']))}.",
        "",
        "| " + " | ".join(["row", "fault", *HEADERS[1:]]) + " |",
        "|" + "---|" * (len(HEADERS) + 1),
        *("| " + " | ".join(_with_title(cells(result))) + " |" for result in report.rows),
        "",
    ]
    if report.denials:
        lines += [denial_summary(report), ""]
    found = findings(report)
    if found:
        lines += ["Findings:", "", *(f"- {line}" for line in found), ""]
    return "\n".join(lines)


def as_json(report: CampaignReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "started": report.started,
        "finished": report.finished,
        "machine": report.machine,
        "config": {
            "rows": report.config.rows,
            "notices": report.config.notices,
            "seed": report.config.seed,
        },
        "rows": [
            {
                "row": result.row,
                "title": ROWS[result.row].title,
                "brokers": result.brokers,
                "ok": result.ok,
                "injections": result.injections,
                "notices": result.tally.notices,
                "lost": len(result.tally.lost),
                "duplicated": len(result.tally.duplicated),
                "leaked": len(result.tally.leaked),
                "aborted_reads": len(result.tally.aborted_reads),
                "aborted_records_seen": result.tally.aborted_records,
                "audit_faults": len(result.tally.audit_faults),
                "audit_chain_ok": result.audit_chain_ok,
                "dead_letters": result.tally.dead_letters,
                "poison": result.tally.poison,
                "recoveries_s": [round(seconds, 2) for seconds in result.recoveries],
                "seconds": round(result.seconds, 1),
                "faults": result.tally.faults() + result.audit_chain_faults + result.notes,
                "error": result.error,
                "examples": {
                    key: value[:5]
                    for key, value in asdict(result.tally).items()
                    if isinstance(value, list)
                },
            }
            for result in report.rows
        ],
        "denials": [asdict(cell) for cell in report.denials],
    }
