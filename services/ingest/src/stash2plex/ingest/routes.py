"""Ingest's HTTP API: the hook endpoint the Stash plugin posts to, its tasks, and status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse, Response

from stash2plex.common.http import runtime_of
from stash2plex.ingest import metrics
from stash2plex.ingest.accept import Answer, HookAccepted, accept_hook, unavailable
from stash2plex.ingest.auth import authorize
from stash2plex.ingest.hooks import HookEvent
from stash2plex.ingest.publisher import BrokerUnavailable
from stash2plex.ingest.settings import IngestOptions
from stash2plex.ingest.tasks import TASKS, TaskContext, TaskError

router = APIRouter(prefix="/v1", dependencies=[Depends(authorize)])


def options_of(request: Request) -> IngestOptions:
    options: IngestOptions = request.app.state.ingest_options
    return options


def as_response(answer: Answer) -> Response:
    return Response(answer.body, status_code=answer.status, headers=answer.headers, media_type="application/json")


@router.post(
    "/hooks/stash",
    status_code=202,
    response_model=HookAccepted,
    responses={
        401: {"description": "Missing or wrong bearer token"},
        422: {"description": "The body is not a hook event; the answer names each bad field"},
        503: {"description": "NATS is unreachable: the plugin spools the event and retries"},
    },
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": HookEvent.model_json_schema()}}}
    },
    summary="Queue one Stash hook event",
)
async def stash_hook(request: Request) -> Response:
    """Documents the endpoint; requests are served by :class:`~stash2plex.ingest.fastpath.HookFastPath`."""
    return as_response(await accept_hook(runtime_of(request), options_of(request), await request.body()))


@router.post("/tasks/{task}", summary="Run a plugin task (status, health, sync, reconcile, dlq-retry, dlq-purge)")
async def run_task(request: Request, task: str, args: dict[str, Any] | None = Body(default=None)) -> Response:  # noqa: B008
    if task not in TASKS:
        return JSONResponse({"detail": f"unknown task {task!r}; known: {', '.join(TASKS)}"}, status_code=404)
    runtime = runtime_of(request)
    try:
        context = TaskContext(runtime.nc, runtime.js, options_of(request), request.app.state.plugin_settings)
        answer = await TASKS[task](context, args or {})
    except TaskError as error:
        metrics.TASKS.labels(task, "failed").inc()
        return JSONResponse({"detail": str(error)}, status_code=error.status)
    except BrokerUnavailable as error:
        metrics.TASKS.labels(task, "failed").inc()
        return as_response(unavailable(options_of(request), str(error)))
    metrics.TASKS.labels(task, "ok").inc()
    return JSONResponse(answer)


@router.get("/status", summary="Queue depth, in flight, DLQ, circuit, last outage and reconciliation")
async def status(request: Request) -> Response:
    return await run_task(request, "status", {})
