"""The provider's ASGI app: Plex's requests answered by a bare router, everything else by FastAPI.

A library scan sends Plex's match and metadata requests by the thousand, and a cached
answer costs less than FastAPI's routing, middleware and dependency machinery around it;
so this is the outermost app the server runs. Every request under the provider's mount is
routed here to :class:`ProviderHandlers`, and everything else (``/healthz``, ``/readyz``,
``/metrics``, the OpenAPI docs, the lifespan) goes on to the FastAPI app in ``api``.

Routes, under ``/<secret>`` when a secret path is set (anything else then answers 404,
revealing nothing): ``GET /`` (root document), ``POST /library/metadata/matches``,
``GET /library/metadata/<ratingKey>[/images|/extras]``, ``GET /images/scene/<id>/screenshot``,
``GET /images/scene/<id>/poster``, ``GET /images/performer/<id>``. The provider only reads:
any other method answers 405.
"""

from __future__ import annotations

import hmac
import logging
import time
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from stash2plex.provider import metrics
from stash2plex.provider.answers import Answer, BadRequestError, RequestError, error
from stash2plex.provider.handlers import ProviderHandlers
from stash2plex.provider.images import ImageKind
from stash2plex.provider.links import public_base
from stash2plex.provider.paging import DEFAULT_PAGE, page_of
from stash2plex.provider.settings import ProviderOptions

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
PLEX = b"x-plex-"
"""Header names arrive lower-cased (ASGI); only Plex's own are read."""
OPERATIONS = frozenset({"/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"})
IMAGE_KINDS: dict[str, ImageKind] = {"screenshot": "screenshot", "poster": "poster", "performer": "performer"}
MAX_HOSTS_REMEMBERED = 64
ENDPOINTS = ("root", "match", "metadata", "images", "extras", "image", "unknown")


