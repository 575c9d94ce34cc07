"""What every ``notices`` command shares: the consoles, settings, logins and one-line errors.

User errors (a broker that is not running, a file that does not exist, a bad setting) end
with one clear line and exit code 1 or 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
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
from ops import local_kafka

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


def settings_for(user: str) -> Settings:
    """The environment's settings, or the local broker's login of ``user`` when they name none.

    Whoever sets a cluster or a login in the environment (KAFKA_BOOTSTRAP_SERVERS,
    NOTICES_SASL_USERNAME, ...) chose who the command runs as, and gets exactly that. With
    neither, and the broker of `notices kafka up` running in its default folder, the command
    logs in there from its credentials file as ``user``: each hub service as its own
    principal, an agency's command as the agency, administration as the hub. So no command
    run by hand holds more rights than its job needs.
    """
    settings = settings_from_env()
    if settings.sasl_login is not None or "bootstrap_servers" in settings.model_fields_set:
        return settings
    broker = local_kafka.load_running(local_kafka.default_data_dir())
    if broker is None:
        return settings
    with errors_as_one_line():
        return broker.client_settings(settings, user=user)


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


def write_markdown(path: Path, table: str, *, marker: str, title: str) -> None:
    """Replace the generated part of ``path`` (between ``<!-- marker:begin -->`` and
    ``<!-- marker:end -->``), keeping the prose around it, or write the file whole."""
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    generated = f"{begin}\n{table}{end}\n"
    if path.is_file():
        text = path.read_text()
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end) + r"\n?", re.DOTALL)
        if pattern.search(text):
            path.write_text(pattern.sub(lambda _: generated, text, count=1))
            return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# {title}\n\n{generated}")
