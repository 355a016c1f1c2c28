"""The client side of the control API (``s2p.ctl.<service>.<verb>``, core NATS request/reply).

Ingest's plugin tasks and the operator CLI both ask the services through here, so a service
that is not running is reported the same way wherever the question comes from.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from nats.aio.client import Client as NatsClient
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from pydantic import BaseModel, Field

from stash2plex.common.subjects import control_subject

SERVICES = ("ingest", "syncer", "reconciler", "provider")
CONTROL_TIMEOUT_S = 3.0


class ControlError(Exception):
    """A service did not answer a control request (not running, or too slow)."""


async def ask(
    nc: NatsClient, service: str, verb: str, request: dict[str, Any] | None = None, timeout_s: float = CONTROL_TIMEOUT_S
) -> dict[str, Any]:
    """One request to one service (any replica of it answers); raises :class:`ControlError`."""
    payload = json.dumps(request or {}).encode()
    try:
        reply = await nc.request(control_subject(service, verb), payload, timeout=timeout_s)
    except NoRespondersError:
        raise ControlError(f"the {service} service is not running") from None
    except (NatsTimeoutError, TimeoutError):
        raise ControlError(f"the {service} service did not answer within {timeout_s:g}s") from None
    answer = json.loads(reply.data)
    if not isinstance(answer, dict):
        raise ControlError(f"the {service} service answered something that is not a JSON object")
    return answer


class HealthReport(BaseModel):
    """Every service's own readiness report, as ``stash2plex health`` and the plugin's task show it."""

    healthy: bool = Field(description="Every service answered and is ready.")
    services: dict[str, dict[str, Any]] = Field(
        description="Per service: its /readyz report, or why it did not answer."
    )

    def not_ready(self) -> list[str]:
        return [name for name, report in self.services.items() if not report.get("ready")]


async def health(nc: NatsClient, timeout_s: float = CONTROL_TIMEOUT_S) -> HealthReport:
    """Ask every service for its status at once; one that does not answer counts as not ready."""

    async def one(service: str) -> dict[str, Any]:
        try:
            return await ask(nc, service, "status", timeout_s=timeout_s)
        except ControlError as error:
            return {"ok": False, "ready": False, "error": str(error)}

    answers = await asyncio.gather(*(one(service) for service in SERVICES))
    return HealthReport(
        healthy=all(a.get("ready") for a in answers), services=dict(zip(SERVICES, answers, strict=True))
    )