class ProviderFastPath:
    """Routes provider requests to :class:`ProviderHandlers`; passes the rest to ``api``.

    Exceptions never reach the server: a failing handler answers 500 and is logged here.
    """

    def __init__(self, api: FastAPI, handlers: ProviderHandlers, options: ProviderOptions) -> None:
        self.api = api
        self.handlers = handlers
        self.secret = options.secret_path.get_secret_value().encode() if options.secret_path else None
        self.mount = options.mount
        self.options = options
        self.public = public_base(options, {}) if options.public_url else None
        self._latency = {name: metrics.LATENCY.labels(name) for name in ENDPOINTS}
        self._outcomes: dict[tuple[str, str], Any] = {}
        self._bases: dict[bytes, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.api(scope, receive, send)
            return
        try:
            segments = _segments(scope)
        except BadRequestError as problem:
            await _send(send, scope, problem.answer())
            return
        if self.secret is not None:
            if not segments or not hmac.compare_digest(segments[0].encode("utf-8", "surrogateescape"), self.secret):
                if scope["path"] in OPERATIONS:
                    await self.api(scope, receive, send)
                else:
                    await _send(send, scope, error(404, "not found", "not_found"))
                return
            segments = segments[1:]
        elif segments and scope["path"] in OPERATIONS:
            await self.api(scope, receive, send)
            return
        route = _route(segments)
        if route is None:
            if self.secret is not None:
                await _send(send, scope, error(404, "no such provider endpoint", "not_found"))
            else:
                await self.api(scope, receive, send)
            return
        endpoint, method, params = route
        started = time.perf_counter()
        if scope["method"] != method:
            answer = error(405, f"{scope['method']} is not allowed here; the provider only answers {method}",
                           "bad_request", (("allow", method),))  # fmt: skip
        else:
            try:
                answer = await self._dispatch(endpoint, params, scope, receive)
            except RequestError as problem:
                answer = problem.answer()
            except Exception:
                log.exception("the %s endpoint failed", endpoint)
                answer = error(500, "the provider failed; see its log", "error")
        await _send(send, scope, answer)
        self._latency[endpoint].observe(time.perf_counter() - started)
        self._count(endpoint, answer.outcome)

    def _count(self, endpoint: str, outcome: str) -> None:
        counter = self._outcomes.get((endpoint, outcome))
        if counter is None:
            counter = self._outcomes[(endpoint, outcome)] = metrics.REQUESTS.labels(endpoint, outcome)
        counter.inc()

    def base_url(self, scope: Scope) -> str:
        """Where Plex reaches the provider (fixed when ``public_url`` is set, else per Host header)."""
        if self.public is not None:
            return self.public
        host = next((v for k, v in scope["headers"] if k == b"host"), b"")
        base = self._bases.get(host)
        if base is None:
            base = public_base(self.options, scope)
            if len(self._bases) < MAX_HOSTS_REMEMBERED:
                self._bases[host] = base
        return base

    async def _dispatch(self, endpoint: str, params: list[str], scope: Scope, receive: Receive) -> Answer:
        handlers = self.handlers
        if endpoint == "root":
            return handlers.root()
        if endpoint == "match":
            body = await _body(receive)
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"] if k.startswith(PLEX)}
            query = _query(scope)
            page = page_of(headers, query) if headers or query else DEFAULT_PAGE
            return await handlers.match(body, page, self.base_url(scope))
        if endpoint == "metadata":
            return await handlers.metadata(params[0], self.base_url(scope))
        if endpoint == "images":
            return await handlers.images(params[0], self.base_url(scope))
        if endpoint == "extras":
            return await handlers.extras(params[0])
        if endpoint == "image":
            kind, entity_id = params
            query = _query(scope)
            return await handlers.image(IMAGE_KINDS[kind], entity_id, query.get("v"))
        where = "/".join(params)[:80]
        return error(404, f"no such provider endpoint: {where!r} (movies have no children)", "not_found")


def _query(scope: Scope) -> dict[str, str]:
    """The query string's parameters (the last of a repeated name wins)."""
    raw: bytes = scope["query_string"]
    return dict(parse_qsl(raw.decode("latin-1"))) if raw else {}


def _segments(scope: Scope) -> list[str]:
    """Path segments, each percent-decoded on its own: ``a%2Fb`` stays one segment holding a slash."""
    raw = scope.get("raw_path") or scope["path"].encode()
    raw = raw.split(b"?", 1)[0]
    if b"%" not in raw:
        try:
            return [part for part in raw.decode("utf-8").split("/") if part]
        except UnicodeDecodeError:
            raise BadRequestError("the path is not valid UTF-8") from None
    try:
        return [unquote_to_bytes(part).decode("utf-8") for part in raw.split(b"/") if part]
    except UnicodeDecodeError:
        raise BadRequestError("the path is not valid UTF-8 after percent-decoding") from None


def _route(segments: list[str]) -> tuple[str, str, list[str]] | None:
    """(endpoint, method, parameters), or None for a path that is not the provider's."""
    n = len(segments)
    if n == 0:
        return "root", "GET", []
    if segments[0] == "library" and n >= 2 and segments[1] == "metadata":
        if n == 3 and segments[2] == "matches":
            return "match", "POST", []
        if n == 3:
            return "metadata", "GET", [segments[2]]
        if n == 4 and segments[3] in ("images", "extras"):
            return segments[3], "GET", [segments[2]]
        if n >= 4:
            return "unknown", "GET", segments[2:]
        return None
    if segments[0] == "images":
        if n == 4 and segments[1] == "scene" and segments[3] in ("screenshot", "poster"):
            return "image", "GET", [segments[3], segments[2]]
        if n == 3 and segments[1] == "performer":
            return "image", "GET", ["performer", segments[2]]
        return "unknown", "GET", segments[1:]
    return None


async def _body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BadRequestError("the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _TooLargeError(f"the match body is over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks) if len(chunks) != 1 else chunks[0]


class _TooLargeError(RequestError):
    status = 413


async def _send(send: Send, scope: Scope, answer: Answer) -> None:
    await send({"type": "http.response.start", "status": answer.status, "headers": answer.raw_headers})
    if answer.stream is None:
        await send({"type": "http.response.body", "body": answer.body if scope["method"] != "HEAD" else b""})
        return
    try:
        async for chunk in answer.stream:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    finally:
        await answer.stream.aclose()  # type: ignore[attr-defined]
    await send({"type": "http.response.body", "body": b""})
