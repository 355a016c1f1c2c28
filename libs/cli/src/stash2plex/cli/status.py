"""``stash2plex status``: the pipeline's state, for people (a table) and scripts (``--json``)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from stash2plex.cli.broker import BrokerUnreachableError, jetstream, nats_url
from stash2plex.common.reconciliation import PassRecord
from stash2plex.common.settings import CommonSettings
from stash2plex.common.status import gather_status

EXIT_UNREACHABLE = 3


async def read_status(url: str) -> dict[str, Any]:
    async with jetstream(url) as js:
        return await gather_status(js)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def render(status: dict[str, Any], console: Console) -> None:
    table = Table(title="Stash2Plex status", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value")
    table.add_row("jobs waiting", str(status["queue_depth"]))
    table.add_row("jobs in flight", str(status["in_flight"]))
    by_class = ", ".join(f"{k} {v}" for k, v in sorted(status["dlq_by_error_class"].items())) or "-"
    table.add_row("dead letters", f"{status['dlq_size']} ({by_class})")
    circuit = status["circuit"] + (f" — {status['circuit_reason']}" if status["circuit_reason"] else "")
    table.add_row("circuit to Plex", circuit)
    last = status["last_outage"]
    if last:
        ended = last["ended_at"] or "ongoing"
        table.add_row(
            "last outage",
            f"{last['started_at']} → {ended} ({duration(last['duration_s'])}, {last['jobs_held']} jobs held)",
        )
    table.add_row(
        "outages", f"{status['outages']} (MTBF {duration(status['mtbf_s'])}, MTTR {duration(status['mttr_s'])})"
    )
    running = status.get("reconciliation_running")
    if running:
        done = f"{running['scenes_compared']:,}/{running['scenes_total'] or '?'} scenes"
        where = f"{running['scope']}, {running['phase']}, {done}"
        table.add_row("reconciliation running", f"{running['pass_id']} ({where})")
    console.print(table)
    passes = status.get("reconciliations") or []
    if passes:
        console.print(passes_table(passes))
    else:
        console.print("last reconciliation: - (no pass yet)")


def passes_table(passes: list[dict[str, Any]]) -> Table:
    """The last reconciliation passes, newest first."""
    table = Table(title="Reconciliation passes", title_justify="left")
    for column in ("started", "scope", "trigger", "outcome", "took", "scenes", "plex_empty", "stale"):
        table.add_column(column)
    table.add_column("missing_in_plex")
    table.add_column("missing_in_stash")
    table.add_column("reason")
    for item in reversed(passes):
        record = PassRecord.model_validate(item)
        gaps = record.gaps
        table.add_row(
            f"{record.started_at:%Y-%m-%d %H:%M:%S}", record.scope.value, record.trigger, record.outcome,
            duration(record.duration_s), f"{record.scenes_compared:,}", str(gaps.get("plex_empty", 0)),
            str(gaps.get("stale", 0)), str(gaps.get("missing_in_plex", 0)), str(gaps.get("missing_in_stash", 0)),
            record.reason or "",
        )  # fmt: skip
    return table


def status_command(settings: CommonSettings, as_json: bool, console: Console) -> int:
    try:
        status = asyncio.run(read_status(nats_url(settings)))
    except BrokerUnreachableError as error:
        console.print(f"[bold red]stash2plex status:[/] {error}")
        return EXIT_UNREACHABLE
    if as_json:
        print(json.dumps(status, default=str))
    else:
        render(status, console)
    return 0
