"""The ``stash2plex`` operator command."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console

from stash2plex.cli import dlq as dlq_commands
from stash2plex.cli.broker import BrokerUnreachableError, nats_url
from stash2plex.cli.paths import paths_app
from stash2plex.cli.reconcile import reconcile_command
from stash2plex.cli.stack import plan_stack
from stash2plex.cli.status import EXIT_UNREACHABLE, status_command
from stash2plex.cli.up import up as run_up
from stash2plex.common.contracts import ErrorClass
from stash2plex.common.reconciliation import Scope
from stash2plex.common.settings import CommonSettings, SettingsError, load_settings
from stash2plex.provider.cli import provider_app

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


@app.command()
def reconcile(
    scope: Annotated[Scope, typer.Option("--scope", help="all, or the scenes Stash changed in the last 24h or 7d.")] = (
        Scope.ALL
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Wait quietly, then print one JSON object.")] = False,
) -> None:
    """Run a reconciliation pass now and follow it: scenes compared, gaps by kind, ETA.

    Exit codes: 0 the pass completed, 1 it was skipped (another pass running, Plex down, not
    configured) or failed, 2 bad settings, 3 no broker reachable.
    """
    console = Console(highlight=False)
    try:
        settings = load_settings(CommonSettings)
    except SettingsError as error:
        console.print(f"[bold red]stash2plex reconcile:[/] {error}", markup=True)
        raise typer.Exit(EXIT_BAD_SETTINGS) from None
    raise typer.Exit(reconcile_command(settings, scope, as_json, console))


app.add_typer(paths_app, name="paths")
app.add_typer(provider_app, name="provider")

dlq_app = typer.Typer(help="Dead letters: jobs the syncer gave up on.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")

ClassOption = Annotated[ErrorClass | None, typer.Option("--class", help="Only this error class.")]
OlderOption = Annotated[float | None, typer.Option("--older-than-days", min=0, help="Only letters older than this.")]


def _url() -> str:
    try:
        return nats_url(load_settings(CommonSettings))
    except SettingsError as error:
        Console().print(f"[bold red]stash2plex:[/] {error}")
        raise typer.Exit(EXIT_BAD_SETTINGS) from None


def _run(coro: object) -> object:
    try:
        return dlq_commands.run(coro)
    except BrokerUnreachableError as error:
        Console().print(f"[bold red]stash2plex:[/] {error}")
        raise typer.Exit(EXIT_UNREACHABLE) from None


@dlq_app.command("list")
def dlq_list(
    error_class: ClassOption = None,
    older_than_days: OlderOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List dead letters, newest last."""
    letters = _run(dlq_commands.list_letters(_url(), error_class, older_than_days))
    assert isinstance(letters, list)
    if as_json:
        dlq_commands.dump(letters)
    else:
        dlq_commands.render(letters, Console(highlight=False))


@dlq_app.command("show")
def dlq_show(scene_id: Annotated[str, typer.Argument(help="The scene whose dead letter to show.")]) -> None:
    """Everything about one scene's dead letter, as JSON. Exit 1 when there is none."""
    letters = _run(dlq_commands.list_letters(_url(), None, None))
    assert isinstance(letters, list)
    found = [letter for letter in letters if letter["job"]["scene_id"] == scene_id]
    if not found:
        Console(stderr=True).print(f"no dead letter for scene {scene_id}")
        raise typer.Exit(1)
    dlq_commands.dump(found[-1])


@dlq_app.command("requeue")
def dlq_requeue(
    error_class: ClassOption = None,
    scene_id: Annotated[str | None, typer.Option("--scene", help="Only this scene.")] = None,
) -> None:
    """Put dead letters back on the queue (all, by class, or one scene)."""
    count = _run(dlq_commands.requeue(_url(), error_class, scene_id))
    Console().print(f"requeued {count} job(s)")


@dlq_app.command("purge")
def dlq_purge(
    error_class: ClassOption = None,
    older_than_days: OlderOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete dead letters (all, by class, or older than N days)."""
    if not yes and not typer.confirm("Delete these dead letters for good?"):
        raise typer.Exit(1)
    count = _run(dlq_commands.purge(_url(), error_class, older_than_days))
    Console().print(f"purged {count} dead letter(s)")
