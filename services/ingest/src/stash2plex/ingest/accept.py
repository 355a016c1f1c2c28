"""Accepting one hook event: authenticate, validate, publish, answer.

One function serves both the ASGI fast path (:mod:`.fastpath`, what the plugin hits) and
the documented FastAPI route, so they cannot drift apart.
"""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass, field

from pydantic import BaseModel, ValidationError

from stash2plex.common.logs import log_context
from stash2plex.common.runtime import ServiceRuntime
from stash2plex.ingest import metrics
from stash2plex.ingest.hooks import HookEvent, jobs_for
from stash2plex.ingest.publisher import BrokerUnavailable, publish
from stash2plex.ingest.settings import IngestOptions

log = logging.getLogger(__name__)

UNAUTHORIZED = "missing or wrong token: set the plugin's 'Ingest token' to STASH2PLEX_INGEST__TOKEN"


class HookAccepted(BaseModel):
    outcome: str
    stream: str | None = None
    seq: int | None = None
    subject: str | None = None


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: int, payload: object, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, json.dumps(payload).encode(), headers or {})


def token_ok(options: IngestOptions, authorization: str | None) -> bool:
    """Constant-time comparison of ``Authorization: Bearer <token>``."""
    if options.token is None:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    expected = options.token.get_secret_value().encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected)


def unauthorized() -> Answer:
    return _json(401, {"detail": UNAUTHORIZED}, {"WWW-Authenticate": "Bearer"})


def invalid(error: ValidationError) -> Answer:
    """422 naming each bad field and why, in words the plugin's log can show."""
    problems = [
        {"field": ".".join(str(p) for p in item["loc"]) or "body", "problem": item["msg"]} for item in error.errors()
    ]
    summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
    return _json(422, {"detail": f"invalid request: {summary}", "errors": problems})


def unavailable(options: IngestOptions, reason: str) -> Answer:
    detail = {"detail": f"cannot queue the event now: {reason}; retry later"}
    return _json(503, detail, {"Retry-After": str(options.retry_after_s)})


async def accept_hook(runtime: ServiceRuntime, options: IngestOptions, body: bytes) -> Answer:
    """202 only once JetStream acknowledged the job; 422 for a bad body; 503 when NATS is away."""
    try:
        event = HookEvent.model_validate_json(body)
    except ValidationError as error:
        metrics.HOOKS.labels("unknown", "invalid").inc()
        return invalid(error)
    if event.spooled_at is not None:
        metrics.SPOOL_REPLAYS.inc()
    job = jobs_for(event)
    if job is None:
        metrics.HOOKS.labels(event.type, "ignored").inc()
        return Answer(202, HookAccepted(outcome="ignored").model_dump_json(exclude_none=True).encode())
    with log_context(scene_id=event.id if event.type.startswith("Scene.") else None, trace_id=job.trace_id):
        try:
            published = await publish(runtime.nc, runtime.js, job, options.publish_timeout_s)
        except BrokerUnavailable as error:
            metrics.HOOKS.labels(event.type, "unavailable").inc()
            log.warning("hook %s for %s not queued: %s", event.type, event.id, error)
            if error.missing_stream:
                runtime.ensure_topology_soon()
            return unavailable(options, str(error))
        outcome = "duplicate" if published.duplicate else "queued"
        metrics.HOOKS.labels(event.type, outcome).inc()
    answer = HookAccepted(outcome=outcome, stream=published.stream, seq=published.seq, subject=job.subject)
    return Answer(202, answer.model_dump_json().encode())
