"""Assemble the simulator's ASGI app: PMS routes behind the fault/auth/journal middleware."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from tests.sims.plex.middleware import SimMiddleware
from tests.sims.plex.routes import collections, control, library, metadata, providers
from tests.sims.plex.web import SimContext, error_response


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return error_response(status)


def build_app(context: SimContext) -> ASGIApp:
    app = Starlette(
        routes=[*control.ROUTES, *library.ROUTES, *metadata.ROUTES, *collections.ROUTES, *providers.ROUTES],
        exception_handlers={404: _http_error, 405: _http_error},
    )
    app.state.sim = context
    return SimMiddleware(app, context)
