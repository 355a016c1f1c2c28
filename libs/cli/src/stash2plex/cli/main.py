"""The ``stash2plex`` operator command. Exit codes are the same for every command: see :mod:`.exits`."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from stash2plex.cli import dlq as dlq_commands
from stash2plex.cli import exits
from stash2plex.cli import health as health_commands
from stash2plex.cli import queue as queue_commands
from stash2plex.cli.broker import BrokerUnreachableError, nats_url
from stash2plex.cli.common import broker_url, dump, fail, run
from stash2plex.cli.config_command import config_app
from stash2plex.cli.paths import paths_app
from stash2plex.cli.plugin_package import PackageError, package
from stash2plex.cli.reconcile import reconcile_command
from stash2plex.cli.stack import plan_stack
from stash2plex.cli.status import EXIT_UNREACHABLE, status_command
from stash2plex.cli.sync_command import sync_app
from stash2plex.cli.up import up as run_up
from stash2plex.common.contracts import ErrorClass
from stash2plex.common.reconciliation import Scope
from stash2plex.common.settings import CommonSettings, SettingsError, load_settings
from stash2plex.provider.cli import provider_app

app = typer.Typer(
    name="stash2plex",
    help="Keep a Plex library in step with Stash. Settings come from STASH2PLEX_* variables and .env. "
    "Exit codes: 0 ok, 1 no (not healthy, none matched, declined), 2 bad settings or arguments, "
    "3 broker (or Plex) unreachable, 4 timed out, 130 interrupted.",
    no_args_is_help=True,
    add_completion=False,
)

EXIT_BAD_SETTINGS = exits.BAD_SETTINGS


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


@app.command()
def health(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object, for scripts.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds each service gets to answer.")] = 3.0,
) -> None:
    """Whether every service is ready, and what each one waits for (Stash, Plex, NATS).

    Exit codes: 0 every service ready, 1 some service not ready or not running, 3 no broker reachable.
    """
    report = run("health", health_commands.read_health(broker_url("health"), timeout))
    if as_json:
        dump(report.model_dump())
    else:
        health_commands.render(report, Console(highlight=False))
    raise typer.Exit(exits.OK if report.healthy else exits.NO)


app.add_typer(paths_app, name="paths")
app.add_typer(provider_app, name="provider")
app.add_typer(sync_app, name="sync")
app.add_typer(config_app, name="config")

queue_app = typer.Typer(help="Pending work: sync jobs and fan-outs not done yet.", no_args_is_help=True)
app.add_typer(queue_app, name="queue")


@queue_app.command("show")
def queue_show(as_json: Annotated[bool, typer.Option("--json", help="One JSON object, for scripts.")] = False) -> None:
    """How many sync jobs and fan-outs are pending."""
    work = run("queue show", queue_commands.pending(broker_url("queue show")))
    if as_json:
        dump({**work.model_dump(), "total": work.total})
    else:
        Console(highlight=False).print(f"{work.sync_jobs} sync job(s) and {work.fan_outs} fan-out(s) pending")


@queue_app.command("clear")
def queue_clear(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="What was dropped, as one JSON object.")] = False,
) -> None:
    """Drop every pending sync job and fan-out (dead letters stay). Asks first unless --yes.

    Exit codes: 0 cleared, 1 not confirmed, 3 no broker reachable.
    """
    url = broker_url("queue clear")
    if not yes:
        work = run("queue clear", queue_commands.pending(url))
        question = f"Drop {work.sync_jobs} pending sync job(s) and {work.fan_outs} fan-out(s)?"
        if not typer.confirm(question, default=False):
            Console(stderr=True).print("nothing dropped")
            raise typer.Exit(exits.NO)
    dropped = run("queue clear", queue_commands.clear(url))
    if as_json:
        dump({**dropped.model_dump(), "total": dropped.total})
    else:
        Console(highlight=False).print(f"dropped {dropped.sync_jobs} sync job(s) and {dropped.fan_outs} fan-out(s)")


plugin_app = typer.Typer(help="The Stash plugin: package it for Stash's plugin manager.", no_args_is_help=True)
app.add_typer(plugin_app, name="plugin")


@plugin_app.command("package")
def plugin_package(
    source: Annotated[Path, typer.Option("--source", help="The plugin folder.")] = Path("deploy/stash-plugin"),
    out: Annotated[Path, typer.Option("--out", help="Where index.yml and the zip go.")] = Path("dist/stash-plugin"),
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="URL the zip will be served from (default: beside index.yml)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The index entry as one JSON object.")] = False,
) -> None:
    """Build the plugin zip and a plugin source index (index.yml) for Stash's plugin manager.

    The date is now, or SOURCE_DATE_EPOCH when set (reproducible builds).
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    date = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC).replace(microsecond=0)
    try:
        entry = package(source, out, date, base_url)
    except (PackageError, OSError) as error:
        fail("plugin package", str(error), exits.BAD_SETTINGS)
    if as_json:
        dump(entry.model_dump())
    else:
        Console(highlight=False).print(
            f"{out / 'index.yml'} and {out / entry.path.rsplit('/', 1)[-1]} ({entry.name} {entry.version}, "
            f"sha256 {entry.sha256[:12]}…): serve the folder and add its index.yml as a source in Stash"
        )


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
