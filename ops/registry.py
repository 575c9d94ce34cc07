"""A real schema registry for development and tests, without Docker: Apicurio Registry.

No Confluent-compatible registry installs from PyPI, and Confluent's own is not on Maven
Central; Apicurio Registry 2.6 is, as one tar.gz that runs on Java 17 (3.x needs Java 21). It
serves the Confluent REST API at ``/apis/ccompat/v7``, which is all the hub and
confluent-kafka's serializers use, and keeps its schemas in memory: a registry started here
forgets everything when it stops, which suits tests and demos and nothing else.

Maven fetches and unpacks the distribution once into the same cache as the Kafka jars
(``ops.kafka_jars.default_cache_dir``); the registry then runs as a plain ``java -jar``
process on 127.0.0.1, in its own session, with a state file so that ``notices registry
down`` in another process finds it, as ``ops.local_kafka`` does for the broker.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from broker.errors import LocalRegistryError, RegistryStartError
from ops.kafka_jars import default_cache_dir
from ops.processes import (
    POLL_SECONDS,
    is_our_process,
    log_tail,
    pick_ports,
    require_tool,
    stop_process,
)

APICURIO_VERSION = "2.6.13.Final"
APICURIO_SIZE = "142 MB"
CCOMPAT_PATH = "/apis/ccompat/v7"

POM = Path(__file__).resolve().parent / "registry" / "pom.xml"
_MARKER = ".fetch-complete"
_STATE_FILE = "registry.json"
_LOG_FILE = "registry.log"
_DIR_PROPERTY = "notices.registry.dir"
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
_PROBE_TIMEOUT = 2.0
_TAIL_LINES = 60


def _runner(version: str) -> str:
    return f"apicurio-registry-app-{version}-runner.jar"


def default_data_dir(cache_dir: Path | None = None) -> Path:
    """One well-known place lets ``up`` and ``down`` run as separate CLI invocations."""
    return (cache_dir or default_cache_dir()) / "run" / "registry"


def registry_home(version: str = APICURIO_VERSION, cache_dir: Path | None = None) -> Path:
    return (cache_dir or default_cache_dir()) / f"apicurio-registry-{version}"


def fetch_registry(
    version: str = APICURIO_VERSION,
    cache_dir: Path | None = None,
    *,
    announce: Callable[[str], None] = lambda _: None,
) -> Path:
    """Return the folder holding the registry's runner jar and lib/, fetching it once.

    ``announce`` hears one line before a download starts, since the first one takes a while.
    Maven unpacks into a temporary sibling folder that is renamed into place, marker
    included, so an interrupted fetch never looks like a cache hit.
    """
    home = registry_home(version, cache_dir)
    if (home / _MARKER).is_file():
        return home
    mvn = require_tool(
        "mvn",
        "Maven 3 and a JDK 17+ (e.g. `apt-get install maven openjdk-17-jdk`)",
        needed_by="the local schema registry",
        error=LocalRegistryError,
    )
    announce(
        f"fetching Apicurio Registry {version} ({APICURIO_SIZE}) from Maven Central into {home}"
    )
    home.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".apicurio-", dir=home.parent) as tmp:
        staging = Path(tmp) / "home"
        _unpack(mvn, version, staging)
        (staging / _MARKER).write_text(f"Apicurio Registry {version} from Maven Central\n")
        if home.exists() and not (home / _MARKER).is_file():  # a fetch interrupted by hand
            shutil.rmtree(home)
        with contextlib.suppress(OSError):  # another process may have finished first
            staging.rename(home)
    if not (home / _MARKER).is_file():
        raise LocalRegistryError(f"Apicurio Registry {version} did not land in {home}")
    return home


def _unpack(mvn: str, version: str, target: Path) -> None:
    """``-U`` because Maven otherwise remembers a failed download for a day. The plugin's
    "already unpacked" markers go beside ``target``: by default they would land in ops/ and
    make every later fetch skip the unpacking."""
    command = [
        mvn,
        "-q",
        "-B",
        "-U",
        "-f",
        str(POM),
        "dependency:unpack-dependencies",
        f"-DoutputDirectory={target}",
        f"-Dmarkers.directory={target.parent / 'markers'}",
        f"-Dapicurio.version={version}",
    ]
    result = subprocess.run(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
    )
    if result.returncode != 0 or not (target / _runner(version)).is_file():
        output = _ANSI_ESCAPE.sub("", result.stdout).strip() or f"exit code {result.returncode}"
        raise LocalRegistryError(
            f"Maven could not fetch Apicurio Registry {version} from Maven Central:\n{output}"
        )


@dataclass(frozen=True)
class LocalRegistry:
    """A registry started by :func:`start_registry`, or found again by :func:`load_running`.

    A handle found through the state file has no ``Popen`` object; it recognises its process
    by pid and by the data folder named on its command line.
    """

    data_dir: Path
    port: int
    management_port: int
    pid: int
    log_path: Path
    version: str = APICURIO_VERSION
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    @property
    def url(self) -> str:
        """The base of the Confluent-compatible API: the value of SCHEMA_REGISTRY_URL."""
        return f"http://127.0.0.1:{self.port}{CCOMPAT_PATH}"

    def log_tail(self, n: int = _TAIL_LINES) -> list[str]:
        return log_tail(self.log_path, n)

    def is_running(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return is_our_process(self.pid, os.fsencode(f"-D{_DIR_PROPERTY}={self.data_dir}"))

    def answers(self) -> bool:
        """Listening is not ready: the API answering a request is."""
        try:
            response = httpx2.get(f"{self.url}/subjects", timeout=_PROBE_TIMEOUT)
        except httpx2.TransportError:
            return False
        return response.status_code == 200

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM lets Quarkus shut down in order; SIGKILL only if it does not within
        ``timeout``. Its schemas are in memory and go with it either way."""
        stop_process(self.pid, self.is_running, timeout)
        (self.data_dir / _STATE_FILE).unlink(missing_ok=True)


