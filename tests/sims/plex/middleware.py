"""The outer layer every request passes: injected faults, the token check, then the journal.

Order matters and mirrors a real outage: a faulted request never reaches "Plex", so it
is neither authenticated nor journaled. The control API under ``/__sim`` bypasses all
three so a test can always reach the switchboard.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.sims.plex.web import SimContext, error_response

CONTROL_PREFIX = "/__sim"
#: Paths PMS answers without a token.
OPEN_PATHS = frozenset({"/identity"})
#: GETs that change state (plexapi scans a section with GET).
_WRITE_GETS = re.compile(r"^/library/sections/\d+/refresh/?$")
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SimMiddleware:
    def __init__(self, app: ASGIApp, context: SimContext) -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        self.context.in_flight.enter()
        try:
            await self._answer(scope, receive, send)
        finally:
            self.context.in_flight.leave()

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        path: str = scope["path"]
        decision = self.context.faults.decide(method, path)
        if decision.delay:
            await asyncio.sleep(decision.delay)
        if decision.status is not None:
            response = error_response(decision.status, "injected fault", retry_after=decision.retry_after)
            await response(scope, receive, send)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        if path not in OPEN_PATHS and not self._authorized(scope, query):
            await error_response(401)(scope, receive, send)
            return
        if method in _READ_METHODS and not _WRITE_GETS.match(path):
            self.context.reads.record(path)
            await self.app(scope, receive, send)
            return
        await self._journaled(scope, receive, send, query)

    def _authorized(self, scope: Scope, query: list[tuple[str, str]]) -> bool:
        token = self.context.token
        if token is None:
            return True
        for name, value in scope.get("headers", []):
            if name.lower() == b"x-plex-token" and value.decode("latin-1") == token:
                return True
        return any(k == "X-Plex-Token" and v == token for k, v in query)

    async def _journaled(self, scope: Scope, receive: Receive, send: Send, query: list[tuple[str, str]]) -> None:
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        recorded = [(k, "<redacted>" if k == "X-Plex-Token" else v) for k, v in query]
        record = self.context.writes.begin(
            scope["method"], scope["path"], recorded, len(body), hashlib.sha256(body).hexdigest() if body else None
        )
        state = scope.setdefault("state", {})
        finished = False
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def capture(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.start" and not finished:
                # Journal before the client can see the answer, so a test reading the
                # journal right after its call never races the server thread.
                finished = True
                self.context.writes.finish(record, int(message["status"]), state.get("change"))
            await send(message)

        try:
            await self.app(scope, replay, capture)
        finally:
            if not finished:
                self.context.writes.finish(record, 500, state.get("change"))
