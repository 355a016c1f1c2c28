"""The one place that decides what a failure talking to Stash means.

Callers only ever see three kinds of error, because they need three reactions:
wait and try again (:class:`StashUnavailable`), tell the operator to fix the key
(:class:`StashAuthError`), or treat the request as a bug (:class:`StashQueryError`).
Messages never carry the API key: every message passes through :func:`redact`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import httpx
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportProtocolError,
    TransportQueryError,
    TransportServerError,
)

# Stash runs on SQLite; a write holding the lock makes reads fail with this text
# (optionally wrapped in context). It clears by itself, so it is worth a retry.
_TRANSIENT_GRAPHQL_MARKERS = ("database is locked", "sqlite_busy")

# HTTP statuses after which the same request may well succeed.
_TRANSIENT_STATUSES = frozenset({408, 425, 429})


class StashError(Exception):
    """Base of every failure the Stash client reports."""

    transient: ClassVar[bool] = False


class StashUnavailable(StashError):  # noqa: N818 -- the name the services agreed on
    """Stash did not answer usefully right now: refused, timed out, 5xx, or its database was busy."""

    transient = True


class StashAuthError(StashError):
    """Stash rejected the API key (HTTP 401/403); retrying cannot help."""


class StashQueryError(StashError):
    """Stash answered with GraphQL errors that are the request's fault."""

    def __init__(self, message: str, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.errors: tuple[str, ...] = tuple(errors)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced, so messages are safe to log."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def is_transient_graphql_message(message: str) -> bool:
    """Whether a GraphQL error message reports a passing condition (a locked database)."""
    lowered = message.lower()
    return any(marker in lowered for marker in _TRANSIENT_GRAPHQL_MARKERS)


def from_status(status: int, what: str, secrets: Iterable[str] = ()) -> StashError:
    """The error for an HTTP status Stash answered with."""
    what = redact(what, secrets)
    if status in (401, 403):
        return StashAuthError(f"Stash refused the API key (HTTP {status}) for {what}")
    if status >= 500 or status in _TRANSIENT_STATUSES:
        return StashUnavailable(f"Stash answered HTTP {status} for {what}")
    return StashQueryError(f"Stash answered HTTP {status} for {what}")


def _graphql_messages(errors: Sequence[Any] | None) -> list[str]:
    messages = []
    for error in errors or ():
        message = error.get("message") if isinstance(error, dict) else None
        messages.append(str(message if message is not None else error))
    return messages


def _describe(exc: BaseException) -> str:
    """Type and message of the root cause: a bare ``ReadTimeout()`` says more by its name."""
    root = exc.__cause__ or exc
    message = str(root)
    return f"{type(root).__name__}: {message}" if message else type(root).__name__


def classify(exc: BaseException, what: str, secrets: Iterable[str] = ()) -> StashError:
    """Map any exception raised while talking to Stash to one of the three error kinds.

    ``what`` names the request (an operation name or a path) for the message.
    Exceptions that are not about Stash at all come back as :class:`StashQueryError`
    so nothing escapes unclassified; callers re-raise programming errors themselves.
    """
    secrets = tuple(secrets)
    if isinstance(exc, StashError):
        return exc
    if isinstance(exc, TransportQueryError):
        messages = [redact(m, secrets) for m in _graphql_messages(exc.errors)] or [redact(str(exc), secrets)]
        joined = "; ".join(messages)
        if any(is_transient_graphql_message(m) for m in messages):
            return StashUnavailable(f"Stash is busy ({what}): {joined}")
        return StashQueryError(f"Stash rejected {what}: {joined}", messages)
    if isinstance(exc, TransportServerError):
        if exc.code is None:
            return StashUnavailable(f"Stash failed {what}: {redact(str(exc), secrets)}")
        return from_status(exc.code, what, secrets)
    if isinstance(exc, httpx.HTTPStatusError):
        return from_status(exc.response.status_code, what, secrets)
    if isinstance(exc, TransportConnectionFailed | httpx.TransportError | TimeoutError | OSError):
        return StashUnavailable(f"Stash unreachable ({what}): {redact(_describe(exc), secrets)}")
    if isinstance(exc, TransportProtocolError):
        # Something answered, but not as a GraphQL server: a proxy error page, or Stash still starting.
        return StashUnavailable(f"Stash gave no GraphQL answer to {what}: {redact(str(exc), secrets)[:200]}")
    return StashQueryError(f"{what} failed: {type(exc).__name__}: {redact(str(exc), secrets)}")
