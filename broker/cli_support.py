"""What every ``notices`` command shares: the consoles, settings, and one-line errors.

User errors (a broker that is not running, a file that does not exist, a bad setting) end
with one clear line and exit code 1 or 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from aiokafka.errors import KafkaConnectionError, KafkaError
from pydantic import ValidationError
from rich.console import Console

from broker.errors import NoticeBrokerError
from broker.policy.profiles import Policy, load_policy
from broker.settings import Settings

console = Console()
err_console = Console(stderr=True)

PolicyOption = Annotated[
    Path,
    typer.Option(
        "--policy",
        envvar="NOTICES_POLICY_FILE",
        help="Sharing policy (recipient profiles and groups), YAML or JSON.",
    ),
]
DEFAULT_POLICY = Path("examples/policy/policy.yml")


def settings_from_env() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        err_console.print(f"[red]invalid settings in the environment:[/red]\n{exc}")
        raise typer.Exit(2) from None


def policy_from(path: Path) -> Policy:
    """The policy, or exit 2 naming the file, the entry and the problem: never start on it."""
    with errors_as_one_line(code=2):
        return load_policy(path)


@contextlib.contextmanager
def errors_as_one_line(code: int = 1) -> Iterator[None]:
    """The broker's, Kafka's and the OS's errors end the command with one line."""
    try:
        yield
    except (NoticeBrokerError, KafkaError, OSError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code) from None


def run(coro: Coroutine[Any, Any, None], settings: Settings) -> None:
    """Run a coroutine; an unreachable cluster is named, with what to do about it."""
    with errors_as_one_line():
        try:
            asyncio.run(coro)
        except KafkaConnectionError:
            err_console.print(
                f"[red]error:[/red] cannot reach Kafka at {settings.bootstrap_servers}; start one "
                "with `notices kafka up` or set KAFKA_BOOTSTRAP_SERVERS"
            )
            raise typer.Exit(1) from None