def load_running(data_dir: Path) -> LocalRegistry | None:
    """Find the registry another process started in ``data_dir``, if it is still alive."""
    data_dir = data_dir.resolve()
    try:
        state = json.loads((data_dir / _STATE_FILE).read_text())
    except FileNotFoundError:
        return None
    registry = LocalRegistry(
        data_dir=data_dir,
        port=int(state["port"]),
        management_port=int(state["management_port"]),
        pid=int(state["pid"]),
        log_path=Path(state["log_path"]),
        version=str(state["version"]),
    )
    return registry if registry.is_running() else None


def start_registry(
    data_dir: Path,
    *,
    port: int | None = None,
    version: str = APICURIO_VERSION,
    heap: str = "384m",
    timeout: float = 90,
    announce: Callable[[str], None] = lambda _: None,
) -> LocalRegistry:
    """Start a registry on 127.0.0.1 (``port``, or a free one) and return once its API
    answers; fetch it first if the cache has none (``announce`` hears of that).

    The management port is set to a free one too: Quarkus would otherwise take 9000 whenever
    its management interface is enabled. If anything interrupts the start, the half-started
    registry is stopped.
    """
    java = require_tool(
        "java",
        "a Java 17+ runtime (e.g. `apt-get install openjdk-17-jre-headless`)",
        needed_by="the local schema registry",
        error=LocalRegistryError,
    )
    home = fetch_registry(version, announce=announce)
    data_dir = data_dir.resolve()
    if (running := load_running(data_dir)) is not None:
        raise LocalRegistryError(
            f"a registry (pid {running.pid}) already runs in {data_dir} at {running.url}; "
            "stop it first"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    http_port, management_port = pick_ports(port)
    log_path = data_dir / _LOG_FILE
    command = [
        java,
        f"-Xmx{heap}",
        f"-D{_DIR_PROPERTY}={data_dir}",
        "-Dquarkus.http.host=127.0.0.1",
        f"-Dquarkus.http.port={http_port}",
        "-Dquarkus.management.host=127.0.0.1",
        f"-Dquarkus.management.port={management_port}",
        "-jar",
        str(home / _runner(version)),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=data_dir,
            start_new_session=True,
        )
    registry = LocalRegistry(
        data_dir=data_dir,
        port=http_port,
        management_port=management_port,
        pid=process.pid,
        log_path=log_path,
        version=version,
        _process=process,
    )
    try:
        _write_state(registry)
        _wait_until_ready(registry, timeout)
    except BaseException:
        registry.stop()
        raise
    return registry


def _write_state(registry: LocalRegistry) -> None:
    state = {
        "pid": registry.pid,
        "port": registry.port,
        "management_port": registry.management_port,
        "url": registry.url,
        "version": registry.version,
        "log_path": str(registry.log_path),
    }
    partial = registry.data_dir / f"{_STATE_FILE}.partial"
    partial.write_text(json.dumps(state, indent=2) + "\n")
    partial.replace(registry.data_dir / _STATE_FILE)


def _wait_until_ready(registry: LocalRegistry, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not registry.answers():
        if not registry.is_running():
            code = registry._process.returncode if registry._process else None
            raise RegistryStartError(
                f"the registry exited with code {code} before answering",
                log_lines=registry.log_tail(),
            )
        if time.monotonic() >= deadline:
            raise RegistryStartError(
                f"no answer at {registry.url} within {timeout:g} s", log_lines=registry.log_tail()
            )
        time.sleep(POLL_SECONDS)
