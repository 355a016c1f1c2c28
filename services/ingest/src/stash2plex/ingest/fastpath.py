"""The hook endpoint as a bare ASGI handler in front of FastAPI.

Every scene save in Stash waits for this request, and a bulk edit sends hundreds in a row;
FastAPI's generic machinery (middleware stack, dependency solving, body parsing) cost more
CPU than everything the endpoint itself does. Everything else still goes to FastAPI.
"""

from __future__ import annotations

from typing import Any

from stash2plex.common.runtime import ServiceRuntime
from stash2plex.ingest.accept import Answer, _json, accept_hook, token_ok, unauthorized
from stash2plex.ingest.settings import IngestOptions

HOOK_PATH = "/v1/hooks/stash"
MAX_BODY_BYTES = 32 * 1024 * 1024
"""A hook sent straight from Stash may carry a cover image of several MB; it is read and dropped."""

ASGIApp = Any


class HookFastPath:
    def __init__(self, app: ASGIApp, runtime: ServiceRuntime, options: IngestOptions) -> None:
        self.app, self.runtime, self.options = app, runtime, options

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != HOOK_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        answer = await self.handle(scope, receive)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(answer.body)).encode())]
        headers += [(k.lower().encode(), v.encode()) for k, v in answer.headers.items()]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})

    async def handle(self, scope: dict[str, Any], receive: Any) -> Answer:
        authorization = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None)
        if not token_ok(self.options, authorization):
            return unauthorized()
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return _json(400, {"detail": "client went away"})
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return _json(413, {"detail": f"a hook event is at most {MAX_BODY_BYTES} bytes"})
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return await accept_hook(self.runtime, self.options, b"".join(chunks))
