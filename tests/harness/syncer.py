"""Run the syncer as a real process against the broker and a pair of simulated libraries."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path

from nats.js import JetStreamContext

from stash2plex.common.contracts import SyncJob, SyncReason
from stash2plex.common.topology import DLQ_STREAM, SYNC_STREAM
from tests.harness.broker import Broker
from tests.harness.library import Libraries
from tests.harness.services import ServiceProcess, connected_env

FAST = {
    # Everything a test would otherwise wait minutes for, scaled down.
    "STASH2PLEX_SYNCER__PROBE_INITIAL_S": "0.2",
    "STASH2PLEX_SYNCER__PROBE_MAX_S": "0.5",
    "STASH2PLEX_SYNCER__CIRCUIT_THRESHOLD": "3",
    "STASH2PLEX_SYNCER__RECOVERY_START_RATE": "20",
    "STASH2PLEX_SYNCER__RECOVERY_RAMP_TO_RATE": "200",
    "STASH2PLEX_SYNCER__RECOVERY_RAMP_S": "2",
    "STASH2PLEX_SYNCER__CONCURRENCY_MAX": "8",
    "STASH2PLEX_SYNCER__ACK_WAIT_S": "10",
    "STASH2PLEX_SYNCER__RETRY_TRANSIENT_BASE_S": "0.2",
    "STASH2PLEX_SYNCER__RETRY_NOT_FOUND_BASE_S": "0.3",
    "STASH2PLEX_SYNCER__RETRY_NOT_FOUND_WINDOW_S": "20",
    "STASH2PLEX_SYNCER__INDEX_REFRESH_MIN_S": "0.5",
    "STASH2PLEX_LOG__LEVEL": "INFO",
}


ONE_EDIT_PER_SCENE = {
    # The delivery tests count Plex requests: one batched edit per scene, no cover uploads or
    # rating requests. Tests of what is written (test_syncer_writes*) turn them back on.
    "STASH2PLEX_SYNCER__FIELDS__POSTER": "false",
    "STASH2PLEX_SYNCER__FIELDS__BACKGROUND": "false",
    "STASH2PLEX_SYNCER__FIELDS__RATING": "false",
}


def syncer_env(broker: Broker, libraries: Libraries, tmp_path: Path, **extra: str) -> dict[str, str]:
    settings = {"STASH2PLEX_PLEX__TIMEOUT_S": "2", **FAST, **ONE_EDIT_PER_SCENE, **extra}  # extra wins
    return connected_env(broker.url, tmp_path / "data", libraries.stash, libraries.plex, **settings)


def start_syncer(
    broker: Broker, libraries: Libraries, tmp_path: Path, name: str = "syncer", **extra: str
) -> ServiceProcess:
    service = ServiceProcess("syncer", syncer_env(broker, libraries, tmp_path, **extra), tmp_path)
    service.log_path = tmp_path / f"{name}.log"
    return service.start()


async def queue_jobs(js: JetStreamContext, scene_ids: list[int], reason: SyncReason = SyncReason.MANUAL) -> None:
    for scene_id in scene_ids:
        job = SyncJob(scene_id=str(scene_id), reason=reason)
        await js.publish(job.subject, job.to_bytes(), headers={"Nats-Msg-Id": job.msg_id})


async def wait_until(predicate: object, within_s: float = 30, every_s: float = 0.1) -> None:
    """Poll an (async or plain) predicate until it is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        result = predicate()  # type: ignore[operator]
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise TimeoutError(f"not true after {within_s}s")
        await asyncio.sleep(every_s)


async def stream_size(js: JetStreamContext, stream: str) -> int:
    return int((await js.stream_info(stream)).state.messages)


async def pending(js: JetStreamContext) -> int:
    return await stream_size(js, SYNC_STREAM)


async def dead_letters(js: JetStreamContext) -> int:
    return await stream_size(js, DLQ_STREAM)


async def is_(count: Awaitable[int], expected: int) -> bool:
    """For ``wait_until``: an awaited count equals ``expected``."""
    return await count == expected
