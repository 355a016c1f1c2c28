"""Fan-out of changes that touch many scenes: a performer rename, a tag merge, a backfill.

Ingest publishes such a change to the ``ENTITY`` work queue and answers the hook at once;
this consumer then asks Stash, page by page, which scenes the change touches and queues one
sync job per scene. The dedup id of each job derives from the change's event id, so a
redelivered change (after a crash half-way) queues nothing twice. After each page it says how
far it got on a core-NATS progress subject, which ``stash2plex sync`` watches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.errors import ServiceUnavailableError

from stash2plex.common import topology
from stash2plex.common.backfill import FanOutProgress
from stash2plex.common.contracts import ContractError, EntityChange, SyncJob, SyncReason
from stash2plex.common.settings import StashSettings
from stash2plex.common.stash.client import StashClient
from stash2plex.common.stash.errors import StashAuthError, StashError
from stash2plex.ingest import metrics
from stash2plex.ingest.settings import IngestOptions

log = logging.getLogger(__name__)

Progress = Callable[[FanOutProgress], Awaitable[None]]


async def no_progress(_progress: FanOutProgress) -> None:
    """For callers nobody watches."""


async def scene_ids(stash: StashClient, change: EntityChange, page_size: int) -> AsyncIterator[tuple[list[str], int]]:
    """The ids of the scenes ``change`` touches, a page at a time (never the whole library at once),
    each page with the number of scenes in all."""
    if change.kind != "library":
        async for id_page in stash.scene_ids_for_entity(change.kind, change.entity_id, per_page=page_size):
            yield list(id_page.ids), id_page.count
        return
    since = None
    if change.entity_id == "recent":
        since = datetime.now(UTC) - timedelta(hours=change.since_hours or 24)
    page = 1
    while True:
        result = await stash.find_scenes_page(page, page_size, since)
        if not result.scenes:
            return
        yield [scene.id for scene in result.scenes], result.count
        if page * page_size >= result.count:
            return
        page += 1


async def fan_out(
    js: JetStreamContext, stash: StashClient, msg: Msg, page_size: int, progress: Progress = no_progress
) -> int:
    change = EntityChange.from_bytes(msg.data)
    queued = 0
    total: int | None = None

    def report(ids: list[str], done: bool) -> FanOutProgress:
        return FanOutProgress(
            event_id=change.event_id, kind=change.kind, entity_id=change.entity_id, queued=queued, total=total,
            scene_ids=ids, done=done, trace_id=change.trace_id,
        )  # fmt: skip

    async for ids, count in scene_ids(stash, change, page_size):
        total = count
        for scene_id in ids:
            job = SyncJob(
                scene_id=scene_id,
                reason=SyncReason.ENTITY if change.kind != "library" else SyncReason.MANUAL,
                event_id=change.job_event_id,
                hook=change.hook,
                trace_id=change.trace_id,
            )
            await js.publish(job.subject, job.to_bytes(), headers={"Nats-Msg-Id": job.msg_id})
            queued += 1
        await msg.in_progress()
        await _quietly(progress, report(ids, done=False))
    total = queued if total is None else total
    await _quietly(progress, report([], done=True))
    metrics.ENTITY_FANOUT.labels(change.kind).inc(queued)
    log.info("%s %s touches %d scene(s): queued", change.kind, change.entity_id, queued)
    return queued


async def _quietly(progress: Progress, report: FanOutProgress) -> None:
    """Progress is for people watching; failing to tell them must not fail the fan-out."""
    try:
        await progress(report)
    except Exception as error:
        log.debug("could not report fan-out progress: %s", error)


async def run_fan_out(
    js: JetStreamContext, stash_settings: StashSettings, options: IngestOptions, progress: Progress = no_progress
) -> None:
    """Consume ``ENTITY`` until cancelled."""
    sub = await js.pull_subscribe_bind(topology.ENTITY_CONSUMER, topology.ENTITY_STREAM)
    while True:
        try:
            msgs = await sub.fetch(1, timeout=5)
        except (NatsTimeoutError, TimeoutError):
            continue
        except ServiceUnavailableError:
            await asyncio.sleep(2)
            continue
        for msg in msgs:
            await handle(js, stash_settings, msg, options, progress)


async def handle(
    js: JetStreamContext,
    stash_settings: StashSettings,
    msg: Msg,
    options: IngestOptions,
    progress: Progress = no_progress,
) -> None:
    delay = options.entity_retry_delay_s
    if stash_settings.url is None:
        log.warning("an entity change waits: Stash is not configured (STASH2PLEX_STASH__URL)")
        await msg.nak(delay=delay)
        return
    try:
        async with StashClient(stash_settings) as stash:
            await fan_out(js, stash, msg, options.entity_page_size, progress)
    except ContractError as error:
        log.error("dropping an unreadable entity change: %s", error)
        await msg.term()
        return
    except StashAuthError:
        log.error("Stash rejected the API key (STASH2PLEX_STASH__API_KEY); the entity change waits")
        await msg.nak(delay=delay)
        return
    except StashError as error:
        log.warning("Stash failed while resolving an entity change (%s); retrying in %gs", error, delay)
        await msg.nak(delay=delay)
        return
    with contextlib.suppress(Exception):
        await msg.ack_sync()
