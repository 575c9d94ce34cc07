"""The real schema registry the registry tests talk to, started once per session.

SCHEMA_REGISTRY_URL names an existing registry (any with the Confluent REST API), as
KAFKA_BOOTSTRAP_SERVERS names a cluster; otherwise ops/ starts Apicurio Registry, fetching it
into the cache first on the first run (a line on the terminal says so: it is 142 MB). A
registry that does not start fails the run with its own log lines: never a skip, never a fake.

Test modules import the fixtures they use from here (``from tests.registry_fixtures import
registry_url``); conftest.py stays the Kafka fixtures' home.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from broker.errors import LocalRegistryError
from broker.registry_client import SchemaRegistryClient
from ops.registry import LocalRegistry, start_registry


def _announcer(config: pytest.Config) -> Callable[[str], None]:
    """Past pytest's output capture, so a first run's long download does not look hung."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")

    def announce(line: str) -> None:
        if reporter is not None:
            reporter.write_line(f"[schema registry] {line}")

    return announce


def start_apicurio(data_dir: Path, config: pytest.Config) -> LocalRegistry:
    """A registry of the test's own, or the run fails with the registry's log."""
    try:
        return start_registry(data_dir, announce=_announcer(config))
    except LocalRegistryError as exc:
        pytest.fail(f"the test schema registry did not start:\n{exc}", pytrace=False)


_STARTED = pytest.StashKey[LocalRegistry]()


@pytest.fixture(scope="session")
def registry_url(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> str:
    """Each module that imports this fixture gets a definition of its own, and pytest would
    start one registry per definition; the session's stash keeps it to one, stopped when
    the session ends."""
    if url := os.environ.get("SCHEMA_REGISTRY_URL"):
        return url
    registry = pytestconfig.stash.get(_STARTED, None)
    if registry is None:
        registry = start_apicurio(tmp_path_factory.mktemp("registry"), pytestconfig)
        pytestconfig.stash[_STARTED] = registry
        pytestconfig.add_cleanup(registry.stop)
    return registry.url


@pytest.fixture
def registry_client(registry_url: str) -> Iterator[SchemaRegistryClient]:
    with SchemaRegistryClient(registry_url) as client:
        yield client


@pytest.fixture
def topic_prefix() -> str:
    """Subjects live as long as the registry: a prefix of its own keeps each test's apart."""
    return f"t{uuid.uuid4().hex[:10]}."
