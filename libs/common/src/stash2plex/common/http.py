"""The HTTP surface every service shares: ``/healthz``, ``/readyz`` and ``/metrics``,
on a FastAPI app whose lifespan starts and stops the :class:`ServiceRuntime`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from stash2plex.common import metrics
from stash2plex.common.runtime import ServiceRuntime, _version

ops = APIRouter(tags=["operations"])


def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


@ops.get("/healthz", summary="The process is alive")
async def healthz(request: Request) -> dict[str, str]:
    return {"status": "ok", "service": runtime_of(request).service}


@ops.get("/readyz", summary="Every dependency the service needs answers")
async def readyz(request: Request) -> JSONResponse:
    report = await runtime_of(request).readiness()
    return JSONResponse(report.model_dump(), status_code=200 if report.ready else 503)


@ops.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics_route() -> Response:
    body, content_type = metrics.render()
    return Response(content=body, media_type=content_type)


def create_service_app(runtime: ServiceRuntime, title: str) -> FastAPI:
    """A FastAPI app for one service; routes of the service's own go on it afterwards."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, version=_version(), lifespan=lifespan)
    app.state.runtime = runtime
    app.include_router(ops)
    return app
