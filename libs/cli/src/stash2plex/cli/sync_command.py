"""The ``stash2plex sync`` commands: arguments, the progress bar, the summary and exit code."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from stash2plex.cli import exits
from stash2plex.cli.common import broker_url, dump, fail, run
from stash2plex.cli.sync import Outcome, SyncReport, Update, backfill, sync_scene
from stash2plex.common.settings import SettingsError, load_settings
from stash2plex.common.subjects import token
from stash2plex.ingest.settings import IngestSettings

sync_app = typer.Typer(
    help="Queue scenes for syncing to Plex and watch them go through (Ctrl-C stops watching, not the sync).",
    no_args_is_help=True,
)

WaitOption = Annotated[
    bool, typer.Option("--wait/--no-wait", help="Follow the jobs until they have left the queue, or only queue them.")
]
TimeoutOption = Annotated[
    float | None,
    typer.Option("--timeout", min=0, help="Stop watching after this many seconds (exit 4); the jobs go on."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="The outcome as one JSON object (progress goes to stderr).")]


@contextmanager
def progress_bar(console: Console) -> Iterator[Update]:
    """Two bars: jobs queued by the fan-out, and jobs done; rich estimates the time left from the rate."""
    columns = (
        TextColumn("{task.description:<7}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("left"), TimeRemainingColumn(),
    )  # fmt: skip
    with Progress(*columns, console=console) as progress:
        queued = progress.add_task("queued", total=None)
        done = progress.add_task("synced", total=None)

        def update(report: SyncReport) -> None:
            total = report.total if report.total is not None else None
            progress.update(queued, completed=report.queued, total=total)
            progress.update(done, completed=report.done, total=total if report.fanned_out else None)

        yield update


def summary(report: SyncReport, outcome: Outcome) -> str:
    if outcome == "queued":
        return f"queued: {report.what} (event {report.event_id}); follow with stash2plex status"
    head = f"{report.done} of {report.total if report.total is not None else report.queued} job(s) done"
    if outcome == "timed_out":
        waiting = "the fan-out is still queueing" if not report.fanned_out else f"{report.waiting} still waiting"
        return f"stopped watching: {head}, {waiting}; the sync goes on"
    if report.dead_lettered:
        first = report.dead_lettered[0]
        return f"{head}; {len(report.dead_lettered)} dead-lettered (see stash2plex dlq show {first})"
    return f"{head}: {report.what} in step"


def finish(report: SyncReport, outcome: Outcome, as_json: bool, console: Console) -> None:
    if as_json:
        dump({**report.model_dump(mode="json"), "waiting": report.waiting, "outcome": outcome})
    else:
        console.print(summary(report, outcome))
    if outcome == "timed_out":
        raise typer.Exit(exits.TIMED_OUT)
    raise typer.Exit(exits.NO if report.dead_lettered else exits.OK)


Start = Callable[[Update], Coroutine[Any, Any, tuple[SyncReport, Outcome]]]


def follow(command: str, start: Start, as_json: bool) -> None:
    """Run the request with the progress bar on screen (stderr with --json), then say how it ended."""
    console = Console(stderr=as_json, highlight=False)
    with progress_bar(console) as update:
        report, outcome = run(command, start(update))
    finish(report, outcome, as_json, console)


@sync_app.command("scene")
def scene(
    scene_id: Annotated[str, typer.Argument(help="The Stash scene id.")],
    wait: WaitOption = True,
    timeout: TimeoutOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sync one scene now. Exit 0 synced (or queued with --no-wait), 1 dead-lettered, 4 timed out."""
    try:
        token(scene_id)
    except ValueError as error:
        fail("sync scene", str(error), exits.BAD_SETTINGS)
    url = broker_url("sync scene")
    follow("sync scene", lambda update: sync_scene(url, scene_id, wait, timeout, update), as_json)


@sync_app.command("recent")
def recent(
    hours: Annotated[
        float | None,
        typer.Option("--hours", min=0.01, help="How far back (default: STASH2PLEX_INGEST__RECENT_HOURS, 24)."),
    ] = None,
    wait: WaitOption = True,
    timeout: TimeoutOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sync the scenes changed recently, through ingest's fan-out, with a progress bar and ETA."""
    url = broker_url("sync recent")
    if hours is None:
        try:
            hours = load_settings(IngestSettings).ingest.recent_hours
        except SettingsError as error:
            fail("sync recent", str(error), exits.BAD_SETTINGS)
    follow("sync recent", lambda update: backfill(url, "recent", hours, wait, timeout, update), as_json)


@sync_app.command("all")
def all_scenes(wait: WaitOption = True, timeout: TimeoutOption = None, as_json: JsonOption = False) -> None:
    """Sync every scene (a backfill), through ingest's fan-out, with a progress bar and ETA."""
    url = broker_url("sync all")
    follow("sync all", lambda update: backfill(url, "all", None, wait, timeout, update), as_json)
