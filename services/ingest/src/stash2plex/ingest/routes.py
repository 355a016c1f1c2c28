"""Ingest's HTTP API: the hook endpoint the Stash plugin posts to, its tasks, and status."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from stash2plex.common.http import runtime_of
from stash2plex.common.logs import log_context
from stash2plex.ingest import metrics
from stash2plex.ingest.auth import authorize
from stash2plex.ingest.hooks import HookEvent, jobs_for
from stash2plex.ingest.publisher import BrokerUnavailable, publish
from stash2plex.ingest.settings import IngestOptions
from stash2plex.ingest.tasks import TASKS, TaskContext, TaskError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", dependencies=[Depends(authorize)])


class HookAccepted(BaseModel):
    outcome: str
    stream: str | None = None
    seq: int | None = None
    subject: str | None = None


def options_of(request: Request) -> IngestOptions:
    options: IngestOptions = request.app.state.ingest_options
    return options


def unavailable(options: IngestOptions, reason: str) -> JSONResponse:
    return JSONResponse(
        {"detail": f"cannot queue the event now: {reason}; retry later"},
        status_code=503,
        headers={"Retry-After": str(options.retry_after_s)},
    )


@router.post(
    "/hooks/stash",
    status_code=202,
    response_model=HookAccepted,
    responses={503: {"description": "NATS is unreachable: the plugin spools the event and retries"}},
    summary="Queue one Stash hook event",
)
async def stash_hook(request: Request, event: HookEvent) -> HookAccepted | JSONResponse:
    options = options_of(request)
    if event.spooled_at is not None:
        metrics.SPOOL_REPLAYS.inc()
    job = jobs_for(event)
    if job is None:
        metrics.HOOKS.labels(event.type, "ignored").inc()
        return HookAccepted(outcome="ignored")
    runtime = runtime_of(request)
    with log_context(scene_id=event.id if event.type.startswith("Scene.") else None, trace_id=job.trace_id):
        try:
            published = await publish(runtime.nc, runtime.js, job, options.publish_timeout_s)
        except BrokerUnavailable as error:
            metrics.HOOKS.labels(event.type, "unavailable").inc()
            log.warning("hook %s for %s not queued: %s", event.type, event.id, error)
            return unavailable(options, str(error))
        outcome = "duplicate" if published.duplicate else "queued"
        metrics.HOOKS.labels(event.type, outcome).inc()
        log.debug("hook %s for %s %s as %s#%d", event.type, event.id, outcome, published.stream, published.seq)
    return HookAccepted(outcome=outcome, stream=published.stream, seq=published.seq, subject=job.subject)


@router.post("/tasks/{task}", summary="Run a plugin task (status, health, sync, reconcile, dlq-retry, dlq-purge)")
async def run_task(request: Request, task: str, args: dict[str, Any] | None = Body(default=None)) -> JSONResponse:  # noqa: B008
    if task not in TASKS:
        return JSONResponse({"detail": f"unknown task {task!r}; known: {', '.join(TASKS)}"}, status_code=404)
    runtime = runtime_of(request)
    try:
        answer = await TASKS[task](TaskContext(runtime.nc, runtime.js, options_of(request)), args or {})
    except TaskError as error:
        metrics.TASKS.labels(task, "failed").inc()
        return JSONResponse({"detail": str(error)}, status_code=error.status)
    except BrokerUnavailable as error:
        metrics.TASKS.labels(task, "failed").inc()
        return unavailable(options_of(request), str(error))
    metrics.TASKS.labels(task, "ok").inc()
    return JSONResponse(answer)


@router.get("/status", summary="Queue depth, in flight, DLQ, circuit, last outage and reconciliation")
async def status(request: Request) -> JSONResponse:
    return await run_task(request, "status", {})
