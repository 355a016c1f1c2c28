"""Shared plumbing for the route modules: the simulator context and PMS-like responses."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tests.sims.plex.faults import Faults
from tests.sims.plex.journal import InFlight, Reads, Writes
from tests.sims.plex.model import Library
from tests.sims.plex.providers import ProviderRegistry
from tests.sims.plex.xml import to_bytes

XML_MEDIA_TYPE = "text/xml;charset=utf-8"
_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass
class SimContext:
    """Everything a request handler may touch; one per simulator."""

    library: Library
    faults: Faults
    writes: Writes
    reads: Reads
    providers: ProviderRegistry
    token: str | None
    in_flight: InFlight = field(default_factory=InFlight)


def ctx(request: Request) -> SimContext:
    context: SimContext = request.app.state.sim
    return context


def xml_response(element: ET.Element, status: int = 200) -> Response:
    return Response(
        to_bytes(element), status_code=status, media_type=XML_MEDIA_TYPE, headers={"X-Plex-Protocol": "1.0"}
    )


def empty_ok() -> Response:
    """What PMS answers to most writes: 200 and no body."""
    return Response(b"", status_code=200, headers={"X-Plex-Protocol": "1.0"})


def error_response(status: int, message: str = "", *, retry_after: int | None = None) -> Response:
    """An error page like PMS's (HTML with the status in a heading), plus the detail if any."""
    reason = _REASONS.get(status, "Error")
    detail = f"<p>{_escape(message)}</p>" if message else ""
    body = f"<html><head><title>{reason}</title></head><body><h1>{status} {reason}</h1>{detail}</body></html>"
    headers = {"X-Plex-Protocol": "1.0"}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Response(body.encode(), status_code=status, media_type="text/html", headers=headers)


def set_change(request: Request, change: dict[str, Any]) -> None:
    """Attach the resulting change to this request's entry in the write journal."""
    request.scope.setdefault("state", {})["change"] = change


def pairs(request: Request) -> list[tuple[str, str]]:
    return list(request.query_params.multi_items())


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
