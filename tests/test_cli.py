"""The `notices` command as a person uses it: help, clear errors, and the demo end to end."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from broker.cli import app
from tests.conftest import REPO_ROOT

runner = CliRunner()


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("kafka", "topics", "ingest", "publish", "subscribe", "demo"):
        assert command in result.output


def test_publishing_a_missing_file_is_a_one_line_error() -> None:
    result = runner.invoke(
        app, ["publish", "no/such.json", "--agency", "interpol", "--format", "interpol-notice-json"]
    )
    assert result.exit_code == 2
    assert "no such file: no/such.json" in result.output
    assert "Traceback" not in result.output


def test_an_unreachable_broker_is_named_without_a_traceback() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = runner.invoke(
        app, ["topics", "create"], env={"KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{port}"}
    )
    assert result.exit_code == 1
    assert f"cannot reach Kafka at 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output


@pytest.mark.kafka
def test_demo_shows_the_received_notices_and_the_dead_letter(
    kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        app,
        ["demo", "--examples", str(REPO_ROOT / "examples" / "interpol")],
        env={"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap},
    )
    assert result.exit_code == 0, result.output
    assert "6 notices received by the subscriber of de-bka" in result.output
    assert "de-bka 6" in result.output  # public INTERPOL notices reach every agency
    assert "audit trail: 42 decisions in" in result.output and "intact" in result.output
    assert "1 payload(s) sent to the dead-letter topic" in result.output
    received = (tmp_path / "var" / "demo" / "received.jsonl").read_text().splitlines()
    assert len(received) == 6
