"""What a handler answers, and the error answers every endpoint shares.

Errors are JSON ``{"detail": "..."}`` with a message a person can act on; the provider
spec asks for 400 for a malformed request and 404 for an unknown item, and Stash being
unreachable is a 503 that says so (Plex tries again on its next refresh).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import cached_property

JSON = "application/json"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()
    stream: AsyncIterator[bytes] | None = field(default=None, compare=False)
    outcome: str = "ok"

    @cached_property
    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The ASGI header list, built once: a cached answer is sent many times."""
        headers = [(b"content-type", self.content_type.encode())]
        if self.stream is None:
            headers.append((b"content-length", str(len(self.body)).encode()))
        headers += [(k.encode(), v.encode()) for k, v in self.headers]
        return headers


class RequestError(Exception):
    """A request the provider cannot serve; ``status`` and the message become the answer."""

    status = 400
    outcome = "bad_request"

    def answer(self) -> Answer:
        return error(self.status, str(self), self.outcome)


class BadRequestError(RequestError):
    pass


class NotFoundError(RequestError):
    status = 404
    outcome = "not_found"


def ok(payload: object, headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    return Answer(200, dumps(payload), headers=headers)


def dumps(payload: object) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def error(status: int, detail: str, outcome: str, headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    return Answer(status, dumps({"detail": detail}), headers=headers, outcome=outcome)


def unavailable(detail: str) -> Answer:
    return error(503, detail, "unavailable", (("retry-after", "30"),))
