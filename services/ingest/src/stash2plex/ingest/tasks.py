"""The tasks the Stash plugin (and the CLI) can run through ingest.

Each answer is a plain JSON object; the plugin prints it to Stash's log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from stash2plex.common import control, dlq
from stash2plex.common.backfill import backfill_change, describe
from stash2plex.common.contracts import ErrorClass
from stash2plex.common.plugin_settings import PluginSettings
from stash2plex.common.status import gather_status
from stash2plex.ingest.publisher import publish
from stash2plex.ingest.settings import IngestOptions

UI_SETTINGS = {"recentHours": "recent_hours"}
"""Plugin settings (Stash's UI) that override ingest's options, by plugin key."""


class TaskError(Exception):
    """A task that cannot run now; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 503) -> None:
        super().__init__(message)
        self.status = status


Task = Callable[["TaskContext", dict[str, Any]], Awaitable[dict[str, Any]]]


class TaskContext:
    def __init__(
        self, nc: NatsClient | None, js: JetStreamContext | None, options: IngestOptions, ui: PluginSettings
    ) -> None:
        if nc is None or js is None or not nc.is_connected:
            raise TaskError("ingest is not connected to NATS yet")
        self.nc, self.js, self.options, self.ui = nc, js, options, ui

    async def current_options(self) -> IngestOptions:
        """The environment's options with the values set in Stash's UI laid over them."""
        return await self.ui.overlay(self.options, UI_SETTINGS)

    async def control(self, service: str, verb: str, request: dict[str, Any]) -> dict[str, Any]:
        try:
            return await control.ask(self.nc, service, verb, request)
        except control.ControlError as error:
            raise TaskError(str(error)) from None


async def status(ctx: TaskContext, _args: dict[str, Any]) -> dict[str, Any]:
    """Queue depth, in flight, DLQ size, circuit state, last outage, last reconciliation."""
    return await gather_status(ctx.js)


async def health(ctx: TaskContext, _args: dict[str, Any]) -> dict[str, Any]:
    """Every service's own readiness report (Stash and Plex included), asked over NATS."""
    return (await control.health(ctx.nc)).model_dump()


async def sync(ctx: TaskContext, args: dict[str, Any]) -> dict[str, Any]:
    """Queue every scene (scope ``all``) or those changed recently (scope ``recent``)."""
    scope = str(args.get("scope") or "recent")
    if scope not in ("all", "recent"):
        raise TaskError("scope must be 'all' or 'recent'", status=422)
    options = await ctx.current_options()
    hours = float(args.get("hours") or options.recent_hours) if scope == "recent" else None
    change = backfill_change("recent" if scope == "recent" else "all", hours)
    published = await publish(ctx.nc, ctx.js, change, ctx.options.publish_timeout_s)
    return {"queued": f"sync of {describe(change)}", "seq": published.seq, "event_id": change.event_id}


async def reconcile(ctx: TaskContext, args: dict[str, Any]) -> dict[str, Any]:
    scope = str(args.get("scope") or "all")
    if scope not in ("all", "24h", "7d"):
        raise TaskError("scope must be 'all', '24h' or '7d'", status=422)
    return await ctx.control("reconciler", "reconcile", {"scope": scope})


def _error_class(args: dict[str, Any]) -> ErrorClass | None:
    value = args.get("error_class")
    if value in (None, "", "all"):
        return None
    try:
        return ErrorClass(str(value))
    except ValueError:
        known = ", ".join(c.value for c in ErrorClass)
        raise TaskError(f"unknown error class {value!r} (one of {known})", status=422) from None


async def dlq_retry(ctx: TaskContext, args: dict[str, Any]) -> dict[str, Any]:
    scene = str(args["scene_id"]) if args.get("scene_id") else None
    count = await dlq.requeue(ctx.js, _error_class(args), scene)
    return {"requeued": count}


async def dlq_purge(ctx: TaskContext, args: dict[str, Any]) -> dict[str, Any]:
    days = float(args["older_than_days"]) if args.get("older_than_days") is not None else None
    return {"purged": await dlq.purge(ctx.js, _error_class(args), days)}


TASKS: dict[str, Task] = {
    "status": status,
    "health": health,
    "sync": sync,
    "reconcile": reconcile,
    "dlq-retry": dlq_retry,
    "dlq-purge": dlq_purge,
}
