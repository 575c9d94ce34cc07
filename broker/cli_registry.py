"""``notices registry`` runs a local schema registry; ``notices schemas`` guards schema changes.

The registry is Apicurio Registry from Maven Central (``ops.registry``), for development and
tests; production points SCHEMA_REGISTRY_URL at its own registry. ``schemas check`` needs no
registry at all: it holds schemas/ to the compatibility mode the hub sets on its subjects,
against every release kept in schemas/released/, so CI refuses what a registry would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from fastavro.schema import SchemaParseException, UnknownType

from broker.cli_support import console, err_console, errors_as_one_line
from broker.errors import IncompatibleSchema
from broker.framing import COMPATIBILITY
from broker.schema_catalog import (
    RELEASE_SUFFIX,
    RELEASED_DIR,
    ParsedSchema,
    load_envelope_schema,
    load_releases,
    plain_schema,
)
from broker.schema_compat import check_full_transitive
from ops import registry

registry_app = typer.Typer(
    help="Run a local schema registry (Apicurio, Confluent-compatible API) from Maven Central."
)
schemas_app = typer.Typer(help="Check schema changes against the released schemas.")

DataDirOption = Annotated[
    Path | None,
    typer.Option(help="Registry run folder [default: <cache>/run/registry]."),
]
SchemasOption = Annotated[
    Path,
    typer.Option(help="Folder of the Avro schemas, with their releases in released/."),
]
_SCHEMAS = Path("schemas")


@registry_app.command("fetch")
def registry_fetch() -> None:
    """Download Apicurio Registry with Maven into the cache (done by `up` if needed)."""
    with (
        errors_as_one_line(),
        console.status(f"Fetching Apicurio Registry {registry.APICURIO_VERSION} with Maven..."),
    ):
        home = registry.fetch_registry()
    console.print(f"Apicurio Registry {registry.APICURIO_VERSION} in {home}")


@registry_app.command("up")
def registry_up(
    port: Annotated[int, typer.Option(help="HTTP port on 127.0.0.1.")] = 8081,
    data_dir: DataDirOption = None,
) -> None:
    """Start the registry in the background (schemas in memory) and wait until it answers."""
    folder = data_dir or registry.default_data_dir()
    if running := registry.load_running(folder):
        console.print(f"Registry already running at {running.url} (pid {running.pid})")
        return
    with (
        errors_as_one_line(),
        console.status("Starting Apicurio Registry (fetching it on first use)..."),
    ):
        started = registry.start_registry(folder, port=port, announce=console.print)
    _print(started)


@registry_app.command("down")
def registry_down(data_dir: DataDirOption = None) -> None:
    """Stop the registry started by `up` (SIGTERM, then SIGKILL after 30 s); its schemas go."""
    running = registry.load_running(data_dir or registry.default_data_dir())
    if running is None:
        console.print("No local registry is running.")
        return
    running.stop()
    console.print(f"Registry at {running.url} stopped.")


@registry_app.command("status")
def registry_status(data_dir: DataDirOption = None) -> None:
    """Say whether the local registry runs, where, and how to point the services at it."""
    running = registry.load_running(data_dir or registry.default_data_dir())
    if running is None:
        err_console.print("No local registry is running; start one with `notices registry up`.")
        raise typer.Exit(1)
    _print(running)


def _print(running: registry.LocalRegistry) -> None:
    console.print(
        f"Apicurio Registry {running.version} at {running.url} (pid {running.pid}); "
        f"log: {running.log_path}"
    )
    console.print("for the hub's environment:")
    console.print(f"  export SCHEMA_REGISTRY_URL={running.url}", markup=False)


@schemas_app.command("check")
def schemas_check(schemas: SchemasOption = _SCHEMAS) -> None:
    """Refuse (exit 1) a schema that readers on a released schema could not read, or that
    could not read what they wrote: the registry's FULL_TRANSITIVE, offline."""
    current, releases = _load(schemas)
    if not releases:
        err_console.print(f"[red]error:[/red] no released schema in {schemas / RELEASED_DIR}")
        raise typer.Exit(2)
    _check(current, releases)
    console.print(f"{schemas}: {COMPATIBILITY} compatible with {', '.join(releases)}", markup=False)


@schemas_app.command("release")
def schemas_release(
    name: Annotated[str, typer.Argument(help="Release name, e.g. v2; never reused.")],
    schemas: SchemasOption = _SCHEMAS,
) -> None:
    """Keep the current envelope schema as release NAME, once `check` accepts it."""
    target = schemas / RELEASED_DIR / f"{name}{RELEASE_SUFFIX}"
    if target.exists():
        err_console.print(f"[red]error:[/red] {target} exists: a release is never rewritten")
        raise typer.Exit(2)
    current, releases = _load(schemas)
    _check(current, releases)
    text = json.dumps(plain_schema(current), indent=2, ensure_ascii=False)
    with errors_as_one_line():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text + "\n", encoding="utf-8")
    console.print(f"released {target}", markup=False)


def _load(schemas: Path) -> tuple[ParsedSchema, dict[str, ParsedSchema]]:
    """The current envelope and the releases; exit 2 naming what does not parse."""
    try:
        return load_envelope_schema(schemas), load_releases(schemas / RELEASED_DIR)
    except (OSError, ValueError, SchemaParseException, UnknownType) as exc:
        err_console.print(f"[red]error:[/red] cannot load the schemas in {schemas}: {exc}")
        raise typer.Exit(2) from None


def _check(current: ParsedSchema, releases: dict[str, ParsedSchema]) -> None:
    """Exit 1 with one line per incompatible place."""
    try:
        check_full_transitive(current, releases)
    except IncompatibleSchema as exc:
        err_console.print(f"[red]incompatible with {exc.against}:[/red]")
        for reason in exc.reasons:
            err_console.print(f"  {reason}", markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
