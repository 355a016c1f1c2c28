"""Run the reconciler as a real process and talk to it the way the CLI and the plugin do (NATS control)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from nats.aio.client import Client as NatsClient

from stash2plex.common.reconciliation import PassRecord, ProgressAnswer, ReconcileAnswer
from stash2plex.common.subjects import control_subject
from tests.harness.services import ServiceProcess

QUIET = {
    # No pass of its own unless a test asks: the tests decide when passes run.
    "STASH2PLEX_RECONCILER__INTERVAL": "never",
    "STASH2PLEX_RECONCILER__STARTUP_AFTER_S": "0",
    "STASH2PLEX_RECONCILER__PROBE_TIMEOUT_S": "2",
}


def reconciler_process(env: dict[str, str], tmp_path: Path, name: str = "reconciler", **extra: str) -> ServiceProcess:
    """Not started yet: ``with reconciler_process(...) as service:`` starts it and stops it after."""
    service = ServiceProcess("reconciler", {**QUIET, **env, **extra}, tmp_path)
    service.log_path = tmp_path / f"{name}.log"
    return service


async def control(nc: NatsClient, verb: str, request: dict[str, Any]) -> dict[str, Any]:
    reply = await nc.request(control_subject("reconciler", verb), json.dumps(request).encode(), timeout=10)
    answer: dict[str, Any] = json.loads(reply.data)
    assert answer.get("ok") is True, answer
    return answer


async def reconcile(nc: NatsClient, scope: str = "all") -> ReconcileAnswer:
    return ReconcileAnswer.model_validate(await control(nc, "reconcile", {"scope": scope}))


async def finished(nc: NatsClient, pass_id: str, within_s: float = 60) -> PassRecord:
    """Poll ``progress`` until the pass is in the history; its record."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while loop.time() < deadline:
        answer = ProgressAnswer.model_validate(await control(nc, "progress", {}))
        if answer.running is None and answer.last is not None and answer.last.pass_id == pass_id:
            return answer.last
        await asyncio.sleep(0.1)
    raise TimeoutError(f"pass {pass_id} did not finish within {within_s}s")


async def run_pass(nc: NatsClient, scope: str = "all", within_s: float = 60) -> PassRecord:
    answer = await reconcile(nc, scope)
    assert answer.started, answer
    assert answer.pass_id is not None
    return await finished(nc, answer.pass_id, within_s)
