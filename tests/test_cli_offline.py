"""The offline commands: translate, formats and explain, as a person runs them (no Kafka)."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from broker.cli import app
from broker.models import NoticeEnvelope
from tests.conftest import FIXTURES, REPO_ROOT
from tests.samples import sample_notice

runner = CliRunner()
UN_LIST = FIXTURES / "sanctions" / "un_sc_consolidated_2020-03-20_excerpt.xml"
POLICY = REPO_ROOT / "examples" / "policy" / "policy.yml"


def test_formats_lists_every_installed_adapter() -> None:
    result = runner.invoke(app, ["formats"])
    assert result.exit_code == 0
    for fmt in ("interpol-notice-json", "un-sc-consolidated-xml", "stix2-json", "cap-1.2-xml"):
        assert fmt in result.stdout


def test_translate_detects_the_format_and_prints_one_notice_per_line() -> None:
    result = runner.invoke(app, ["translate", str(UN_LIST)])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 85
    first = NoticeEnvelope.model_validate(orjson.loads(lines[0]))
    assert first.source.format == "un-sc-consolidated-xml"
    assert "85 notices" in result.stderr


def test_translate_prints_what_it_read_and_where_it_failed(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_bytes(UN_LIST.read_bytes()[:30_000])
    result = runner.invoke(app, ["translate", str(broken), "--format", "un-sc-consolidated-xml"])
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) > 0
    assert f"{broken}: at line " in result.stderr


def test_translate_exits_non_zero_only_when_nothing_could_be_read(tmp_path: Path) -> None:
    empty = tmp_path / "nothing.json"
    empty.write_text("{")
    result = runner.invoke(app, ["translate", str(empty), "--format", "fbi-wanted-json"])
    assert result.exit_code == 1
    assert "at line 1 column 2" in result.stderr
    unknown = runner.invoke(app, ["translate", str(empty)])
    assert unknown.exit_code == 2
    assert "cannot tell the format" in unknown.stderr


def test_explain_shows_each_recipient_and_the_rules(tmp_path: Path) -> None:
    notice = tmp_path / "notice.json"
    notice.write_text(sample_notice().model_dump_json())
    result = runner.invoke(app, ["explain", str(notice), "--policy", str(POLICY)])
    assert result.exit_code == 0, result.stderr
    assert "de-bka" in result.stdout and "us-fbi" in result.stdout
    assert "tlp-amber" in result.stdout


def test_explain_refuses_a_bad_policy_naming_the_file_and_entry(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yml"
    bad.write_text("recipients:\n  - agency_id: x\n    country: FR\n    clearance: SUPREME\n")
    notice = tmp_path / "notice.json"
    notice.write_text(sample_notice().model_dump_json())
    result = runner.invoke(app, ["explain", str(notice), "--policy", str(bad)])
    assert result.exit_code == 2
    assert str(bad) in result.stderr and "recipients[0]" in result.stderr
