"""The ``stash2plex`` operator command."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console

from stash2plex.cli.stack import plan_stack
from stash2plex.cli.status import status_command
from stash2plex.cli.up import up as run_up
from stash2plex.common.settings import CommonSettings, SettingsError, load_settings

app = typer.Typer(
    name="stash2plex",
    help="Keep a Plex library in step with Stash. Settings come from STASH2PLEX_* variables and .env.",
    no_args_is_help=True,
    add_completion=False,
)

EXIT_BAD_SETTINGS = 2


class LogFormat(StrEnum):
    json = "json"
    text = "text"


@app.callback()
def root() -> None:
    """Stash2Plex operator command."""


@app.command()
def up(
    log_format: Annotated[
        LogFormat | None,
        typer.Option("--log-format", help="Log format of the services (default: STASH2PLEX_LOG__FORMAT, else json)."),
    ] = None,
) -> None:
    """Start the embedded NATS server and all four services; Ctrl-C stops everything."""
    console = Console(highlight=False)
    try:
        stack = plan_stack(log_format.value if log_format else None)
    except SettingsError as error:
        console.print(f"[bold red]stash2plex up:[/] {error}", markup=True)
        raise typer.Exit(EXIT_BAD_SETTINGS) from None
    raise typer.Exit(run_up(stack, console))


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object, for scripts.")] = False,
) -> None:
    """Jobs waiting and in flight, dead letters by error class, the circuit, outages (MTBF/MTTR).

    Exit codes: 0 ok, 2 bad settings, 3 no broker reachable.
    """
    console = Console(highlight=False)
    try:
        settings = load_settings(CommonSettings)
    except SettingsError as error:
        console.print(f"[bold red]stash2plex status:[/] {error}", markup=True)
        raise typer.Exit(EXIT_BAD_SETTINGS) from None
    raise typer.Exit(status_command(settings, as_json, console))
