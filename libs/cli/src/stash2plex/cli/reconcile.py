"""``stash2plex reconcile``: start a pass, follow it with a progress bar, and say how it ended.

It asks the reconciler over its control subjects (``s2p.ctl.reconciler.reconcile`` and
``…progress``), the same way the Stash plugin's *Reconcile* tasks do through ingest, so it works
with any number of reconciler replicas: whichever runs the pass publishes its progress.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from nats.aio.client import Client as NatsClient
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from stash2plex.cli.broker import BrokerUnreachableError, connected, nats_url
from stash2plex.cli.status import EXIT_UNREACHABLE, duration
from stash2plex.common import control
from stash2plex.common.reconciliation import PassProgress, PassRecord, ProgressAnswer, ReconcileAnswer, Scope
from stash2plex.common.settings import CommonSettings

EXIT_NOT_DONE = 1
"""The pass was skipped or failed (or never started)."""
POLL_S = 0.5
GONE_AFTER_S = 15.0
"""A pass neither running nor in the history for this long has vanished with its reconciler."""
ASK_TIMEOUT_S = 5.0


class ReconcilerUnavailableError(RuntimeError):
    """No reconciler answers on the control subjects."""


async def ask(nc: NatsClient, verb: str, request: dict[str, Any]) -> dict[str, Any]:
    try:
        answer = await control.ask(nc, "reconciler", verb, request, ASK_TIMEOUT_S)
    except control.ControlError as error:
        raise ReconcilerUnavailableError(f"{error} (start it, or the whole stack: stash2plex up)") from None
    if not answer.get("ok", False):
        raise ReconcilerUnavailableError(f"the reconciler refused: {answer.get('error', answer)}")
    return answer


async def follow(nc: NatsClient, pass_id: str, shown: Callable[[PassProgress], None]) -> PassRecord | None:
    """Poll until the pass is in the history; None if it vanished (its reconciler died)."""
    loop = asyncio.get_running_loop()
    last_seen = loop.time()
    while True:
        answer = ProgressAnswer.model_validate(await ask(nc, "progress", {}))
        if answer.running is not None and answer.running.pass_id == pass_id:
            shown(answer.running)
            last_seen = loop.time()
        elif answer.last is not None and answer.last.pass_id == pass_id:
            return answer.last
        elif loop.time() - last_seen > GONE_AFTER_S:
            return None
        await asyncio.sleep(POLL_S)


def gaps_text(gaps: dict[str, int]) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in gaps.items())


def eta_text(progress: PassProgress) -> str:
    if progress.phase == "plex":
        total = f"/{progress.plex_total:,}" if progress.plex_total else ""
        return f"reading Plex: {progress.plex_items:,}{total} items"
    if progress.phase == "plex_only":
        return "Plex items without a scene"
    return f"ETA {duration(progress.eta_s)}" if progress.eta_s is not None else "ETA -"


async def run(url: str, scope: Scope, as_json: bool, console: Console) -> tuple[ReconcileAnswer, PassRecord | None]:
    async with connected(url) as (nc, _):
        answer = ReconcileAnswer.model_validate(await ask(nc, "reconcile", {"scope": scope.value}))
        if not answer.started or answer.pass_id is None:
            return answer, None
        if as_json:
            return answer, await follow(nc, answer.pass_id, lambda _progress: None)
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[eta]}"),
            TextColumn("[dim]{task.fields[gaps]}"),
        )
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task(f"pass {answer.pass_id} ({scope.value})", total=None, eta="", gaps="")

            def shown(progress: PassProgress) -> None:
                bar.update(
                    task,
                    completed=progress.scenes_compared,
                    total=progress.scenes_total,
                    eta=eta_text(progress),
                    gaps=gaps_text(progress.gaps),
                )

            record = await follow(nc, answer.pass_id, shown)
            if record is not None:
                bar.update(task, completed=record.scenes_compared, total=record.scenes_compared or 1, eta="done")
        return answer, record


def render(record: PassRecord, console: Console) -> None:
    colour = "green" if record.outcome == "completed" else "red"
    console.print(
        f"[bold {colour}]{record.outcome}[/] in {duration(record.duration_s)}: {record.scenes_compared:,} scenes, "
        f"{record.plex_items:,} Plex items; gaps: {gaps_text(record.gaps)}"
        + (f"; {record.ambiguous} ambiguous" if record.ambiguous else "")
        + (f"; {record.scans} folder(s) scanned" if record.scans else "")
        + (f"\n  reason: {record.reason}" if record.reason else "")
    )


def reconcile_command(settings: CommonSettings, scope: Scope, as_json: bool, console: Console) -> int:
    try:
        answer, record = asyncio.run(run(nats_url(settings), scope, as_json, console))
    except BrokerUnreachableError as error:
        console.print(f"[bold red]stash2plex reconcile:[/] {error}")
        return EXIT_UNREACHABLE
    except ReconcilerUnavailableError as error:
        console.print(f"[bold red]stash2plex reconcile:[/] {error}")
        return EXIT_NOT_DONE
    if as_json:
        print(json.dumps({"answer": answer.model_dump(mode="json"), "pass": record and record.model_dump(mode="json")}))
    elif not answer.started:
        console.print(f"[bold yellow]no pass started:[/] {answer.reason}")
    elif record is None:
        console.print(f"[bold red]pass {answer.pass_id} vanished:[/] its reconciler stopped before recording it")
    else:
        render(record, console)
    return 0 if record is not None and record.outcome == "completed" else EXIT_NOT_DONE
