"""Fan-out of changes that touch many scenes: a performer rename, a tag merge, a backfill.

Ingest publishes such a change to the ``ENTITY`` work queue and answers the hook at once;
this consumer then asks Stash, page by page, which scenes the change touches and queues one
sync job per scene. The dedup id of each job derives from the change's event id, so a
redelivered change (after a crash half-way) queues nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.errors import ServiceUnavailableError

from stash2plex.common import topology
from stash2plex.common.contracts import ContractError, EntityChange, SyncJob, SyncReason
from stash2plex.common.settings import StashSettings
from stash2plex.common.stash.client import StashClient
from stash2plex.common.stash.errors import StashAuthError, StashError
from stash2plex.ingest import metrics
from stash2plex.ingest.settings import IngestOptions

log = logging.getLogger(__name__)


async def scene_ids(stash: StashClient, change: EntityChange, page_size: int) -> AsyncIterator[list[str]]:
    """The ids of the scenes ``change`` touches, a page at a time (never the whole library at once)."""
    if change.kind != "library":
        async for id_page in stash.scene_ids_for_entity(change.kind, change.entity_id, per_page=page_size):
            yield list(id_page.ids)
        return
    since = None
    if change.entity_id == "recent":
        since = datetime.now(UTC) - timedelta(hours=change.since_hours or 24)
    page = 1
    while True:
        result = await stash.find_scenes_page(page, page_size, since)
        if not result.scenes:
            return
        yield [scene.id for scene in result.scenes]
        if page * page_size >= result.count:
            return
        page += 1


async def fan_out(js: JetStreamContext, stash: StashClient, msg: Msg, page_size: int) -> int:
    change = EntityChange.from_bytes(msg.data)
    queued = 0
    async for ids in scene_ids(stash, change, page_size):
        for scene_id in ids:
            job = SyncJob(
                scene_id=scene_id,
                reason=SyncReason.ENTITY if change.kind != "library" else SyncReason.MANUAL,
                event_id=f"{change.event_id}-{change.kind[0]}{change.entity_id}",
                hook=change.hook,
                trace_id=change.trace_id,
            )
            await js.publish(job.subject, job.to_bytes(), headers={"Nats-Msg-Id": job.msg_id})
            queued += 1
        await msg.in_progress()
    metrics.ENTITY_FANOUT.labels(change.kind).inc(queued)
    log.info("%s %s touches %d scene(s): queued", change.kind, change.entity_id, queued)
    return queued


async def run_fan_out(js: JetStreamContext, stash_settings: StashSettings, options: IngestOptions) -> None:
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
            await handle(js, stash_settings, msg, options)


async def handle(js: JetStreamContext, stash_settings: StashSettings, msg: Msg, options: IngestOptions) -> None:
    delay = options.entity_retry_delay_s
    if stash_settings.url is None:
        log.warning("an entity change waits: Stash is not configured (STASH2PLEX_STASH__URL)")
        await msg.nak(delay=delay)
        return
    try:
        async with StashClient(stash_settings) as stash:
            await fan_out(js, stash, msg, options.entity_page_size)
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
