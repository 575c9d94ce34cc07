"""The official Apache Kafka broker jars, fetched from Maven Central with Maven, cached once.

The cache lives in the user's cache folder (``$NOTICES_CACHE_DIR`` or the XDG cache), so git
and wheels never carry the jars; ``kafka/pom.xml`` names what is fetched, with the SLF4J
binding that makes the broker's log visible.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from broker.errors import KafkaFetchError, LocalKafkaError
from ops.processes import require_tool

KAFKA_VERSION = "4.1.1"

POM = Path(__file__).resolve().parent / "kafka" / "pom.xml"
_MARKER = ".fetch-complete"
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def default_cache_dir() -> Path:
    """Jars and run folders live in the user's cache so that git and wheels never carry them."""
    if explicit := os.environ.get("NOTICES_CACHE_DIR"):
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "notice-broker"


def fetch_kafka(version: str = KAFKA_VERSION, cache_dir: Path | None = None) -> Path:
    """Return a folder holding every runtime jar of the broker, fetching it once per version.

    Maven copies into a temporary sibling folder and the finished folder is renamed into
    place, marker included, so an interrupted or failed fetch never looks like a cache hit.
    """
    libs = (cache_dir or default_cache_dir()) / f"kafka-{version}" / "libs"
    if (libs / _MARKER).is_file():
        return libs
    mvn = require_tool(
        "mvn",
        "Maven 3 and a JDK 17+ (e.g. `apt-get install maven openjdk-17-jdk`)",
        needed_by="the local Kafka broker",
        error=LocalKafkaError,
    )
    libs.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".libs-", dir=libs.parent) as tmp:
        staging = Path(tmp) / "libs"
        _copy_dependencies(mvn, version, staging)
        (staging / _MARKER).write_text(f"Apache Kafka {version} from Maven Central\n")
        _move_into_place(staging, libs)
    return libs


def _copy_dependencies(mvn: str, version: str, target: Path) -> None:
    """``-U`` because Maven otherwise remembers a failed download (a network hiccup, a typo in
    the version) and refuses to retry it for a day."""
    command = [
        mvn,
        "-q",
        "-B",
        "-U",
        "-f",
        str(POM),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={target}",
        "-DincludeScope=runtime",
        f"-Dkafka.version={version}",
    ]
    result = subprocess.run(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
    )
    if result.returncode != 0 or not any(target.glob("kafka_2.13-*.jar")):
        output = _ANSI_ESCAPE.sub("", result.stdout).strip()
        raise KafkaFetchError(version, output or f"exit code {result.returncode}")


def _move_into_place(staging: Path, libs: Path) -> None:
    """A folder left without a marker by hand or by an older layout is replaced, not trusted.

    If another process finished the same fetch first, its copy is as good as ours.
    """
    if libs.exists() and not (libs / _MARKER).is_file():
        shutil.rmtree(libs)
    try:
        staging.rename(libs)
    except OSError:
        if not (libs / _MARKER).is_file():
            raise
