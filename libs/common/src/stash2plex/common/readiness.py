"""Readiness checks: does each dependency a service needs answer right now?

A missing setting is not a crash: the check says which variable to set, ``/readyz`` answers
503 with that text, and the service keeps running until someone fixes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
from pydantic import BaseModel

from stash2plex.common.settings import CommonSettings, env_name
from stash2plex.common.stash.client import StashClient
from stash2plex.common.stash.errors import StashAuthError, StashError
from stash2plex.common.stash.retry import RetryPolicy

PROBE_TIMEOUT_S = 3.0


class CheckResult(BaseModel):
    """One dependency's state, as shown on ``/readyz`` and by ``stash2plex health``."""

    name: str
    ok: bool
    configured: bool = True
    detail: str = ""


class ReadinessReport(BaseModel):
    service: str
    ready: bool
    checks: list[CheckResult]


Check = Callable[[], Awaitable[CheckResult]]


async def run_checks(service: str, checks: dict[str, Check], limit_s: float = PROBE_TIMEOUT_S) -> ReadinessReport:
    """Run every check at once; a check that hangs counts as failed, not as a hung ``/readyz``."""

    async def bounded(name: str, check: Check) -> CheckResult:
        try:
            return await asyncio.wait_for(check(), limit_s)
        except TimeoutError:
            return CheckResult(name=name, ok=False, detail=f"no answer within {limit_s:g}s")
        except Exception as error:  # a broken probe must not break /readyz
            return CheckResult(name=name, ok=False, detail=f"probe failed: {type(error).__name__}: {error}")

    results = await asyncio.gather(*(bounded(name, check) for name, check in checks.items()))
    return ReadinessReport(service=service, ready=all(r.ok for r in results), checks=list(results))


def plex_check(settings: CommonSettings) -> Check:
    """Plex answers ``/identity`` and accepts our token."""

    async def check() -> CheckResult:
        missing = settings.missing_for("plex")
        if missing:
            return CheckResult(
                name="plex", ok=False, configured=False, detail="not configured: set " + ", ".join(missing)
            )
        assert settings.plex.url is not None
        assert settings.plex.token is not None
        base = str(settings.plex.url).rstrip("/")
        headers = {"X-Plex-Token": settings.plex.token.get_secret_value(), "Accept": "application/xml"}
        timeout = min(settings.plex.timeout_s, PROBE_TIMEOUT_S)
        try:
            async with httpx.AsyncClient(timeout=timeout) as client:
                # /identity answers without a token; "/" proves the token is accepted.
                answer = await client.get(base + "/", headers=headers)
        except httpx.HTTPError as error:
            return CheckResult(name="plex", ok=False, detail=f"cannot reach Plex at {base}: {type(error).__name__}")
        if answer.status_code in (401, 403):
            return CheckResult(
                name="plex",
                ok=False,
                detail=f"Plex rejected the token ({answer.status_code}): check {env_name('plex', 'token')}",
            )
        if answer.status_code >= 400:
            return CheckResult(name="plex", ok=False, detail=f"Plex answered {answer.status_code}")
        return CheckResult(name="plex", ok=True, detail=base)

    return check


def stash_check(settings: CommonSettings) -> Check:
    """Stash answers a ``version`` query with our API key."""

    async def check() -> CheckResult:
        missing = [name for name in settings.missing_for("stash") if name.endswith("URL")]
        if missing:
            return CheckResult(
                name="stash", ok=False, configured=False, detail="not configured: set " + ", ".join(missing)
            )
        try:
            async with StashClient(settings.stash, retry=RetryPolicy(attempts=1)) as client:
                version = await client.version()
        except StashAuthError:
            return CheckResult(
                name="stash", ok=False, detail=f"Stash rejected the API key: check {env_name('stash', 'api_key')}"
            )
        except StashError as error:
            return CheckResult(name="stash", ok=False, detail=f"Stash did not answer: {error}")
        return CheckResult(name="stash", ok=True, detail=f"Stash {version.version or version.hash}")

    return check
