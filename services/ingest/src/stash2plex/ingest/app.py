"""The ingest service's HTTP app: receives Stash hook events and publishes them to JetStream.

Hook handling is in :mod:`.routes` (and :mod:`.hooks` for what an event becomes); the
fan-out of performer/studio/tag/group changes runs in the background (:mod:`.entities`).
"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from nats.js import JetStreamContext

from stash2plex.common import topology
from stash2plex.common.backfill import FanOutProgress, progress_subject
from stash2plex.common.http import create_service_app
from stash2plex.common.plugin_settings import PluginSettings
from stash2plex.common.runtime import Dependency, ServiceRuntime
from stash2plex.ingest import entities
from stash2plex.ingest.auth import check_configuration
from stash2plex.ingest.fastpath import HookFastPath
from stash2plex.ingest.routes import router
from stash2plex.ingest.settings import IngestSettings

SERVICE = "ingest"
NEEDS: tuple[Dependency, ...] = ("stash",)


def create_app(settings: IngestSettings) -> FastAPI:
    check_configuration(settings.ingest)
    runtime = ServiceRuntime(SERVICE, settings, needs=NEEDS)
    fan_out: list[asyncio.Task[None]] = []

    async def report(progress: FanOutProgress) -> None:
        if runtime.nc is not None and runtime.nc.is_connected:
            await runtime.nc.publish(progress_subject(progress.event_id), progress.to_bytes())

    async def start_fan_out(js: JetStreamContext) -> None:
        await topology.ensure_consumer(js, topology.ENTITY_STREAM, topology.entity_consumer_config())
        if not fan_out or fan_out[0].done():
            task = asyncio.create_task(
                entities.run_fan_out(js, settings.stash, settings.ingest, report), name="entity-fan-out"
            )
            fan_out[:] = [task]
            runtime.run_in_background(task)

    runtime.on_connected(start_fan_out)
    app = create_service_app(runtime, title="Stash2Plex ingest")
    app.state.ingest_options = settings.ingest
    app.state.plugin_settings = PluginSettings(settings.stash, ttl_s=settings.ingest.ui_settings_ttl_s)
    app.include_router(router)
    app.add_middleware(HookFastPath, runtime=runtime, options=settings.ingest)

    @app.exception_handler(RequestValidationError)
    async def explain(request: Request, error: RequestValidationError) -> JSONResponse:
        """422 that names each bad field and why (for the task endpoints' bodies)."""
        problems = []
        for item in error.errors():
            where = ".".join(str(p) for p in item["loc"] if p != "body") or "body"
            problems.append({"field": where, "problem": item["msg"]})
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        return JSONResponse({"detail": f"invalid request: {summary}", "errors": problems}, status_code=422)

    return app
