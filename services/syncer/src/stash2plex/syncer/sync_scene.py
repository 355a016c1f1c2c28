"""One sync job, end to end: read the scene and its sync record, skip it when nothing changed,
else let the writer bring Plex in step (in a worker thread) and store the new record.

Images come from Stash through the async Stash client, but only the writer, in its thread, knows
which it needs (a new item, or a cover whose URL changed), and only after matching. So the writer
is handed a blocking fetcher that runs the client's coroutine on the event loop
(``run_coroutine_threadsafe``) and waits: nothing is fetched that is not uploaded or compared,
and the loop stays free while the thread waits.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from functools import partial

from stash2plex.common.contracts import SyncJob, SyncReason
from stash2plex.common.stash.client import StashClient
from stash2plex.syncer import metrics
from stash2plex.syncer.errors import SceneGone
from stash2plex.syncer.sync_options import WriteOptions
from stash2plex.syncer.sync_record import SyncRecords
from stash2plex.syncer.writer import PlexWriter, WriteContext

log = logging.getLogger(__name__)

CREATE_HOOK = "Scene.Create.Post"


class SceneSync:
    """Shared by every job of one syncer; stateless between jobs (state is in KV and the writer's index)."""

    def __init__(
        self,
        writer: PlexWriter,
        stash: StashClient,
        records: SyncRecords,
        executor: Executor,
        options: WriteOptions,
        image_timeout_s: float = 30.0,
    ) -> None:
        self.writer, self.stash, self.records = writer, stash, records
        self.executor, self.options = executor, options
        self.image_timeout_s = image_timeout_s

    async def run(self, job: SyncJob) -> int:
        """Sync one scene; returns how many Plex items were written (0: nothing differed)."""
        with metrics.EXTERNAL_SECONDS.labels("stash").time():
            scene = await self.stash.find_scene(job.scene_id)
        record = await self.records.get(job.scene_id)
        loop = asyncio.get_running_loop()
        if scene is None:
            if self.options.unlock_on_destroy and (record is not None or job.destroyed_paths):
                with metrics.EXTERNAL_SECONDS.labels("plex").time():
                    unlocked = await loop.run_in_executor(
                        self.executor, self.writer.unlock, job.scene_id, record, job.destroyed_paths
                    )
                log.info("scene %s was deleted in Stash: unlocked its %d Plex item(s)", job.scene_id, unlocked)
            if record is not None:
                await self.records.delete(job.scene_id)
            raise SceneGone(f"scene {job.scene_id} is not in Stash")
        desired = self.writer.prepare(scene)
        # A gap says Plex differs from what the record claims (the reconciler looked): read Plex then.
        if job.reason is not SyncReason.GAP and self.writer.up_to_date(desired, record):
            return 0
        context = WriteContext(
            fetch=partial(self._fetch_image, loop),
            stash_updated_at=scene.updated_at,
            new_scene=job.hook == CREATE_HOOK,
        )
        with metrics.EXTERNAL_SECONDS.labels("plex").time():
            outcome = await loop.run_in_executor(self.executor, self.writer.write, desired, record, context)
        if outcome.record is not None and outcome.record != record:
            await self.records.put(outcome.record)
        if outcome.error is not None:
            raise outcome.error
        return outcome.edited

    def _fetch_image(self, loop: asyncio.AbstractEventLoop, url: str) -> bytes:
        """Called from the writer's thread: the image bytes, fetched by the loop's Stash client."""
        future = asyncio.run_coroutine_threadsafe(self.stash.fetch_image(url), loop)
        return future.result(timeout=self.image_timeout_s)
