"""The shipped Prometheus config and alert rules, checked by Prometheus' own promtool.

promtool and prometheus come from Debian's ``prometheus`` package, which ops/bootstrap.sh
installs; a machine without them fails here with what to do, never skips.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PROMETHEUS_DIR = REPO_ROOT / "ops" / "prometheus"
CONFIG = PROMETHEUS_DIR / "prometheus.yml"
ALERTS = PROMETHEUS_DIR / "alerts.yml"
ALERTS_TEST = PROMETHEUS_DIR / "alerts_test.yml"


def prometheus_tool(name: str) -> str:
    """The path of ``prometheus`` or ``promtool``."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not on PATH: run `bash ops/bootstrap.sh`, which installs Debian's "
            "prometheus package (or `apt-get install prometheus`)",
            pytrace=False,
        )
    return path


def promtool(*args: str, cwd: Path = PROMETHEUS_DIR) -> str:
    result = subprocess.run(
        [prometheus_tool("promtool"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def test_the_scrape_config_and_the_rules_it_loads_are_valid() -> None:
    output = promtool("check", "config", str(CONFIG))
    assert "1 rule files found" in output


def test_the_alert_rules_are_valid() -> None:
    output = promtool("check", "rules", str(ALERTS))
    assert "SUCCESS: 8 rules found" in output


def test_the_alert_rules_fire_when_and_only_when_they_should() -> None:
    promtool("test", "rules", str(ALERTS_TEST))
